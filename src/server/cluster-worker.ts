// A serving worker's side of the pod (PERENNIAL_SERVER_WORKERS > 1): everything a request needs is in the worker
// (its own model, batcher, signing key, inference log under its own file stem, Kafka producer, shadow mirror), and
// what must be one per pod goes to the primary (cluster-primary.ts):
//   - the rows it answered, for the pod's one drift window and sequential detector, confidence window and, on the
//     shadow track, shadow book: binned here with the model's profile and sent every `flushMs` in one message;
//   - its readiness; the pod reports ready only when every worker is (podUnreadyReason);
//   - /metrics and the OIP statistics it is asked for: the primary sums every process's own figures and answers;
//   - its open HTTP connections, for the pod's connection share it sheds down to (connection-balance.ts).
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { FeatureProfile, ReferenceProfile } from '../shared/drift.js';
import type { LabelSpec, RawRow } from '../shared/preprocessing.js';
import { confidencesOf, type ConfidenceWindow } from './confidence-window.js';
import { binRows, type DriftWindow } from './drift-window.js';
import type { ConnectionKind, OpenConnections, PodConnections, PodFigure, PodMetrics, PrimaryMessage, WorkerMessage } from './cluster-messages.js';
import type { Prediction } from './model.js';
import type { OipModelStatistics } from './oip/types.js';

export interface PrimaryLinkOptions {
  /** process.send in a worker. */
  readonly send: (m: WorkerMessage) => void;
  /** This worker's own figures, for the primary's `tell`. */
  readonly own: {
    metrics(): Promise<MetricObjectWithValues<MetricValue<string>>[]>;
    statistics(): OipModelStatistics;
  };
  /** On the shadow track now (the live settings): only then do answered rows go to the shadow book. */
  readonly shadowTrack: () => boolean;
  /** How long answered rows wait to go to the primary in one message (default 100 ms). */
  readonly flushMs?: number;
  /** How long an `ask` waits for the primary before it fails (default 5 s). */
  readonly askTimeoutMs?: number;
}

export class PrimaryLink {
  private podReason: string | undefined = 'waiting for the other workers of the pod';
  /** The primary's last word on the pod's connections, per listener (kept apart: read on every request). */
  private pod: Readonly<Record<ConnectionKind, PodConnections>> | undefined;
  private nextAsk = 1;
  private readonly asks = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  private atMs: number[] = [];
  private driftRows: number[] = [];
  private confidences: number[] = [];
  private bins: Uint32Array[] = [];
  private confidenceValues: number[] = [];
  private held: { rows: readonly RawRow[]; predictions: readonly Prediction[]; atMs: number }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: PrimaryLinkOptions) {}

  /** Why the pod is not ready (the primary's word), or undefined when it is: the app's `peersReady`. */
  peersReady(): string | undefined {
    return this.podReason;
  }

  /** The other workers' open connections of a listener and the number of workers, as the primary last said (undefined before it has). */
  podConnections(kind: ConnectionKind): PodConnections | undefined {
    return this.pod?.[kind];
  }

  /** This worker's open connections changed. */
  connections(open: OpenConnections): void {
    this.o.send({ t: 'connections', open });
  }

  receive(m: PrimaryMessage): void {
    switch (m.t) {
      case 'share':
        this.pod = { http: { others: m.others.http, workers: m.workers }, grpc: { others: m.others.grpc, workers: m.workers } };
        return;
      case 'pod-ready':
        this.podReason = m.reason;
        return;
      case 'tell':
        void this.tell(m.id, m.what);
        return;
      case 'answer': {
        const ask = this.asks.get(m.id);
        if (ask === undefined) return;
        this.asks.delete(m.id);
        clearTimeout(ask.timer);
        if (m.error !== undefined || m.value === undefined) ask.reject(new Error(m.error ?? 'no answer'));
        else ask.resolve(m.value);
      }
    }
  }

  modelLoaded(profile: ReferenceProfile, label: LabelSpec): void {
    this.o.send({ t: 'model', profile, label });
  }

  readiness(ready: boolean, reason: string): void {
    this.o.send({ t: 'ready', ready, reason });
  }

  /** The app's drift window: rows binned here with the profile's edges, counted in the primary's window. */
  driftWindow(features: readonly FeatureProfile[]): Pick<DriftWindow, 'add'> {
    return {
      add: (rows, nowMs) => {
        this.entry(nowMs);
        const bins = binRows(features, rows);
        this.bins.push(bins);
        this.driftRows[this.driftRows.length - 1] = (this.driftRows.at(-1) ?? 0) + rows.length;
        this.schedule();
      },
    };
  }

  /** The app's confidence window: top-class probabilities taken here, summed in the primary's window. */
  readonly confidenceWindow: Pick<ConfidenceWindow, 'add'> = {
    add: (predictions, nowMs) => {
      const values = confidencesOf(predictions);
      if (values.length === 0) return;
      this.entry(nowMs);
      for (const v of values) this.confidenceValues.push(v);
      this.confidences[this.confidences.length - 1] = (this.confidences.at(-1) ?? 0) + values.length;
      this.schedule();
    },
  };

  /** The app's shadow scoring: on the shadow track, answered rows go to the primary's shadow book. */
  readonly shadowScoring = {
    hold: (rows: readonly Readonly<RawRow>[], predictions: readonly Prediction[], atMs: number): void => {
      if (!this.o.shadowTrack()) return;
      this.held.push({ rows, predictions, atMs });
      this.schedule();
    },
  };

  /** The pod's /metrics: every process's series summed by the primary. */
  podMetrics(): Promise<PodMetrics> {
    return this.ask('metrics') as Promise<PodMetrics>;
  }

  /** The pod's OIP statistics (this worker's figures are the primary's to gather too). */
  podStatistics(): Promise<OipModelStatistics> {
    return this.ask('statistics') as Promise<OipModelStatistics>;
  }

  /** Sends the rows answered since the last message now (on a timer, and before the worker exits). */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.atMs.length === 0 && this.held.length === 0) return;
    const total = this.bins.reduce((n, b) => n + b.length, 0);
    const bins = new Uint32Array(total);
    let at = 0;
    for (const b of this.bins) {
      bins.set(b, at);
      at += b.length;
    }
    this.o.send({ t: 'rows', atMs: this.atMs, driftRows: this.driftRows, confidences: this.confidences, bins, confidenceValues: this.confidenceValues, held: this.held });
    this.atMs = [];
    this.driftRows = [];
    this.confidences = [];
    this.bins = [];
    this.confidenceValues = [];
    this.held = [];
  }

  /** Fails the asks still waiting (the worker is exiting). */
  close(): void {
    this.flush();
    for (const [id, a] of this.asks) {
      clearTimeout(a.timer);
      a.reject(new Error('worker exiting'));
      this.asks.delete(id);
    }
  }

  /** The entry of `nowMs`: requests answered in the same millisecond share one. */
  private entry(nowMs: number): void {
    if (this.atMs.at(-1) === nowMs) return;
    this.atMs.push(nowMs);
    this.driftRows.push(0);
    this.confidences.push(0);
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => this.flush(), this.o.flushMs ?? 100);
  }

  private ask(what: PodFigure): Promise<unknown> {
    const id = this.nextAsk++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.asks.delete(id);
        reject(new Error(`the pod's ${what} did not come from the primary within ${this.o.askTimeoutMs ?? 5000} ms`));
      }, this.o.askTimeoutMs ?? 5000);
      this.asks.set(id, { resolve, reject, timer });
      this.o.send({ t: 'ask', id, what });
    });
  }

  private async tell(id: number, what: PodFigure): Promise<void> {
    const value = what === 'metrics' ? await this.o.own.metrics() : this.o.own.statistics();
    this.o.send({ t: 'told', id, value });
  }
}
