// status.liveMetrics: what the stable version measured recently (the TrainingPipeline's drift and performance
// triggers read it): its traffic, latency and drift from its own pods over the last analysis interval
// (windowSeconds), and its quality (accuracy and log loss, or RMSE) from every label for its own predictions,
// whichever pod took it, over the label window of live-window.ts: labels gathered until there are
// spec.liveMetrics.minSamples of them or the window lasted liveMetrics.maxWindow (labelledSince, labelledUntil),
// so a batch's labels stay visible after the batch; and the accuracy estimated without labels from the model's own
// confidence (estimatedAccuracy, estimatedSamples), of the servers' confidence windows now. Measured every interval
// while a stable pod is ready; a measurement equal to the last one but for its time is not written. Figures belong
// to one version only: when the stable version changes (a promotion, a rollback) the old version's figures are
// dropped at once, and the next interval measures the new version afresh — never the old version's numbers under the
// new name. Pure, table-tested.
import { isDeepStrictEqual } from 'node:util';
import type { LiveMetrics } from '../../../api/model-deployment.js';
import { formatTime } from '../../runtime/conditions.js';
import { accuracyOf, estimatedAccuracyOf, labelsOf, logLossOf, rmseOf, servedRequests } from './metrics/provider.js';
import { defaultLiveSettings, labelWindowCloses, openLabelWindow, type LiveSettings } from './live-window.js';
import type { MeasureResult } from './observed.js';
import { readyOf, type PlanContext } from './plan-context.js';
import type { Draft } from './rollout-state.js';

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/** Whether two live measurements differ only in their time. */
export function sameMeasurement(a: LiveMetrics | undefined, b: LiveMetrics): a is LiveMetrics {
  if (a === undefined) return false;
  const { time: _ta, ...restA } = a;
  const { time: _tb, ...restB } = b;
  return isDeepStrictEqual(restA, restB);
}

const qualityKeys = ['accuracy', 'logLoss', 'rmse', 'labelledSamples', 'labelledSince', 'labelledUntil'] as const;

/**
 * The live metrics of `version` from a measurement (traffic over the last interval, labels over the open label
 * window); undefined without one. The quality figures are the measurement's when its label window closes now,
 * else the published ones (`previous`, of the same version) stay.
 */
export function liveMetricsOf(
  r: MeasureResult | undefined, version: string, intervalMs: number, nowMs: number,
  previous: LiveMetrics | undefined = undefined, settings: LiveSettings = defaultLiveSettings,
): LiveMetrics | undefined {
  if (!r?.ok) return undefined;
  const m = r.m;
  const psis = Object.entries(m.drift);
  const seconds = intervalMs / 1000;
  const out: Writable<LiveMetrics> = { time: formatTime(nowMs), version, windowSeconds: seconds, requestRate: Math.round((m.requests / seconds) * 1000) / 1000 };
  const served = servedRequests(m);
  if (served > 0) out.errorRate = m.errors / served;
  if (m.latencyP99Ms !== undefined) out.latencyP99Ms = m.latencyP99Ms;
  const open = openLabelWindow(previous, version, nowMs, settings);
  if (labelWindowCloses(open, labelsOf(m), nowMs, settings)) {
    const quality = { accuracy: accuracyOf(m), logLoss: logLossOf(m), rmse: rmseOf(m) };
    for (const [k, v] of Object.entries(quality) as Array<[keyof typeof quality, number | undefined]>) if (v !== undefined) out[k] = v;
    out.labelledSamples = labelsOf(m);
    out.labelledSince = formatTime(open ?? nowMs - settings.maxWindowMs);
    out.labelledUntil = formatTime(nowMs);
  } else if (previous !== undefined) {
    for (const k of qualityKeys) if (previous[k] !== undefined) (out as Record<string, unknown>)[k] = previous[k];
  }
  // The sequential detector's evidence (what a Sequential drift trigger judges) beside the PSI (its magnitude).
  // Rounded to a hundredth of a nat: the peaks creep up now and then on steady traffic, and a write for each creep says nothing.
  const evidence = Object.entries(m.driftEvidence ?? {}).map(([f, x]): [string, number] => [f, Math.round(x * 100) / 100]);
  if (evidence.length > 0) {
    out.driftEvidence = Object.fromEntries(evidence);
    out.maxDriftEvidence = Math.max(...evidence.map((e) => e[1]));
  }
  if (m.driftDetectedAtMs !== undefined) out.driftDetectedTime = formatTime(m.driftDetectedAtMs);
  if (psis.length > 0) {
    out.drift = Object.fromEntries(psis);
    out.maxDriftPsi = Math.max(...psis.map((e) => e[1]));
  }
  out.driftSamples = m.driftRows;
  // Label-free, of the servers' confidence windows now (like drift): there while labels are late or never come.
  const estimated = estimatedAccuracyOf(m);
  if (estimated !== undefined) {
    out.estimatedAccuracy = estimated;
    out.estimatedSamples = m.confidenceRows;
  }
  return out;
}

/**
 * What liveMetrics says after this reconcile: the new measurement when it is of the version that is stable now,
 * the previous figures when nothing new was measured and they are of that version, and nothing otherwise.
 */
export function nextLiveMetrics(previous: LiveMetrics | undefined, measured: LiveMetrics | undefined, stableVersion: string): LiveMetrics | undefined {
  if (measured !== undefined && measured.version === stableVersion) return sameMeasurement(previous, measured) ? previous : measured;
  return previous?.version === stableVersion ? previous : undefined;
}

export function withLiveMetrics(ctx: PlanContext, d: Draft): Draft {
  // The measurement was taken of the version stable when this reconcile began (measurements-wanted.ts).
  const measuredVersion = ctx.prev.stableVersion;
  const live = measuredVersion === undefined ? undefined : liveMetricsOf(ctx.observed.stableLive, measuredVersion, ctx.intervalMs, ctx.nowMs, ctx.prev.liveMetrics, ctx.live);
  // An idle deployment (no traffic, a settled drift window) must cost no write per interval (at 1,000 deployments
  // that was 2,000 writes a minute for nothing): liveMetrics.time is when these values were first measured.
  const liveMetrics = nextLiveMetrics(ctx.prev.liveMetrics, live, d.stable.version);
  const { liveMetrics: _dropped, ...rest } = d.status;
  const status = liveMetrics === undefined ? rest : { ...rest, liveMetrics };
  // Measured again every interval while a stable pod serves; with none there is nothing to measure, and the first
  // pod's readiness (a status change of its Deployment) enqueues this deployment anyway.
  const serving = d.stable.name === status.stableRevision && readyOf(ctx, d.stable) > 0;
  return { ...d, status, requeues: serving ? [...d.requeues, ctx.intervalMs] : d.requeues };
}
