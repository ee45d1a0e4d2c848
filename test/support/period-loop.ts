// One dataset's periods driven through the real loop on a LoopStack, a period at a time, test then train: a
// TrainingPipeline (newData trigger, rows matched by row id, fed-back copies dropped) and a ModelDeployment following
// it; then for each period, as a batch through the Services, every row predicted by whatever model serves, the known
// labels fed back, the live figures of the batch read from status.liveMetrics, and only then the period's labelled
// rows uploaded: the trigger starts a run, it is blessed (or not), and its version rolls out to 100%. Every step's
// time is kept (upload → run → blessed → serving). Shared by test/e2e/own-data-loop.test.ts and
// bench/prequential.ts --loop.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { imageTags } from '../../localcluster/node/images.js';
import { Label } from '../../src/api/labels.js';
import type { ModelDeployment } from '../../src/api/model-deployment.js';
import type { TrainingPipeline, TrainingRun } from '../../src/api/training-pipeline.js';
import { dataPrefix, labelOf, periodSamples, pipelineSchema, rowsOf, type Dataset, type Row, type Sample, type Value } from './dataset.js';
import { eventually } from './eventually.js';
import type { LoopStack } from './loop-stack.js';
import { emptyCounts, readyEndpoints, sendBatch, type TrafficCounts } from './traffic.js';

export interface PeriodLoopOptions {
  /** The TrainingPipeline and the ModelDeployment (and the feedback it reads). */
  readonly name: string;
  readonly dataset: Dataset;
  /** The periods already uploaded when the pipeline is applied (their labelled rows are the first run's data). */
  readonly initial: readonly string[];
  /** triggers.newData.pollInterval (default '10s'). */
  readonly pollInterval?: string;
  /** spec.trainer.hyperparameters (default: 8 epochs, batch 64, learning rate 0.01, patience 2). */
  readonly hyperparameters?: Readonly<Record<string, number>>;
  /** spec.trainer.warmStart (default 'Champion'). */
  readonly warmStart?: 'Champion' | 'Scratch';
  /** spec.evaluation.refit (default true). */
  readonly refit?: boolean;
  /** spec.evaluation.maxRegression in the primary metric's units (default 5: RMSE in knots for the bird strikes). */
  readonly maxRegression?: number;
  /** A run that is not Blessed fails runPeriod (default true, as the e2e test wants); false: the champion serves on. */
  readonly requireBlessed?: boolean;
  /** Called with each run once blessed, before its rollout is waited for (the e2e test checks the store there). */
  readonly onBlessed?: (version: string, loop: PeriodLoop) => Promise<void>;
  /** spec.server.workers of the deployment (default: left out, one process per pod). */
  readonly workers?: number;
  readonly log: (line: string) => void;
}

/** What one period did: its batch (test) and its upload, run and rollout (train). Times are epoch ms. */
export interface PeriodResult {
  readonly period: string;
  /** The version that predicted the batch. */
  readonly servedBy: string;
  readonly samples: readonly Sample[];
  /** The server's answer for each sample, in order (undefined where a request failed). */
  readonly predictions: readonly (Value | undefined)[];
  readonly predicted: number;
  readonly labelled: number;
  readonly counts: TrafficCounts;
  readonly batchSeconds: number;
  /** status.liveMetrics of servedBy once it covers labels sent after the batch started (see liveWindow). */
  readonly liveRmse: number | undefined;
  readonly liveLabels: number;
  /** The label window liveMetrics rests on (labelledSince … labelledUntil). */
  readonly liveWindow: string;
  readonly key: string;
  readonly uploadedAt: number;
  readonly run: TrainingRun;
  readonly runVersion: string;
  readonly trigger: string;
  /** When the run started (its status.startTime), and when it ended (completionTime, or when its end was seen). */
  readonly runStartedAt: number;
  readonly endedAt: number;
  readonly outcome: string;
  /** Set when the run was blessed. */
  readonly blessedAt: number | undefined;
  /** When status.stableVersion was the new version at 100% (canary gone, a ready replica); undefined: not blessed. */
  readonly servingAt: number | undefined;
  readonly holdoutRmse: number | undefined;
  readonly championRmse: number | undefined;
}

const ms = (t: string | undefined, fallback: number): number => {
  const v = Date.parse(t ?? '');
  return Number.isFinite(v) ? v : fallback;
};

export class PeriodLoop {
  /** The labelled rows uploaded so far (rows without a label are never uploaded). */
  readonly uploaded: Row[] = [];
  /** Labels fed back so far. */
  labelsSent = 0;
  /** The version serving (stable at 100%). */
  version = 'v1';

  constructor(readonly stack: LoopStack, readonly options: PeriodLoopOptions) {
    for (const p of options.initial) this.uploaded.push(...this.labelledRows(p));
  }

  get name(): string {
    return this.options.name;
  }

  get namespace(): string {
    return this.stack.namespace;
  }

  private labelledRows(period: string): Row[] {
    return rowsOf(this.options.dataset, period).filter((r) => labelOf(this.options.dataset, r) !== undefined);
  }

  pipeline(): object {
    const { name, dataset } = this.options;
    return {
      apiVersion: 'perennial.dev/v1alpha1', kind: 'TrainingPipeline', metadata: { name },
      spec: {
        data: {
          sources: [{ prefix: dataPrefix(this.namespace, dataset), format: 'csv' }],
          schema: pipelineSchema(dataset),
          feedbackFrom: name,
          feedbackDuplicates: 'DropFeedbackCopy',
        },
        validation: { minRows: 200, maxMissingRate: 0.05 },
        triggers: { newData: { minObjects: 1, pollInterval: this.options.pollInterval ?? '10s' }, minInterval: '10s' },
        trainer: {
          image: imageTags.trainer,
          gpu: { count: 1 },
          hyperparameters: this.options.hyperparameters ?? { epochs: 8, batchSize: 64, learningRate: 0.01, earlyStoppingPatience: 2 },
          seed: 7,
          warmStart: this.options.warmStart ?? 'Champion',
        },
        // A candidate may be at most maxRegression worse than the champion on the same (newest) rows.
        evaluation: { holdout: { fraction: 0.2 }, primaryMetric: 'rmse', maxRegression: this.options.maxRegression ?? 5, refit: this.options.refit ?? true },
      },
    };
  }

  deployment(): object {
    const { name } = this.options;
    return {
      apiVersion: 'perennial.dev/v1alpha1', kind: 'ModelDeployment', metadata: { name },
      spec: {
        model: { fromPipeline: name },
        server: { image: imageTags.server, replicas: 1, ...(this.options.workers === undefined ? {} : { workers: this.options.workers }) },
        // Batch traffic comes after the rollout: each new champion replaces the last at once.
        rollout: { strategy: 'Canary', canary: { steps: [{ setWeight: 100 }] }, analysis: { interval: '5s', minSamples: 50 } },
      },
    };
  }

  /** Applies the TrainingPipeline and the ModelDeployment. */
  async apply(): Promise<void> {
    await this.stack.create('trainingpipelines', this.pipeline());
    await this.stack.create('modeldeployments', this.deployment());
  }

  async pipelineStatus(): Promise<TrainingPipeline> {
    return this.stack.getTp(this.name);
  }

  /** Waits for the run of a version to end; asserts it was blessed when requireBlessed. */
  async finished(version: string): Promise<TrainingRun> {
    const runOf = (tp: TrainingPipeline): TrainingRun | undefined => tp.status?.runs?.find((r) => r.version === version);
    const tp = await this.stack.untilTp(this.name, `the run of ${version} to end`, (x) => (runOf(x)?.outcome ?? 'Running') !== 'Running', 300_000);
    const run = runOf(tp);
    if (this.options.requireBlessed ?? true) assert.equal(run?.outcome, 'Blessed', `run of ${version}: ${JSON.stringify(run)}`);
    assert.ok(run);
    return run;
  }

  /** Waits until a version is stable at 100% (no canary) with a ready replica; the time that was seen. Then the pods settle. */
  async served(version: string): Promise<number> {
    await this.stack.untilMd(this.name, `${version} serving`, (x) =>
      x.status?.stableVersion === version && x.status.canaryVersion === undefined && (x.status.stableReadyReplicas ?? 0) >= 1, 240_000);
    const at = Date.now();
    this.version = version;
    await this.podsSettled();
    return at;
  }

  /**
   * The period's batch through the Services (predictions, then the known labels), its live figures, the labels in the
   * feedback log; then the period's labelled rows uploaded, the NewData run, its end and (when blessed) its rollout.
   */
  async runPeriod(period: string): Promise<PeriodResult> {
    const { dataset, log } = this.options;
    const servedBy = this.version;
    // 1. The period's rows as a batch through the Services: predictions first, then the known labels.
    const samples = periodSamples(dataset, period);
    const counts = emptyCounts();
    const batchStart = Date.now();
    const batch = await sendBatch(await this.stack.target(this.name), samples, { perRequest: 100, counts });
    assert.deepEqual(counts.errors.slice(0, 5), [], `batch ${period}`);
    assert.equal(batch.predicted, samples.length);
    this.labelsSent += batch.labelled;
    const batchSeconds = (Date.now() - batchStart) / 1000;
    log(`${period}: ${batch.predicted} predictions by ${servedBy} in ${counts.requests} requests, then ${batch.labelled} labels in ${counts.feedback} posts (${batchSeconds.toFixed(1)} s)`);

    // Live RMSE of the batch, from the labels (status.liveMetrics of the stable version).
    const md = await this.liveMetricsAfter(servedBy, batchStart, period);
    const live = md.status?.liveMetrics;
    log(`${servedBy} live on ${period}: rmse ${live?.rmse?.toFixed(2) ?? '?'} over ${live?.labelledSamples ?? 0} labels (${live?.labelledSince ?? '?'} … ${live?.labelledUntil ?? '?'})`);
    assert.ok(live?.rmse !== undefined && Number.isFinite(live.rmse) && live.rmse < 150, JSON.stringify(live));

    // The labels are in the deployment's feedback log before the same rows are uploaded: the run sees both.
    await this.feedbackLogged(this.labelsSent);

    // 2. The period's labelled rows uploaded as data: the same rows, now also as uploaded data.
    const before = (await this.stack.getTp(this.name)).status?.runCount ?? 0;
    const [key = '?'] = await this.stack.upload(dataset, [period]);
    const uploadedAt = Date.now();
    this.uploaded.push(...this.labelledRows(period));
    log(`${period}: uploaded ${key} (${this.uploaded.length} uploaded rows in all)`);
    const tp = await this.stack.untilTp(this.name, `a NewData run after ${period}`, (x) => (x.status?.runCount ?? 0) > before, 120_000);
    const started = tp.status?.runs?.[0];
    assert.equal(started?.trigger, 'NewData', JSON.stringify(started));
    const version = started.version ?? '';
    log(`${started.name} started for ${version} by NewData: ${started.reason ?? ''}`);
    const run = await this.finished(version);
    const endedAt = ms(run.completionTime, Date.now());
    const blessed = run.outcome === 'Blessed';
    log(`${version} ${blessed ? 'blessed' : run.outcome}: holdout rmse ${run.metrics?.['rmse']?.toFixed(2) ?? '?'} vs champion ${run.championMetrics?.['rmse']?.toFixed(2) ?? '-'}${blessed ? '' : ` (${run.message ?? ''})`}`);
    let servingAt: number | undefined;
    if (blessed) {
      await this.options.onBlessed?.(version, this);
      servingAt = await this.served(version);
      log(`${version} serving`);
    }
    return {
      period, servedBy, samples, predictions: batch.predictions, predicted: batch.predicted, labelled: batch.labelled, counts, batchSeconds,
      liveRmse: live.rmse, liveLabels: live.labelledSamples ?? 0, liveWindow: `${live.labelledSince ?? '?'} … ${live.labelledUntil ?? '?'}`,
      key, uploadedAt, run, runVersion: version, trigger: started.trigger, runStartedAt: ms(started.startTime, uploadedAt), endedAt,
      outcome: run.outcome, blessedAt: blessed ? endedAt : undefined, servingAt,
      holdoutRmse: run.metrics?.['rmse'], championRmse: run.championMetrics?.['rmse'],
    };
  }

  /** Waits for status.liveMetrics of a version measured after `sinceMs` with labels in it; on timeout says where the labels are. */
  private async liveMetricsAfter(version: string, sinceMs: number, period: string): Promise<ModelDeployment> {
    return this.stack.untilMd(this.name, `live rmse of ${version} for the ${period} batch`, (x) => {
      const m = x.status?.liveMetrics;
      return m?.version === version && Date.parse(m.time ?? '') >= sinceMs && m.rmse !== undefined && (m.labelledSamples ?? 0) > 0;
    }, 120_000).catch(async (e: unknown) => {
      // Say where the labels are: the deployment's status, and the label series each server pod publishes.
      this.options.log(`liveMetrics: ${JSON.stringify((await this.stack.getMd(this.name)).status?.liveMetrics)}`);
      for (const p of (await this.stack.core.listNamespacedPod({ namespace: this.namespace, labelSelector: `${Label.deployment}=${this.name}` })).items) {
        const text = await fetch(`http://${p.status?.podIP ?? ''}:8080/metrics`).then((r) => r.text()).catch((x: unknown) => String(x));
        this.options.log(`pod ${p.metadata?.name ?? '?'} (${p.metadata?.labels?.[Label.version] ?? '?'}): ${text.split('\n').filter((l) => /^perennial_server_(feedback|requests)/.test(l)).join(' | ')}`);
      }
      throw e;
    });
  }

  /**
   * Waits until the deployment's pods have settled after a rollout: the same pods, all ready, none terminating, and
   * the ready endpoints of the serving and the feedback Service among them, unchanged over 10 s (the previous
   * revision's pod, kept for a rollback, is not a serving endpoint). A label is
   * counted in the memory of the pod that takes it: one taken by a pod on its way out (the previous revision's pod is
   * replaced after a promotion) is lost to the live figures, so a batch is sent only once no pod is leaving.
   */
  async podsSettled(): Promise<void> {
    const { name, namespace, stack } = this;
    const snapshot = async (): Promise<string | undefined> => {
      const pods = (await stack.core.listNamespacedPod({ namespace, labelSelector: `${Label.deployment}=${name}` })).items;
      if (pods.length === 0 || pods.some((p) => p.metadata?.deletionTimestamp !== undefined)) return undefined;
      if (!pods.every((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))) return undefined;
      const ips = new Set(pods.map((p) => p.status?.podIP ?? ''));
      const endpoints: string[] = [];
      for (const service of [name, `${name}-feedback`]) {
        const eps = (await readyEndpoints(stack.discovery, namespace, service)).map((e) => e.split(':')[0] ?? '');
        if (eps.length === 0 || !eps.every((ip) => ips.has(ip))) return undefined;
        endpoints.push(`${service}: ${eps.sort().join(' ')}`);
      }
      return `${pods.map((p) => `${p.metadata?.name ?? ''} ${p.status?.podIP ?? ''}`).sort().join(', ')}; ${endpoints.join('; ')}`;
    };
    const state = await eventually(`the pods of ${name} settled`, async () => {
      const first = await snapshot();
      if (first === undefined) return undefined;
      await sleep(10_000);
      return (await snapshot()) === first ? first : undefined;
    }, 180_000, 1000);
    this.options.log(`pods settled: ${state}`);
  }

  /** Waits until the deployment's feedback log holds at least n labels (the servers flush it every few seconds). */
  async feedbackLogged(n: number): Promise<void> {
    const prefix = `deployments/${this.namespace}/${this.name}/feedback/`;
    let seen = 0;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      seen = 0;
      for await (const o of this.stack.minio.listObjectsV2(this.stack.bucket, prefix, true) as AsyncIterable<{ name?: string }>) {
        if (o.name === undefined) continue;
        seen += (await this.stack.readText(o.name)).split('\n').filter((l) => l.trim() !== '').length;
      }
      if (seen >= n) return;
      await sleep(1000);
    }
    assert.fail(`the feedback log holds ${seen} labels, ${n} were sent`);
  }
}
