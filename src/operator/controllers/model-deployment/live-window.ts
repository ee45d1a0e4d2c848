// The label window of status.liveMetrics (spec.liveMetrics): which labels its quality figures (accuracy, logLoss,
// rmse, labelledSamples) rest on. Traffic, latency and drift are of the last interval; labels come in batches, so
// one interval's worth is often nothing. Instead labels are gathered in windows that follow each other:
//
//   - a window opens where the previous one closed (liveMetrics.labelledUntil); the first one of a version (nothing
//     published yet, or figures of another version) reaches back maxWindow and closes at once: its pods count from
//     their start when they started in it (pods provider), so labels taken before the operator first reached a pod
//     (a slow start, a scrape that failed) are in the version's first figures, not in a baseline;
//   - every interval it is measured from its start to now; it closes when it holds liveMetrics.minSamples labels or
//     has lasted liveMetrics.maxWindow, and its figures replace the published ones (labelledSince/Until say which
//     window); until then the published figures stay as they are;
//   - so a batch's labels stay in status until the next window closes: at most maxWindow after the batch when no
//     label follows, and a window never reaches back further than maxWindow (an operator that was away longer
//     starts the window maxWindow ago).
//
// Tumbling windows need one baseline per pod and window start (the pods provider pins it) and one range per query
// (Prometheus), where a sliding "newest N labels" would need the label count at every past moment. Pure,
// table-tested.
import { parseDuration } from '../../../api/duration.js';
import type { LiveMetrics, ModelDeploymentSpec } from '../../../api/model-deployment.js';

function timeMs(t: string | undefined): number | undefined {
  const ms = t === undefined ? Number.NaN : Date.parse(t);
  return Number.isFinite(ms) ? ms : undefined;
}

export interface LiveSettings {
  readonly minSamples: number;
  readonly maxWindowMs: number;
}

/** spec.liveMetrics unset: windows of 100 labels (a performance trigger's default minSamples), at most an hour. */
export const defaultLiveSettings: LiveSettings = { minSamples: 100, maxWindowMs: 3_600_000 };

export function liveSettingsOf(spec: ModelDeploymentSpec): LiveSettings {
  const l = spec.liveMetrics;
  if (l === undefined) return defaultLiveSettings;
  let maxWindowMs = defaultLiveSettings.maxWindowMs;
  try {
    maxWindowMs = parseDuration(l.maxWindow);
  } catch {
    // refused by the API server; an object stored before the rule keeps the default
  }
  return { minSamples: l.minSamples, maxWindowMs };
}

/**
 * Where the open label window starts: where the published one of `version` ended, but no earlier than maxWindow
 * ago; undefined when none of this version is published (the first window reaches back maxWindow).
 */
export function openLabelWindow(previous: LiveMetrics | undefined, version: string, nowMs: number, s: LiveSettings): number | undefined {
  const until = previous?.version === version ? timeMs(previous.labelledUntil) : undefined;
  return until === undefined ? undefined : Math.min(nowMs, Math.max(until, nowMs - s.maxWindowMs));
}

/** Where this interval's measurement counts labels from: the open window, or maxWindow ago for a version's first. */
export function labelsFrom(previous: LiveMetrics | undefined, version: string, nowMs: number, s: LiveSettings): number {
  return openLabelWindow(previous, version, nowMs, s) ?? nowMs - s.maxWindowMs;
}

/** Whether the window from `startMs` closes now with `labels` in it (the first window of a version always does). */
export function labelWindowCloses(openStartMs: number | undefined, labels: number, nowMs: number, s: LiveSettings): boolean {
  return openStartMs === undefined || labels >= s.minSamples || nowMs - openStartMs >= s.maxWindowMs;
}
