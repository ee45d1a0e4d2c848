// The store client the operator acts with for a pipeline that brings its own credentials
// (spec.storage.credentialsSecret): built from that Secret, read by name from the pipeline's namespace (never
// listed or watched), so every listing, read and delete for the pipeline is done with the tenant's credentials and
// the store enforces what they may do. Clients are kept per Secret and rebuilt when its keys change.
import { createHash } from 'node:crypto';
import { podEnv } from '../../shared/pod-contract.js';
import type { ObjectStore } from '../../storage/object-store.js';
import { secrets } from '../resources.js';
import { ForbiddenError, NotFoundError } from '../runtime/errors.js';
import type { KubeHttp } from '../runtime/kube-http.js';
import { resourcePath } from '../runtime/resource.js';

/** The Secret cannot give credentials: missing, unreadable by the operator, or without usable keys. */
export class CredentialsError extends Error {
  override readonly name = 'CredentialsError';
}

export interface SecretObject {
  readonly data?: Readonly<Record<string, string>>;
}

/** Reads a Secret by name; undefined when it does not exist. */
export type ReadSecret = (namespace: string, name: string) => Promise<SecretObject | undefined>;

/** GET of one Secret by name (the operator's RBAC: get on secrets, never list or watch). */
export function secretReader(http: KubeHttp): ReadSecret {
  return async (namespace, name) => {
    try {
      return await http.request<SecretObject>('GET', resourcePath(secrets, namespace, name));
    } catch (e: unknown) {
      if (e instanceof NotFoundError) return undefined;
      if (e instanceof ForbiddenError) throw new CredentialsError(`the operator may not read Secret "${name}" in namespace "${namespace}"`);
      throw e;
    }
  };
}

export interface StoreKeys {
  readonly accessKey: string;
  readonly secretKey: string;
}

/** Pure: the keys a Secret holds (base64 in .data, as the API server returns them), or why it cannot be used. */
export function keysFrom(secret: SecretObject | undefined, namespace: string, name: string): StoreKeys | string {
  if (secret === undefined) return `Secret "${name}" not found in namespace "${namespace}"`;
  const read = (key: string): string => Buffer.from(secret.data?.[key] ?? '', 'base64').toString('utf8');
  const accessKey = read(podEnv.accessKeyId);
  const secretKey = read(podEnv.secretAccessKey);
  for (const [key, value] of [[podEnv.accessKeyId, accessKey], [podEnv.secretAccessKey, secretKey]] as const) {
    if (value === '') return `Secret "${name}" has no ${key} (it needs ${podEnv.accessKeyId} and ${podEnv.secretAccessKey})`;
    if (/\s/.test(value)) return `Secret "${name}": ${key} contains whitespace (a trailing newline, from echo without -n?)`;
  }
  return { accessKey, secretKey };
}

export class PipelineStores {
  private readonly clients = new Map<string, { readonly fingerprint: string; readonly store: ObjectStore }>();

  constructor(
    private readonly readSecret: ReadSecret,
    private readonly build: (keys: StoreKeys) => ObjectStore,
    /** Most clients kept; the least recently used goes first (each holds a keep-alive agent). */
    private readonly limit = 1000,
  ) {}

  /** The client for the credentials in the Secret. Throws CredentialsError when it cannot give any. */
  async forSecret(namespace: string, name: string): Promise<ObjectStore> {
    const keys = keysFrom(await this.readSecret(namespace, name), namespace, name);
    if (typeof keys === 'string') throw new CredentialsError(keys);
    const id = `${namespace}/${name}`;
    const fingerprint = createHash('sha256').update(`${keys.accessKey}\u0000${keys.secretKey}`).digest('hex');
    const kept = this.clients.get(id);
    this.clients.delete(id);
    const store = kept?.fingerprint === fingerprint ? kept.store : this.build(keys);
    this.clients.set(id, { fingerprint, store });
    if (this.clients.size > this.limit) {
      const oldest = this.clients.keys().next().value;
      if (oldest !== undefined) this.clients.delete(oldest);
    }
    return store;
  }
}
