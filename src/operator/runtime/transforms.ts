// Informer transforms: what a cache keeps of an object. The API server sends everything (managedFields, often
// larger than the spec; kubectl's last-applied-configuration, a second copy of the spec; a Job's or Deployment's
// pod template), and a cache holds it for the operator's lifetime, once per object. A shape names the spec and
// status fields a controller reads; the rest is dropped before the object is cached. Pure functions: the
// informer calls them on each listed or watched object.
import type { KubeObject, ObjectMeta } from './resource.js';

/** kubectl apply's copy of the whole object, in an annotation: never read by a controller. */
export const lastAppliedAnnotation = 'kubectl.kubernetes.io/last-applied-configuration';

export interface Shape {
  /** The top-level spec fields kept: 'all' keeps the whole spec. */
  readonly spec: 'all' | readonly string[];
  /** The top-level status fields kept: 'all' keeps the whole status (needed where a status writer compares it). */
  readonly status: 'all' | readonly string[];
  /** Whether annotations are kept (kubectl's last-applied-configuration is dropped either way). */
  readonly annotations: boolean;
}

type Fields = Readonly<Record<string, unknown>>;

/** The metadata without managedFields, last-applied-configuration, and (annotations false) any annotation. */
export function shapeMetadata(meta: ObjectMeta & Fields, annotations: boolean): ObjectMeta {
  const { managedFields: _managed, annotations: all, ...rest } = meta;
  if (!annotations || all === undefined) return rest;
  const { [lastAppliedAnnotation]: _lastApplied, ...kept } = all;
  return Object.keys(kept).length === 0 ? rest : { ...rest, annotations: kept };
}

function pick(value: unknown, fields: 'all' | readonly string[]): Fields | undefined {
  if (value === undefined || value === null || typeof value !== 'object') return undefined;
  if (fields === 'all') return value as Fields;
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const v = (value as Fields)[f];
    if (v !== undefined) out[f] = v;
  }
  return out;
}

/** The object as the shape keeps it: other top-level members (apiVersion, kind, data, ...) stay as they are. */
export function shapeObject(obj: KubeObject, shape: Shape): KubeObject {
  const { metadata, spec, status, ...rest } = obj as KubeObject & { spec?: unknown; status?: unknown };
  const out: Record<string, unknown> = { ...rest };
  if (metadata !== undefined) out['metadata'] = shapeMetadata(metadata as ObjectMeta & Fields, shape.annotations);
  const keptSpec = pick(spec, shape.spec);
  if (keptSpec !== undefined) out['spec'] = keptSpec;
  const keptStatus = pick(status, shape.status);
  if (keptStatus !== undefined) out['status'] = keptStatus;
  return out;
}

/** The informer transform of a shape. */
export function transformOf(shape: Shape): (obj: KubeObject) => KubeObject {
  return (obj) => shapeObject(obj, shape);
}
