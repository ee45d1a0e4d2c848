// The steps of one candidate's rollout: the ROLLING part of the state machine drawn whole in rollout-state.ts.
// Pure, table-tested; time is data (the caller passes now and gets back how long to wait), so a restarted operator
// resumes at the step recorded in status. decideStep says what the current step does now:
//
//   wait           the step is not done (weight not reached, time not up, window still measuring), or held:
//                  spec.rollout.paused, a pause without a duration, a preview without autoPromoteAfter, or
//                  inconclusiveLimit Inconclusive analyses in a row (a person promotes, retries or aborts)
//   advance        done: weight reached, time up, window Passed, or promote (one step)
//   restartWindow  the window was Inconclusive (too little traffic) and has grown to analysis.maxWindow: the same
//                  step measures again over a new window, and the inconclusive analysis is counted (except a
//                  blue-green preview nobody sent any traffic to: see decideStep). Before maxWindow an Inconclusive
//                  window is not restarted but keeps growing (a wait with `growing`), uncounted: samples
//                  accumulate, so a batch of predictions and its labels later are judged in one window.
//   abort          the window Failed (→ ABORTED)
//   promote        every step done, or promote "full" (→ PROMOTING)
import type { ModelDeploymentSpec, Verdict } from '../../../api/model-deployment.js';
import { parseDuration } from '../../../api/duration.js';

type Rollout = ModelDeploymentSpec['rollout'];

export type RolloutStep =
  | { readonly kind: 'shadow'; readonly durationMs: number; readonly percent: number; readonly minAgreement: number }
  | { readonly kind: 'setWeight'; readonly weight: number }
  | { readonly kind: 'pause'; readonly durationMs: number | undefined }
  | { readonly kind: 'analysis'; readonly durationMs: number }
  | { readonly kind: 'preview'; readonly autoPromoteAfterMs: number | undefined };

/** The steps of a rollout: a shadow phase first when configured, then the canary steps or the blue-green preview. */
export function rolloutSteps(rollout: Rollout): RolloutStep[] {
  const intervalMs = parseDuration(rollout.analysis.interval);
  const steps: RolloutStep[] = [];
  if (rollout.shadow) {
    steps.push({ kind: 'shadow', durationMs: parseDuration(rollout.shadow.duration), percent: rollout.shadow.percent, minAgreement: rollout.shadow.minAgreement });
  }
  if (rollout.strategy === 'BlueGreen') {
    const after = rollout.blueGreen?.autoPromoteAfter;
    steps.push({ kind: 'preview', autoPromoteAfterMs: after === undefined ? undefined : parseDuration(after) });
    return steps;
  }
  for (const s of rollout.canary.steps) {
    if (s.setWeight !== undefined) steps.push({ kind: 'setWeight', weight: s.setWeight });
    else if (s.pause) steps.push({ kind: 'pause', durationMs: s.pause.duration === undefined ? undefined : parseDuration(s.pause.duration) });
    else if (s.analysis) steps.push({ kind: 'analysis', durationMs: s.analysis.duration === undefined ? intervalMs : parseDuration(s.analysis.duration) });
  }
  return steps;
}

/** The candidate's target weight while step `index` runs: the last setWeight at or before it (0 before any). */
export function weightAt(steps: readonly RolloutStep[], index: number): number {
  if (index >= steps.length) return 100;
  let w = 0;
  for (let i = 0; i <= index && i < steps.length; i++) {
    const s = steps[i];
    if (s?.kind === 'setWeight') w = s.weight;
  }
  return w;
}

/** How long a step's measurement window lasts; undefined for steps that judge nothing. */
export function windowOf(step: RolloutStep | undefined): number | undefined {
  if (!step) return undefined;
  if (step.kind === 'shadow' || step.kind === 'analysis') return step.durationMs;
  if (step.kind === 'preview') return step.autoPromoteAfterMs;
  return undefined;
}

/** analysis.maxWindow unset: this many intervals. */
export const defaultMaxWindowIntervals = 10;

/**
 * The longest a step's window grows while short of samples: analysis.maxWindow, by default 10 intervals, never
 * shorter than the step's own window (a window lasts at least its step). 0 for steps that judge nothing.
 */
export function maxWindowOf(step: RolloutStep | undefined, intervalMs: number, maxWindowMs: number | undefined): number {
  const w = windowOf(step);
  if (w === undefined) return 0;
  return Math.max(w, maxWindowMs ?? defaultMaxWindowIntervals * intervalMs);
}

/** True when the step's window has ended: an analysis of [stepStart, now] decides the step. */
export function analysisDue(step: RolloutStep | undefined, stepStartMs: number, nowMs: number): boolean {
  const w = windowOf(step);
  return w !== undefined && nowMs >= stepStartMs + w;
}

export type Command = 'none' | 'promoteStep' | 'promoteFull';

export interface StepState {
  readonly steps: readonly RolloutStep[];
  readonly index: number;
  readonly stepStartMs: number;
  readonly nowMs: number;
  readonly intervalMs: number;
  /** The router has put this step's traffic in place (setWeight), or the candidate is ready (shadow, preview). */
  readonly reached: boolean;
  readonly command: Command;
  readonly paused: boolean;
  /** The verdict on the window that ended now (only when analysisDue). */
  readonly verdict: Verdict | undefined;
  /**
   * Served predict requests of the candidate in that window: 0 when nobody sent it any, undefined when it could not
   * be measured (the provider could not be asked).
   */
  readonly served: number | undefined;
  readonly inconclusiveCount: number;
  readonly inconclusiveLimit: number;
  /** How long the step's window may grow while Inconclusive (maxWindowOf); at most the step's window: no growth. */
  readonly maxWindowMs: number;
}

export type PauseReason = 'PausedBySpec' | 'PausedAtStep' | 'InconclusiveAnalysis';

export type StepDecision =
  | {
    readonly action: 'wait'; readonly requeueMs: number | undefined; readonly paused: PauseReason | undefined; readonly message: string;
    /** The window was judged Inconclusive and keeps growing (below maxWindow): not counted, measured again. */
    readonly growing?: true;
  }
  | { readonly action: 'advance'; readonly message: string }
  | { readonly action: 'restartWindow'; readonly message: string }
  | { readonly action: 'promote'; readonly message: string }
  | { readonly action: 'abort'; readonly message: string };

const seconds = (ms: number): string => `${Math.round(ms / 1000)}s`;

function describe(step: RolloutStep): string {
  switch (step.kind) {
    case 'shadow': return `shadow (${step.percent}% mirrored)`;
    case 'setWeight': return `setWeight ${step.weight}%`;
    case 'pause': return step.durationMs === undefined ? 'pause until promoted' : `pause ${step.durationMs / 1000}s`;
    case 'analysis': return 'analysis';
    case 'preview': return 'blue-green preview';
  }
}

export function decideStep(s: StepState): StepDecision {
  const step = s.steps[s.index];
  if (s.command === 'promoteFull' || !step) return { action: 'promote', message: step ? 'promoted in full by request' : 'all steps done' };
  const label = `step ${s.index + 1}/${s.steps.length} (${describe(step)})`;
  if (s.command === 'promoteStep') return { action: 'advance', message: `${label} promoted by request` };
  if (s.paused) return { action: 'wait', requeueMs: undefined, paused: 'PausedBySpec', message: `${label}: paused by spec.rollout.paused` };
  const remaining = (ms: number): number => Math.max(0, s.stepStartMs + ms - s.nowMs);
  switch (step.kind) {
    case 'setWeight':
      return s.reached
        ? { action: 'advance', message: `${label} reached` }
        : { action: 'wait', requeueMs: s.intervalMs, paused: undefined, message: `${label}: waiting for the candidate's pods` };
    case 'pause':
      if (step.durationMs === undefined) return { action: 'wait', requeueMs: undefined, paused: 'PausedAtStep', message: `${label}: waiting for a promote` };
      return remaining(step.durationMs) === 0
        ? { action: 'advance', message: `${label} done` }
        : { action: 'wait', requeueMs: remaining(step.durationMs), paused: undefined, message: `${label}` };
    case 'preview':
      if (!s.reached) return { action: 'wait', requeueMs: s.intervalMs, paused: undefined, message: `${label}: waiting for the preview's pods` };
      if (step.autoPromoteAfterMs === undefined) return { action: 'wait', requeueMs: undefined, paused: 'PausedAtStep', message: `${label}: ready, waiting for a promote` };
      return untestedPreview(s, step.autoPromoteAfterMs)
        ? { action: 'advance', message: `${label}: ready for ${step.autoPromoteAfterMs / 1000}s and no traffic sent to the preview, promoted` }
        : judged(s, step.autoPromoteAfterMs, label);
    case 'shadow':
      if (!s.reached) return { action: 'wait', requeueMs: s.intervalMs, paused: undefined, message: `${label}: waiting for the candidate's pods` };
      return judged(s, step.durationMs, label);
    case 'analysis':
      return judged(s, step.durationMs, label);
  }
}

/**
 * A preview nobody sent traffic to, at the end of autoPromoteAfter: as Argo Rollouts' autoPromotionSeconds, its
 * readiness is the check and it is promoted. The gates judge the preview only when it got traffic (someone testing
 * it through the preview Service): a failed gate aborts, too few requests to judge measures again (and pauses after
 * inconclusiveLimit windows). A canary analysis or a shadow step gets real or mirrored traffic, so there no traffic
 * is never a pass.
 */
function untestedPreview(s: StepState, windowMs: number): boolean {
  return s.verdict === 'Inconclusive' && s.served === 0 && s.inconclusiveCount < s.inconclusiveLimit && s.nowMs >= s.stepStartMs + windowMs;
}

function judged(s: StepState, windowMs: number, label: string): StepDecision {
  if (s.inconclusiveCount >= s.inconclusiveLimit) {
    return { action: 'wait', requeueMs: undefined, paused: 'InconclusiveAnalysis', message: `${label}: ${s.inconclusiveCount} inconclusive analyses in a row; promote, retry or abort` };
  }
  const left = s.stepStartMs + windowMs - s.nowMs;
  if (left > 0 || s.verdict === undefined) {
    // Wake at each interval so measurements accumulate, and exactly when the window ends.
    return { action: 'wait', requeueMs: Math.max(1, Math.min(s.intervalMs, left > 0 ? left : s.intervalMs)), paused: undefined, message: `${label}: measuring` };
  }
  switch (s.verdict) {
    case 'Passed': return { action: 'advance', message: `${label} passed` };
    case 'Failed': return { action: 'abort', message: `${label} failed` };
    case 'Inconclusive': {
      const grown = s.nowMs - s.stepStartMs;
      if (grown < s.maxWindowMs) {
        const untilMax = s.maxWindowMs - grown;
        return {
          action: 'wait', requeueMs: Math.max(1, Math.min(s.intervalMs, untilMax)), paused: undefined, growing: true,
          message: `${label}: too few samples yet, window growing (${seconds(grown)} of at most ${seconds(s.maxWindowMs)})`,
        };
      }
      return { action: 'restartWindow', message: `${label} inconclusive: too little data in ${seconds(grown)} (analysis.maxWindow), measuring again` };
    }
  }
}
