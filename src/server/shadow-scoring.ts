// On a shadow-track pod (the track is live: see active): reads the deployment's inference log back (the records every serving replica writes within
// its flush interval) and feeds it to the ShadowBook, which pairs the mirrored rows this pod answered with the
// serving version's answers and labels (shadow-book.ts). Its verdicts are counted on this pod under its own
// version, like any other: perennial_server_shadow_comparisons_total{outcome=agree|disagree} and the feedback
// counters (correct/incorrect, log loss; scored and squared error for regression), so the canary analysis reads the
// shadow's agreement and accuracy from the candidate's own pods.
// Every pollMs it lists the day folders that can hold records of the last holdMs and reads each object it has not
// read yet (objects older than the pod are skipped unread: they cannot pair). Predictions of a poll are read before
// its labels. A store that does not answer costs one poll (logged); the next one reads what was missed.
// Latency from a label's arrival to its count here: the serving pod's log flush (PERENNIAL_SERVER_LOG_FLUSH_MS,
// 5 s by default) plus up to one poll.
import type { Logger } from 'winston';
import { logBatchKey } from '../shared/artifact-layout.js';
import { parseLogRecord, type FeedbackRecord, type PredictionRecord } from '../shared/inference-log.js';
import type { LabelSpec, RawRow } from '../shared/preprocessing.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { Prediction } from './model.js';
import type { BookEvent, ShadowBook } from './shadow-book.js';

export interface ShadowScoringOptions {
  readonly store: ObjectStore;
  readonly bucket: string;
  readonly predictionsPrefix: string;
  readonly feedbackPrefix: string;
  readonly version: string;
  readonly pollMs: number;
  readonly holdMs: number;
  /** The served model's label (undefined until loaded): labels are checked against it before they score. */
  readonly label: () => LabelSpec | undefined;
  /** Whether the pod is on the shadow track now: answers are held only then, and the log is read only then or while answers are held. */
  readonly active: () => boolean;
  readonly record: (e: BookEvent, label: LabelSpec) => void;
  readonly log: Logger;
  readonly now: () => Date;
}

const dayMs = 86_400_000;

/** The day folders of `prefix` that can hold records written in [fromMs, toMs]. */
export function dayFolders(prefix: string, fromMs: number, toMs: number): string[] {
  const out: string[] = [];
  for (let t = Math.floor(fromMs / dayMs) * dayMs; t <= toMs; t += dayMs) out.push(logBatchKey(prefix, new Date(t), 'x').replace(/x\.jsonl$/, ''));
  return out;
}

export class ShadowScoring {
  private readonly read = new Set<string>();
  private readonly startedMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly o: ShadowScoringOptions, private readonly book: ShadowBook) {
    this.startedMs = o.now().getTime();
  }

  hold(rows: readonly Readonly<RawRow>[], predictions: readonly Prediction[], atMs: number): void {
    if (this.o.active()) this.book.hold(rows, predictions, atMs);
  }

  start(): void {
    const tick = (): void => {
      const run = this.poll().catch((e: unknown) => {
        this.o.log.warn('shadow scoring: reading the inference log failed; next poll retries', { error: e instanceof Error ? e.message : String(e) });
      });
      this.running = run;
      void run.finally(() => {
        if (this.timer !== undefined) this.timer = setTimeout(tick, this.o.pollMs).unref();
      });
    };
    this.timer = setTimeout(tick, this.o.pollMs).unref();
  }

  async stop(): Promise<void> {
    const t = this.timer;
    this.timer = undefined;
    if (t !== undefined) clearTimeout(t);
    await this.running;
  }

  /** One pass over the log: new prediction objects first, then new feedback objects. */
  async poll(): Promise<void> {
    const spec = this.o.label();
    if (spec === undefined) return;
    const nowMs = this.o.now().getTime();
    this.book.expire(nowMs);
    // Off the shadow track with nothing held (a stable or canary pod, or a shadow phase long past): no store calls.
    if (!this.o.active() && this.book.idle()) return;
    const from = Math.max(this.startedMs, nowMs - this.o.holdMs);
    for (const prefix of [this.o.predictionsPrefix, this.o.feedbackPrefix]) {
      const listed = (await Promise.all(dayFolders(prefix, from, nowMs).map((d) => this.o.store.list(this.o.bucket, d)))).flat();
      const keep = new Set(listed.map((o) => o.key));
      for (const k of this.read) if (k.startsWith(prefix) && !keep.has(k)) this.read.delete(k);
      // An object last written before this pod started holds nothing it answered (a minute of slack for clocks).
      const fresh = listed.filter((o) => !this.read.has(o.key) && o.lastModified.getTime() >= this.startedMs - 60_000);
      const skipped = new Set(fresh.map((o) => o.key));
      for (const o of listed) if (!skipped.has(o.key)) this.read.add(o.key);
      for (const o of fresh) {
        const text = (await this.o.store.getBuffer(this.o.bucket, o.key)).toString('utf8');
        this.read.add(o.key);
        for (const e of this.events(text, nowMs)) this.o.record(e, spec);
      }
    }
  }

  private events(text: string, nowMs: number): BookEvent[] {
    const out: BookEvent[] = [];
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      let r: PredictionRecord | FeedbackRecord | undefined;
      try {
        r = parseLogRecord(JSON.parse(line));
      } catch {
        continue;
      }
      if (r === undefined) continue;
      out.push(...(r.kind === 'prediction' ? this.book.prediction(r) : this.book.feedback(r, nowMs)));
    }
    return out;
  }
}
