// The rollout's state machine, whole: what each transition does to the revisions and to status. The plan's steps
// (candidate.ts, commands.ts, advance-step.ts, rollback-window.ts) decide when a transition happens; the steps of a
// candidate are canary-steps.ts's. Pure.
//
//   NO STABLE ──a desired version is ready──► SERVING it directly (nothing to compare a first version against)
//
//   SERVING ──a new desired version (or the aborted one, retried)──► ROLLING it at step 0 (the rollback window ends)
//
//   ROLLING step i ──done: weight reached, time up, Passed, promote──► step i + 1            (canary-steps.ts)
//      │           ──Inconclusive──► step i measures again; inconclusiveLimit in a row: paused for a person
//      │           spec.rollout.paused holds any step
//      ├──every step done, or promote "full"──► PROMOTING: the candidate gets every pod
//      │                                          └──all ready──► PROMOTED → SERVING the candidate, the old
//      │                                                          stable kept as previous for rollbackWindow
//      ├──abort (spec, annotation), a Failed analysis, or its pods not ready within progressDeadline
//      │     ──► ABORTED → SERVING stable (untouched); the version is not rolled out again until a retry or a
//      │                   newer version
//      ├──the stable version wanted again──► DROPPED → SERVING
//      └──a newer desired version──► SUPERSEDED → ROLLING the newer one at step 0
//
//   SERVING, previous kept ──the previous version wanted within rollbackWindow──► ROLLED BACK → SERVING it at
//                                                                                once (previous and stable swap)
//   SERVING, previous kept ──rollbackWindow over──► the previous revision is let go (its Deployment deleted)
import { Reason } from '../../../api/conditions.js';
import type { ModelDeploymentStatus } from '../../../api/model-deployment.js';
import { formatTime } from '../../runtime/conditions.js';
import type { PlannedEvent } from '../planned-event.js';
import type { PauseReason } from './canary-steps.js';
import type { ModelRef } from './server-deployment.js';

/** One model version served with one server template: its Deployment is `name`. */
export interface Revision {
  readonly name: string;
  readonly hash: string;
  readonly version: string;
  readonly uri: string;
  readonly model: ModelRef;
}

/** The previous stable revision's Deployment exists already (it is never re-created): its name and version are enough. */
export type PreviousRevision = Pick<Revision, 'name' | 'version'>;

/** The plan being built: the next status and the revisions it names, with what the reconcile should do besides. */
export interface Draft {
  readonly status: ModelDeploymentStatus;
  readonly stable: Revision;
  readonly canary: Revision | undefined;
  readonly previous: PreviousRevision | undefined;
  readonly events: readonly PlannedEvent[];
  /** Delays after which the deployment wants looking at again; the plan takes the shortest. */
  readonly requeues: readonly number[];
  /** status.message, when a step has something to say. */
  readonly message: string;
  readonly pausedReason: PauseReason | undefined;
}

/** Before the first version is served there is no stable revision. */
export type Start = Omit<Draft, 'stable'> & { readonly stable: Revision | undefined };

type Status = ModelDeploymentStatus;

export function omit<T extends object, K extends keyof T>(o: T, ...keys: readonly K[]): Omit<T, K> {
  return Object.fromEntries(Object.entries(o).filter(([k]) => !(keys as readonly PropertyKey[]).includes(k))) as Omit<T, K>;
}

export function withEvent(d: Draft, type: PlannedEvent['type'], reason: string, note: string): Draft {
  return { ...d, events: [...d.events, { type, reason, note }] };
}

const stableFields = (r: Revision, nowMs: number): Partial<Status> =>
  ({ stableRevision: r.name, stableVersion: r.version, stableURI: r.uri, promotedTime: formatTime(nowMs) });

/** NO STABLE → SERVING. */
export function serveFirst(d: Start, desired: Revision, nowMs: number): Draft {
  const next: Draft = { ...d, stable: desired, status: { ...d.status, ...stableFields(desired, nowMs) } };
  return withEvent(next, 'Normal', Reason.RolloutProgressing, `Serving ${desired.version} (${desired.name}).`);
}

/** Any end of a rollout: no candidate, all weight on stable. */
export function clearCandidate(d: Draft): Draft {
  const status = omit(d.status, 'canaryRevision', 'canaryVersion', 'canaryURI', 'currentStep', 'stepStartTime', 'inconclusiveCount');
  return { ...d, canary: undefined, status: { ...status, canaryWeight: 0, stableWeight: 100 } };
}

/** ROLLING → DROPPED: the stable version is wanted again. */
export function dropCandidate(d: Draft): Draft {
  if (!d.canary) return d;
  return clearCandidate(withEvent(d, 'Normal', Reason.RolloutAborted, `Rollout of ${d.canary.version} dropped: ${d.stable.version} is wanted again.`));
}

/** SERVING with previous → ROLLED BACK: the previous revision (still running) becomes stable at once. */
export function rollBack(d: Draft, to: Revision, nowMs: number): Draft {
  const from = d.stable;
  const swapped: Draft = {
    ...d, stable: to, previous: from,
    status: { ...d.status, ...stableFields(to, nowMs), previousRevision: from.name, previousVersion: from.version },
  };
  return clearCandidate(withEvent(swapped, 'Normal', Reason.RolledBack, `Rolled back from ${from.version} to ${to.version}.`));
}

/** The wanted version was aborted and nobody asked for a retry: no rollout of it. */
export function holdAborted(d: Draft, desired: Revision): Draft {
  const held = d.canary ? clearCandidate(d) : d;
  const why = d.status.abortedMessage === undefined ? '' : ` (${d.status.abortedMessage})`;
  return { ...held, message: `${desired.version} was aborted${why} and is not retried until a newer version or a retry.` };
}

/** The aborted version is forgotten (a retry, or a rollout of it starting). */
export function forgetAborted(d: Draft): Draft {
  return { ...d, status: omit(d.status, 'abortedRevision', 'abortedVersion', 'abortedMessage') };
}

/** SERVING → ROLLING step 0 (or ROLLING → SUPERSEDED → ROLLING the newer one). A new rollout ends the rollback window. */
export function startRollout(d: Draft, desired: Revision, nowMs: number): Draft {
  const superseded = d.canary
    ? withEvent(d, 'Normal', Reason.RolloutAborted, `Rollout of ${d.canary.version} superseded by ${desired.version}.`)
    : d;
  const base = desired.name === d.status.abortedRevision ? forgetAborted(superseded) : superseded;
  const status: Status = {
    ...omit(base.status, 'previousRevision', 'previousVersion'),
    canaryRevision: desired.name, canaryVersion: desired.version, canaryURI: desired.uri,
    currentStep: 0, stepStartTime: formatTime(nowMs), inconclusiveCount: 0,
  };
  const started: Draft = { ...base, canary: desired, previous: undefined, status };
  return withEvent(started, 'Normal', Reason.RolloutProgressing, `Rollout of ${desired.version} started (stable ${d.stable.version}).`);
}

/** ROLLING → ABORTED: all traffic back on stable, which is untouched. Why is kept in status (abortedMessage). */
export function abortCandidate(d: Draft, why: string): Draft {
  const canary = d.canary;
  if (!canary) return d;
  const marked: Draft = {
    ...d,
    status: { ...d.status, abortedVersion: canary.version, abortedRevision: canary.name, abortedMessage: why.slice(0, 2048) },
    message: `Rollout of ${canary.version} aborted: ${why}.`,
  };
  const note = `Rollout of ${canary.version} aborted: ${why}. All traffic is back on ${d.stable.version}.`;
  return clearCandidate(withEvent(marked, 'Warning', Reason.RolloutAborted, note));
}

/** PROMOTING → PROMOTED: the candidate is stable; the old stable is kept as previous for the rollback window. */
export function promoteCandidate(d: Draft, nowMs: number): Draft {
  const canary = d.canary;
  if (!canary) return d;
  const from = d.stable;
  const promoted: Draft = {
    ...d, stable: canary, previous: from,
    status: { ...d.status, previousRevision: from.name, previousVersion: from.version, ...stableFields(canary, nowMs) },
    message: `${canary.version} promoted.`,
  };
  return clearCandidate(withEvent(promoted, 'Normal', Reason.RolloutComplete, `${canary.version} promoted to stable (was ${from.version}).`));
}

/** The rollback window is over: the previous revision is no longer kept. */
export function endRollbackWindow(d: Draft): Draft {
  return { ...d, previous: undefined, status: omit(d.status, 'previousRevision', 'previousVersion') };
}
