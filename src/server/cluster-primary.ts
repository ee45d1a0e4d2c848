// The primary of a pod with several serving processes (PERENNIAL_SERVER_WORKERS > 1). It forks the workers
// (node:cluster: they share the inference and gRPC ports and accept connections from them themselves),
// serves nothing on those ports itself, and keeps what must be one per pod:
//   - the drift window and sequential detector, the confidence window, the shadow book: fed with every worker's
//     answered rows (cluster-worker.ts), made when the first worker reports its model;
//   - readiness: the pod is ready when every slot's worker is (podUnreadyReason), told to every worker;
//   - the connection share: every worker's open REST and gRPC connections as reported, each worker told the others'
//     sums, so one that holds more than its share of a listener's sheds them (connection-balance.ts);
//   - /metrics and the OIP statistics: asked of every worker and summed (prom-client's cluster aggregation; gauges
//     that are not sums say their own aggregator);
//   - the feedback listener, its first-label-wins set and the feedback log (main.ts runs them here);
//   - lifecycle: SIGTERM goes to every worker, which leaves, drains and flushes as a single server does; a worker
//     that exits unasked is forked again into its slot (its spill folder replayed), after a backoff that grows
//     while workers keep failing.
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { backoffDelayMs, type Backoff } from '../shared/backoff.js';
import type { ReferenceProfile } from '../shared/drift.js';
import type { LabelSpec, RawRow } from '../shared/preprocessing.js';
import { deliverAnsweredRows, isWorkerMessage, podUnreadyReason, workerSlotEnv, type OpenConnections, type PodFigure, type PodShare, type PrimaryMessage, type WorkerMessage, type WorkerState } from './cluster-messages.js';
import type { ConfidenceWindow } from './confidence-window.js';
import type { DriftWindow } from './drift-window.js';
import type { Prediction } from './model.js';
import { sumStatistics } from './oip/statistics.js';
import type { OipModelStatistics } from './oip/types.js';

/** Waits before forking a failed worker again: below 1 s, 2 s, ... 30 s while they keep failing. */
const restartBackoff: Backoff = { baseMs: 1000, capMs: 30_000 };
/** A worker that served this long before it failed starts the backoff afresh. */
const stableAfterMs = 60_000;

const noConnections: OpenConnections = { http: 0, grpc: 0 };

export interface ServerPrimaryOptions {
  readonly workers: number;
  /** Extra environment of every worker (the signing key a primary generated, so every id verifies anywhere). */
  readonly env: Readonly<Record<string, string>>;
  /** The primary's own metrics (feedback, drift, confidence), summed with the workers'. */
  readonly metrics: { getMetricsAsJSON(): Promise<MetricObjectWithValues<MetricValue<string>>[]> };
  /** Called once, with the first model a worker reports: returns the pod's drift window for it. */
  readonly onModel: (profile: ReferenceProfile, label: LabelSpec) => DriftWindow;
  readonly confidence: Pick<ConfidenceWindow, 'addConfidences'>;
  readonly shadowScoring?: { hold(rows: readonly RawRow[], predictions: readonly Prediction[], atMs: number): void } | undefined;
  /** The pod's readiness changed (the primary's model-ready gauge follows it). */
  readonly onPodReady: (reason: string | undefined) => void;
  readonly log: (level: 'info' | 'warn' | 'error', message: string, meta?: Record<string, unknown>) => void;
  /** How long the primary waits for the workers' own figures (default 2 s): a worker that does not answer is left out. */
  readonly tellTimeoutMs?: number;
}

interface Slot {
  worker: Worker | undefined;
  ready: boolean;
  reason: string;
  startedMs: number;
  failures: number;
  /** Open connections the worker last reported, per listener. */
  connections: OpenConnections;
  /** What it was last told of the others' connections (undefined: nothing yet, or forked again since). */
  told: PodShare | undefined;
}

export class ServerPrimary {
  private readonly slots: Slot[];
  private drift: DriftWindow | undefined;
  private stopping = false;
  private podReason: string | undefined = 'starting';
  private nextTell = 1;
  private readonly tells = new Map<number, { readonly waiting: Set<Worker>; readonly values: unknown[]; readonly done: () => void }>();

  constructor(private readonly o: ServerPrimaryOptions) {
    this.slots = Array.from({ length: o.workers }, () => ({ worker: undefined, ready: false, reason: 'starting', startedMs: 0, failures: 0, connections: noConnections, told: undefined }));
  }

  start(): void {
    // Workers accept connections from the shared socket themselves (SCHED_NONE), not from the primary's hand (node's
    // round robin). A handed connection rides the IPC channel: a worker that dies before taking it leaves the client
    // hanging (seen here: a request sent as a worker was killed got no answer for 300 s), and the first request of
    // every new connection waits behind the primary (p99 at half the peak 61 ms against 17 with SCHED_NONE after a
    // minute's load). The kernel's spread follows who is idle; connections opened in one burst can land on one worker,
    // and the connection age and request caps (http-io.ts) move them on within seconds (docs/decisions/0012).
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    cluster.setupPrimary({ serialization: 'advanced' });
    for (let slot = 0; slot < this.slots.length; slot++) this.fork(slot);
  }

  /** Why the pod is not ready, or undefined when it is. */
  get unreadyReason(): string | undefined {
    return this.podReason;
  }

  /**
   * SIGTERM to every worker (each leaves, drains and flushes, as a single server does); resolves when all have exited
   * or, past `deadlineMs`, after killing those left.
   */
  async stop(deadlineMs: number): Promise<void> {
    this.stopping = true;
    this.updateReadiness();
    const alive = this.slots.flatMap((s) => (s.worker !== undefined && !s.worker.isDead() ? [s.worker] : []));
    const exited = alive.map((w) => new Promise<void>((resolve) => {
      if (w.isDead()) resolve();
      else w.once('exit', () => resolve());
    }));
    for (const w of alive) w.process.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), deadlineMs);
    });
    if (await Promise.race([Promise.all(exited), late]) === 'late') {
      this.o.log('error', 'workers still running past the drain deadline: killed', { workers: alive.filter((w) => !w.isDead()).map((w) => w.process.pid) });
      for (const w of alive) if (!w.isDead()) w.process.kill('SIGKILL');
      await Promise.all(exited);
    }
    clearTimeout(timer);
  }

  private fork(slot: number): void {
    const worker = cluster.fork({ ...this.o.env, [workerSlotEnv]: String(slot) });
    const s = this.slots[slot] as Slot;
    s.worker = worker;
    s.ready = false;
    s.reason = 'starting';
    s.startedMs = Date.now();
    s.connections = noConnections;
    s.told = undefined;
    this.updateShare();
    this.updateReadiness();
    worker.on('message', (m: unknown) => {
      if (isWorkerMessage(m)) this.receive(worker, slot, m);
    });
    worker.on('exit', (code, signal) => this.exited(worker, slot, code, signal));
  }

  private exited(worker: Worker, slot: number, code: number | null, signal: string | null): void {
    const s = this.slots[slot] as Slot;
    if (s.worker !== worker) return;
    s.worker = undefined;
    s.ready = false;
    s.connections = noConnections;
    this.updateShare();
    for (const tell of this.tells.values()) if (tell.waiting.delete(worker) && tell.waiting.size === 0) tell.done();
    this.updateReadiness();
    if (this.stopping) return;
    s.failures = Date.now() - s.startedMs >= stableAfterMs ? 1 : s.failures + 1;
    const waitMs = backoffDelayMs(restartBackoff, s.failures - 1);
    this.o.log('error', 'a serving worker exited; forking it again', { slot, pid: worker.process.pid, code, signal, waitMs: Math.round(waitMs) });
    setTimeout(() => {
      if (!this.stopping) this.fork(slot);
    }, waitMs);
  }

  private receive(worker: Worker, slot: number, m: WorkerMessage): void {
    switch (m.t) {
      case 'model':
        this.drift ??= this.o.onModel(m.profile, m.label);
        return;
      case 'ready': {
        const s = this.slots[slot] as Slot;
        if (s.worker !== worker) return;
        s.ready = m.ready;
        s.reason = m.reason;
        this.updateReadiness();
        return;
      }
      case 'rows':
        deliverAnsweredRows(m, { drift: this.drift, confidence: this.o.confidence, shadowScoring: this.o.shadowScoring });
        return;
      case 'ask':
        void this.gather(m.what).then(
          (value) => this.send(worker, { t: 'answer', id: m.id, value }),
          (e: unknown) => this.send(worker, { t: 'answer', id: m.id, error: e instanceof Error ? e.message : String(e) }),
        );
        return;
      case 'connections': {
        const s = this.slots[slot] as Slot;
        if (s.worker !== worker) return;
        s.connections = m.open;
        this.updateShare();
        return;
      }
      case 'told': {
        const tell = this.tells.get(m.id);
        if (tell === undefined || !tell.waiting.delete(worker)) return;
        tell.values.push(m.value);
        if (tell.waiting.size === 0) tell.done();
      }
    }
  }

  /** The pod's figures: every live worker's own, and for metrics the primary's, summed. */
  private async gather(what: PodFigure): Promise<{ text: string; contentType: string } | OipModelStatistics> {
    const told = await this.tellAll(what);
    if (what === 'statistics') {
      if (told.length === 0) throw new Error('no worker answered');
      return sumStatistics(told as OipModelStatistics[]);
    }
    const registry = AggregatorRegistry.aggregate([await this.o.metrics.getMetricsAsJSON(), ...(told as MetricObjectWithValues<MetricValue<string>>[][])]);
    return { text: await registry.metrics(), contentType: registry.contentType };
  }

  private tellAll(what: PodFigure): Promise<unknown[]> {
    const workers = this.slots.flatMap((s) => (s.worker !== undefined && s.worker.isConnected() ? [s.worker] : []));
    const id = this.nextTell++;
    return new Promise((resolve) => {
      const values: unknown[] = [];
      const timer = setTimeout(() => {
        const tell = this.tells.get(id);
        if (tell === undefined) return;
        this.o.log('warn', `a worker did not give its ${what} in time: left out`, { workers: [...tell.waiting].map((w) => w.process.pid) });
        tell.done();
      }, this.o.tellTimeoutMs ?? 2000);
      const done = (): void => {
        clearTimeout(timer);
        this.tells.delete(id);
        resolve(values);
      };
      this.tells.set(id, { waiting: new Set(workers), values, done });
      if (workers.length === 0) return done();
      for (const w of workers) this.send(w, { t: 'tell', id, what });
    });
  }

  /** Each live worker told the other live workers' connections (and how many workers there are) when that changes. */
  private updateShare(): void {
    const live = this.slots.filter((s) => s.worker !== undefined);
    const http = live.reduce((a, s) => a + s.connections.http, 0);
    const grpc = live.reduce((a, s) => a + s.connections.grpc, 0);
    for (const s of live) {
      const pod: PodShare = { others: { http: http - s.connections.http, grpc: grpc - s.connections.grpc }, workers: live.length };
      const told = s.told;
      if (told !== undefined && told.others.http === pod.others.http && told.others.grpc === pod.others.grpc && told.workers === pod.workers) continue;
      s.told = pod;
      if (s.worker !== undefined) this.send(s.worker, { t: 'share', ...pod });
    }
  }

  private updateReadiness(): void {
    const states: WorkerState[] = this.slots.flatMap((s, slot) => (s.worker === undefined ? [] : [{ slot, ready: s.ready, reason: s.reason }]));
    const reason = this.stopping ? 'shutting down' : podUnreadyReason(states, this.slots.length);
    if (reason === this.podReason) return;
    this.podReason = reason;
    this.o.onPodReady(reason);
    for (const s of this.slots) if (s.worker !== undefined) this.send(s.worker, { t: 'pod-ready', reason });
  }

  private send(worker: Worker, m: PrimaryMessage): void {
    if (!worker.isConnected()) return;
    worker.send(m, (e: Error | null) => {
      if (e) this.o.log('warn', 'a message to a worker was not delivered', { pid: worker.process.pid, error: e.message });
    });
  }
}
