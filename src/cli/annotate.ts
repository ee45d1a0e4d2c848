// The commands that act: each sets one of the annotations of src/api/conditions.ts to a new value. The operator
// acts on a value it has not acted on before (it records the last one in status), so every call needs a fresh
// value; a GitOps tool never sees the change as drift in the synced spec.
import { Annotation } from '../api/conditions.js';

export type Action = 'trigger' | 'promote' | 'abort' | 'retry';

export interface AnnotationPatch {
  readonly kind: 'TrainingPipeline' | 'ModelDeployment';
  readonly key: string;
  /** null removes the annotation. */
  readonly value: string | null;
}

/** The annotation a command sets; the value is the time of the request (unique per call, and tells a reader when), prefixed with "full-" for a full promote. */
export function annotationFor(action: Action, now: Date, full = false): AnnotationPatch {
  const stamp = now.toISOString();
  switch (action) {
    case 'trigger': return { kind: 'TrainingPipeline', key: Annotation.trigger, value: stamp };
    case 'promote': return { kind: 'ModelDeployment', key: Annotation.promote, value: full ? `full-${stamp}` : stamp };
    case 'abort': return { kind: 'ModelDeployment', key: Annotation.abort, value: stamp };
    case 'retry': return { kind: 'ModelDeployment', key: Annotation.retry, value: stamp };
  }
}

/**
 * The champion pin: unlike the commands above, a state and not an event. While perennial.dev/champion names a
 * published version the pipeline's champion is that version; removing the annotation (null) ends the pin.
 */
export function championPin(version: string | undefined): AnnotationPatch {
  return { kind: 'TrainingPipeline', key: Annotation.champion, value: version ?? null };
}

/** The JSON merge patch that sets it, or removes it (nothing else of the object is touched). */
export function mergePatch(a: AnnotationPatch): { metadata: { annotations: Record<string, string | null> } } {
  return { metadata: { annotations: { [a.key]: a.value } } };
}
