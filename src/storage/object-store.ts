// The object-store port: the narrow interface the trainer, the server and the operator use for S3-compatible
// stores. Errors are typed so callers decide by class, never by message: ObjectNotFoundError (the key is not
// there: a fact), StoreUnavailableError (the store could not answer: retry later), StoreRequestError (the
// store refused the request: credentials, bucket, permissions; retrying will not help).
import type { Readable } from 'node:stream';

export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  /** Entity tag without quotes; for single-part uploads the MD5 of the content. */
  readonly etag: string;
  readonly lastModified: Date;
}

export interface PutResult {
  readonly etag: string;
}

export interface ObjectStore {
  /** Streams an object's content. ObjectNotFoundError when absent. */
  get(bucket: string, key: string): Promise<Readable>;
  /** Reads a whole (small) object. */
  getBuffer(bucket: string, key: string): Promise<Buffer>;
  /**
   * Writes an object. Streams of unknown size are uploaded in parts, so a large body is never buffered whole.
   * Idempotent: writing the same content twice leaves the same object.
   */
  put(bucket: string, key: string, body: Buffer | string | Readable, opts?: PutOptions): Promise<PutResult>;
  /** Size, ETag and time of one object. ObjectNotFoundError when absent. */
  stat(bucket: string, key: string): Promise<ObjectInfo>;
  /** Every object under a prefix (recursive), sorted by key. */
  list(bucket: string, prefix: string): Promise<ObjectInfo[]>;
  /** Deletes an object; deleting an absent object is success. */
  delete(bucket: string, key: string): Promise<void>;
  exists(bucket: string, key: string): Promise<boolean>;
  ensureBucket(bucket: string): Promise<void>;
}

export interface PutOptions {
  readonly contentType?: string;
  /** A stream's length, when known. */
  readonly size?: number;
  /**
   * A Buffer body's SHA-256 in hex, when the caller has computed it anyway: a store that signs the payload sends it
   * instead of hashing the body again, and the store refuses the object if it does not match.
   */
  readonly sha256?: string;
}

export class ObjectNotFoundError extends Error {
  override readonly name = 'ObjectNotFoundError';
  constructor(readonly bucket: string, readonly key: string) {
    super(`object ${bucket}/${key} not found`);
  }
}

export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export class StoreRequestError extends Error {
  override readonly name = 'StoreRequestError';
  constructor(message: string, readonly code: string | undefined, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Strips the quotes S3 puts around ETags. */
export function normaliseEtag(etag: string): string {
  return etag.replace(/^"+|"+$/g, '');
}
