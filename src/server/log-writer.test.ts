import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '../storage/memory-store.js';
import { StoreUnavailableError, type PutResult } from '../storage/object-store.js';
import { LogWriter, type LogWriterOptions } from './log-writer.js';

/** A MemoryStore that refuses puts while `down`, and counts every put that reached it. */
class FlakyStore extends MemoryStore {
  down = false;
  puts = 0;
  override async put(bucket: string, key: string, body: Buffer | string): Promise<PutResult> {
    if (this.down) throw new StoreUnavailableError('store down');
    this.puts += 1;
    return super.put(bucket, key, body);
  }
}

function writer(store: FlakyStore, over: Partial<LogWriterOptions> = {}): LogWriter {
  return new LogWriter({
    store, bucket: 'b', prefix: 'deployments/ml/w/predictions/', spillDir: mkdtempSync(join(tmpdir(), 'spill-')), fileStem: 'pod-1',
    batchRecords: 10, flushMs: 50, maxMemoryRecords: 1000, now: () => new Date('2026-01-02T03:04:05Z'),
    retryMinMs: 10, retryMaxMs: 40, ...over,
  });
}

async function ids(store: MemoryStore): Promise<string[]> {
  const out: string[] = [];
  for (const o of await store.list('b', 'deployments/')) {
    for (const line of (await store.getBuffer('b', o.key)).toString('utf8').split('\n')) if (line !== '') out.push((JSON.parse(line) as { id: string }).id);
  }
  return out.sort();
}

const range = (from: number, n: number): string[] => Array.from({ length: n }, (_, i) => `r${String(from + i).padStart(4, '0')}`);

describe('LogWriter', () => {
  it('writes full batches as JSONL objects under the day folder, and the rest on close', async () => {
    const store = new FlakyStore();
    const w = writer(store);
    for (const id of range(0, 25)) w.append({ id });
    const r = await w.close(1000);
    assert.deepEqual(r, { stored: true, pending: 0 });
    const keys = (await store.list('b', '')).map((o) => o.key);
    assert.equal(keys.length, 3);
    for (const k of keys) assert.match(k, /^deployments\/ml\/w\/predictions\/2026-01-02\/pod-1-\d{6}-[0-9a-f]{12}\.jsonl$/);
    assert.deepEqual(await ids(store), range(0, 25));
  });

  it('flushes a partial batch after flushMs', async () => {
    const store = new FlakyStore();
    const w = writer(store, { now: () => new Date() });
    w.append({ id: 'a' });
    for (let i = 0; i < 100 && (await ids(store)).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(await ids(store), ['a']);
    await w.close(100);
  });

  it('spills to disk while the store is down and delivers every record exactly once when it is back', async () => {
    const store = new FlakyStore();
    const spillDir = mkdtempSync(join(tmpdir(), 'spill-'));
    const w = writer(store, { spillDir });
    for (const id of range(0, 10)) w.append({ id });
    await new Promise((r) => setTimeout(r, 30));
    store.down = true;
    for (const id of range(10, 20)) w.append({ id });
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(readdirSync(spillDir).length >= 1, 'batches went to disk');
    assert.equal(w.pending, 20, JSON.stringify({ stored: await ids(store), files: readdirSync(spillDir) }));
    store.down = false;
    for (let i = 0; i < 100 && w.pending > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(w.pending, 0);
    assert.deepEqual(readdirSync(spillDir), []);
    assert.deepEqual(await ids(store), range(0, 30));
    await w.close(100);
  });

  it('keeps memory bounded: past maxMemoryRecords sealed batches go to disk', async () => {
    const store = new FlakyStore();
    store.down = true;
    const spillDir = mkdtempSync(join(tmpdir(), 'spill-'));
    const w = writer(store, { spillDir, maxMemoryRecords: 20 });
    for (const id of range(0, 100)) w.append({ id });
    assert.ok(readdirSync(spillDir).length >= 8, `${readdirSync(spillDir).length} files spilled`);
    const r = await w.close(50);
    assert.equal(r.stored, false);
    assert.equal(r.pending, 100);
    assert.equal(readdirSync(spillDir).length, 10, 'on close everything left is on disk');
  });

  it('a new writer replays a previous process\'s spill folder under the same keys (crash-restart, no duplicates)', async () => {
    const store = new FlakyStore();
    const spillDir = mkdtempSync(join(tmpdir(), 'spill-'));
    store.down = true;
    const first = writer(store, { spillDir });
    for (const id of range(0, 30)) first.append({ id });
    await first.close(20);
    store.down = false;
    // The store took one batch already before the "crash": the replay must overwrite it, not add a copy.
    const one = readdirSync(spillDir)[0] ?? '';
    await store.put('b', decodeURIComponent(one.slice(0, -'.jsonl'.length)), 'x');
    const second = writer(store, { spillDir, fileStem: 'pod-1b' });
    for (let i = 0; i < 100 && second.pending > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(await ids(store), range(0, 30));
    assert.equal((await store.list('b', '')).length, 3);
    await second.close(100);
  });
});
