// Micro-batching: rows of concurrent requests are gathered into one model call. A call starts when `maxSize`
// rows wait or the oldest has waited `maxWaitMs`; only one call runs at a time (the model is CPU-bound, two at
// once would only interleave), so under load the next batch fills while the current one runs and batches grow
// with the load. The queue is bounded in rows: past it, submit() fails fast with QueueFullError (→ 503) rather
// than letting latency grow without limit.

export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
  constructor(readonly queued: number, readonly limit: number) {
    super(`prediction queue is full (${queued} rows waiting, limit ${limit})`);
  }
}

export interface BatcherOptions {
  readonly maxSize: number;
  readonly maxWaitMs: number;
  readonly maxQueueRows: number;
  /** Called after each model call with its size (for the batch-size histogram). */
  readonly onBatch?: (size: number) => void;
}

interface Pending<O> {
  readonly results: O[];
  remaining: number;
  failed: boolean;
  readonly resolve: (out: O[]) => void;
  readonly reject: (e: unknown) => void;
}

interface Slot<I, O> {
  readonly item: I;
  readonly owner: Pending<O>;
  readonly index: number;
}

export class MicroBatcher<I, O> {
  private queue: Slot<I, O>[] = [];
  private head = 0;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly run: (items: readonly I[]) => Promise<readonly O[]> | readonly O[], private readonly opts: BatcherOptions) {}

  /** Rows waiting for a model call (not counting the one running). */
  get queued(): number {
    return this.queue.length - this.head;
  }

  /** Predicts `items` together with whatever else is waiting; results come back in the same order. */
  submit(items: readonly I[]): Promise<O[]> {
    if (items.length === 0) return Promise.resolve([]);
    if (this.queued + items.length > this.opts.maxQueueRows) return Promise.reject(new QueueFullError(this.queued, this.opts.maxQueueRows));
    return new Promise<O[]>((resolve, reject) => {
      const owner: Pending<O> = { results: new Array<O>(items.length), remaining: items.length, failed: false, resolve, reject };
      items.forEach((item, index) => this.queue.push({ item, owner, index }));
      this.schedule();
    });
  }

  /** Resolves once nothing is queued or running. */
  idle(): Promise<void> {
    if (!this.running && this.queued === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.running) return;
    if (this.queued >= this.opts.maxSize) {
      this.clearTimer();
      this.flush();
    } else if (this.timer === undefined && this.immediate === undefined && this.queued > 0) {
      if (this.opts.maxWaitMs <= 0) {
        // No wait: still let the requests already read in this turn of the event loop join the batch.
        this.immediate = setImmediate(() => {
          this.immediate = undefined;
          this.flush();
        });
      } else {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.flush();
        }, this.opts.maxWaitMs);
      }
    }
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  private flush(): void {
    if (this.running || this.queued === 0) return;
    const end = Math.min(this.queue.length, this.head + this.opts.maxSize);
    const batch = this.queue.slice(this.head, end);
    this.head = end;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.running = true;
    void this.call(batch).finally(() => {
      this.running = false;
      if (this.queued > 0) {
        // Rows that arrived during the call have waited long enough: run them now, as one batch.
        this.clearTimer();
        this.flush();
      } else {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    });
  }

  private async call(batch: readonly Slot<I, O>[]): Promise<void> {
    try {
      const out = await this.run(batch.map((s) => s.item));
      if (out.length !== batch.length) throw new Error(`model call returned ${out.length} results for ${batch.length} rows`);
      this.opts.onBatch?.(batch.length);
      batch.forEach((s, i) => {
        s.owner.results[s.index] = out[i] as O;
        s.owner.remaining -= 1;
        if (s.owner.remaining === 0 && !s.owner.failed) s.owner.resolve(s.owner.results);
      });
    } catch (e: unknown) {
      for (const s of batch) {
        if (!s.owner.failed) {
          s.owner.failed = true;
          s.owner.reject(e);
        }
      }
    }
  }
}
