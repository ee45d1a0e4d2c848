// What observe.ts measures before the plan: the candidate and the stable version over the current step's window
// (only while a step with a window runs: shadow, analysis, an auto-promoting preview), and the stable version over
// the last interval for status.liveMetrics, its labels over the open label window (live-window.ts). A step's window
// grows from the step's start until a verdict (canary-steps.ts maxWindowOf): the providers measure whatever range
// they are asked. Pure, table-tested.
import { parseDuration } from '../../../api/duration.js';
import type { ModelDeployment } from '../../../api/model-deployment.js';
import { rolloutSteps, windowOf, type RolloutStep } from './canary-steps.js';
import { labelsFrom, liveSettingsOf } from './live-window.js';
import { hashOfRevision } from './names.js';
import { timeMs } from './plan-context.js';

export interface MeasurementWindow {
  readonly hash: string;
  readonly version: string;
  readonly windowStartMs: number;
  /** Labels counted from here instead (liveMetrics: the open label window, live-window.ts). */
  readonly labelsFromMs?: number;
}

export interface MeasurementRequest {
  readonly candidate: MeasurementWindow | undefined;
  readonly stableWindow: MeasurementWindow | undefined;
  readonly stableLive: MeasurementWindow | undefined;
}

function safeDuration(text: string | undefined, fallback: number): number {
  try {
    return text === undefined ? fallback : parseDuration(text);
  } catch {
    return fallback;
  }
}

function safeSteps(md: ModelDeployment): RolloutStep[] {
  try {
    return rolloutSteps(md.spec.rollout);
  } catch {
    return [];
  }
}

/**
 * Which measurements this reconcile needs, from the status as it stands and the ready pods of the stable revision
 * (its Deployment's readyReplicas in the cache). liveMetrics is measured only while a stable pod is ready: with
 * none, nothing serves the version, and the measurement would only find that out again (the pods provider by
 * listing pods: one API call per deployment per interval, for nothing).
 */
export function measurementsWanted(md: ModelDeployment, nowMs: number, stableReadyReplicas: number): MeasurementRequest {
  const st = md.status ?? {};
  const name = md.metadata.name ?? '';
  const intervalMs = safeDuration(md.spec.rollout.analysis.interval, 30_000);
  const stable = st.stableRevision !== undefined && st.stableVersion !== undefined
    ? { hash: hashOfRevision(name, st.stableRevision), version: st.stableVersion } : undefined;
  let candidate: MeasurementWindow | undefined;
  let stableWindow: MeasurementWindow | undefined;
  if (st.canaryRevision !== undefined && st.canaryVersion !== undefined && st.currentStep !== undefined) {
    const start = timeMs(st.stepStartTime) ?? nowMs;
    if (windowOf(safeSteps(md)[st.currentStep]) !== undefined) {
      candidate = { hash: hashOfRevision(name, st.canaryRevision), version: st.canaryVersion, windowStartMs: start };
      if (stable) stableWindow = { ...stable, windowStartMs: start };
    }
  }
  const lastLive = timeMs(st.liveMetrics?.time);
  const stableLive = stable && stableReadyReplicas > 0 && (lastLive === undefined || nowMs - lastLive >= intervalMs)
    ? { ...stable, windowStartMs: nowMs - intervalMs, labelsFromMs: labelsFrom(st.liveMetrics, stable.version, nowMs, liveSettingsOf(md.spec)) } : undefined;
  return { candidate, stableWindow, stableLive };
}
