// A recording fake of KubeClient for controller tests: keeps objects in memory with resourceVersions and
// generations like the API server, answers with the same typed errors, and records every write in order, so a
// test can assert "this reconcile made exactly these writes". Strategic merge patches are applied as JSON merge
// patches (the same for maps; lists are replaced rather than merged by key), which is enough for the fields our
// controllers patch; JSON patches are recorded and rejected, since no controller uses them.
import { AlreadyExistsError, ConflictError, InvalidError, NotFoundError } from '../errors.js';
import { applyMergePatch, jsonEqual } from '../json-diff.js';
import type { CreateResult, DeleteOptions, KubeClient } from '../kube.js';
import type { PatchType } from '../kube-http.js';
import { type KubeObject, type ObjectKey, type ResourceRef, apiVersionOf, keyString } from '../resource.js';

export type WriteVerb = 'create' | 'patch' | 'delete' | 'patchStatus';

export interface RecordedWrite {
  readonly verb: WriteVerb;
  /** "<plural>.<group>" or "<plural>" for the core group. */
  readonly resource: string;
  readonly namespace: string;
  readonly name: string;
  readonly body?: unknown;
  readonly patchType?: PatchType;
  readonly options?: unknown;
  /** The error the write failed with, if it did. */
  readonly error?: string;
}

type Obj = Record<string, unknown> & KubeObject;

function resourceName(ref: ResourceRef): string {
  return ref.group === '' ? ref.plural : `${ref.plural}.${ref.group}`;
}

export class FakeKube implements KubeClient {
  readonly writes: RecordedWrite[] = [];
  private readonly objects = new Map<string, Obj>();
  private readonly failures: Array<{ verb: WriteVerb; error: Error }> = [];
  private rv = 100;
  private uid = 1;

  /** Stores an object as if it existed already (no write recorded). Returns the stored copy. */
  seed<T extends KubeObject>(ref: ResourceRef, obj: T): T {
    const stored = this.store(ref, obj as unknown as Obj, true);
    return structuredClone(stored) as unknown as T;
  }

  get<T extends KubeObject>(ref: ResourceRef, key: ObjectKey): T | undefined {
    const o = this.objects.get(this.id(ref, key));
    return o ? (structuredClone(o) as unknown as T) : undefined;
  }

  list<T extends KubeObject>(ref: ResourceRef, namespace?: string): T[] {
    const prefix = `${resourceName(ref)}|`;
    return [...this.objects.entries()]
      .filter(([k, o]) => k.startsWith(prefix) && (namespace === undefined || (o.metadata?.namespace ?? '') === namespace))
      .map(([, o]) => structuredClone(o) as unknown as T);
  }

  /** The next write of this verb fails with the error (after being recorded). */
  failNext(verb: WriteVerb, error: Error): void {
    this.failures.push({ verb, error });
  }

  /** Writes of one verb, or all, as compact "verb resource ns/name" lines, for readable assertions. */
  summary(verb?: WriteVerb): string[] {
    return this.writes
      .filter((w) => verb === undefined || w.verb === verb)
      .map((w) => `${w.verb} ${w.resource} ${w.namespace === '' ? w.name : `${w.namespace}/${w.name}`}${w.error ? ` !${w.error}` : ''}`);
  }

  create<T extends KubeObject>(ref: ResourceRef, obj: T, options: { alreadyExistsOk?: boolean } = {}): Promise<CreateResult<T>> {
    const key = { namespace: obj.metadata?.namespace ?? '', name: obj.metadata?.name ?? '' };
    return this.write('create', ref, key, obj, undefined, options, () => {
      if (this.objects.has(this.id(ref, key))) {
        if (options.alreadyExistsOk) return { object: undefined, created: false };
        throw new AlreadyExistsError(`${keyString(key)} already exists`, 409, 'AlreadyExists');
      }
      const stored = this.store(ref, { ...(obj as unknown as Obj), apiVersion: apiVersionOf(ref), kind: ref.kind }, true);
      return { object: structuredClone(stored) as unknown as T, created: true };
    });
  }

  patch<T extends KubeObject>(ref: ResourceRef, key: ObjectKey, patch: unknown, type: PatchType = 'merge'): Promise<T> {
    return this.write('patch', ref, key, patch, type, undefined, () => this.applyPatch<T>(ref, key, patch, type, false));
  }

  patchStatus<T extends KubeObject>(ref: ResourceRef, key: ObjectKey, patch: unknown, type: PatchType = 'merge'): Promise<T> {
    return this.write('patchStatus', ref, key, patch, type, undefined, () => this.applyPatch<T>(ref, key, patch, type, true));
  }

  delete(ref: ResourceRef, key: ObjectKey, options: DeleteOptions = {}): Promise<boolean> {
    return this.write('delete', ref, key, undefined, undefined, options, () => {
      const id = this.id(ref, key);
      const existing = this.objects.get(id);
      if (!existing) return false;
      if (options.uid && existing.metadata?.uid !== options.uid) {
        throw new ConflictError(`uid precondition failed for ${keyString(key)}`, 409, 'Conflict');
      }
      this.objects.delete(id);
      return true;
    });
  }

  private async write<R>(
    verb: WriteVerb, ref: ResourceRef, key: ObjectKey, body: unknown, patchType: PatchType | undefined,
    options: unknown, run: () => R,
  ): Promise<R> {
    await Promise.resolve(); // answer asynchronously, like the real client
    const base = {
      verb, resource: resourceName(ref), namespace: key.namespace, name: key.name,
      ...(body === undefined ? {} : { body: structuredClone(body) }),
      ...(patchType === undefined ? {} : { patchType }),
      ...(options === undefined ? {} : { options }),
    };
    const i = this.failures.findIndex((f) => f.verb === verb);
    const injected = i >= 0 ? this.failures.splice(i, 1)[0] : undefined;
    try {
      if (injected) throw injected.error;
      const result = run();
      this.writes.push(base);
      return result;
    } catch (e: unknown) {
      this.writes.push({ ...base, error: e instanceof Error ? e.name : String(e) });
      throw e;
    }
  }

  private applyPatch<T>(ref: ResourceRef, key: ObjectKey, patch: unknown, type: PatchType, status: boolean): T {
    if (type === 'json') throw new InvalidError('the fake does not apply JSON patches', 415, 'UnsupportedMediaType');
    const id = this.id(ref, key);
    const existing = this.objects.get(id);
    if (!existing) throw new NotFoundError(`${keyString(key)} not found`, 404, 'NotFound');
    const wantRv = (patch as { metadata?: { resourceVersion?: unknown } } | null)?.metadata?.resourceVersion;
    if (typeof wantRv === 'string' && wantRv !== existing.metadata?.resourceVersion) {
      throw new ConflictError(`${keyString(key)} was modified`, 409, 'Conflict');
    }
    const patched = applyMergePatch(existing, patch) as Obj;
    // The status subresource changes only status; the main resource ignores status (as with a status subresource).
    const next: Obj = status
      ? { ...existing, status: (patched as { status?: unknown }).status }
      : { ...patched, ...('status' in existing ? { status: (existing as { status?: unknown }).status } : {}) };
    if (jsonEqual(next, existing)) return structuredClone(existing) as unknown as T;
    const specChanged = !status && !jsonEqual((next as { spec?: unknown }).spec, (existing as { spec?: unknown }).spec);
    return structuredClone(this.store(ref, next, specChanged)) as unknown as T;
  }

  private store(ref: ResourceRef, obj: Obj, bumpGeneration: boolean): Obj {
    const id = this.id(ref, { namespace: obj.metadata?.namespace ?? '', name: obj.metadata?.name ?? '' });
    const prev = this.objects.get(id);
    const generation = (prev?.metadata?.generation ?? 0) + (bumpGeneration || !prev ? 1 : 0);
    const stored: Obj = {
      ...structuredClone(obj),
      apiVersion: apiVersionOf(ref),
      kind: ref.kind,
      metadata: {
        ...obj.metadata,
        uid: prev?.metadata?.uid ?? obj.metadata?.uid ?? `uid-${this.uid++}`,
        resourceVersion: String(++this.rv),
        generation,
      },
    };
    this.objects.set(id, stored);
    return stored;
  }

  private id(ref: ResourceRef, key: ObjectKey): string {
    return `${resourceName(ref)}|${key.namespace}/${key.name}`;
  }
}
