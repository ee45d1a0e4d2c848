// Leader election on a coordination.k8s.io/v1 Lease, following client-go's tools/leaderelection:
//   - the decision is a pure function of the record we read, when WE last saw it change (local clock, the
//     record's timestamps are never trusted), and now: decide() below, table-tested;
//   - a challenger waits a full leaseDuration after it last saw the record change, then takes over with a new
//     acquireTime and leaseTransitions+1; the holder renews with renewTime=now, keeping both;
//   - every write is a PUT carrying the resourceVersion of the last read, so two challengers cannot both win;
//   - MicroTime is written with exactly 6 fractional digits (the API server rejects JavaScript's 3);
//   - the leader renews every retryPeriod and gives up when it could not renew for renewDeadline: it then stops
//     leading, and the manager stops all work (by default the process exits non-zero and Kubernetes restarts it),
//     because there is no fencing: a leader that cannot renew must assume someone else leads;
//   - on a graceful stop the holder releases (empty holder, leaseDurationSeconds 1) so a successor starts at once.
import { hostname } from 'node:os';
import type { Clock, TimerHandle } from './clock.js';
import { AlreadyExistsError, ConflictError, NotFoundError } from './errors.js';
import type { KubeHttp } from './kube-http.js';
import { type Logger, errorFields } from './log.js';
import { resourcePath, type ResourceRef } from './resource.js';

export const leaseRef: ResourceRef = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true };

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

export interface LeaderElectionConfig {
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

export const defaultLeaderElectionConfig: LeaderElectionConfig = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

const jitterFactor = 1.2;

/** client-go's NewLeaderElector checks. */
export function validateConfig(c: LeaderElectionConfig): void {
  if (!(c.leaseDurationMs > c.renewDeadlineMs)) throw new RangeError('leaseDuration must be greater than renewDeadline');
  if (!(c.renewDeadlineMs > jitterFactor * c.retryPeriodMs)) throw new RangeError('renewDeadline must be greater than 1.2 × retryPeriod');
  if (c.retryPeriodMs <= 0) throw new RangeError('retryPeriod must be positive');
}

/** MicroTime: RFC 3339 in UTC with exactly six fractional digits (metav1.MicroTime's layout). */
export function formatMicroTime(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-01-01T00:00:00.123Z
  return `${iso.slice(0, 23)}000Z`;
}

/** When we last saw the record change, by our own clock. */
export interface Observation {
  /** Canonical JSON of the spec as last read. */
  readonly recordJson: string;
  readonly observedAtMs: number;
}

/** Restarts the local observation clock when the record's content changed since we last looked. */
export function observe(previous: Observation | undefined, spec: LeaseSpec, nowMs: number): Observation {
  const recordJson = JSON.stringify(spec, Object.keys(spec).sort());
  if (previous && previous.recordJson === recordJson) return previous;
  return { recordJson, observedAtMs: nowMs };
}

export type Decision =
  | { readonly action: 'create'; readonly spec: LeaseSpec }
  | { readonly action: 'update'; readonly spec: LeaseSpec; readonly why: 'renew' | 'acquire' | 'takeover' }
  | { readonly action: 'wait'; readonly holder: string; readonly expiresInMs: number };

/**
 * What to do with the Lease as just read (undefined = it does not exist). Pure: every time is a parameter, and
 * the record's own timestamps are not trusted, only our observation of when it last changed.
 */
export function decide(
  current: LeaseSpec | undefined,
  observation: Observation | undefined,
  nowMs: number,
  identity: string,
  config: LeaderElectionConfig,
): Decision {
  const now = formatMicroTime(nowMs);
  const durationSeconds = Math.ceil(config.leaseDurationMs / 1000);
  if (current === undefined) {
    return {
      action: 'create',
      spec: { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 },
    };
  }
  const holder = current.holderIdentity ?? '';
  if (holder === identity) {
    return {
      action: 'update',
      why: 'renew',
      spec: { ...current, holderIdentity: identity, leaseDurationSeconds: durationSeconds, renewTime: now,
        acquireTime: current.acquireTime ?? now, leaseTransitions: current.leaseTransitions ?? 0 },
    };
  }
  if (holder !== '') {
    // The record's own duration counts (the holder chose it), measured from when WE saw it change.
    const observedAt = observation?.observedAtMs ?? nowMs;
    const expiresAt = observedAt + (current.leaseDurationSeconds ?? durationSeconds) * 1000;
    if (expiresAt > nowMs) return { action: 'wait', holder, expiresInMs: expiresAt - nowMs };
  }
  return {
    action: 'update',
    why: holder === '' ? 'acquire' : 'takeover',
    spec: {
      holderIdentity: identity,
      leaseDurationSeconds: durationSeconds,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: (current.leaseTransitions ?? 0) + 1,
    },
  };
}

export interface LeaderElectorOptions {
  readonly http: KubeHttp;
  readonly namespace: string;
  readonly name: string;
  /** Unique per process; default hostname_pid_random. */
  readonly identity?: string;
  readonly config?: Partial<LeaderElectionConfig>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly onStartedLeading: () => void;
  /** Called once when leadership is lost (not on a graceful release). */
  readonly onStoppedLeading: () => void;
  readonly onLeaderChange?: (holder: string) => void;
  readonly random?: () => number;
}

export function defaultIdentity(): string {
  return `${hostname()}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}

export class LeaderElector {
  readonly identity: string;
  readonly config: LeaderElectionConfig;
  private lease: Lease | undefined;
  private observation: Observation | undefined;
  private leading = false;
  private stopped = true;
  private timer: TimerHandle | undefined;
  private lastRenewMs = 0;
  private lastContactMs: number | undefined;
  private currentHolder = '';
  private inFlight: Promise<void> | undefined;
  private readonly log: Logger;
  private readonly random: () => number;

  constructor(private readonly options: LeaderElectorOptions) {
    this.identity = options.identity ?? defaultIdentity();
    this.config = { ...defaultLeaderElectionConfig, ...options.config };
    validateConfig(this.config);
    this.random = options.random ?? Math.random;
    this.log = options.logger.child({ lease: `${options.namespace}/${options.name}`, identity: this.identity });
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Healthy: leading, or standing by with a successful read of the Lease within the last leaseDuration. */
  isHealthy(): boolean {
    if (this.stopped) return false;
    if (this.leading) return true;
    return this.lastContactMs !== undefined && this.options.clock.now() - this.lastContactMs <= this.config.leaseDurationMs + this.config.retryPeriodMs;
  }

  get holder(): string {
    return this.currentHolder;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops campaigning; when leading and release is true, hands the Lease back so a successor need not wait. */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
    if (this.leading && (options.release ?? true)) await this.release();
    this.leading = false;
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

  private jittered(): number {
    // wait.JitterUntil: period + random·factor·period while acquiring; the renew loop polls at the plain period.
    return this.leading ? this.config.retryPeriodMs : this.config.retryPeriodMs * (1 + this.random() * jitterFactor);
  }

  private async tick(): Promise<void> {
    const wasLeading = this.leading;
    const { clock } = this.options;
    const deadline = this.lastRenewMs + this.config.renewDeadlineMs;
    if (wasLeading && clock.now() >= deadline) {
      this.lose();
      return;
    }
    // A leader's request may not outlive its renew deadline: it must notice the loss in time.
    const timeoutMs = wasLeading
      ? Math.max(100, Math.min(this.config.retryPeriodMs, deadline - clock.now()))
      : Math.max(this.config.retryPeriodMs, 1000);
    const ok = await this.tryAcquireOrRenew(timeoutMs);
    if (this.stopped) return;
    const now = clock.now();
    if (ok) {
      this.lastRenewMs = now;
      if (!wasLeading) {
        this.leading = true;
        this.log.info('leadership acquired');
        this.options.onStartedLeading();
      }
    } else if (wasLeading && now >= deadline) {
      this.lose();
      return;
    }
    this.schedule(this.jittered());
  }

  private lose(): void {
    this.leading = false;
    this.stopped = true;
    this.log.error('leadership lost', { sinceRenewMs: this.options.clock.now() - this.lastRenewMs });
    this.options.onStoppedLeading();
  }

  private path(): string {
    return resourcePath(leaseRef, this.options.namespace, this.options.name);
  }

  /** One round of client-go's tryAcquireOrRenew. True when we hold the Lease afterwards. */
  private async tryAcquireOrRenew(timeoutMs: number): Promise<boolean> {
    const { http, clock, namespace, name } = this.options;
    try {
      // Fast path: the leader updates its cached Lease without reading it first.
      if (this.leading && this.lease) {
        const d = decide(this.lease.spec ?? {}, this.observation, clock.now(), this.identity, this.config);
        if (d.action === 'update' && d.why === 'renew') {
          try {
            await this.put(d.spec, timeoutMs);
            return true;
          } catch (e: unknown) {
            this.log.warn('lease renew failed', errorFields(e));
            // fall through to a read
          }
        }
      }
      let current: Lease | undefined;
      try {
        current = await http.request<Lease>('GET', this.path(), { timeoutMs });
      } catch (e: unknown) {
        if (!(e instanceof NotFoundError)) throw e;
      }
      this.lastContactMs = clock.now();
      if (current === undefined) {
        const d = decide(undefined, undefined, clock.now(), this.identity, this.config);
        if (d.action !== 'create') return false;
        const body: Lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { namespace, name }, spec: d.spec };
        this.lease = await http.request<Lease>('POST', resourcePath(leaseRef, namespace), { body, timeoutMs });
        this.observation = observe(undefined, this.lease.spec ?? {}, clock.now());
        this.noteHolder(this.identity);
        return true;
      }
      this.lease = current;
      this.observation = observe(this.observation, current.spec ?? {}, clock.now());
      this.noteHolder(current.spec?.holderIdentity ?? '');
      const d = decide(current.spec ?? {}, this.observation, clock.now(), this.identity, this.config);
      if (d.action === 'wait') return false;
      if (d.action === 'create') return false;
      await this.put(d.spec, timeoutMs);
      if (d.why !== 'renew') this.log.info('lease taken', { why: d.why, previousHolder: current.spec?.holderIdentity ?? '' });
      return true;
    } catch (e: unknown) {
      if (e instanceof ConflictError || e instanceof AlreadyExistsError) {
        this.log.debug('lease write lost a race', errorFields(e));
      } else {
        this.log.warn('lease attempt failed', errorFields(e));
      }
      return false;
    }
  }

  private async put(spec: LeaseSpec, timeoutMs: number): Promise<void> {
    const { http, clock, namespace, name } = this.options;
    const body: Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { namespace, name, ...(this.lease?.metadata?.resourceVersion ? { resourceVersion: this.lease.metadata.resourceVersion } : {}) },
      spec,
    };
    this.lease = await http.request<Lease>('PUT', this.path(), { body, timeoutMs });
    this.observation = observe(this.observation, this.lease.spec ?? {}, clock.now());
    this.lastContactMs = clock.now();
    this.noteHolder(spec.holderIdentity ?? '');
  }

  private noteHolder(holder: string): void {
    if (holder === this.currentHolder) return;
    this.currentHolder = holder;
    this.options.onLeaderChange?.(holder);
  }

  /** client-go's ReleaseOnCancel: empty holder, leaseDurationSeconds 1, transitions kept. */
  private async release(): Promise<void> {
    const spec = this.lease?.spec;
    if (!spec || spec.holderIdentity !== this.identity) return;
    const now = formatMicroTime(this.options.clock.now());
    try {
      await this.put({ holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now,
        leaseTransitions: spec.leaseTransitions ?? 0 }, this.config.renewDeadlineMs);
      this.log.info('lease released');
    } catch (e: unknown) {
      this.log.warn('lease release failed', errorFields(e));
    }
  }
}
