// The shard Leases of one replica, the I/O around shards.ts's planShards (as LeaderElector is around decide()).
// Every retry period (jittered) it reads all Leases of its group in one LIST, renews its membership Lease, and
// applies the plan:
//   - renew the shards it keeps (PUT with the resourceVersion read: a lost race is a conflict, never two holders);
//   - take free ones (onAcquired: the manager enqueues the shard's objects from its caches);
//   - hand back shards beyond its share: onReleasing first (the manager stops taking the shard's keys and waits
//     for its in-flight reconciles), renewing the shard meanwhile, then release it (empty holder, 1 s);
//   - when a shard could not be renewed for renewDeadline (< leaseDuration, so before anyone else may take it),
//     or someone else holds a shard it held, it stops: onLost (the manager stops all work and, by default, exits,
//     as after a lost leader Lease: in-flight reconciles cannot be fenced).
// A graceful stop releases every shard (after the manager drained) and deletes the membership Lease.
import type { Clock, TimerHandle } from './clock.js';
import { AlreadyExistsError, ConflictError, NotFoundError } from './errors.js';
import type { KubeHttp } from './kube-http.js';
import {
  type LeaderElectionConfig, type Lease, type LeaseSpec, type Observation, defaultLeaderElectionConfig, formatMicroTime, leaseRef, observe,
  validateConfig,
} from './leader-election.js';
import { type Logger, errorFields } from './log.js';
import { resourcePath } from './resource.js';
import { type LeaseView, memberLeaseName, planShards, shardLeaseName, shardOfLeaseName } from './shards.js';

/** Label on every Lease of a group (its value is the group), so one LIST reads shards and members. */
export const leaseGroupLabel = 'perennial.dev/lease-group';

export interface ShardElectorOptions {
  readonly http: KubeHttp;
  readonly namespace: string;
  /** The group: Lease names start with it (`<group>-shard-<i>`, `<group>-member-<hash>`). */
  readonly group: string;
  readonly shards: number;
  readonly identity: string;
  readonly config?: Partial<LeaderElectionConfig>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly onAcquired: (shard: number) => void;
  /** Stop taking the shard's keys and resolve once its in-flight reconciles are done. */
  readonly onReleasing: (shard: number) => Promise<void>;
  /** Called once when a shard is lost (not on a graceful release); no more work may be done. */
  readonly onLost: () => void;
  readonly random?: () => number;
}

interface LeaseList {
  readonly items?: Lease[];
}

export class ShardElector {
  readonly config: LeaderElectionConfig;
  private readonly held = new Set<number>();
  private readonly lastRenewMs = new Map<number, number>();
  private readonly draining = new Map<number, { done: boolean }>();
  private readonly observations = new Map<string, Observation>();
  private leases = new Map<string, Lease>();
  private stopped = true;
  private timer: TimerHandle | undefined;
  private inFlight: Promise<void> | undefined;
  private lastListMs: number | undefined;
  private readonly log: Logger;
  private readonly random: () => number;

  constructor(private readonly options: ShardElectorOptions) {
    this.config = { ...defaultLeaderElectionConfig, ...options.config };
    validateConfig(this.config);
    if (!Number.isInteger(options.shards) || options.shards < 1) throw new RangeError('shards must be a positive integer');
    this.random = options.random ?? Math.random;
    this.log = options.logger.child({ leaseGroup: `${options.namespace}/${options.group}`, identity: options.identity });
  }

  /** The shards this replica holds now (draining ones included until released). */
  heldShards(): number[] {
    return [...this.held].sort((a, b) => a - b);
  }

  /** Healthy: running, and the Leases were read within the last lease duration. */
  isHealthy(): boolean {
    if (this.stopped || this.lastListMs === undefined) return false;
    return this.options.clock.now() - this.lastListMs <= this.config.leaseDurationMs + this.config.retryPeriodMs;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops campaigning; releases every shard held (call after the work was drained) and deletes the membership. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
    await Promise.all([...this.held].map((s) => this.release(s)));
    try {
      await this.options.http.request('DELETE', this.path(memberLeaseName(this.options.group, this.options.identity)), { timeoutMs: this.config.renewDeadlineMs });
    } catch (e: unknown) {
      if (!(e instanceof NotFoundError)) this.log.warn('membership lease delete failed', errorFields(e));
    }
  }

  private path(name?: string): string {
    return resourcePath(leaseRef, this.options.namespace, name);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = undefined;
      this.inFlight = this.tick().finally(() => {
        this.inFlight = undefined;
      });
    }, ms);
  }

  private renewDeadlinePassed(): boolean {
    const now = this.options.clock.now();
    return [...this.held].some((s) => now - (this.lastRenewMs.get(s) ?? now) >= this.config.renewDeadlineMs);
  }

  private async tick(): Promise<void> {
    if (this.renewDeadlinePassed()) {
      this.lose('renew deadline passed');
      return;
    }
    try {
      await this.round();
    } catch (e: unknown) {
      this.log.warn('shard lease round failed', errorFields(e));
    }
    if (this.stopped) return;
    if (this.renewDeadlinePassed()) {
      this.lose('renew deadline passed');
      return;
    }
    // wait.JitterUntil as the leader elector: period + up to 20% so replicas do not move in lockstep.
    this.schedule(this.config.retryPeriodMs * (1 + this.random() * 0.2));
  }

  /** One read of the group and the writes the plan asks for. */
  private async round(): Promise<void> {
    const { http, clock, group, identity } = this.options;
    const timeoutMs = Math.max(100, Math.min(this.config.retryPeriodMs, this.config.renewDeadlineMs / 2));
    const list = await http.request<LeaseList>('GET', this.path(), { query: { labelSelector: `${leaseGroupLabel}=${group}` }, timeoutMs });
    const now = clock.now();
    this.lastListMs = now;
    this.leases = new Map((list.items ?? []).map((l) => [l.metadata?.name ?? '', l]));
    const shardViews = new Map<number, LeaseView>();
    const members: LeaseView[] = [];
    for (const [name, lease] of this.leases) {
      const spec = lease.spec ?? {};
      const obs = observe(this.observations.get(name), spec, now);
      this.observations.set(name, obs);
      const view: LeaseView = { holder: spec.holderIdentity ?? '', durationSeconds: spec.leaseDurationSeconds ?? 15, observedAtMs: obs.observedAtMs };
      const shard = shardOfLeaseName(group, name);
      if (shard !== undefined && shard < this.options.shards) shardViews.set(shard, view);
      else if (name.startsWith(`${group}-member-`)) members.push(view);
    }
    await this.write(memberLeaseName(group, identity), 'renew');
    const plan = planShards({ shards: this.options.shards, identity, nowMs: now, leases: shardViews, members, held: this.held });
    if (plan.lost.length > 0) {
      this.lose(`shard(s) ${plan.lost.join(', ')} taken by another replica`);
      return;
    }
    for (const s of plan.release) this.startDraining(s);
    const drained = [...this.draining].filter(([, d]) => d.done).map(([s]) => s);
    const renew = new Set([...plan.renew, ...[...this.draining.keys()].filter((s) => !drained.includes(s))]);
    await Promise.all([
      ...[...renew].map(async (s) => {
        if (await this.write(shardLeaseName(group, s), 'renew')) this.lastRenewMs.set(s, clock.now());
      }),
      ...drained.map((s) => this.release(s)),
      ...plan.acquire.map((s) => this.acquire(s)),
    ]);
  }

  private startDraining(shard: number): void {
    if (this.draining.has(shard)) return;
    const state = { done: false };
    this.draining.set(shard, state);
    this.log.info('shard handing back', { shard });
    void this.options.onReleasing(shard).then(() => {
      state.done = true;
    });
  }

  private async acquire(shard: number): Promise<void> {
    if (await this.write(shardLeaseName(this.options.group, shard), 'acquire')) {
      this.held.add(shard);
      this.lastRenewMs.set(shard, this.options.clock.now());
      this.log.info('shard acquired', { shard });
      this.options.onAcquired(shard);
    }
  }

  /** Hands a drained shard back: empty holder, 1 s, so the next replica need not wait for it to expire. */
  private async release(shard: number): Promise<void> {
    const name = shardLeaseName(this.options.group, shard);
    const lease = this.leases.get(name);
    const now = formatMicroTime(this.options.clock.now());
    // Forget it first: from here on we do no work for it whether or not the write lands (it then expires).
    this.held.delete(shard);
    this.draining.delete(shard);
    this.lastRenewMs.delete(shard);
    if (!lease || lease.spec?.holderIdentity !== this.options.identity) return;
    try {
      await this.put(name, lease, { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: lease.spec.leaseTransitions ?? 0 });
      this.log.info('shard released', { shard });
    } catch (e: unknown) {
      this.log.warn('shard release failed', { shard, ...errorFields(e) });
    }
  }

  /** Renews (our own) or takes (a free one) the Lease of this name; false when the write lost a race or failed. */
  private async write(name: string, why: 'renew' | 'acquire'): Promise<boolean> {
    const { http, clock, identity, namespace, group } = this.options;
    const nowText = formatMicroTime(clock.now());
    const durationSeconds = Math.ceil(this.config.leaseDurationMs / 1000);
    const lease = this.leases.get(name);
    try {
      if (!lease) {
        const spec: LeaseSpec = { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: nowText, renewTime: nowText, leaseTransitions: 0 };
        const body = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { namespace, name, labels: { [leaseGroupLabel]: group } }, spec };
        this.leases.set(name, await http.request<Lease>('POST', this.path(), { body, timeoutMs: this.config.retryPeriodMs }));
        return true;
      }
      const current = lease.spec ?? {};
      const spec: LeaseSpec = why === 'renew'
        ? { ...current, holderIdentity: identity, leaseDurationSeconds: durationSeconds, renewTime: nowText }
        : { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: nowText, renewTime: nowText, leaseTransitions: (current.leaseTransitions ?? 0) + 1 };
      await this.put(name, lease, spec);
      return true;
    } catch (e: unknown) {
      if (e instanceof ConflictError || e instanceof AlreadyExistsError) this.log.debug('shard lease write lost a race', { lease: name });
      else this.log.warn('shard lease write failed', { lease: name, ...errorFields(e) });
      return false;
    }
  }

  private async put(name: string, lease: Lease, spec: LeaseSpec): Promise<void> {
    const body: Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { ...lease.metadata, namespace: this.options.namespace, name },
      spec,
    };
    this.leases.set(name, await this.options.http.request<Lease>('PUT', this.path(name), { body, timeoutMs: this.config.retryPeriodMs }));
  }

  private lose(why: string): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.log.error('shard lease lost', { why, shards: this.heldShards() });
    this.held.clear();
    this.options.onLost();
  }
}
