// Commands a person gives a rollout, by annotation (for GitOps: no edit of the synced spec) or by spec field:
// promote (one step, or all the way with a value starting "full"), abort, retry an aborted candidate, and
// spec.rollout.paused. A new value of an annotation or of spec.rollout.promote/retry acts once: the value is
// recorded in status (lastPromote, lastSpecPromote, ...), and the same value again is no command.
import { Annotation } from '../../../api/conditions.js';
import type { ModelDeployment, ModelDeploymentStatus } from '../../../api/model-deployment.js';
import type { Command } from './canary-steps.js';
import type { PlanContext } from './plan-context.js';
import { abortCandidate, type Draft } from './rollout-state.js';

export interface Commands {
  readonly promote: Command;
  readonly retry: boolean;
  /** Why the rollout is aborted by request (the spec field or the annotation), or undefined. */
  readonly abort: string | undefined;
  /** spec.rollout.paused: the rollout holds at its step, and nothing is judged. */
  readonly paused: boolean;
  /** The values seen, for status: each acts once. */
  readonly consumed: Partial<ModelDeploymentStatus>;
}

const promoteKind = (value: string): Command => (value.startsWith('full') ? 'promoteFull' : 'promoteStep');

/** A value that differs from the one last acted on (undefined: no command). */
const fresh = (value: string | undefined, last: string | undefined): value is string => value !== undefined && value !== last;

function promoteCommand(annotation: string | undefined, spec: string | undefined, st: ModelDeploymentStatus): Command {
  const byAnnotation = fresh(annotation, st.lastPromote) ? promoteKind(annotation) : 'none';
  // A full promote by either wins; otherwise the spec's value counts as well.
  if (byAnnotation === 'promoteFull' || !fresh(spec, st.lastSpecPromote)) return byAnnotation;
  return promoteKind(spec);
}

function abortReason(md: ModelDeployment, annotation: string | undefined): string | undefined {
  if (md.spec.rollout.abort) return 'spec.rollout.abort is set';
  return fresh(annotation, md.status?.lastAbort) ? `the ${Annotation.abort} annotation` : undefined;
}

export function readCommands(md: ModelDeployment): Commands {
  const st = md.status ?? {};
  const ann = md.metadata.annotations ?? {};
  const rollout = md.spec.rollout;
  const [annPromote, annRetry, annAbort] = [ann[Annotation.promote], ann[Annotation.retry], ann[Annotation.abort]];
  return {
    promote: promoteCommand(annPromote, rollout.promote, st),
    retry: fresh(annRetry, st.lastRetry) || fresh(rollout.retry, st.lastSpecRetry),
    abort: abortReason(md, annAbort),
    paused: rollout.paused,
    consumed: {
      ...(annPromote === undefined ? {} : { lastPromote: annPromote }),
      ...(rollout.promote === undefined ? {} : { lastSpecPromote: rollout.promote }),
      ...(annRetry === undefined ? {} : { lastRetry: annRetry }),
      ...(rollout.retry === undefined ? {} : { lastSpecRetry: rollout.retry }),
      ...(annAbort === undefined ? {} : { lastAbort: annAbort }),
    },
  };
}

/** An abort by request ends a running rollout before its step is looked at (ROLLING → ABORTED). */
export function abortOnRequest(ctx: PlanContext, d: Draft): Draft {
  return d.canary && ctx.commands.abort !== undefined ? abortCandidate(d, ctx.commands.abort) : d;
}
