// The manager wires the runtime together (controller-runtime's Manager, in small):
//   shared informers (one per resource, shared by every controller) → handlers enqueue namespace/name keys
//   (owned objects map to their controller owner) → per-controller work queue → N workers → reconciler.
// The loop of one controller (timing, logging, metrics, error classification, write expectations) is in
// controller.ts. Each reconcile is timed, logged and metered; its error is classified in one place (errors.ts):
// retry with per-key backoff, requeue after a delay, or drop. A successful reconcile resets the key's backoff;
// requeueAfterMs becomes addAfter. A key whose cache is older than our own last status write waits for it.
// Informers start (and sync) before leadership, so a standby is warm; workers run only while leading. Losing
// the Lease stops all work at once and calls onLeadershipLost, by default exiting the process non-zero so
// Kubernetes restarts it as a clean standby. stop() = stop taking work, drain in-flight reconciles, release the
// Lease, stop informers.
import type { KubeConfig } from '@kubernetes/client-node';
import { type Clock, systemClock } from './clock.js';
import { Controller, type Reconciler } from './controller.js';
import { KubeEventRecorder } from './events.js';
import { WriteExpectations } from './expectations.js';
import { HealthServer, type Readiness } from './health-server.js';
import { Informer } from './informer.js';
import { HttpKubeClient, type KubeClient } from './kube.js';
import { KubeHttpClient } from './kube-http.js';
import { type LeaderElectionConfig, LeaderElector, defaultIdentity } from './leader-election.js';
import { ShardElector } from './shards-elector.js';
import { shardOf } from './shards.js';
import { type Logger, createLogger } from './log.js';
import { RuntimeMetrics } from './metrics.js';
import { type KubeObject, type ObjectKey, type ResourceRef, controllerOwnerKey, keyOf, keyString } from './resource.js';
import { Gauge } from 'prom-client';
import { StatusWriter } from './status-writer.js';

export type { ObjectKey, ResourceRef } from './resource.js';
export type { ReconcileResult, Reconciler } from './controller.js';

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

/** Which objects of a resource an informer caches, and what of each (cache-shapes.ts of the operator). */
export interface InformerShape {
  readonly labelSelector?: string;
  readonly transform?: (obj: KubeObject) => KubeObject;
}

export interface LeaderElectionOptions extends Partial<LeaderElectionConfig> {
  readonly namespace: string;
  readonly name: string;
  readonly identity?: string;
}

/**
 * Sharding across replicas (shards.ts, shards-elector.ts): objects are split by a hash of namespace/name into
 * `shards` shards, one Lease each (`<group>-shard-<i>` in `namespace`), and each replica works only on the shards
 * it holds. Replaces leader election: every replica works, on its fair share.
 */
export interface ShardingOptions extends Partial<LeaderElectionConfig> {
  readonly namespace: string;
  /** Lease name prefix, e.g. the leader Lease's name. */
  readonly group: string;
  readonly shards: number;
  readonly identity?: string;
}

/** Something that runs beside the controllers (a server), started once the caches are synced, stopped on stop(). */
export interface Runnable {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface ManagerOptions {
  readonly kubeConfig: KubeConfig;
  /** Namespace to watch; '' = all namespaces. */
  readonly namespace: string;
  /** false (or omitted) = this instance always works (tests, single replica). */
  readonly leaderElection?: LeaderElectionOptions | false;
  /** Split the work with other replicas by shard Leases instead of one leader (exclusive with leaderElection). */
  readonly sharding?: ShardingOptions | undefined;
  /** Port of /healthz, /readyz, /metrics; omitted = no server. 0 = any free port. */
  readonly healthPort?: number;
  readonly healthHost?: string;
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly metrics?: RuntimeMetrics;
  /**
   * What to do when the Lease is lost, after all work has been stopped. Default: exit the process with status 1.
   * This manager does no more work after a loss (it does not campaign again): a custom reaction should exit or
   * stop it.
   */
  readonly onLeadershipLost?: () => void;
  readonly informerWatchdogMs?: number;
  /** The label selector and transform of a resource's informer; undefined = every object, whole. */
  readonly informerShape?: (ref: ResourceRef) => InformerShape | undefined;
  readonly informerRestartBaseMs?: number;
  readonly expectationTimeoutMs?: number;
  /** Per-key retry backoff of every controller's queue. Default 5 ms doubling up to 5 minutes. */
  readonly backoff?: { readonly baseMs: number; readonly capMs: number };
}

interface WriterState {
  readonly expectations: WriteExpectations;
  readonly statusWriter: StatusWriter;
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
  readonly events: KubeEventRecorder;
  private readonly informers = new Map<string, Informer<KubeObject>>();
  private readonly writers = new Map<string, WriterState>();
  private readonly controllers = new Map<string, Controller>();
  private readonly runnables: Runnable[] = [];
  private readonly elector: LeaderElector | undefined;
  private readonly shardElector: ShardElector | undefined;
  private readonly ownedShards = new Set<number>();
  /** Reconciles running per shard, and who waits for a shard's to end (handing it back). */
  private readonly shardInFlight = new Map<number, number>();
  private readonly shardDrainWaiters = new Map<number, Array<() => void>>();
  private readonly primaries: Array<{ readonly controller: Controller; readonly cache: Informer<KubeObject> }> = [];
  private readonly shardsHeld: Gauge | undefined;
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
    if (le && options.sharding) throw new Error('leaderElection and sharding are exclusive: shards replace the leader');
    this.identity = (le ? le.identity : undefined) ?? options.sharding?.identity ?? defaultIdentity();
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
    this.shardsHeld = options.sharding && new Gauge({ name: 'perennial_shards_held', help: 'Shards this replica works on (sharded mode).', registers: [this.metrics.registry] });
    this.shardElector = options.sharding && this.buildShardElector(options.sharding);
  }

  private buildShardElector(sh: ShardingOptions): ShardElector {
    const { namespace, group, shards, identity: _identity, ...config } = sh;
    return new ShardElector({
      http: this.http, namespace, group, shards, identity: this.identity, config, clock: this.clock, logger: this.logger,
      onAcquired: (shard) => this.shardAcquired(shard),
      onReleasing: (shard) => this.shardReleasing(shard),
      onLost: () => this.leadershipLost(),
    });
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
        ...this.options.informerShape?.(ref),
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
    return this.writerState(controller).statusWriter;
  }

  addController(options: ControllerOptions): void {
    if (this.state !== 'new') throw new Error('controllers must be added before start');
    if (this.controllers.has(options.name)) throw new Error(`controller ${options.name} added twice`);
    const primary = this.informer(options.primary);
    const c = new Controller({
      name: options.name,
      primary,
      reconciler: this.shardGuarded(options.reconciler),
      workers: options.workers ?? 1,
      expectations: this.writerState(options.name).expectations,
      clock: this.clock,
      metrics: this.metrics,
      logger: this.logger,
      ...(this.options.backoff ? { backoff: this.options.backoff } : {}),
    });
    this.controllers.set(options.name, c);
    this.primaries.push({ controller: c, cache: primary });
    // With shards, a replica's queues only ever hold keys of the shards it holds.
    primary.onEvent((event, obj) => {
      if (this.owns(keyOf(obj))) c.onPrimaryEvent(event, obj);
    });
    for (const owned of options.owns ?? []) {
      this.informer(owned).onEvent((_event, obj) => {
        const owner = controllerOwnerKey(obj, options.primary);
        if (owner && this.owns(owner)) c.enqueue(owner);
      });
    }
    for (const w of options.watches ?? []) {
      this.informer(w.ref).onEvent((_event, obj) => {
        for (const key of w.map(obj)) if (this.owns(key)) c.enqueue(key);
      });
    }
  }

  /** Runs beside the controllers: started after the caches synced, stopped after the workers drained. */
  add(runnable: Runnable): void {
    if (this.state !== 'new') throw new Error('runnables must be added before start');
    this.runnables.push(runnable);
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
    for (const r of this.runnables) await r.start();
    if (this.elector) this.elector.start();
    else this.startWorkers();
    this.shardElector?.start();
  }

  /** Graceful stop: no new work, in-flight reconciles finish, the Lease is released, informers stop. */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    this.state = 'stopping';
    this.logger.info('manager stopping');
    await this.drainWorkers();
    await this.elector?.stop({ release: true });
    await this.shardElector?.stop();
    await Promise.all(this.runnables.map((r) => r.stop()));
    this.metrics.leader.set(0);
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
    await this.health.close();
    this.http.close();
    this.state = 'stopped';
    this.logger.info('manager stopped');
  }

  isLeader(): boolean {
    if (this.shardElector) return this.ownedShards.size > 0;
    return this.elector ? this.elector.isLeader() : this.workersRunning;
  }

  /** Whether this replica works on the object now: always without shards, else when it holds its shard. */
  owns(key: ObjectKey): boolean {
    return !this.options.sharding || this.ownedShards.has(shardOf(keyString(key), this.options.sharding.shards));
  }

  /** The shards this replica works on now (sorted); empty without sharding. */
  heldShards(): number[] {
    return [...this.ownedShards].sort((a, b) => a - b);
  }

  /**
   * Enqueues a key in a controller's queue when this replica works on it (for signals from outside the informers,
   * such as store notifications). False when the controller is unknown or the key belongs to another replica.
   */
  enqueue(controller: string, key: ObjectKey): boolean {
    const c = this.controllers.get(controller);
    if (!c || !this.owns(key)) return false;
    c.enqueue(key);
    return true;
  }

  get healthPort(): number | undefined {
    return this.boundHealthPort;
  }

  readiness(): Readiness {
    const synced = [...this.informers.values()].every((i) => i.hasSynced());
    const checks: Record<string, boolean> = { informers: synced };
    if (this.elector) checks['leader-election'] = this.elector.isHealthy();
    if (this.shardElector) checks['shards'] = this.shardElector.isHealthy();
    return { ready: Object.values(checks).every(Boolean) && this.state === 'running', checks };
  }

  private writerState(controller: string): WriterState {
    let w = this.writers.get(controller);
    if (!w) {
      const expectations = new WriteExpectations(this.clock, this.options.expectationTimeoutMs);
      const labels = { controller };
      w = {
        expectations,
        statusWriter: new StatusWriter(this.kube, expectations, { onWrite: () => this.metrics.statusWrites.inc(labels) }),
      };
      this.writers.set(controller, w);
    }
    return w;
  }

  /** Counts each reconcile against its shard, and skips keys of shards handed back or lost meanwhile. */
  private shardGuarded(reconciler: Reconciler): Reconciler {
    const sharding = this.options.sharding;
    if (!sharding) return reconciler;
    return {
      reconcile: async (key) => {
        const shard = shardOf(keyString(key), sharding.shards);
        if (!this.ownedShards.has(shard)) return {}; // its new holder enqueued it on taking the shard
        this.shardInFlight.set(shard, (this.shardInFlight.get(shard) ?? 0) + 1);
        try {
          return await reconciler.reconcile(key);
        } finally {
          const left = (this.shardInFlight.get(shard) ?? 1) - 1;
          this.shardInFlight.set(shard, left);
          if (left === 0) for (const resolve of this.shardDrainWaiters.get(shard)?.splice(0) ?? []) resolve();
        }
      },
    };
  }

  /** A shard taken: enqueue every cached object of it in every controller (the cache is warm: informers synced first). */
  private shardAcquired(shard: number): void {
    if (this.state !== 'running') return;
    this.ownedShards.add(shard);
    this.shardsHeld?.set(this.ownedShards.size);
    for (const { controller, cache } of this.primaries) {
      for (const obj of cache.list()) {
        const key = keyOf(obj);
        if (this.owns(key)) controller.enqueue(key);
      }
    }
  }

  /** A shard to hand back: take no more of its keys, resolve when its in-flight reconciles have ended. */
  private shardReleasing(shard: number): Promise<void> {
    this.ownedShards.delete(shard);
    this.shardsHeld?.set(this.ownedShards.size);
    if ((this.shardInFlight.get(shard) ?? 0) === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const waiters = this.shardDrainWaiters.get(shard) ?? [];
      waiters.push(resolve);
      this.shardDrainWaiters.set(shard, waiters);
    });
  }

  private startWorkers(): void {
    if (this.workersRunning || this.state !== 'running') return;
    this.workersRunning = true;
    for (const c of this.controllers.values()) c.start();
  }

  private async drainWorkers(): Promise<void> {
    await Promise.all([...this.controllers.values()].map((c) => c.drain()));
    this.workersRunning = false;
  }

  private leadershipLost(): void {
    this.metrics.leader.set(0);
    this.ownedShards.clear();
    this.shardsHeld?.set(0);
    // Stop all work at once: there is no fencing, someone else may lead already.
    for (const c of this.controllers.values()) c.shutDown();
    this.workersRunning = false;
    const react = this.options.onLeadershipLost ?? (() => {
      this.logger.error('exiting: leadership lost');
      process.exit(1);
    });
    react();
  }
}
