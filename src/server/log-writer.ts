// Inference logging that loses nothing and writes nothing twice.
//   append() ──► open batch ──(batchRecords reached, or flushMs passed)──► sealed batch: key fixed once
//   sealed batches ──► one writer at a time puts them to the store, oldest first
//   put fails ──► every sealed batch in memory goes to the spill folder (one file each, named after its key),
//                 retried from disk with backoff until the store takes it; then the file is removed
//   memory over maxMemoryRecords ──► oldest sealed batches go to the spill folder at once (bounded memory)
//   start ──► files already in the spill folder (a crash, a restart) are replayed under their original keys
//   close() ──► seal, try the store until the deadline, spill whatever is left
// A batch's object key is chosen when it is sealed and never changes, and a put overwrites: a retry after a
// lost answer, or a replay after a crash, rewrites the same object instead of adding a second copy.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { logBatchKey } from '../shared/artifact-layout.js';
import type { ObjectStore } from '../storage/object-store.js';

export interface LogWriterOptions {
  readonly store: ObjectStore;
  readonly bucket: string;
  /** predictionsPrefix() or feedbackPrefix() of the deployment. */
  readonly prefix: string;
  /** Folder for batches the store could not take (created if absent). */
  readonly spillDir: string;
  /** Unique per process: pod name plus start time, so replicas and restarts never share a key. */
  readonly fileStem: string;
  readonly batchRecords: number;
  readonly flushMs: number;
  readonly maxMemoryRecords: number;
  readonly now: () => Date;
  readonly onStored?: (records: number) => void;
  readonly onSpilled?: (records: number) => void;
  readonly onError?: (message: string, error: unknown) => void;
  /** Backoff of spill retries (default 250 ms doubling to 15 s). */
  readonly retryMinMs?: number;
  readonly retryMaxMs?: number;
}

interface Batch {
  readonly key: string;
  readonly body: string;
  readonly records: number;
}

const spillSuffix = '.jsonl';

export class LogWriter {
  private open: string[] = [];
  private openSince = 0;
  private sealed: Batch[] = [];
  private sealedRecords = 0;
  private spilledRecords = new Map<string, number>();
  private seq = 0;
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private retryDelay: number;
  private closed = false;

  constructor(private readonly o: LogWriterOptions) {
    this.retryDelay = o.retryMinMs ?? 250;
    mkdirSync(o.spillDir, { recursive: true });
    for (const name of readdirSync(o.spillDir)) {
      if (name.endsWith('.tmp')) rmSync(join(o.spillDir, name), { force: true }); // a write cut short: never renamed, never counted
      else if (name.endsWith(spillSuffix)) this.spilledRecords.set(name, this.countLines(join(o.spillDir, name)));
    }
    this.timer = setInterval(() => this.tick(), Math.max(10, Math.min(o.flushMs, 1000)));
    this.timer.unref();
    if (this.spilledRecords.size > 0) this.kick();
  }

  /** Records accepted but not yet in the store (memory and spill folder). */
  get pending(): number {
    return this.open.length + this.sealedRecords + [...this.spilledRecords.values()].reduce((a, b) => a + b, 0);
  }

  append(record: object): void {
    if (this.closed) throw new Error('log writer is closed');
    if (this.open.length === 0) this.openSince = this.o.now().getTime();
    this.open.push(JSON.stringify(record));
    if (this.open.length >= this.o.batchRecords) this.seal();
  }

  private tick(): void {
    if (this.open.length > 0 && this.o.now().getTime() - this.openSince >= this.o.flushMs) this.seal();
    else if (this.sealed.length > 0 || this.spilledRecords.size > 0) this.kick();
  }

  private seal(): void {
    if (this.open.length === 0) return;
    const body = this.open.join('\n') + '\n';
    const records = this.open.length;
    this.open = [];
    this.seq += 1;
    const digest = createHash('sha256').update(body).digest('hex').slice(0, 12);
    const key = logBatchKey(this.o.prefix, new Date(this.openSince), `${this.o.fileStem}-${String(this.seq).padStart(6, '0')}-${digest}`);
    this.sealed.push({ key, body, records });
    this.sealedRecords += records;
    while (this.sealedRecords > this.o.maxMemoryRecords && this.sealed.length > 0) this.spill(this.sealed[0] as Batch);
    this.kick();
  }

  private spill(b: Batch): void {
    const name = encodeURIComponent(b.key) + spillSuffix;
    const path = join(this.o.spillDir, name);
    try {
      // Write then rename: a crash mid-write leaves a .tmp that start-up discards, never a torn batch.
      writeFileSync(path + '.tmp', b.body);
      renameSync(path + '.tmp', path);
    } catch (e: unknown) {
      // The disk failed too: keep the batch in memory rather than drop it (memory may exceed the bound).
      this.o.onError?.('cannot spill a log batch to disk', e);
      return;
    }
    this.sealed = this.sealed.filter((x) => x !== b);
    this.sealedRecords -= b.records;
    this.spilledRecords.set(name, b.records);
    this.o.onSpilled?.(b.records);
  }

  private countLines(path: string): number {
    return readFileSync(path, 'utf8').split('\n').filter((l) => l !== '').length;
  }

  /** Starts the writer loop unless it runs. */
  private kick(): void {
    this.writing ??= this.writeAll().finally(() => {
      this.writing = undefined;
    });
  }

  /** Writes sealed batches, then spilled ones; on the first failure spills everything in memory and stops. */
  private async writeAll(): Promise<void> {
    while (this.sealed.length > 0) {
      const b = this.sealed[0] as Batch;
      try {
        await this.o.store.put(this.o.bucket, b.key, b.body, { contentType: 'application/x-ndjson' });
      } catch (e: unknown) {
        this.o.onError?.('object store refused a log batch; spilling to disk', e);
        for (const x of [...this.sealed]) this.spill(x);
        return;
      }
      const at = this.sealed.indexOf(b);
      if (at >= 0) {
        this.sealed.splice(at, 1);
        this.sealedRecords -= b.records;
      } else {
        // The memory bound moved it to disk while it was being written: it is stored now, drop the file.
        const name = encodeURIComponent(b.key) + spillSuffix;
        rmSync(join(this.o.spillDir, name), { force: true });
        this.spilledRecords.delete(name);
      }
      this.o.onStored?.(b.records);
    }
    for (const name of [...this.spilledRecords.keys()].sort()) {
      const path = join(this.o.spillDir, name);
      const key = decodeURIComponent(name.slice(0, -spillSuffix.length));
      try {
        await this.o.store.put(this.o.bucket, key, readFileSync(path), { contentType: 'application/x-ndjson' });
      } catch (e: unknown) {
        this.o.onError?.('object store still refuses spilled log batches; will retry', e);
        if (!this.closed) {
          await sleep(this.retryDelay);
          this.retryDelay = Math.min(this.retryDelay * 2, this.o.retryMaxMs ?? 15_000);
        }
        return;
      }
      rmSync(path, { force: true });
      this.o.onStored?.(this.spilledRecords.get(name) ?? 0);
      this.spilledRecords.delete(name);
      this.retryDelay = this.o.retryMinMs ?? 250;
    }
  }

  /** Seals what is open and writes everything it can within the deadline; what is left stays in the spill folder. */
  async close(deadlineMs: number): Promise<{ stored: boolean; pending: number }> {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.seal();
    const until = Date.now() + deadlineMs;
    while (Date.now() < until) {
      if (this.writing !== undefined) await this.writing;
      if (this.sealed.length === 0 && this.spilledRecords.size === 0) break;
      this.kick();
      await this.writing;
      if (this.sealed.length === 0 && this.spilledRecords.size === 0) break;
      await sleep(Math.min(500, Math.max(0, until - Date.now())));
    }
    for (const b of [...this.sealed]) this.spill(b);
    return { stored: this.pending === 0, pending: this.pending };
  }
}
