import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '../storage/memory-store.js';
import { StoreUnavailableError, type PutOptions, type PutResult } from '../storage/object-store.js';
import { ByteBudget, LogWriter, type LogWriterOptions } from './log-writer.js';

/** A MemoryStore that refuses puts while `down`, and counts every put that reached it. */
class FlakyStore extends MemoryStore {
  down = false;
  puts = 0;
  override async put(bucket: string, key: string, body: Buffer | string, opts?: PutOptions): Promise<PutResult> {
    if (this.down) throw new StoreUnavailableError('store down');
    this.puts += 1;
    return super.put(bucket, key, body, opts);
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
  it('writes nothing while switched off (spec.server.logPredictions false), and takes records again once on', async () => {
    const store = new FlakyStore();
    let on = false;
    const w = writer(store, { enabled: () => on });
    for (const id of range(0, 25)) w.append({ id });
    on = true;
    for (const id of range(100, 3)) w.append({ id });
    await w.close(1000);
    assert.deepEqual(await ids(store), range(100, 3));
  });

  it('stores every record byte for byte: non-ASCII text, a record larger than the batch buffer, batches sealed by size', async () => {
    const store = new FlakyStore();
    const w = writer(store, { batchRecords: 1000, batchBytes: 4096 });
    const records = [
      { id: 'a', city: 'São Paulo', note: '東京 🌧️ \u2028' },
      { id: 'b', big: 'x'.repeat(300_000) }, // grows the open buffer, then the batch seals on size
      ...range(0, 400).map((id) => ({ id, city: 'Zürich' })),
    ];
    const lines = records.map((r) => w.append(r));
    await w.close(1000);
    const stored: string[] = [];
    for (const o of (await store.list('b', '')).sort((x, y) => x.key.localeCompare(y.key))) stored.push(...(await store.getBuffer('b', o.key)).toString('utf8').split('\n').filter((l) => l !== ''));
    assert.deepEqual(stored, lines, 'the lines append() returned, in order, nothing torn');
    assert.deepEqual(stored.map((l) => JSON.parse(l) as unknown), records);
    assert.ok((await store.list('b', '')).length > 3, 'sealed on size (4 KiB), not only on count');
  });

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

  it('seals batches by size as well as by count', async () => {
    const store = new FlakyStore();
    const w = writer(store, { batchRecords: 1000, batchBytes: 10_000 });
    for (const id of range(0, 30)) w.append({ id, v: 'x'.repeat(1000) });
    const r = await w.close(1000);
    assert.equal(r.stored, true);
    const sizes = await Promise.all((await store.list('b', '')).map(async (o) => (await store.getBuffer('b', o.key)).length));
    assert.equal(sizes.length, 3, `${sizes.length} objects`);
    for (const n of sizes) assert.ok(n <= 10_000 + 1100, `${n} bytes in one object`);
  });

  it('stays within its byte bounds under 1 MB records with the store down: what fits neither is dropped and counted', async () => {
    const store = new FlakyStore();
    store.down = true;
    const spillDir = mkdtempSync(join(tmpdir(), 'spill-'));
    const budget = new ByteBudget(8 << 20);
    const counts = { spilled: 0, dropped: 0, errors: [] as string[] };
    const w = writer(store, {
      spillDir, batchRecords: 1000, batchBytes: 2 << 20, maxMemoryBytes: 6 << 20, spillBudget: budget,
      onSpilled: (n) => (counts.spilled += n), onDropped: (n) => (counts.dropped += n), onError: (m) => counts.errors.push(m),
    });
    const big = 'v'.repeat(1 << 20);
    let maxMemory = 0;
    // ~600 MB through a writer bounded at 6 MB of memory and 8 MB of disk: no RangeError from a batch too long to
    // join, nothing thrown at the caller or in the timer.
    for (let i = 0; i < 600; i++) {
      w.append({ id: `r${i}`, big });
      maxMemory = Math.max(maxMemory, w.memoryBytes);
      if (i % 50 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(maxMemory <= (6 << 20) + (1 << 20) + 100, `memory peaked at ${maxMemory} bytes`);
    assert.ok(budget.usedBytes <= 8 << 20, `${budget.usedBytes} bytes spilled`);
    const onDisk = readdirSync(spillDir).reduce((a, f) => a + statSync(join(spillDir, f)).size, 0);
    assert.equal(onDisk, budget.usedBytes, 'the budget counts what is on disk');
    assert.ok(counts.dropped > 500, `${counts.dropped} dropped`);
    assert.ok(counts.errors.some((m) => /dropped \d+ inference-log records .*: memory and spill folder are full/.test(m)), 'drops are reported');
    assert.equal(w.pending + counts.dropped, 600, 'every record is pending or counted as dropped');
    const r = await w.close(20);
    assert.equal(r.pending + counts.dropped, 600);
  });

  it('shares the spill budget between writers, frees it once stored, and counts files found at start', async () => {
    const store = new FlakyStore();
    store.down = true;
    const root = mkdtempSync(join(tmpdir(), 'spill-'));
    const budget = new ByteBudget(1 << 20);
    const a = writer(store, { spillDir: join(root, 'a'), spillBudget: budget });
    const b = writer(store, { spillDir: join(root, 'b'), spillBudget: budget, fileStem: 'pod-2' });
    for (const id of range(0, 20)) {
      a.append({ id });
      b.append({ id });
    }
    await Promise.all([a.close(10), b.close(10)]);
    const used = budget.usedBytes;
    assert.ok(used > 0);
    const restartBudget = new ByteBudget(1 << 20);
    store.down = false;
    const again = writer(store, { spillDir: join(root, 'a'), spillBudget: restartBudget, fileStem: 'pod-1b' });
    assert.ok(restartBudget.usedBytes > 0 && restartBudget.usedBytes < used, 'the replayed files count against the new budget');
    for (let i = 0; i < 100 && again.pending > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(restartBudget.usedBytes, 0, 'stored files free their bytes');
    await again.close(100);
  });

  it('drops and counts when the disk refuses and memory is full, and the timer survives a store that throws', async () => {
    const store = new FlakyStore();
    const spillDir = mkdtempSync(join(tmpdir(), 'spill-'));
    let dropped = 0;
    const errors: string[] = [];
    store.put = () => {
      throw new Error('synchronous failure');
    };
    const w = writer(store, { spillDir, batchBytes: 4096, maxMemoryBytes: 8192, onDropped: (n) => (dropped += n), onError: (m) => errors.push(m) });
    chmodSync(spillDir, 0o500);
    try {
      for (let i = 0; i < 200; i++) w.append({ id: `r${i}`, pad: 'p'.repeat(200) });
      await new Promise((r) => setTimeout(r, 150));
      assert.ok(w.memoryBytes <= 8192 + 4096 + 300, `${w.memoryBytes} bytes held`);
      // root ignores the folder's mode: then the batches are on disk instead of dropped.
      const spilled = readdirSync(spillDir).length;
      assert.ok(dropped > 0 || spilled > 0, JSON.stringify({ dropped, spilled }));
      assert.equal(w.pending + dropped, 200);
      assert.ok(errors.some((m) => m.includes('object store refused a log batch')));
    } finally {
      chmodSync(spillDir, 0o700);
    }
    await w.close(10);
  });

  it('spillAll (a crash) puts everything in memory on disk at once, without calling the store', async () => {
    const store = new FlakyStore();
    const spillDir = mkdtempSync(join(tmpdir(), 'spill-'));
    const w = writer(store, { spillDir, batchRecords: 1000, flushMs: 60_000 });
    for (const id of range(0, 25)) w.append({ id });
    w.spillAll();
    assert.equal(store.puts, 0);
    assert.equal(readdirSync(spillDir).length, 1);
    const next = writer(store, { spillDir, fileStem: 'pod-1b' });
    for (let i = 0; i < 100 && next.pending > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(await ids(store), range(0, 25));
    await next.close(100);
  });
});
