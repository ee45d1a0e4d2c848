// An in-memory ObjectStore for fast unit tests of code that takes the port. ETags are MD5s, as S3's are for
// single-part uploads. Not for production use.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { ObjectNotFoundError, StoreRequestError, type ObjectInfo, type ObjectStore, type PutOptions, type PutResult } from './object-store.js';

export class MemoryStore implements ObjectStore {
  private readonly objects = new Map<string, { body: Buffer; etag: string; at: Date }>();

  private id(bucket: string, key: string): string {
    return `${bucket}\u0000${key}`;
  }

  private must(bucket: string, key: string): { body: Buffer; etag: string; at: Date } {
    const o = this.objects.get(this.id(bucket, key));
    if (!o) throw new ObjectNotFoundError(bucket, key);
    return o;
  }

  get(bucket: string, key: string): Promise<Readable> {
    return Promise.resolve().then(() => Readable.from([this.must(bucket, key).body]));
  }

  getBuffer(bucket: string, key: string): Promise<Buffer> {
    return Promise.resolve().then(() => Buffer.from(this.must(bucket, key).body));
  }

  async put(bucket: string, key: string, body: Buffer | string | Readable, opts: PutOptions = {}): Promise<PutResult> {
    let buf: Buffer;
    if (typeof body === 'string') buf = Buffer.from(body);
    else if (Buffer.isBuffer(body)) buf = Buffer.from(body);
    else {
      const parts: Buffer[] = [];
      for await (const c of body) parts.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
      buf = Buffer.concat(parts);
    }
    // As an S3 store checks a signed payload's x-amz-content-sha256: a digest that does not match stores nothing.
    if (opts.sha256 !== undefined && createHash('sha256').update(buf).digest('hex') !== opts.sha256) {
      throw new StoreRequestError(`object store request for ${bucket}/${key} failed: the body does not match its SHA-256`, 'XAmzContentSHA256Mismatch');
    }
    const etag = createHash('md5').update(buf).digest('hex');
    this.objects.set(this.id(bucket, key), { body: buf, etag, at: new Date() });
    return { etag };
  }

  stat(bucket: string, key: string): Promise<ObjectInfo> {
    return Promise.resolve().then(() => {
      const o = this.must(bucket, key);
      return { key, size: o.body.length, etag: o.etag, lastModified: o.at };
    });
  }

  list(bucket: string, prefix: string): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    for (const [id, o] of this.objects) {
      const [b, key = ''] = id.split('\u0000');
      if (b === bucket && key.startsWith(prefix)) out.push({ key, size: o.body.length, etag: o.etag, lastModified: o.at });
    }
    return Promise.resolve(out.sort((a, b) => (a.key < b.key ? -1 : 1)));
  }

  delete(bucket: string, key: string): Promise<void> {
    this.objects.delete(this.id(bucket, key));
    return Promise.resolve();
  }

  exists(bucket: string, key: string): Promise<boolean> {
    return Promise.resolve(this.objects.has(this.id(bucket, key)));
  }

  ensureBucket(): Promise<void> {
    return Promise.resolve();
  }
}
