// Advance the step: run the candidate's current step (canary-steps.ts decides it), judge the step's window when it
// has ended (gates.ts), and once every step is done promote the candidate when all its pods are ready (the
// transitions are rollout-state.ts's). Pure, table-tested.
import { formatTime } from '../../runtime/conditions.js';
import type { AnalysisRecord } from '../../../api/model-deployment.js';
import { Reason } from '../../../api/conditions.js';
import { analysisDue, decideStep, maxWindowOf, type StepDecision } from './canary-steps.js';
import { judge, type AnalysisVerdict } from './gates.js';
import type { MeasureResult } from './observed.js';
import { readyOf, timeMs, type PlanContext } from './plan-context.js';
import { abortCandidate, promoteCandidate, withEvent, type Draft } from './rollout-state.js';
import type { RoutePlan } from './routers/router.js';
import { trafficFor } from './traffic.js';
import { NoValuesError, servedRequests, type Measurement } from './metrics/provider.js';

export const maxAnalysisRecords = 20;
/** How soon a step that moved on is looked at again (its traffic changes now). */
export const advancedRequeueMs = 1000;

export interface Stepped {
  readonly draft: Draft;
  /** The traffic to put in place. */
  readonly route: RoutePlan;
}

function measured(r: MeasureResult | undefined): { m: Measurement | undefined; reason: string | undefined } {
  if (!r) return { m: undefined, reason: 'not measured' };
  return r.ok ? { m: r.m, reason: undefined } : { m: undefined, reason: r.reason };
}

/**
 * Served predict requests of the candidate in the step's window: 0 when it served none (no series at all is none
 * too), undefined when the provider could not be asked.
 */
export function servedInWindow(r: MeasureResult | undefined): number | undefined {
  if (!r) return undefined;
  if (r.ok) return servedRequests(r.m);
  return r.reason.startsWith(`${NoValuesError.name}:`) ? 0 : undefined;
}

/** The verdict on the step's window, when it has ended now and nothing holds the step; undefined otherwise. */
export function verdictNow(ctx: PlanContext, index: number, stepStartMs: number): AnalysisVerdict | undefined {
  const step = ctx.steps[index];
  const { commands, spec, observed } = ctx;
  if (!step || !analysisDue(step, stepStartMs, ctx.nowMs) || commands.promote !== 'none' || commands.paused) return undefined;
  const c = measured(observed.candidate);
  const s = measured(observed.stableInWindow);
  return judge({
    gates: spec.rollout.analysis.gates, minSamples: spec.rollout.analysis.minSamples, candidate: c.m, stable: s.m,
    shadow: step.kind === 'shadow' ? { minAgreement: step.minAgreement } : undefined,
    ...(c.reason === undefined ? {} : { noValuesReason: c.reason }),
  });
}

/** How the record of a window still growing begins (it replaces the previous such record of the same window). */
export const growingPrefix = 'window growing, not counted: ';

/**
 * The verdict goes into status.analysis, newest first, while the rollout is not paused by inconclusive ones. An
 * Inconclusive verdict on a window that keeps growing (below analysis.maxWindow) is recorded as such and replaces
 * the previous record of the same growing window, so a long window leaves one record, not one per interval.
 */
export function recorded(ctx: PlanContext, d: Draft, v: AnalysisVerdict | undefined, index: number, version: string, growing: string | undefined): Draft {
  if (!v || (d.status.inconclusiveCount ?? 0) >= ctx.spec.rollout.analysis.inconclusiveLimit) return d;
  const message = growing === undefined ? v.message : `${growingPrefix}${growing}; ${v.message}`;
  const rec: AnalysisRecord = {
    time: formatTime(ctx.nowMs), version, step: index, verdict: v.verdict, measurements: { ...v.measurements }, message: message.slice(0, 2048),
  };
  const [last, ...older] = d.status.analysis ?? [];
  const sameWindow = last !== undefined && last.version === version && last.step === index && (last.message ?? '').startsWith(growingPrefix);
  const kept = sameWindow ? older : d.status.analysis ?? [];
  return { ...d, status: { ...d.status, analysis: [rec, ...kept].slice(0, maxAnalysisRecords) } };
}

function waited(ctx: PlanContext, d: Draft, decision: Extract<StepDecision, { action: 'wait' }>, notReadyPreview: boolean): Draft {
  const requeued: Draft = {
    ...d, pausedReason: decision.paused, requeues: decision.requeueMs === undefined ? d.requeues : [...d.requeues, decision.requeueMs],
    // A blue-green preview's autoPromoteAfter counts from when it is ready: until then its step starts again now.
    ...(notReadyPreview ? { status: { ...d.status, stepStartTime: formatTime(ctx.nowMs) } } : {}),
  };
  // A pause a person must end is said once, when the rollout enters it.
  const tell = (decision.paused === 'PausedAtStep' || decision.paused === 'InconclusiveAnalysis') && ctx.prev.phase !== 'Paused';
  return tell && decision.paused !== undefined ? withEvent(requeued, 'Normal', decision.paused, decision.message) : requeued;
}

function advanced(ctx: PlanContext, d: Draft, index: number, message: string): Stepped {
  const next = index + 1;
  const moved: Draft = {
    ...d, requeues: [...d.requeues, advancedRequeueMs],
    status: { ...d.status, currentStep: next, stepStartTime: formatTime(ctx.nowMs), inconclusiveCount: 0 },
  };
  const draft = withEvent(moved, 'Normal', Reason.RolloutProgressing, message);
  return { draft, route: trafficFor(ctx, draft, Math.min(next, ctx.steps.length), false) };
}

function windowRestarted(ctx: PlanContext, d: Draft, message: string): Draft {
  const restarted: Draft = {
    ...d, requeues: [...d.requeues, ctx.intervalMs],
    status: { ...d.status, stepStartTime: formatTime(ctx.nowMs), inconclusiveCount: (d.status.inconclusiveCount ?? 0) + 1 },
  };
  return withEvent(restarted, 'Normal', Reason.InconclusiveAnalysis, message);
}

/** What the step's decision does to the draft. */
function decided(ctx: PlanContext, at: Stepped, decision: StepDecision, index: number, verdict: AnalysisVerdict | undefined): Stepped {
  const d: Draft = { ...at.draft, message: decision.message };
  const why = `${decision.message}: ${verdict?.message ?? ''}`;
  switch (decision.action) {
    case 'wait': return { ...at, draft: waited(ctx, d, decision, ctx.steps[index]?.kind === 'preview' && !at.route.reached) };
    case 'advance': return advanced(ctx, d, index, decision.message);
    case 'restartWindow': return { ...at, draft: windowRestarted(ctx, d, why) };
    case 'abort': return { ...at, draft: abortCandidate(d, why) };
    case 'promote': return { ...at, draft: { ...d, status: { ...d.status, currentStep: ctx.steps.length } } };
  }
}

/** PROMOTING: past the last step the candidate first gets every pod ready, then becomes stable in one switch. */
function promotedWhenReady(ctx: PlanContext, at: Stepped): Stepped {
  const { draft } = at;
  const canary = draft.canary;
  if (!canary || (draft.status.currentStep ?? 0) < ctx.steps.length) return at;
  const route = trafficFor(ctx, draft, ctx.steps.length, true);
  const ready = readyOf(ctx, canary);
  if (ready >= ctx.total) return { draft: promoteCandidate(draft, ctx.nowMs), route };
  const message = `Promoting ${canary.version}: waiting for all ${ctx.total} of its pods (${ready} ready).`;
  return { draft: { ...draft, message, requeues: [...draft.requeues, ctx.intervalMs] }, route };
}

export function advanceStep(ctx: PlanContext, d: Draft): Stepped {
  const canary = d.canary;
  if (!canary) return { draft: d, route: trafficFor(ctx, d, 0, false) };
  const index = Math.min(d.status.currentStep ?? 0, ctx.steps.length);
  const stepStartMs = timeMs(d.status.stepStartTime) ?? ctx.nowMs;
  const route = trafficFor(ctx, d, index, false);
  const verdict = verdictNow(ctx, index, stepStartMs);
  const decision = decideStep({
    steps: ctx.steps, index, stepStartMs, nowMs: ctx.nowMs, intervalMs: ctx.intervalMs, reached: route.reached,
    command: ctx.commands.promote, paused: ctx.commands.paused, verdict: verdict?.verdict, served: servedInWindow(ctx.observed.candidate),
    inconclusiveCount: d.status.inconclusiveCount ?? 0, inconclusiveLimit: ctx.spec.rollout.analysis.inconclusiveLimit,
    maxWindowMs: maxWindowOf(ctx.steps[index], ctx.intervalMs, ctx.analysisMaxWindowMs),
  });
  const growing = decision.action === 'wait' && decision.growing === true ? decision.message : undefined;
  const at = promotedWhenReady(ctx, decided(ctx, { draft: recorded(ctx, d, verdict, index, canary.version, growing), route }, decision, index, verdict));
  // A rollout that ended here (aborted, promoted) leaves all traffic to the stable version.
  return at.draft.canary ? at : { draft: at.draft, route: trafficFor(ctx, at.draft, 0, false) };
}
