// The writes controllers make, behind one narrow interface: create (AlreadyExists may count
// as success, for deterministic child names), merge / strategic-merge / JSON patch, delete with a propagation
// policy, and a patch of the /status subresource. Every error comes out typed (errors.ts), as KubeHttp throws it.
// Controllers are tested against testing/fake-kube.ts, which implements the same interface and records each write.
import { AlreadyExistsError, NotFoundError } from './errors.js';
import { type KubeHttp, PatchType } from './kube-http.js';
import { type KubeObject, type ObjectKey, type ResourceRef, apiVersionOf, resourcePath } from './resource.js';

export const fieldManager = 'perennial-operator';

export type PropagationPolicy = 'Background' | 'Foreground' | 'Orphan';

export interface CreateResult<T> {
  /** The object as the server returned it; undefined when it already existed and that was accepted. */
  readonly object: T | undefined;
  readonly created: boolean;
}

export interface DeleteOptions {
  readonly propagationPolicy?: PropagationPolicy;
  /** Delete only if the object still has this uid (a precondition against deleting a re-created namesake). */
  readonly uid?: string;
}

export interface KubeClient {
  /** Creates the object (its namespace is metadata.namespace). With alreadyExistsOk, AlreadyExists is success. */
  create<T extends KubeObject>(ref: ResourceRef, obj: T, options?: { alreadyExistsOk?: boolean }): Promise<CreateResult<T>>;
  patch<T extends KubeObject>(ref: ResourceRef, key: ObjectKey, patch: unknown, type?: PatchType): Promise<T>;
  /** Returns false when the object was already gone (NotFound is success for a delete). */
  delete(ref: ResourceRef, key: ObjectKey, options?: DeleteOptions): Promise<boolean>;
  /** Patches the status subresource; include metadata.resourceVersion in a merge patch for optimistic concurrency. */
  patchStatus<T extends KubeObject>(ref: ResourceRef, key: ObjectKey, patch: unknown, type?: PatchType): Promise<T>;
}

export class HttpKubeClient implements KubeClient {
  constructor(private readonly http: KubeHttp) {}

  async create<T extends KubeObject>(ref: ResourceRef, obj: T, options: { alreadyExistsOk?: boolean } = {}): Promise<CreateResult<T>> {
    const body = { ...obj, apiVersion: apiVersionOf(ref), kind: ref.kind };
    try {
      const created = await this.http.request<T>('POST', resourcePath(ref, obj.metadata?.namespace ?? ''), {
        body,
        query: { fieldManager },
      });
      return { object: created, created: true };
    } catch (e: unknown) {
      if (options.alreadyExistsOk && e instanceof AlreadyExistsError) return { object: undefined, created: false };
      throw e;
    }
  }

  patch<T extends KubeObject>(ref: ResourceRef, key: ObjectKey, patch: unknown, type: PatchType = 'merge'): Promise<T> {
    return this.http.request<T>('PATCH', resourcePath(ref, key.namespace, key.name), {
      body: patch,
      contentType: PatchType[type],
      query: { fieldManager },
    });
  }

  async delete(ref: ResourceRef, key: ObjectKey, options: DeleteOptions = {}): Promise<boolean> {
    try {
      await this.http.request('DELETE', resourcePath(ref, key.namespace, key.name), {
        body: {
          apiVersion: 'v1',
          kind: 'DeleteOptions',
          ...(options.propagationPolicy ? { propagationPolicy: options.propagationPolicy } : {}),
          ...(options.uid ? { preconditions: { uid: options.uid } } : {}),
        },
      });
      return true;
    } catch (e: unknown) {
      if (e instanceof NotFoundError) return false;
      throw e;
    }
  }

  patchStatus<T extends KubeObject>(ref: ResourceRef, key: ObjectKey, patch: unknown, type: PatchType = 'merge'): Promise<T> {
    return this.http.request<T>('PATCH', resourcePath(ref, key.namespace, key.name, 'status'), {
      body: patch,
      contentType: PatchType[type],
      query: { fieldManager },
    });
  }
}
