// The object-store adapter the trainer (and the server and operator) use, against the real MinIO: round
// trips, listing with ETags, typed errors, empty and multipart streams.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { sharedCluster, uniqueName } from '../../localcluster/test-cluster.js';
import { MinioStore } from '../../src/storage/minio-store.js';
import { ObjectNotFoundError, StoreRequestError, StoreUnavailableError } from '../../src/storage/object-store.js';
import { storeFor } from './trainer-harness.js';

describe('object store adapter', () => {
  let store: MinioStore;
  const bucket = uniqueName('store');

  before(async () => {
    store = storeFor(await sharedCluster());
    await store.ensureBucket(bucket);
    await store.ensureBucket(bucket); // idempotent
  });

  after(async () => {
    for (const o of await store.list(bucket, '')) await store.delete(bucket, o.key);
  });

  it('puts, stats, lists, reads and deletes', async () => {
    const { etag } = await store.put(bucket, 'p/a.txt', 'hello');
    assert.equal(etag, createHash('md5').update('hello').digest('hex'));
    await store.put(bucket, 'p/b.txt', Buffer.from('world'));
    await store.put(bucket, 'q/c.txt', 'other prefix');
    const s = await store.stat(bucket, 'p/a.txt');
    assert.equal(s.size, 5);
    assert.equal(s.etag, etag);
    assert.deepEqual((await store.list(bucket, 'p/')).map((o) => [o.key, o.size]), [['p/a.txt', 5], ['p/b.txt', 5]]);
    assert.equal((await store.getBuffer(bucket, 'p/b.txt')).toString(), 'world');
    const chunks: Buffer[] = [];
    for await (const c of await store.get(bucket, 'p/a.txt')) chunks.push(c as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), 'hello');
    await store.delete(bucket, 'p/a.txt');
    await store.delete(bucket, 'p/a.txt'); // absent: still success
    assert.equal(await store.exists(bucket, 'p/a.txt'), false);
    assert.equal(await store.exists(bucket, 'p/b.txt'), true);
  });

  it('puts a buffer signed with the SHA-256 its caller gives, and refuses one that does not match, storing nothing', async () => {
    // The inference log hashes each batch for its key; the store's put is signed with that digest instead of the
    // client hashing (and copying) the batch again.
    const body = Buffer.from(Array.from({ length: 20_000 }, (_, i) => `{"id":"p${i}","label":"sün ${i}"}\n`).join(''));
    const sha256 = createHash('sha256').update(body).digest('hex');
    const key = 'logs/2026-12-05/pod a-1-000001-ü.jsonl';
    const { etag } = await store.put(bucket, key, body, { contentType: 'application/x-ndjson', sha256 });
    assert.equal(etag, createHash('md5').update(body).digest('hex'));
    assert.ok((await store.getBuffer(bucket, key)).equals(body), 'stored byte for byte');
    const other = Buffer.concat([body.subarray(0, body.length - 2), Buffer.from('x\n')]);
    await assert.rejects(store.put(bucket, 'logs/2026-12-05/torn.jsonl', other, { sha256 }), (e: unknown) => {
      assert.ok(e instanceof StoreRequestError, String(e));
      assert.match(e.message, /sha256|SHA256|checksum|match/i);
      return true;
    });
    assert.equal(await store.exists(bucket, 'logs/2026-12-05/torn.jsonl'), false, 'nothing stored under a digest that does not match');
    await assert.rejects(store.put(bucket, 'logs/x.jsonl', body, { sha256: 'not-hex' }), TypeError);
  });

  it('raises ObjectNotFoundError for absent keys', async () => {
    await assert.rejects(store.getBuffer(bucket, 'nope'), ObjectNotFoundError);
    await assert.rejects(store.stat(bucket, 'nope'), ObjectNotFoundError);
  });

  it('uploads an empty stream and a multipart stream of unknown size', async () => {
    await store.put(bucket, 's/empty', Readable.from([]));
    assert.equal((await store.stat(bucket, 's/empty')).size, 0);
    const part = Buffer.alloc(1024 * 1024, 7);
    const hash = createHash('sha256');
    const parts = Array.from({ length: 70 }, () => part); // 70 MiB: more than one 64 MiB part
    for (const p of parts) hash.update(p);
    await store.put(bucket, 's/big', Readable.from(parts));
    assert.equal((await store.stat(bucket, 's/big')).size, 70 * 1024 * 1024);
    const back = createHash('sha256');
    for await (const c of await store.get(bucket, 's/big')) back.update(c as Buffer);
    assert.equal(back.digest('hex'), hash.digest('hex'));
  });

  it('raises StoreUnavailableError when nothing listens', async () => {
    const dead = new MinioStore({ endPoint: '127.0.0.1', port: 1, useSSL: false, accessKey: 'a', secretKey: 'b', attempts: 2 });
    await assert.rejects(dead.stat(bucket, 'x'), StoreUnavailableError);
  });
});
