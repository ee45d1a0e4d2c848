// Counts every request the operator makes to the object store, by operation, into
// perennial_store_requests_total{op} (what a store bills and rate-limits; the operator-scale bench prints it per
// minute). A decorator of the ObjectStore port, so every client the operator acts with is counted the same way.
import type { Readable } from 'node:stream';
import { Counter, type Registry } from 'prom-client';
import type { ObjectInfo, ObjectStore, PutOptions, PutResult } from '../storage/object-store.js';

export type StoreOp = 'get' | 'put' | 'stat' | 'list' | 'delete' | 'exists' | 'ensureBucket';

/** The one counter of a registry (several store clients share it). */
export function storeRequestsCounter(registry: Registry): Counter<'op'> {
  const name = 'perennial_store_requests_total';
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<'op'>;
  return new Counter({ name, help: 'Requests to the object store by operation (get, put, stat, list, delete, exists, ensureBucket).', labelNames: ['op'], registers: [registry] });
}

export class CountedStore implements ObjectStore {
  constructor(private readonly inner: ObjectStore, private readonly count: (op: StoreOp) => void) {}

  get(bucket: string, key: string): Promise<Readable> {
    this.count('get');
    return this.inner.get(bucket, key);
  }

  getBuffer(bucket: string, key: string): Promise<Buffer> {
    this.count('get');
    return this.inner.getBuffer(bucket, key);
  }

  put(bucket: string, key: string, body: Buffer | string | Readable, opts?: PutOptions): Promise<PutResult> {
    this.count('put');
    return this.inner.put(bucket, key, body, opts);
  }

  stat(bucket: string, key: string): Promise<ObjectInfo> {
    this.count('stat');
    return this.inner.stat(bucket, key);
  }

  list(bucket: string, prefix: string): Promise<ObjectInfo[]> {
    this.count('list');
    return this.inner.list(bucket, prefix);
  }

  delete(bucket: string, key: string): Promise<void> {
    this.count('delete');
    return this.inner.delete(bucket, key);
  }

  exists(bucket: string, key: string): Promise<boolean> {
    this.count('exists');
    return this.inner.exists(bucket, key);
  }

  ensureBucket(bucket: string): Promise<void> {
    this.count('ensureBucket');
    return this.inner.ensureBucket(bucket);
  }
}
