// Inference logging that writes nothing twice, bounded in bytes, and loses nothing it does not count.
//   append() ──► open batch ──(batchRecords or batchBytes reached, or flushMs passed)──► sealed batch: key fixed once
//   sealed batches ──► one writer at a time puts them to the store, oldest first
//   put fails ──► every sealed batch in memory goes to the spill folder (one file each, named after its key),
//                 retried from disk with jittered backoff until the store takes it; then the file is removed
//   memory over maxMemoryRecords or maxMemoryBytes ──► oldest sealed batches go to the spill folder at once
//   spill folder over its byte budget (shared by the writers of one process) ──► a batch that fits neither memory
//                 nor the folder is dropped: counted (onDropped) and reported (onError), never silently lost
//   start ──► files already in the spill folder (a crash, a restart) are replayed under their original keys
//   close() ──► seal, try the store until the deadline, spill whatever is left (or drop and count it)
// Nothing thrown in the timer or writer path escapes: it is reported through onError and the loop goes on.
// A batch's object key is chosen when it is sealed and never changes, and a put overwrites: a retry after a
// lost answer, or a replay after a crash, rewrites the same object instead of adding a second copy.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { logBatchKey } from '../shared/artifact-layout.js';
import { backoffDelayMs, type Backoff } from '../shared/backoff.js';
import type { ObjectStore } from '../storage/object-store.js';

/** Bytes a folder may hold, shared by the writers that spill into it (the spill volume has one size limit). */
export class ByteBudget {
  private used = 0;
  constructor(readonly limit: number) {}

  get usedBytes(): number {
    return this.used;
  }

  /** Reserves n bytes if they fit. */
  take(n: number): boolean {
    if (this.used + n > this.limit) return false;
    this.used += n;
    return true;
  }

  /** Counts bytes that are there already (files found at start), even past the limit. */
  add(n: number): void {
    this.used += n;
  }

  release(n: number): void {
    this.used = Math.max(0, this.used - n);
  }
}

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
  /** A batch is sealed once it holds this many bytes (default 1 MiB). */
  readonly batchBytes?: number;
  /** Bytes of records held in memory at most (default 32 MiB); keep it at least twice batchBytes. */
  readonly maxMemoryBytes?: number;
  /** The spill folder's byte budget, shared with the process's other writers (default: no limit). */
  readonly spillBudget?: ByteBudget;
  readonly now: () => Date;
  readonly onStored?: (records: number) => void;
  readonly onSpilled?: (records: number) => void;
  /** Records given up: memory and spill folder were both full. */
  readonly onDropped?: (records: number) => void;
  readonly onError?: (message: string, error: unknown) => void;
  /** Whether records are taken now (default always): false, append() drops them unwritten and uncounted (logging off). */
  readonly enabled?: () => boolean;
  /** Backoff of spill retries: jittered waits below 250 ms, doubling up to 15 s (the defaults). */
  readonly retryMinMs?: number;
  readonly retryMaxMs?: number;
}

interface Batch {
  readonly key: string;
  /** Encoded once at sealing: hashed for the key, and put or spilled as it is (the store client takes a Buffer as is). */
  readonly body: Buffer;
  /** The body's SHA-256 in hex: the key carries its first 12 digits, the store's put is signed with all of it. */
  readonly sha256: string;
  readonly records: number;
  readonly bytes: number;
}

const spillSuffix = '.jsonl';

export class LogWriter {
  /**
   * The open batch's lines, encoded into one reused buffer as they come: a line's string is garbage at once rather
   * than held until the batch is sealed, and sealing is one copy instead of a join and an encode.
   */
  private openBuffer = Buffer.allocUnsafe(64 << 10);
  private openRecords = 0;
  private openBytes = 0;
  private openSince = 0;
  private sealed: Batch[] = [];
  private sealedRecords = 0;
  private sealedBytes = 0;
  /** The batch being put to the store (out of `sealed`, still in memory). */
  private inFlight: Batch | undefined;
  private spilled = new Map<string, { readonly records: number; readonly bytes: number }>();
  private seq = 0;
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Failed puts of spilled batches in a row: how far the retry backoff has grown. */
  private spillFailures = 0;
  private readonly retryBackoff: Backoff;
  private closed = false;
  private readonly batchBytes: number;
  private readonly maxMemoryBytes: number;
  private readonly budget: ByteBudget;

  constructor(private readonly o: LogWriterOptions) {
    this.retryBackoff = { baseMs: o.retryMinMs ?? 250, capMs: o.retryMaxMs ?? 15_000 };
    this.batchBytes = o.batchBytes ?? 1 << 20;
    this.maxMemoryBytes = o.maxMemoryBytes ?? 32 << 20;
    this.budget = o.spillBudget ?? new ByteBudget(Infinity);
    mkdirSync(o.spillDir, { recursive: true });
    for (const name of readdirSync(o.spillDir)) {
      const path = join(o.spillDir, name);
      if (name.endsWith('.tmp')) rmSync(path, { force: true }); // a write cut short: never renamed, never counted
      else if (name.endsWith(spillSuffix)) {
        const bytes = statSync(path).size;
        this.budget.add(bytes);
        this.spilled.set(name, { records: this.countLines(path), bytes });
      }
    }
    this.timer = setInterval(() => this.tick(), Math.max(10, Math.min(o.flushMs, 1000)));
    this.timer.unref();
    if (this.spilled.size > 0) this.kick();
  }

  /** Records accepted but not yet in the store (memory and spill folder). */
  get pending(): number {
    let spilled = 0;
    for (const f of this.spilled.values()) spilled += f.records;
    return this.openRecords + this.sealedRecords + (this.inFlight?.records ?? 0) + spilled;
  }

  /** Bytes of records held in memory (open, sealed and being written). */
  get memoryBytes(): number {
    return this.openBytes + this.sealedBytes + (this.inFlight?.bytes ?? 0);
  }

  /** Takes a record; returns its line (`JSON.stringify(record)`, for the Kafka sink to reuse), undefined while logging is off. */
  append(record: object): string | undefined {
    if (this.closed) throw new Error('log writer is closed');
    if (this.o.enabled?.() === false) return undefined;
    if (this.openRecords === 0) this.openSince = this.o.now().getTime();
    const line = JSON.stringify(record);
    this.write(line);
    this.openRecords += 1;
    if (this.openRecords >= this.o.batchRecords || this.openBytes >= this.batchBytes) this.seal();
    return line;
  }

  /** Appends a line and its newline to the open batch's buffer, growing it when the line may not fit. */
  private write(line: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit; growing by doubling keeps the copies few.
    const need = this.openBytes + line.length * 3 + 1;
    if (need > this.openBuffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.openBuffer.length * 2));
      this.openBuffer.copy(grown, 0, 0, this.openBytes);
      this.openBuffer = grown;
    }
    this.openBytes += this.openBuffer.write(line, this.openBytes, 'utf8');
    this.openBuffer[this.openBytes++] = 0x0a;
  }

  private tick(): void {
    try {
      if (this.openRecords > 0 && this.o.now().getTime() - this.openSince >= this.o.flushMs) this.seal();
      else if (this.sealed.length > 0 || this.spilled.size > 0) this.kick();
    } catch (e: unknown) {
      this.o.onError?.('inference log flush failed', e);
    }
  }

  /** Closes the open batch; `write` false keeps the writer loop from starting (a crash: no store call). */
  private seal(write = true): void {
    if (this.openRecords === 0) return;
    // A copy of exactly the batch's bytes (the buffer is reused, and may be much larger than a batch sealed by time).
    const body = Buffer.from(this.openBuffer.subarray(0, this.openBytes));
    const records = this.openRecords;
    const bytes = this.openBytes;
    this.openRecords = 0;
    this.openBytes = 0;
    // One outsized record grew the buffer: it is not kept at that size.
    if (this.openBuffer.length > 2 * this.batchBytes) this.openBuffer = Buffer.allocUnsafe(64 << 10);
    this.seq += 1;
    const sha256 = createHash('sha256').update(body).digest('hex');
    const key = logBatchKey(this.o.prefix, new Date(this.openSince), `${this.o.fileStem}-${String(this.seq).padStart(6, '0')}-${sha256.slice(0, 12)}`);
    this.sealed.push({ key, body, sha256, records, bytes });
    this.sealedRecords += records;
    this.sealedBytes += bytes;
    this.relieve();
    if (write) this.kick();
  }

  /** Memory over a bound: the oldest sealed batches go to disk, or are dropped when the disk cannot take them. */
  private relieve(): void {
    while ((this.sealedRecords + (this.inFlight?.records ?? 0) > this.o.maxMemoryRecords || this.memoryBytes > this.maxMemoryBytes) && this.sealed.length > 0) {
      const b = this.sealed[0] as Batch;
      if (!this.spill(b)) this.drop(b, 'memory and spill folder are full');
    }
  }

  private unseal(b: Batch): void {
    this.sealed = this.sealed.filter((x) => x !== b);
    this.sealedRecords -= b.records;
    this.sealedBytes -= b.bytes;
  }

  /** Moves a sealed batch to the spill folder; false when the folder's budget or the disk refuses it. */
  private spill(b: Batch): boolean {
    if (!this.budget.take(b.bytes)) return false;
    const name = encodeURIComponent(b.key) + spillSuffix;
    const path = join(this.o.spillDir, name);
    try {
      // Write then rename: a crash mid-write leaves a .tmp that start-up discards, never a torn batch.
      writeFileSync(path + '.tmp', b.body);
      renameSync(path + '.tmp', path);
    } catch (e: unknown) {
      this.budget.release(b.bytes);
      rmSync(path + '.tmp', { force: true });
      this.o.onError?.('cannot spill a log batch to disk', e);
      return false;
    }
    this.unseal(b);
    this.spilled.set(name, { records: b.records, bytes: b.bytes });
    this.o.onSpilled?.(b.records);
    return true;
  }

  private drop(b: Batch, why: string): void {
    this.unseal(b);
    this.o.onDropped?.(b.records);
    this.o.onError?.(`dropped ${b.records} inference-log records (${b.bytes} bytes): ${why}`, undefined);
  }

  private countLines(path: string): number {
    return readFileSync(path, 'utf8').split('\n').filter((l) => l !== '').length;
  }

  /** Starts the writer loop unless it runs. */
  private kick(): void {
    this.writing ??= this.writeAll()
      .catch((e: unknown) => this.o.onError?.('inference log writer failed', e))
      .finally(() => {
        this.writing = undefined;
      });
  }

  /** Writes sealed batches, then spilled ones; on the first failure spills what it can of memory and stops. */
  private async writeAll(): Promise<void> {
    while (this.sealed.length > 0) {
      const b = this.sealed[0] as Batch;
      this.unseal(b);
      this.inFlight = b;
      try {
        await this.o.store.put(this.o.bucket, b.key, b.body, { contentType: 'application/x-ndjson', sha256: b.sha256 });
      } catch (e: unknown) {
        this.inFlight = undefined;
        this.sealed.unshift(b);
        this.sealedRecords += b.records;
        this.sealedBytes += b.bytes;
        this.o.onError?.('object store refused a log batch; spilling to disk', e);
        // What the disk cannot take stays in memory, within its bounds.
        for (const x of [...this.sealed]) this.spill(x);
        this.relieve();
        return;
      }
      this.inFlight = undefined;
      this.o.onStored?.(b.records);
    }
    for (const name of [...this.spilled.keys()].sort()) {
      const path = join(this.o.spillDir, name);
      const key = decodeURIComponent(name.slice(0, -spillSuffix.length));
      try {
        await this.o.store.put(this.o.bucket, key, readFileSync(path), { contentType: 'application/x-ndjson' });
      } catch (e: unknown) {
        this.o.onError?.('object store still refuses spilled log batches; will retry', e);
        if (!this.closed) await sleep(backoffDelayMs(this.retryBackoff, this.spillFailures++));
        return;
      }
      rmSync(path, { force: true });
      const f = this.spilled.get(name);
      this.spilled.delete(name);
      this.budget.release(f?.bytes ?? 0);
      this.o.onStored?.(f?.records ?? 0);
      this.spillFailures = 0;
    }
  }

  /**
   * For a crash: seals what is open and writes everything held in memory to the spill folder at once (the next
   * start replays it). A batch whose put is under way is written too: its key is fixed, so storing it twice
   * overwrites one object. What the folder cannot take is dropped and counted. No store call: that may hang.
   */
  spillAll(): void {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.seal(false);
    const b = this.inFlight;
    if (b !== undefined) {
      this.inFlight = undefined;
      this.sealed.unshift(b);
      this.sealedRecords += b.records;
      this.sealedBytes += b.bytes;
    }
    for (const x of [...this.sealed]) if (!this.spill(x)) this.drop(x, 'crashing, and the spill folder cannot take it');
  }

  /**
   * Seals what is open and writes everything it can within the deadline; what is left goes to the spill folder,
   * or is dropped and counted when the folder is full.
   */
  async close(deadlineMs: number): Promise<{ stored: boolean; pending: number }> {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.seal();
    const until = Date.now() + deadlineMs;
    while (Date.now() < until) {
      if (this.writing !== undefined) await this.writing;
      if (this.sealed.length === 0 && this.spilled.size === 0) break;
      this.kick();
      await this.writing;
      if (this.sealed.length === 0 && this.spilled.size === 0) break;
      await sleep(Math.min(500, Math.max(0, until - Date.now())));
    }
    for (const b of [...this.sealed]) if (!this.spill(b)) this.drop(b, 'closing, and the spill folder cannot take it');
    return { stored: this.pending === 0, pending: this.pending };
  }
}
