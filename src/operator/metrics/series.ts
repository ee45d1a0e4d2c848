// What a dashboard reads of each object's status, as Prometheus series: pure, from the cached TrainingPipelines and
// ModelDeployments to label sets and values. The gauges of loop-metrics.ts are filled from this at each scrape, so a
// deleted object's series are gone from the next scrape on. Labels are only namespace, name and version (and the
// phase of an info series, which has one value at a time): nothing a tenant's traffic can multiply.
import type { ModelDeployment } from '../../api/model-deployment.js';
import type { TrainingPipeline } from '../../api/training-pipeline.js';

export interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Each gauge's name (without the perennial_ prefix) → its samples. */
export interface LoopSeries {
  readonly pipelineInfo: Sample[];
  readonly deploymentInfo: Sample[];
  readonly canaryWeight: Sample[];
  readonly liveAccuracy: Sample[];
  readonly liveLogLoss: Sample[];
  readonly liveRmse: Sample[];
  readonly liveLabelledSamples: Sample[];
  readonly liveDriftPsi: Sample[];
  readonly liveDriftEvidence: Sample[];
  readonly estimatedAccuracy: Sample[];
}

type Obj = { readonly metadata: { readonly namespace?: string | undefined; readonly name?: string | undefined } };

function ref(o: Obj): { namespace: string; name: string } {
  return { namespace: o.metadata.namespace ?? '', name: o.metadata.name ?? '' };
}

/** perennial_training_pipeline_info: 1 with the phase and the champion ('' before the first blessing). */
export function pipelineInfo(tp: TrainingPipeline): Sample {
  const s = tp.status;
  return { labels: { ...ref(tp), phase: s?.phase ?? 'Pending', champion_version: s?.championVersion ?? '', latest_version: s?.latestVersion ?? '' }, value: 1 };
}

/** perennial_model_deployment_info: 1 with the phase, the stable and the canary version ('' when none). */
export function deploymentInfo(md: ModelDeployment): Sample {
  const s = md.status;
  return { labels: { ...ref(md), phase: s?.phase ?? 'Pending', stable_version: s?.stableVersion ?? '', canary_version: s?.canaryVersion ?? '' }, value: 1 };
}

/** The live figures of status.liveMetrics, each labelled with the version they measure; absent figures give no sample. */
function liveSamples(md: ModelDeployment): Pick<LoopSeries, 'liveAccuracy' | 'liveLogLoss' | 'liveRmse' | 'liveLabelledSamples' | 'liveDriftPsi' | 'liveDriftEvidence' | 'estimatedAccuracy'> {
  const live = md.status?.liveMetrics;
  const labels = { ...ref(md), version: live?.version ?? '' };
  const one = (v: number | undefined): Sample[] => (live === undefined || v === undefined || !Number.isFinite(v) ? [] : [{ labels, value: v }]);
  return {
    liveAccuracy: one(live?.accuracy),
    liveLogLoss: one(live?.logLoss),
    liveRmse: one(live?.rmse),
    liveLabelledSamples: one(live?.labelledSamples),
    liveDriftPsi: one(live?.maxDriftPsi),
    liveDriftEvidence: one(live?.maxDriftEvidence),
    estimatedAccuracy: one(live?.estimatedAccuracy),
  };
}

/** Every series of the objects in the caches. */
export function loopSeries(pipelines: readonly TrainingPipeline[], deployments: readonly ModelDeployment[]): LoopSeries {
  const out: LoopSeries = {
    pipelineInfo: pipelines.map(pipelineInfo),
    deploymentInfo: [], canaryWeight: [], liveAccuracy: [], liveLogLoss: [], liveRmse: [], liveLabelledSamples: [],
    liveDriftPsi: [], liveDriftEvidence: [], estimatedAccuracy: [],
  };
  for (const md of deployments) {
    out.deploymentInfo.push(deploymentInfo(md));
    out.canaryWeight.push({ labels: ref(md), value: md.status?.canaryWeight ?? 0 });
    const live = liveSamples(md);
    for (const k of Object.keys(live) as (keyof typeof live)[]) out[k].push(...live[k]);
  }
  return out;
}
