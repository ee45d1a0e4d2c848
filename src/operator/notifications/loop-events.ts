// Which Kubernetes Events are moments of the loop a person (a webhook, a counter) wants to hear about: a run's
// outcome, a promotion, a rollback, an aborted rollout, a retrain for sustained drift. Pure. The event recorder's one
// hook (events.ts) hands every event here, with the object as the reconcile read it (the status before the write
// that the event reports), which is where the version comes from.
import { Reason } from '../../api/conditions.js';
import type { ModelDeployment } from '../../api/model-deployment.js';
import type { TrainingPipeline } from '../../api/training-pipeline.js';
import type { KubeObject } from '../runtime/resource.js';

export const loopEventTypes = [
  'run.blessed', 'run.rejected', 'run.invalidData', 'run.failed',
  'rollout.promoted', 'rollout.aborted', 'rollout.rolledBack', 'drift.sustained',
] as const;
export type LoopEventType = (typeof loopEventTypes)[number];

export interface LoopEvent {
  readonly type: LoopEventType;
  /** ISO-8601. */
  readonly time: string;
  readonly kind: 'TrainingPipeline' | 'ModelDeployment';
  readonly namespace: string;
  readonly name: string;
  /** The version the moment is about ('' when none is known). */
  readonly version: string;
  /** The Event's reason (Blessed, RolloutComplete, ...). */
  readonly reason: string;
  /** The Event's note: what `kubectl describe` says. */
  readonly message: string;
}

/** A TrainingPipeline's ended runs, by the reason of the Event that says so. */
const runEnds: Readonly<Record<string, LoopEventType>> = {
  [Reason.Blessed]: 'run.blessed',
  [Reason.Rejected]: 'run.rejected',
  [Reason.InvalidData]: 'run.invalidData',
  [Reason.RunFailed]: 'run.failed',
  // A training pod killed for its memory always ends the run (run-faults.ts); a failing image pull only after
  // spec.trainer.imagePullTimeout, under the same reason as its first report, so it is not told here.
  [Reason.OOMKilled]: 'run.failed',
};

/** The run an Event's note names ("Run <name>: ..." or "Run <name> started ..."). */
function runNamed(note: string): string | undefined {
  return /^Run (\S+?)[: ]/.exec(note)?.[1];
}

function pipelineEvent(tp: TrainingPipeline, reason: string, note: string): { type: LoopEventType; version: string } | undefined {
  const ended = runEnds[reason];
  if (ended !== undefined) {
    const run = tp.status?.runs?.find((r) => r.name === runNamed(note));
    return { type: ended, version: run?.version ?? '' };
  }
  // The drift trigger fires once the shift has held for its `for` (or the sequential test's evidence): sustained drift.
  if (reason === Reason.RunStarted && / started \(Drift\)/.test(note)) return { type: 'drift.sustained', version: tp.status?.championVersion ?? '' };
  return undefined;
}

function deploymentEvent(md: ModelDeployment, eventType: string, reason: string): { type: LoopEventType; version: string } | undefined {
  const s = md.status;
  if (reason === Reason.RolloutComplete) return { type: 'rollout.promoted', version: s?.canaryVersion ?? '' };
  // Normal aborts are a candidate dropped or superseded by a newer version; Warning ones failed a gate or the deadline.
  if (reason === Reason.RolloutAborted && eventType === 'Warning') return { type: 'rollout.aborted', version: s?.canaryVersion ?? '' };
  if (reason === Reason.RolledBack) return { type: 'rollout.rolledBack', version: s?.previousVersion ?? '' };
  return undefined;
}

/** The loop moment an Event reports, or undefined for every other Event. */
export function loopEvent(obj: KubeObject, eventType: string, reason: string, note: string, nowMs: number): LoopEvent | undefined {
  const kind = obj.kind;
  if (kind !== 'TrainingPipeline' && kind !== 'ModelDeployment') return undefined;
  const found = kind === 'TrainingPipeline' ? pipelineEvent(obj as TrainingPipeline, reason, note) : deploymentEvent(obj as ModelDeployment, eventType, reason);
  if (found === undefined) return undefined;
  return {
    ...found, kind, reason, message: note, time: new Date(nowMs).toISOString(),
    namespace: obj.metadata?.namespace ?? '', name: obj.metadata?.name ?? '',
  };
}
