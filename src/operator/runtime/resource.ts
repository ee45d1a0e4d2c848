// What the runtime needs to know about a resource type, and the small pure helpers around object identity.

export interface ResourceRef {
  /** '' for the core group. */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

export interface ObjectKey {
  readonly namespace: string;
  readonly name: string;
}

export interface OwnerReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly controller?: boolean;
  readonly blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  readonly name?: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly generation?: number;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly ownerReferences?: readonly OwnerReference[];
  readonly deletionTimestamp?: string;
  readonly finalizers?: readonly string[];
  readonly creationTimestamp?: string;
}

/** Any Kubernetes object as plain JSON (the runtime never turns objects into client-node model classes). */
export interface KubeObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: ObjectMeta;
}

export function apiVersionOf(ref: ResourceRef): string {
  return ref.group === '' ? ref.version : `${ref.group}/${ref.version}`;
}

export function groupOfApiVersion(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** The REST path of a collection, an object, or a subresource. namespace '' on a namespaced type = all namespaces. */
export function resourcePath(ref: ResourceRef, namespace: string, name?: string, subresource?: string): string {
  const root = ref.group === '' ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`;
  const ns = ref.namespaced && namespace !== '' ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  const obj = name === undefined ? '' : `/${encodeURIComponent(name)}`;
  const sub = subresource === undefined ? '' : `/${subresource}`;
  return `${root}${ns}/${ref.plural}${obj}${sub}`;
}

export function keyString(key: ObjectKey): string {
  return key.namespace === '' ? key.name : `${key.namespace}/${key.name}`;
}

export function parseKey(key: string): ObjectKey {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export function keyOf(obj: KubeObject): ObjectKey {
  return { namespace: obj.metadata?.namespace ?? '', name: obj.metadata?.name ?? '' };
}

/**
 * The key of the object's controller owner of the given type: the ownerReference with controller=true whose kind
 * matches and whose apiVersion is in the owner's group (any version, since owners may be written at another
 * version). Owners live in the same namespace as what they own.
 */
export function controllerOwnerKey(obj: KubeObject, owner: ResourceRef): ObjectKey | undefined {
  const ref = obj.metadata?.ownerReferences?.find((r) => r.controller === true);
  if (!ref || ref.kind !== owner.kind || groupOfApiVersion(ref.apiVersion) !== owner.group) return undefined;
  return { namespace: obj.metadata?.namespace ?? '', name: ref.name };
}

/** A controller ownerReference to put on a child (blockOwnerDeletion so foreground deletion waits for it). */
export function controllerRef(owner: KubeObject & { metadata: ObjectMeta }, ref: ResourceRef): OwnerReference {
  const { name, uid } = owner.metadata;
  if (!name || !uid) throw new Error('an owner needs a name and a uid');
  return { apiVersion: apiVersionOf(ref), kind: ref.kind, name, uid, controller: true, blockOwnerDeletion: true };
}
