// What the pods of a run's Job say about the run, when the Job itself does not (yet): the Job controller retries
// an OOM-killed pod up to backoffLimit and waits for an image or a node without end (up to activeDeadlineSeconds),
// so these are decided here from the pods (pod-faults.ts names them). Pure, table-tested.
//
//   trainer OOMKilled                     → fail now: the same data and limit would be killed again; the message
//                                           says which limit to raise (spec.trainer.resources.limits.memory)
//   image cannot be pulled (ErrImagePull, ImagePullBackOff, ErrImageNeverPull)
//                                         → report, then fail once spec.trainer.imagePullTimeout has passed since
//                                           the pod started (a registry outage or a late image import may end first)
//   InvalidImageName                      → fail now: a pod's image never changes
//   a Secret missing (CreateContainerConfigError: the store credentials Secret not in the namespace, or lacking a key)
//                                         → report naming the Secret (it may be created; activeDeadlineSeconds bounds
//                                           the wait)
//   Unschedulable                         → report with the scheduler's message (the cluster may scale up or a
//                                           queue admit it; activeDeadlineSeconds bounds the wait)
//   a pod that has not started yet        → look again: nothing about a pod waiting changes the Job
// Looked again after podRecheckMs, then backing off with how long the pod has waited (look-again.ts), except while
// an image pull runs to its deadline.
import { Reason } from '../../../api/conditions.js';
import { formatTime } from '../../runtime/conditions.js';
import { lookAgainAfterMs } from '../look-again.js';
import { describeFault, podFaults, type PodFault, type PodObject } from '../pod-faults.js';

/** How soon a run whose pod has not started is first looked at again (a waiting pod changes nothing the operator watches). */
export const podRecheckMs = 10_000;

export type RunFaultReason = typeof Reason.ImagePullFailed | typeof Reason.OOMKilled | typeof Reason.ConfigMissing | typeof Reason.Unschedulable;

export type RunFault =
  /** Nothing to say: the pod runs (or none exists yet: its creation changes the Job, which is watched). */
  | { readonly action: 'none' }
  /** The pod has not started and says nothing wrong yet: look again. */
  | { readonly action: 'wait'; readonly recheckMs: number }
  /** Said on the run and the pipeline while the run goes on; looked at again. */
  | { readonly action: 'report'; readonly reason: RunFaultReason; readonly message: string; readonly recheckMs: number }
  /** The run ends Failed now, and its Job is stopped. */
  | { readonly action: 'fail'; readonly reason: RunFaultReason; readonly message: string };

export interface RunPods {
  readonly pods: readonly PodObject[];
  readonly nowMs: number;
  readonly imagePullTimeoutMs: number;
}

export function judgeRunPods({ pods, nowMs, imagePullTimeoutMs }: RunPods): RunFault {
  const faults = pods.flatMap(podFaults);
  const first = <K extends PodFault['kind']>(kind: K): Extract<PodFault, { kind: K }> | undefined =>
    faults.find((f): f is Extract<PodFault, { kind: K }> => f.kind === kind);
  const oom = first('oomKilled');
  if (oom) {
    return {
      action: 'fail', reason: Reason.OOMKilled,
      message: `The trainer ${describeFault(oom)}. Raise spec.trainer.resources.limits.memory (or train on less data); the run is not retried with the same limit.`,
    };
  }
  const pull = first('imagePull');
  if (pull) {
    const what = `The trainer ${describeFault(pull)}`;
    if (pull.reason === 'InvalidImageName') return { action: 'fail', reason: Reason.ImagePullFailed, message: `${what}. Fix spec.trainer.image.` };
    const deadlineMs = (pull.sinceMs ?? nowMs) + imagePullTimeoutMs;
    if (nowMs >= deadlineMs) {
      return { action: 'fail', reason: Reason.ImagePullFailed, message: `${what}, for ${Math.round(imagePullTimeoutMs / 1000)}s (spec.trainer.imagePullTimeout). Fix spec.trainer.image or make the image available; the next trigger starts a new run.` };
    }
    return {
      action: 'report', reason: Reason.ImagePullFailed, recheckMs: Math.min(podRecheckMs, deadlineMs - nowMs),
      message: `${what}; the run ends Failed at ${formatTime(deadlineMs)} if the image is still missing (spec.trainer.imagePullTimeout).`,
    };
  }
  const waiting = pods.filter((p) => p.status?.phase === 'Pending' && p.metadata?.deletionTimestamp === undefined);
  const recheckMs = lookAgainAfterMs(waitingSinceMs(waiting), nowMs, podRecheckMs);
  const config = first('configMissing');
  if (config) return { action: 'report', reason: Reason.ConfigMissing, recheckMs, message: `The trainer ${describeFault(config)}.` };
  const unschedulable = first('unschedulable');
  if (unschedulable) {
    return { action: 'report', reason: Reason.Unschedulable, recheckMs, message: `The training ${describeFault(unschedulable)}` };
  }
  return waiting.length > 0 ? { action: 'wait', recheckMs } : { action: 'none' };
}

/** Since when the waiting pods have waited: the oldest one's creation (undefined when none says). */
function waitingSinceMs(pods: readonly PodObject[]): number | undefined {
  const times = pods.map((p) => Date.parse(p.metadata?.creationTimestamp ?? '')).filter((t) => Number.isFinite(t));
  return times.length === 0 ? undefined : Math.min(...times);
}
