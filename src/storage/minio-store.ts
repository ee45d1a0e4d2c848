// ObjectStore on the `minio` client (any S3-compatible store). Classifies every failure into the port's typed
// errors, and retries transient failures of whole-object calls a few times (with jittered backoff, see
// src/shared/backoff.ts) so that a blip of the store does not end a training run; streams are not retried (the
// caller would see a partial read).
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, S3Error } from 'minio';
import { retry, type Backoff } from '../shared/backoff.js';
import { defaultStoreIdleTimeoutMs, IdleTimeoutHttpAgent, IdleTimeoutHttpsAgent } from './idle-timeout-agent.js';
import {
  normaliseEtag, ObjectNotFoundError, StoreRequestError, StoreUnavailableError,
  type ObjectInfo, type ObjectStore, type PutOptions, type PutResult,
} from './object-store.js';

export interface MinioStoreOptions {
  readonly endPoint: string;
  readonly port?: number | undefined;
  readonly useSSL: boolean;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly region?: string | undefined;
  /** PEM file of a CA to trust for the store's certificate. */
  readonly caFile?: string | undefined;
  /** Attempts for whole-object calls (default 3). */
  readonly attempts?: number;
  /** Waits between them (default storeRetryBackoff). */
  readonly backoff?: Backoff;
  /** A request fails after this long with no byte in either direction (default 60 s; see idle-timeout-agent.ts). */
  readonly idleTimeoutMs?: number;
}

/** Waits below 400 ms, then 800 ms, ...: a blip of the store is over within a few seconds, an outage is not. */
export const storeRetryBackoff: Backoff = { baseMs: 400, capMs: 5_000 };

/** A buffer up to this size goes up in one PUT (the client's own single-PUT bound, its default part size). */
const signedPutMaxBytes = 64 << 20;

const notFoundCodes = new Set(['NoSuchKey', 'NotFound', 'NoSuchObject']);
const transientCodes = new Set(['SlowDown', 'InternalError', 'ServiceUnavailable', 'RequestTimeout', 'XMinioServerNotInitialized']);
const networkCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET']);

/** Maps anything the minio client throws onto the port's errors. */
export function classifyStoreError(e: unknown, bucket: string, key: string): Error {
  if (e instanceof ObjectNotFoundError || e instanceof StoreUnavailableError || e instanceof StoreRequestError) return e;
  const code = (e as { code?: unknown }).code;
  const codeText = typeof code === 'string' ? code : undefined;
  const message = e instanceof Error ? e.message : String(e);
  if (codeText !== undefined && notFoundCodes.has(codeText)) return new ObjectNotFoundError(bucket, key);
  if (codeText !== undefined && (transientCodes.has(codeText) || networkCodes.has(codeText))) {
    return new StoreUnavailableError(`object store unavailable (${codeText}): ${message}`, { cause: e });
  }
  if (e instanceof S3Error) return new StoreRequestError(`object store refused ${bucket}/${key}: ${message}`, codeText, { cause: e });
  // The client reports the statuses it counts as retryable (408, 429, 5xx) without reading the answer's error code.
  const retryable = /Retryable HTTP status: (\d+)/.exec(message);
  if (retryable) return new StoreUnavailableError(`object store answered ${retryable[1] ?? ''}`, { cause: e });
  const status = (e as { amzCode?: unknown; statusCode?: unknown }).statusCode;
  if (typeof status === 'number' && status >= 500) return new StoreUnavailableError(`object store answered ${status}: ${message}`, { cause: e });
  // Socket-level failures surface as plain Errors with a `code` (or an AggregateError from happy eyeballs).
  if (e instanceof AggregateError || (e instanceof Error && /socket|ECONN|EPIPE|timed? ?out/i.test(`${codeText ?? ''} ${message}`))) {
    return new StoreUnavailableError(`object store unavailable: ${message}`, { cause: e });
  }
  return new StoreRequestError(`object store request for ${bucket}/${key} failed: ${message}`, codeText, { cause: e });
}

export class MinioStore implements ObjectStore {
  private readonly client: Client;
  private readonly attempts: number;
  private readonly backoff: Backoff;

  constructor(opts: MinioStoreOptions) {
    const idleMs = opts.idleTimeoutMs ?? defaultStoreIdleTimeoutMs;
    this.client = new Client({
      endPoint: opts.endPoint,
      useSSL: opts.useSSL,
      accessKey: opts.accessKey,
      secretKey: opts.secretKey,
      ...(opts.port !== undefined ? { port: opts.port } : {}),
      ...(opts.region !== undefined ? { region: opts.region } : {}),
      // One retry loop, ours (call below): the client's own would retry again inside each attempt, and log to stdout.
      retryOptions: { disableRetry: true },
      transportAgent: opts.useSSL
        ? new IdleTimeoutHttpsAgent(idleMs, opts.caFile !== undefined ? { ca: readFileSync(opts.caFile) } : {})
        : new IdleTimeoutHttpAgent(idleMs),
    });
    this.attempts = opts.attempts ?? 3;
    this.backoff = opts.backoff ?? storeRetryBackoff;
  }

  private call<T>(bucket: string, key: string, fn: () => Promise<T>): Promise<T> {
    const classified = async (): Promise<T> => {
      try {
        return await fn();
      } catch (e: unknown) {
        throw classifyStoreError(e, bucket, key);
      }
    };
    return retry(classified, { attempts: this.attempts, backoff: this.backoff, retryable: (e) => e instanceof StoreUnavailableError, sleep: (ms) => sleep(ms) });
  }

  async get(bucket: string, key: string): Promise<Readable> {
    const source = await this.call(bucket, key, () => this.client.getObject(bucket, key));
    // A connection lost mid-object must surface as StoreUnavailableError too, not as a bare socket error.
    return Readable.from((async function* () {
      try {
        for await (const chunk of source) yield chunk as Buffer;
      } catch (e: unknown) {
        throw classifyStoreError(e, bucket, key);
      }
    })(), { objectMode: false });
  }

  getBuffer(bucket: string, key: string): Promise<Buffer> {
    return this.call(bucket, key, async () => {
      const chunks: Buffer[] = [];
      for await (const c of await this.client.getObject(bucket, key)) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    });
  }

  async put(bucket: string, key: string, body: Buffer | string | Readable, opts: PutOptions = {}): Promise<PutResult> {
    const meta = { 'Content-Type': opts.contentType ?? 'application/octet-stream' };
    if (opts.sha256 !== undefined && !/^[0-9a-f]{64}$/.test(opts.sha256)) throw new TypeError(`not a SHA-256 in lowercase hex: ${opts.sha256.slice(0, 80)}`);
    if (Buffer.isBuffer(body) && opts.sha256 !== undefined && this.client.enableSHA256 && body.length <= signedPutMaxBytes) {
      return this.call(bucket, key, () => this.putSigned(bucket, key, body, meta, opts.sha256 as string));
    }
    const upload = async (): Promise<PutResult> => {
      // A Readable of unknown size goes up in parts (the client's multipart upload); buffers in one request.
      const info = await this.client.putObject(bucket, key, body, opts.size, meta);
      return { etag: normaliseEtag(info.etag) };
    };
    if (typeof body === 'string' || Buffer.isBuffer(body)) return this.call(bucket, key, upload);
    try {
      // The client's multipart path fails on a stream that turns out to be empty: send those as a buffer.
      const it = body[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
      let first = await it.next();
      while (first.done !== true && first.value.length === 0) first = await it.next();
      if (first.done === true) return await this.put(bucket, key, Buffer.alloc(0), opts);
      const rest = Readable.from((async function* () {
        yield first.value;
        for (let n = await it.next(); n.done !== true; n = await it.next()) yield n.value;
      })());
      const info = await this.client.putObject(bucket, key, rest, opts.size, meta);
      return { etag: normaliseEtag(info.etag) };
    } catch (e: unknown) {
      throw classifyStoreError(e, bucket, key);
    }
  }

  /**
   * One PUT of a buffer whose SHA-256 the caller gave: signed with it (SigV4's x-amz-content-sha256, which the store
   * checks against the body). The client's putObject would copy the buffer through a stream and hash it twice more
   * (SHA-256 to sign, MD5 it does not send over HTTP): ~2 ms a MiB on the event loop of a busy server, whose
   * inference log puts a batch of a few hundred kB several times a second (decision 0012, round seven).
   */
  private async putSigned(bucket: string, key: string, body: Buffer, meta: Record<string, string>, sha256: string): Promise<PutResult> {
    const res = await this.client.makeRequestStreamAsync({ method: 'PUT', bucketName: bucket, objectName: key, headers: { ...meta, 'Content-Length': body.length } }, body, sha256, [200], '');
    const etag = res.headers.etag ?? '';
    res.resume();
    await finished(res);
    return { etag: normaliseEtag(etag) };
  }

  stat(bucket: string, key: string): Promise<ObjectInfo> {
    return this.call(bucket, key, async () => {
      const s = await this.client.statObject(bucket, key);
      return { key, size: s.size, etag: normaliseEtag(s.etag), lastModified: s.lastModified };
    });
  }

  list(bucket: string, prefix: string): Promise<ObjectInfo[]> {
    return this.call(bucket, prefix, async () => {
      const out: ObjectInfo[] = [];
      const stream = this.client.listObjectsV2(bucket, prefix, true);
      for await (const item of stream as AsyncIterable<{ name?: string; size?: number; etag?: string; lastModified?: Date }>) {
        if (item.name === undefined) continue;
        out.push({ key: item.name, size: item.size ?? 0, etag: normaliseEtag(item.etag ?? ''), lastModified: item.lastModified ?? new Date(0) });
      }
      return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    });
  }

  delete(bucket: string, key: string): Promise<void> {
    return this.call(bucket, key, () => this.client.removeObject(bucket, key));
  }

  async exists(bucket: string, key: string): Promise<boolean> {
    try {
      await this.stat(bucket, key);
      return true;
    } catch (e: unknown) {
      if (e instanceof ObjectNotFoundError) return false;
      throw e;
    }
  }

  ensureBucket(bucket: string): Promise<void> {
    return this.call(bucket, '', async () => {
      if (!(await this.client.bucketExists(bucket))) {
        await this.client.makeBucket(bucket).catch((e: unknown) => {
          const code = (e as { code?: unknown }).code;
          if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw e;
        });
      }
    });
  }
}
