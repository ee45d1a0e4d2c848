// The commands that change the spec: pause/resume (spec.rollout.paused of a deployment, spec.suspend of a
// pipeline) and undo. Pure: each returns the JSON merge patch to send, or refuses with a reason. They edit the
// spec, so a GitOps tool that syncs the field shows the object out of sync until Git agrees.
import type { ModelDeployment } from '../api/model-deployment.js';
import { parseDuration } from '../api/duration.js';
import type { Kind } from './args.js';

export function pausePatch(kind: Kind, pause: boolean): object {
  return kind === 'ModelDeployment' ? { spec: { rollout: { paused: pause } } } : { spec: { suspend: pause } };
}

export class UndoRefused extends Error {
  override readonly name = 'UndoRefused';
}

/**
 * undo: back to the previous stable version. The controller keeps the previous revision running for
 * spec.rollout.rollbackWindow after a promotion (status.previousVersion) and switches to it at once when
 * spec.model.version names it; so undo pins spec.model.version to status.previousVersion. Outside that window (or
 * once a newer rollout started) there is nothing kept to switch to: a pin to an older version is a normal rollout,
 * which `kubectl perennial champion` or editing spec.model.version asks for explicitly.
 */
export function undoPatch(md: ModelDeployment, nowMs: number): { patch: object; version: string; from: string } {
  const s = md.status;
  const name = `ModelDeployment ${md.metadata.namespace ?? ''}/${md.metadata.name ?? ''}`;
  if (!md.spec.model.fromPipeline) throw new UndoRefused(`${name} serves a fixed model.uri: set spec.model.uri back to the previous artifact instead`);
  const previous = s?.previousVersion;
  if (!previous) {
    throw new UndoRefused(`${name} keeps no previous version: the rollback window (spec.rollout.rollbackWindow) after the last promotion is over, or a rollout started since`);
  }
  const window = md.spec.rollout?.rollbackWindow ?? '1h';
  if (s.promotedTime !== undefined && Date.parse(s.promotedTime) + parseDuration(window) < nowMs) {
    throw new UndoRefused(`${name}: the rollback window of ${window} after ${s.promotedTime} is over (${previous} is being retired)`);
  }
  if (md.spec.model.version === previous) throw new UndoRefused(`${name} already pins spec.model.version to ${previous}`);
  return { patch: { spec: { model: { version: previous } } }, version: previous, from: s.stableVersion ?? '?' };
}
