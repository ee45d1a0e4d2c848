// The loop's metrics on the operator's registry, for dashboards and alerts (docs/observability.md lists them):
//   - gauges read from the caches at each scrape (series.ts): what each pipeline and deployment is now. A deleted
//     object is no longer in the cache, so its gauges are gone from the next scrape;
//   - counters of what happened: ended runs and their durations (from the reconciler's onRunFinished), promotions,
//     aborted rollouts and rollbacks (from the event hook's loop events), and the feedback-loop latency of each
//     promotion. Their series are removed when the object is deleted (the informer's delete event), so a deleted
//     object's history does not stay exported forever.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ModelDeployment } from '../../api/model-deployment.js';
import type { TrainingPipeline, TrainingRun } from '../../api/training-pipeline.js';
import type { LoopEvent } from '../notifications/loop-events.js';
import type { CacheReader } from '../runtime/informer.js';
import type { KubeObject } from '../runtime/resource.js';
import { loopSeries, type LoopSeries } from './series.js';

/** The gauges filled from series.ts: metric name, help, label names. */
const gauges: readonly { key: keyof LoopSeries; name: string; help: string; labels: readonly string[] }[] = [
  { key: 'pipelineInfo', name: 'perennial_training_pipeline_info', help: 'Always 1: a TrainingPipeline with its phase, champion and latest version as labels.', labels: ['namespace', 'name', 'phase', 'champion_version', 'latest_version'] },
  { key: 'deploymentInfo', name: 'perennial_model_deployment_info', help: 'Always 1: a ModelDeployment with its phase, stable and canary version as labels.', labels: ['namespace', 'name', 'phase', 'stable_version', 'canary_version'] },
  { key: 'canaryWeight', name: 'perennial_model_deployment_canary_weight_percent', help: 'Percent of traffic the candidate gets (status.canaryWeight; 0 without a rollout).', labels: ['namespace', 'name'] },
  { key: 'liveAccuracy', name: 'perennial_model_deployment_live_accuracy', help: 'Live accuracy from feedback labels of the version serving (status.liveMetrics.accuracy).', labels: ['namespace', 'name', 'version'] },
  { key: 'liveLogLoss', name: 'perennial_model_deployment_live_log_loss', help: 'Live log loss from feedback labels (status.liveMetrics.logLoss).', labels: ['namespace', 'name', 'version'] },
  { key: 'liveRmse', name: 'perennial_model_deployment_live_rmse', help: 'Live RMSE from feedback labels (status.liveMetrics.rmse).', labels: ['namespace', 'name', 'version'] },
  { key: 'liveLabelledSamples', name: 'perennial_model_deployment_live_labelled_samples', help: 'Labels behind the live quality figures (status.liveMetrics.labelledSamples).', labels: ['namespace', 'name', 'version'] },
  { key: 'liveDriftPsi', name: 'perennial_model_deployment_drift_psi', help: 'Largest PSI of any feature against the version\'s reference profile (status.liveMetrics.maxDriftPsi).', labels: ['namespace', 'name', 'version'] },
  { key: 'liveDriftEvidence', name: 'perennial_model_deployment_drift_evidence_nats', help: 'Largest evidence of a shift of any feature, sequential detector (status.liveMetrics.maxDriftEvidence).', labels: ['namespace', 'name', 'version'] },
  { key: 'estimatedAccuracy', name: 'perennial_model_deployment_estimated_accuracy', help: 'Accuracy the model expects of itself without labels (status.liveMetrics.estimatedAccuracy).', labels: ['namespace', 'name', 'version'] },
];

const runBuckets = [10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400];
const latencyBuckets = [10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400, 259200];

export class LoopMetrics {
  readonly runs: Counter<'namespace' | 'name' | 'outcome'>;
  readonly runDuration: Histogram<'namespace' | 'name' | 'outcome'>;
  readonly promotions: Counter<'namespace' | 'name'>;
  readonly aborts: Counter<'namespace' | 'name'>;
  readonly rollbacks: Counter<'namespace' | 'name'>;
  readonly feedbackLatency: Histogram<'namespace' | 'name'>;
  readonly lastFeedbackLatency: Gauge<'namespace' | 'name'>;

  constructor(registry: Registry, caches: { readonly pipelines: CacheReader<KubeObject>; readonly deployments: CacheReader<KubeObject> }) {
    const registers = [registry];
    // A scrape calls every gauge's collect in one synchronous stretch (registry.metrics() starts each metric's
    // get(), which calls collect before its first await), when the caches cannot change: the series are computed
    // once for the ten gauges and forgotten at the first microtask after, so the next scrape, even one awaited
    // right after, reads the caches again. At 1,000 + 1,000 objects that was ~46 of the 66 ms a scrape took.
    let series: LoopSeries | undefined;
    const read = (): LoopSeries => {
      if (series === undefined) {
        series = loopSeries(caches.pipelines.list() as TrainingPipeline[], caches.deployments.list() as ModelDeployment[]);
        queueMicrotask(() => { series = undefined; });
      }
      return series;
    };
    for (const g of gauges) {
      new Gauge({
        name: g.name, help: g.help, labelNames: g.labels, registers,
        collect() {
          this.reset();
          for (const s of read()[g.key]) this.set(s.labels, s.value);
        },
      });
    }
    const perObject = ['namespace', 'name'] as const;
    this.runs = new Counter({ name: 'perennial_training_pipeline_runs_total', help: 'Training runs that ended, by pipeline and outcome (Blessed; Rejected: not blessed by the gates; InvalidData: refused by validation; Failed).', labelNames: [...perObject, 'outcome'], registers });
    this.runDuration = new Histogram({ name: 'perennial_training_pipeline_run_duration_seconds', help: 'Time from a run\'s start to its end, by pipeline and outcome.', labelNames: [...perObject, 'outcome'], buckets: runBuckets, registers });
    this.promotions = new Counter({ name: 'perennial_model_deployment_promotions_total', help: 'Candidates promoted to stable.', labelNames: perObject, registers });
    this.aborts = new Counter({ name: 'perennial_model_deployment_rollout_aborts_total', help: 'Rollouts aborted by a failed gate, the progress deadline or a request (not those superseded by a newer version).', labelNames: perObject, registers });
    this.rollbacks = new Counter({ name: 'perennial_model_deployment_rollbacks_total', help: 'Switches back to the previous version within the rollback window.', labelNames: perObject, registers });
    this.feedbackLatency = new Histogram({ name: 'perennial_feedback_loop_latency_seconds', help: 'Per promotion of a version trained on feedback: from the arrival of the newest label its training data held to the promotion (the version serving 100%).', labelNames: perObject, buckets: latencyBuckets, registers });
    this.lastFeedbackLatency = new Gauge({ name: 'perennial_feedback_loop_last_latency_seconds', help: 'The feedback-loop latency of the latest promotion of a version trained on feedback.', labelNames: perObject, registers });
  }

  /** A run ended (its status entry, with startTime and completionTime). */
  runFinished(tp: KubeObject, run: Pick<TrainingRun, 'outcome' | 'startTime' | 'completionTime'>): void {
    const labels = { namespace: tp.metadata?.namespace ?? '', name: tp.metadata?.name ?? '', outcome: run.outcome };
    this.runs.inc(labels);
    const seconds = runSeconds(run);
    if (seconds !== undefined) this.runDuration.observe(labels, seconds);
  }

  /** A loop moment told by the event hook. */
  loopEvent(e: LoopEvent): void {
    const labels = { namespace: e.namespace, name: e.name };
    if (e.type === 'rollout.promoted') this.promotions.inc(labels);
    else if (e.type === 'rollout.aborted') this.aborts.inc(labels);
    else if (e.type === 'rollout.rolledBack') this.rollbacks.inc(labels);
  }

  feedbackLoopLatency(namespace: string, name: string, seconds: number): void {
    this.feedbackLatency.observe({ namespace, name }, seconds);
    this.lastFeedbackLatency.set({ namespace, name }, seconds);
  }

  /**
   * An object appeared: its counters start at 0, so the first increment is an increase Prometheus sees (a series
   * born at 1 looks unchanged to increase(), and an alert on it would never fire).
   */
  pipelineSeen(namespace: string, name: string): void {
    for (const outcome of ['Blessed', 'Rejected', 'Failed', 'InvalidData']) this.runs.inc({ namespace, name, outcome }, 0);
  }

  deploymentSeen(namespace: string, name: string): void {
    for (const m of [this.promotions, this.aborts, this.rollbacks]) m.inc({ namespace, name }, 0);
  }

  /** A pipeline was deleted: its counters go (partial matching removes every outcome). */
  pipelineDeleted(namespace: string, name: string): void {
    for (const outcome of ['Blessed', 'Rejected', 'Failed', 'InvalidData']) {
      this.runs.remove({ namespace, name, outcome });
      this.runDuration.remove({ namespace, name, outcome });
    }
  }

  deploymentDeleted(namespace: string, name: string): void {
    for (const m of [this.promotions, this.aborts, this.rollbacks, this.feedbackLatency, this.lastFeedbackLatency]) m.remove({ namespace, name });
  }
}

/** Seconds from startTime to completionTime; undefined when either is missing or unreadable. */
export function runSeconds(run: { readonly startTime?: string | undefined; readonly completionTime?: string | undefined }): number | undefined {
  if (run.startTime === undefined || run.completionTime === undefined) return undefined;
  const s = (Date.parse(run.completionTime) - Date.parse(run.startTime)) / 1000;
  return Number.isFinite(s) && s >= 0 ? s : undefined;
}
