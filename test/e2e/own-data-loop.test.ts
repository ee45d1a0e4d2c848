// The loop on a second real, public, time-ordered dataset that is not weather, as a user brings their own
// (docs/own-data.md): the FAA wildlife strikes 1990–2002 (vega-datasets birdstrikes.csv, test/support/birdstrikes.ts),
// a regression of the aircraft's speed from categorical columns whose names have spaces, with event time
// (`Flight Date`) and a row id (`Record ID`). Real processes and HTTP only: the local cluster, a real node running
// the trainer and server images as pods, the operator installed by helm.
//   1. Period 1 (1990–1992) is uploaded as one CSV; a TrainingPipeline (newData trigger polling every 10 s, rows
//      matched by row id, fed-back copies dropped, refit) trains v1; a ModelDeployment serves it.
//   2. For each following period (1993–1995, 1996–1998), as a batch: every strike of the period is sent for a
//      prediction through the Service, then the known speeds (72% of them) go back through the feedback Service;
//      live RMSE is reported for the batch. Then the period's labelled rows are uploaded as a CSV: the same rows
//      arrive as feedback and as data. The newData trigger retrains.
//   3. From the store: the holdout of each run is the newest uploaded rows by event time (its range in metrics.json),
//      every fed-back copy of an uploaded row was dropped and counted (lineage.json), so the rows trained and held
//      out are exactly the uploaded ones (no double counting).
//   4. The loop settles: after the last upload and its retrain, no run starts over several poll intervals.
// The milestones print as `# <seconds since start> <what>` lines.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { imageTags } from '../../localcluster/node/images.js';
import type { TrainingPipeline, TrainingRun } from '../../src/api/training-pipeline.js';
import { Label } from '../../src/api/labels.js';
import { artifactKey } from '../../src/shared/artifact-layout.js';
import { birdstrikes } from '../support/birdstrikes.js';
import { dataPrefix, labelOf, periodSamples, pipelineSchema, rowsOf } from '../support/dataset.js';
import { LoopStack } from '../support/loop-stack.js';
import { operatorLogs } from '../support/operator-chart.js';
import { eventually } from '../support/eventually.js';
import { emptyCounts, readyEndpoints, sendBatch } from '../support/traffic.js';

const namespace = 'own';
const name = 'birdstrikes';
const first = '1990-1992';
const following = ['1993-1995', '1996-1998'];
const pollInterval = '10s';
const pollMs = 10_000;
const started = Date.now();
const milestone = (what: string): void => console.log(`# ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s  ${what}`);

/** What lineage.json says about the rows of a run (the fields this test reads; see src/trainer/run.ts). */
interface Lineage {
  readonly sources: readonly { readonly key: string }[];
  readonly feedback?: { readonly joined?: number };
  readonly rows: { readonly loaded: number; readonly train: number; readonly validation: number; readonly holdout: number };
  readonly duplicates?: {
    readonly policy: string;
    readonly matchedBy: string;
    readonly fedBackMatchingHoldout: number;
    readonly fedBackMatchingUploaded: number;
    readonly fedBackRepeated: number;
    readonly fedBackKept: number;
  };
  readonly refit?: unknown;
}

interface Metrics {
  readonly holdout: { readonly kind: string; readonly rows: number; readonly from?: string; readonly to?: string };
  readonly candidate: { readonly metrics: Record<string, number> };
  readonly baseline: { readonly kind: string; readonly metrics: Record<string, number> };
}

function pipeline(): object {
  return {
    apiVersion: 'perennial.dev/v1alpha1', kind: 'TrainingPipeline', metadata: { name },
    spec: {
      data: {
        sources: [{ prefix: dataPrefix(namespace, birdstrikes), format: 'csv' }],
        schema: pipelineSchema(birdstrikes),
        feedbackFrom: name,
        feedbackDuplicates: 'DropFeedbackCopy',
      },
      validation: { minRows: 200, maxMissingRate: 0.05 },
      triggers: { newData: { minObjects: 1, pollInterval }, minInterval: '10s' },
      trainer: {
        image: imageTags.trainer,
        gpu: { count: 1 },
        hyperparameters: { epochs: 8, batchSize: 64, learningRate: 0.01, earlyStoppingPatience: 2 },
        seed: 7,
        warmStart: 'Champion',
      },
      // RMSE in knots: a candidate may be at most 5 knots worse than the champion on the same (newest) rows.
      evaluation: { holdout: { fraction: 0.2 }, primaryMetric: 'rmse', maxRegression: 5, refit: true },
    },
  };
}

function deployment(): object {
  return {
    apiVersion: 'perennial.dev/v1alpha1', kind: 'ModelDeployment', metadata: { name },
    spec: {
      model: { fromPipeline: name },
      server: { image: imageTags.server, replicas: 1 },
      // Batch traffic comes after the rollout: each new champion replaces the last at once.
      rollout: { strategy: 'Canary', canary: { steps: [{ setWeight: 100 }] }, analysis: { interval: '5s', minSamples: 50 } },
    },
  };
}

describe('the loop on the FAA bird strikes (regression, event time, row ids, batches through the Services)', () => {
  let stack: LoopStack;

  before(async () => {
    stack = await LoopStack.start({ name: 'e2e-own-data', namespace, operator: 'helm', data: { dataset: birdstrikes, periods: [first] }, log: (l) => milestone(l) });
    milestone(`cluster, node and the helm-installed operator up; bird strikes ${first} in s3://${stack.bucket}/${dataPrefix(namespace, birdstrikes)}`);
  });

  after(async () => {
    if (stack !== undefined) {
      const logs = await operatorLogs(stack.cluster).catch((e: unknown) => `no operator logs: ${String(e)}`);
      writeFileSync(join(stack.cluster.logDir, 'operator.log'), logs);
      milestone(`operator log: ${join(stack.cluster.logDir, 'operator.log')}`);
    }
    await stack?.stop();
  });

  it('retrains on each uploaded period, evaluates on the newest uploaded rows, counts each row once, and settles', async () => {
    const runOf = (tp: TrainingPipeline, version: string): TrainingRun | undefined => tp.status?.runs?.find((r) => r.version === version);
    const finished = async (version: string): Promise<TrainingRun> => {
      const tp = await stack.untilTp(name, `the run of ${version} to end`, (x) => (runOf(x, version)?.outcome ?? 'Running') !== 'Running', 300_000);
      const run = runOf(tp, version);
      assert.equal(run?.outcome, 'Blessed', `run of ${version}: ${JSON.stringify(run)}`);
      return run;
    };
    const served = async (version: string): Promise<void> => {
      await stack.untilMd(name, `${version} serving`, (x) =>
        x.status?.stableVersion === version && x.status.canaryVersion === undefined && (x.status.stableReadyReplicas ?? 0) >= 1, 240_000);
      await podsSettled();
    };

    await stack.create('trainingpipelines', pipeline());
    await stack.create('modeldeployments', deployment());
    milestone('TrainingPipeline and ModelDeployment applied');

    // What has been uploaded so far: the labelled rows of the uploaded periods (rows without a speed are never uploaded).
    const uploaded = rowsOf(birdstrikes, first).filter((r) => labelOf(birdstrikes, r) !== undefined);
    let labelsSent = 0;

    const v1 = await finished('v1');
    assert.equal(v1.trigger, 'Initial');
    milestone(`v1 blessed: holdout rmse ${v1.metrics?.['rmse']?.toFixed(2) ?? '?'} on ${uploaded.length} uploaded rows`);
    await checkRun('v1', uploaded, 0);
    await served('v1');
    milestone('v1 serving');

    let version = 'v1';
    for (const period of following) {
      // 1. The period's strikes as a batch through the Services: predictions first, then the known speeds.
      const samples = periodSamples(birdstrikes, period);
      const counts = emptyCounts();
      const batchStart = Date.now();
      const batch = await sendBatch(await stack.target(name), samples, { perRequest: 100, counts });
      assert.deepEqual(counts.errors.slice(0, 5), [], `batch ${period}`);
      assert.equal(batch.predicted, samples.length);
      labelsSent += batch.labelled;
      milestone(`${period}: ${batch.predicted} predictions by ${version} in ${counts.requests} requests, then ${batch.labelled} labels in ${counts.feedback} posts (${((Date.now() - batchStart) / 1000).toFixed(1)} s)`);

      // Live RMSE of the batch, from the labels (status.liveMetrics of the stable version).
      const md = await stack.untilMd(name, `live rmse of ${version} for the ${period} batch`, (x) => {
        const m = x.status?.liveMetrics;
        return m?.version === version && Date.parse(m.time ?? '') >= batchStart && m.rmse !== undefined && (m.labelledSamples ?? 0) > 0;
      }, 120_000).catch(async (e: unknown) => {
        // Say where the labels are: the deployment's status, and the label series each server pod publishes.
        milestone(`liveMetrics: ${JSON.stringify((await stack.getMd(name)).status?.liveMetrics)}`);
        for (const p of (await stack.core.listNamespacedPod({ namespace, labelSelector: `perennial.dev/deployment=${name}` })).items) {
          const text = await fetch(`http://${p.status?.podIP ?? ''}:8080/metrics`).then((r) => r.text()).catch((x: unknown) => String(x));
          milestone(`pod ${p.metadata?.name ?? '?'} (${p.metadata?.labels?.['perennial.dev/version'] ?? '?'}): ${text.split('\n').filter((l) => /^perennial_server_(feedback|requests)/.test(l)).join(' | ')}`);
        }
        throw e;
      });
      const live = md.status?.liveMetrics;
      milestone(`${version} live on ${period}: rmse ${live?.rmse?.toFixed(2) ?? '?'} over ${live?.labelledSamples ?? 0} labels`);
      assert.ok(live?.rmse !== undefined && Number.isFinite(live.rmse) && live.rmse < 150, JSON.stringify(live));

      // The labels are in the deployment's feedback log before the same rows are uploaded: the run sees both.
      await feedbackLogged(labelsSent);

      // 2. The period's labelled rows uploaded as data: the same rows, now also as uploaded data.
      const before = (await stack.getTp(name)).status?.runCount ?? 0;
      const [key] = await stack.upload(birdstrikes, [period]);
      uploaded.push(...rowsOf(birdstrikes, period).filter((r) => labelOf(birdstrikes, r) !== undefined));
      milestone(`${period}: uploaded ${key ?? '?'} (${uploaded.length} uploaded rows in all)`);
      const tp = await stack.untilTp(name, `a NewData run after ${period}`, (x) => (x.status?.runCount ?? 0) > before, 120_000);
      const run = tp.status?.runs?.[0];
      assert.equal(run?.trigger, 'NewData', JSON.stringify(run));
      version = run.version ?? '';
      milestone(`${run.name} started for ${version} by NewData: ${run.reason ?? ''}`);
      const done = await finished(version);
      milestone(`${version} blessed: holdout rmse ${done.metrics?.['rmse']?.toFixed(2) ?? '?'} vs champion ${done.championMetrics?.['rmse']?.toFixed(2) ?? '-'}`);
      await checkRun(version, uploaded, labelsSent);
      await served(version);
      milestone(`${version} serving`);
    }

    // 4. The loop settles: no new data, no run (the feedback log is not data; the served model changes nothing).
    const settled = (await stack.getTp(name)).status?.runCount ?? 0;
    await sleep(4 * pollMs);
    const tp = await stack.getTp(name);
    assert.equal(tp.status?.runCount, settled, `no run without new data: ${JSON.stringify(tp.status?.runs?.[0])}`);
    assert.equal(tp.status?.currentRun, undefined);
    milestone(`settled: ${settled} runs, none in ${(4 * pollMs) / 1000} s (${4} poll intervals) without new data`);
  });

  /**
   * Waits until the deployment's pods have settled after a rollout: the same pods, all ready, none terminating, and
   * the ready endpoints of the serving and the feedback Service among them, unchanged over 10 s (the previous
   * revision's pod, kept for a rollback, is not a serving endpoint). A label is
   * counted in the memory of the pod that takes it: one taken by a pod on its way out (the previous revision's pod is
   * replaced after a promotion) is lost to the live figures, so a batch is sent only once no pod is leaving.
   */
  async function podsSettled(): Promise<void> {
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
    milestone(`pods settled: ${state}`);
  }

  /** Waits until the deployment's feedback log holds at least n labels (the servers flush it every few seconds). */
  async function feedbackLogged(n: number): Promise<void> {
    const prefix = `deployments/${namespace}/${name}/feedback/`;
    let seen = 0;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      seen = 0;
      for await (const o of stack.minio.listObjectsV2(stack.bucket, prefix, true) as AsyncIterable<{ name?: string }>) {
        if (o.name === undefined) continue;
        seen += (await stack.readText(o.name)).split('\n').filter((l) => l.trim() !== '').length;
      }
      if (seen >= n) return;
      await sleep(1000);
    }
    assert.fail(`the feedback log holds ${seen} labels, ${n} were sent`);
  }

  /**
   * What the store says about a run: its holdout is the newest uploaded rows by event time, every fed-back row copies
   * an uploaded one and was dropped and counted, so the rows it trained and held out are the uploaded ones, once each.
   */
  async function checkRun(version: string, uploaded: readonly Record<string, string>[], fedBack: number): Promise<void> {
    const ref = { namespace, name };
    const metrics = await stack.readJson<Metrics>(artifactKey(ref, version, 'metrics'));
    const lineage = await stack.readJson<Lineage>(artifactKey(ref, version, 'lineage'));
    const dates = uploaded.map((r) => r['Flight Date'] ?? '').sort();
    const held = Math.ceil(dates.length * 0.2);
    const h = metrics.holdout;
    milestone(`${version}: holdout ${h.rows} rows ${h.from ?? '?'} … ${h.to ?? '?'}; rmse ${metrics.candidate.metrics['rmse']?.toFixed(2) ?? '?'} vs ${metrics.baseline.kind} ${metrics.baseline.metrics['rmse']?.toFixed(2) ?? '?'}; ` +
      `rows ${JSON.stringify(lineage.rows)}; feedback ${JSON.stringify(lineage.feedback ?? null)}; duplicates ${JSON.stringify(lineage.duplicates ?? null)}`);
    // The holdout: the newest fifth of the uploaded rows by event time, never fed-back rows.
    assert.equal(h.rows, held, `holdout rows of ${version}`);
    assert.equal(h.to?.slice(0, 10), dates.at(-1), `holdout ends at the newest uploaded row (${version})`);
    assert.equal(h.from?.slice(0, 10), dates[dates.length - held], `holdout starts at the ${held}th newest uploaded row (${version})`);
    // Every row once: what was trained on and held out is exactly what was uploaded.
    assert.equal(lineage.rows.train + lineage.rows.validation + lineage.rows.holdout, uploaded.length, `rows of ${version}: ${JSON.stringify(lineage.rows)}`);
    if (fedBack === 0) return;
    assert.ok(lineage.sources.some((s) => s.key.includes('/feedback/')), 'the feedback log is read');
    assert.equal(lineage.feedback?.joined, fedBack, `every label sent joins its prediction (${version})`);
    const d = lineage.duplicates;
    assert.ok(d, `lineage of ${version} reports duplicates`);
    assert.equal(d.matchedBy, 'rowId');
    assert.equal(d.fedBackKept, 0, `no fed-back copy of an uploaded row is trained on (${version})`);
    assert.equal(d.fedBackMatchingHoldout + d.fedBackMatchingUploaded + d.fedBackRepeated, fedBack, `every fed-back copy dropped and counted (${version})`);
  }
});
