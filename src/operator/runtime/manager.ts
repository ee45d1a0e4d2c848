// The manager wires the runtime together (controller-runtime's Manager, in small):
//   shared informers (one per resource, shared by every controller) → handlers enqueue namespace/name keys
//   (owned objects map to their controller owner) → per-controller work queue → N workers → reconciler.
// Each reconcile is timed, logged and metered; its error is classified in one place (errors.ts classify):
// retry with per-key backoff, requeue after a delay, or drop. A successful reconcile resets the key's backoff;
// requeueAfterMs becomes addAfter. A key whose cache is older than our own last status write waits for it.
// Informers start (and sync) before leadership, so a standby is warm; workers run only while leading. Losing
// the Lease stops all work at once and calls onLeadershipLost, by default exiting the process non-zero so
// Kubernetes restarts it as a clean standby. stop() = stop taking work, drain in-flight reconciles, release the
// Lease, stop informers.
import { performance } from 'node:perf_hooks';
import type { KubeConfig } from '@kubernetes/client-node';
import { type Clock, systemClock } from './clock.js';
import { classify, toKubeError } from './errors.js';
import { type EventRecorder, KubeEventRecorder } from './events.js';
import { WriteExpectations } from './expectations.js';
import { HealthServer, type Readiness } from './health-server.js';
import { Informer } from './informer.js';
import { HttpKubeClient, type KubeClient } from './kube.js';
import { KubeHttpClient } from './kube-http.js';
import { type LeaderElectionConfig, LeaderElector, defaultIdentity } from './leader-election.js';
import { type Logger, createLogger, errorFields } from './log.js';
import { RuntimeMetrics } from './metrics.js';
import {
  type KubeObject, type ObjectKey, type ResourceRef, controllerOwnerKey, keyOf, keyString, parseKey,
} from './resource.js';
import { StatusWriter } from './status-writer.js';
import { ExponentialBackoff, WorkQueue, defaultBackoff } from './work-queue.js';

export type { ObjectKey, ResourceRef } from './resource.js';

export interface ReconcileResult {
  /** Reconcile this key again after this delay (waiting is a computed requeue, never a timer per object). */
  readonly requeueAfterMs?: number;
}

export interface Reconciler {
  /** Level-triggered: read the current state from the caches, converge, return. Must be idempotent. */
  reconcile(key: ObjectKey): Promise<ReconcileResult>;
}

export interface WatchMapping {
  readonly ref: ResourceRef;
  /** Keys of primary objects to reconcile when this object changes. */
  readonly map: (obj: KubeObject) => readonly ObjectKey[];
}

export interface ControllerOptions {
  readonly name: string;
  readonly primary: ResourceRef;
  /** Child types whose controller ownerReference points at a primary object. */
  readonly owns?: readonly ResourceRef[];
  readonly watches?: readonly WatchMapping[];
  readonly workers?: number;
  readonly reconciler: Reconciler;
}

export interface LeaderElectionOptions extends Partial<LeaderElectionConfig> {
  readonly namespace: string;
  readonly name: string;
  readonly identity?: string;
}

export interface ManagerOptions {
  readonly kubeConfig: KubeConfig;
  /** Namespace to watch; '' = all namespaces. */
  readonly namespace: string;
  /** false (or omitted) = this instance always works (tests, single replica). */
  readonly leaderElection?: LeaderElectionOptions | false;
  /** Port of /healthz, /readyz, /metrics; omitted = no server. 0 = any free port. */
  readonly healthPort?: number;
  readonly healthHost?: string;
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly metrics?: RuntimeMetrics;
  /** What to do when the Lease is lost. Default: exit the process with status 1. */
  readonly onLeadershipLost?: () => void;
  readonly informerWatchdogMs?: number;
  readonly informerRestartBaseMs?: number;
  readonly expectationTimeoutMs?: number;
  /** Per-key retry backoff of every controller's queue. Default 5 ms doubling up to 5 minutes. */
  readonly backoff?: { readonly baseMs: number; readonly capMs: number };
}

interface ControllerState {
  readonly name: string;
  readonly queue: WorkQueue;
  readonly expectations: WriteExpectations;
  readonly statusWriter: StatusWriter;
  readonly log: Logger;
  options?: ControllerOptions;
  workers: Array<Promise<void>>;
}

function refId(ref: ResourceRef): string {
  return ref.group === '' ? ref.plural : `${ref.plural}.${ref.group}`;
}

export class Manager {
  readonly kube: KubeClient;
  readonly http: KubeHttpClient;
  readonly metrics: RuntimeMetrics;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly identity: string;
  readonly events: EventRecorder;
  private readonly informers = new Map<string, Informer<KubeObject>>();
  private readonly controllers = new Map<string, ControllerState>();
  private readonly elector: LeaderElector | undefined;
  private readonly health: HealthServer;
  private boundHealthPort: number | undefined;
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  private workersRunning = false;

  constructor(private readonly options: ManagerOptions) {
    this.clock = options.clock ?? systemClock();
    this.logger = options.logger ?? createLogger();
    this.metrics = options.metrics ?? new RuntimeMetrics();
    this.http = new KubeHttpClient(options.kubeConfig);
    this.kube = new HttpKubeClient(this.http);
    const le = options.leaderElection;
    this.identity = (le ? le.identity : undefined) ?? defaultIdentity();
    this.events = new KubeEventRecorder(this.http, this.clock, this.logger, this.identity);
    this.health = new HealthServer(this.metrics.registry, () => this.readiness());
    if (le) {
      this.elector = new LeaderElector({
        http: this.http,
        namespace: le.namespace,
        name: le.name,
        identity: this.identity,
        config: {
          ...(le.leaseDurationMs === undefined ? {} : { leaseDurationMs: le.leaseDurationMs }),
          ...(le.renewDeadlineMs === undefined ? {} : { renewDeadlineMs: le.renewDeadlineMs }),
          ...(le.retryPeriodMs === undefined ? {} : { retryPeriodMs: le.retryPeriodMs }),
        },
        clock: this.clock,
        logger: this.logger,
        onStartedLeading: () => {
          this.metrics.leader.set(1);
          this.startWorkers();
        },
        onStoppedLeading: () => this.leadershipLost(),
        onLeaderChange: (holder) => this.logger.info('leader observed', { holder }),
      });
    }
  }

  /** The shared informer of a resource type (created on first use; started by start()). */
  informer<T extends KubeObject = KubeObject>(ref: ResourceRef): Informer<T> {
    const id = refId(ref);
    let inf = this.informers.get(id);
    if (!inf) {
      if (this.state !== 'new') throw new Error(`informer for ${id} requested after start`);
      inf = new Informer<KubeObject>({
        kubeConfig: this.options.kubeConfig,
        http: this.http,
        ref,
        namespace: ref.namespaced ? this.options.namespace : '',
        clock: this.clock,
        logger: this.logger,
        metrics: this.metrics,
        ...(this.options.informerWatchdogMs === undefined ? {} : { watchdogMs: this.options.informerWatchdogMs }),
        ...(this.options.informerRestartBaseMs === undefined ? {} : { restartBaseMs: this.options.informerRestartBaseMs }),
      });
      this.informers.set(id, inf);
    }
    return inf as unknown as Informer<T>;
  }

  /** The status writer of a controller (counts into perennial_status_writes_total{controller}). */
  statusWriter(controller: string): StatusWriter {
    return this.controllerState(controller).statusWriter;
  }

  addController(options: ControllerOptions): void {
    if (this.state !== 'new') throw new Error('controllers must be added before start');
    const c = this.controllerState(options.name);
    if (c.options) throw new Error(`controller ${options.name} added twice`);
    c.options = options;
    const enqueue = (key: ObjectKey): void => c.queue.add(keyString(key));
    this.informer(options.primary).onEvent((event, obj) => {
      const key = keyOf(obj);
      c.expectations.observe(keyString(key), obj.metadata?.resourceVersion, event === 'delete');
      enqueue(key);
    });
    for (const owned of options.owns ?? []) {
      this.informer(owned).onEvent((_event, obj) => {
        const owner = controllerOwnerKey(obj, options.primary);
        if (owner) enqueue(owner);
      });
    }
    for (const w of options.watches ?? []) {
      this.informer(w.ref).onEvent((_event, obj) => {
        for (const key of w.map(obj)) enqueue(key);
      });
    }
  }

  /** Starts informers and the health server, waits for the caches, then campaigns (or starts workers). */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error('manager already started');
    this.state = 'starting';
    for (const inf of this.informers.values()) inf.start();
    if (this.options.healthPort !== undefined) {
      this.boundHealthPort = await this.health.listen(this.options.healthPort, this.options.healthHost);
    }
    this.logger.info('manager starting', {
      informers: this.informers.size, controllers: this.controllers.size, leaderElection: Boolean(this.elector),
    });
    await Promise.all([...this.informers.values()].map((i) => i.synced));
    if ((this.state as string) !== 'starting') return; // stopped while syncing
    this.state = 'running';
    if (this.elector) this.elector.start();
    else this.startWorkers();
  }

  /** Graceful stop: no new work, in-flight reconciles finish, the Lease is released, informers stop. */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    this.state = 'stopping';
    this.logger.info('manager stopping');
    await this.drainWorkers();
    await this.elector?.stop({ release: true });
    this.metrics.leader.set(0);
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
    await this.health.close();
    this.http.close();
    this.state = 'stopped';
    this.logger.info('manager stopped');
  }

  isLeader(): boolean {
    return this.elector ? this.elector.isLeader() : this.workersRunning;
  }

  get healthPort(): number | undefined {
    return this.boundHealthPort;
  }

  readiness(): Readiness {
    const synced = [...this.informers.values()].every((i) => i.hasSynced());
    const checks: Record<string, boolean> = { informers: synced };
    if (this.elector) checks['leader-election'] = this.elector.isHealthy();
    return { ready: Object.values(checks).every(Boolean) && this.state === 'running', checks };
  }

  private controllerState(name: string): ControllerState {
    let c = this.controllers.get(name);
    if (!c) {
      const labels = { controller: name };
      const expectations = new WriteExpectations(this.clock, this.options.expectationTimeoutMs);
      const created: ControllerState = {
        name,
        queue: new WorkQueue({
          clock: this.clock,
          rateLimiter: new ExponentialBackoff(
            this.options.backoff?.baseMs ?? defaultBackoff.baseMs, this.options.backoff?.capMs ?? defaultBackoff.capMs),
          observer: {
            onAdd: () => this.metrics.queueAdds.inc(labels),
            onRetry: () => this.metrics.queueRetries.inc(labels),
            onDepth: (d) => this.metrics.queueDepth.set(labels, d),
          },
        }),
        expectations,
        statusWriter: new StatusWriter(this.kube, expectations, { onWrite: () => this.metrics.statusWrites.inc(labels) }),
        log: this.logger.child(labels),
        workers: [],
      };
      this.controllers.set(name, created);
      c = created;
    }
    return c;
  }

  private startWorkers(): void {
    if (this.workersRunning || this.state !== 'running') return;
    this.workersRunning = true;
    for (const c of this.controllers.values()) {
      if (!c.options) continue;
      const n = Math.max(1, c.options.workers ?? 1);
      for (let i = 0; i < n; i++) c.workers.push(this.worker(c));
      c.log.info('workers started', { workers: n });
    }
  }

  private async drainWorkers(): Promise<void> {
    await Promise.all([...this.controllers.values()].map((c) => c.queue.shutDownWithDrain()));
    await Promise.all([...this.controllers.values()].flatMap((c) => c.workers));
    this.workersRunning = false;
  }

  private leadershipLost(): void {
    this.metrics.leader.set(0);
    // Stop all work at once: there is no fencing, someone else may lead already.
    for (const c of this.controllers.values()) c.queue.shutDown();
    this.workersRunning = false;
    const react = this.options.onLeadershipLost ?? (() => {
      this.logger.error('exiting: leadership lost');
      process.exit(1);
    });
    react();
  }

  private async worker(c: ControllerState): Promise<void> {
    for (;;) {
      const key = await c.queue.get();
      if (key === undefined) return;
      try {
        await this.processKey(c, key);
      } catch (e: unknown) {
        // processKey handles reconcile errors; this is a bug in the runtime itself. Keep the worker alive.
        c.log.error('worker failed', errorFields(e));
        c.queue.addRateLimited(key);
      } finally {
        c.queue.done(key);
      }
    }
  }

  private async processKey(c: ControllerState, key: string): Promise<void> {
    const options = c.options;
    if (!options) return;
    const objKey = parseKey(key);
    const cached = this.informer(options.primary).get(objKey.namespace, objKey.name);
    const controller = c.name;
    const wait = c.expectations.waitFor(key, cached?.metadata?.resourceVersion);
    if (wait > 0) {
      // Our last status write is not in the cache yet; its watch event will enqueue the key (the delay is a
      // safety net for when it never comes).
      c.queue.addAfter(key, wait);
      this.metrics.reconcileTotal.inc({ controller, result: 'stale' });
      return;
    }
    const log = c.log.child({
      namespace: objKey.namespace, name: objKey.name,
      ...(cached?.metadata?.generation === undefined ? {} : { generation: cached.metadata.generation }),
    });
    const started = performance.now();
    let result: string;
    try {
      const res = await options.reconciler.reconcile(objKey);
      c.queue.forget(key);
      if (res.requeueAfterMs !== undefined && res.requeueAfterMs >= 0) {
        c.queue.addAfter(key, res.requeueAfterMs);
        result = 'requeue';
      } else {
        result = 'success';
      }
    } catch (e: unknown) {
      const err = toKubeError(e);
      const { disposition, label } = classify(err);
      this.metrics.reconcileErrors.inc({ controller, error: label });
      switch (disposition.action) {
        case 'retry':
          c.queue.addRateLimited(key);
          result = 'error';
          break;
        case 'requeueAfter':
          c.queue.addAfter(key, disposition.ms);
          result = 'error';
          break;
        case 'drop':
          c.queue.forget(key);
          result = 'dropped';
          break;
      }
      log.log(label === 'conflict' || label === 'stale_cache' ? 'info' : 'error', 'reconcile failed', {
        ...errorFields(err), errorClass: label, action: disposition.action, retries: c.queue.numRequeues(key),
      });
    }
    const seconds = (performance.now() - started) / 1000;
    this.metrics.reconcileDuration.observe({ controller }, seconds);
    this.metrics.reconcileTotal.inc({ controller, result });
    log.debug('reconcile finished', { result, durationMs: Math.round(seconds * 1000) });
  }
}
