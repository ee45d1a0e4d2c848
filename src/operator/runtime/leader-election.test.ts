import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { createLogger } from './log.js';
import { FakeClock } from './testing/fake-clock.js';
import { FakeLeaseServer } from './testing/fake-lease-server.js';
import {
  LeaderElector, type LeaseSpec, type Observation, decide, defaultLeaderElectionConfig as cfg, formatMicroTime, observe, validateConfig,
} from './leader-election.js';

const t0 = Date.UTC(2026, 0, 1, 12, 0, 0, 123);
const me = 'me';
const held = (holder: string, extra: Partial<LeaseSpec> = {}): LeaseSpec => ({
  holderIdentity: holder, leaseDurationSeconds: 15, acquireTime: formatMicroTime(t0 - 60_000),
  renewTime: formatMicroTime(t0 - 1_000), leaseTransitions: 3, ...extra,
});
const seenAt = (spec: LeaseSpec, at: number): Observation => observe(undefined, spec, at);

describe('formatMicroTime', () => {
  it('writes exactly six fractional digits, in UTC', () => {
    assert.equal(formatMicroTime(t0), '2026-01-01T12:00:00.123000Z');
    assert.match(formatMicroTime(Date.UTC(2026, 5, 30, 23, 59, 59, 0)), /^2026-06-30T23:59:59\.\d{6}Z$/);
  });
});

describe('decide', () => {
  const table: Array<{ name: string; current: LeaseSpec | undefined; obs?: Observation; now: number; want: Record<string, unknown> }> = [
    {
      name: 'creates the Lease when there is none',
      current: undefined, now: t0,
      want: { action: 'create', spec: { holderIdentity: me, leaseDurationSeconds: 15, acquireTime: formatMicroTime(t0), renewTime: formatMicroTime(t0), leaseTransitions: 0 } },
    },
    {
      name: 'renews its own Lease, keeping acquireTime and leaseTransitions',
      current: held(me), obs: seenAt(held(me), t0 - 1000), now: t0,
      want: { action: 'update', why: 'renew', spec: { ...held(me), renewTime: formatMicroTime(t0) } },
    },
    {
      name: 'backs off while another holder renewed within the lease duration (by our clock)',
      current: held('other'), obs: seenAt(held('other'), t0 - 5_000), now: t0,
      want: { action: 'wait', holder: 'other', expiresInMs: 10_000 },
    },
    {
      name: 'does not trust the record timestamps: an old renewTime seen changing just now still blocks',
      current: held('other', { renewTime: formatMicroTime(t0 - 3_600_000) }),
      obs: seenAt(held('other', { renewTime: formatMicroTime(t0 - 3_600_000) }), t0), now: t0,
      want: { action: 'wait', holder: 'other', expiresInMs: 15_000 },
    },
    {
      name: "uses the record's own leaseDurationSeconds",
      current: held('other', { leaseDurationSeconds: 60 }), obs: seenAt(held('other', { leaseDurationSeconds: 60 }), t0 - 20_000), now: t0,
      want: { action: 'wait', holder: 'other', expiresInMs: 40_000 },
    },
    {
      name: 'takes over after the lease duration passed without the record changing',
      current: held('other'), obs: seenAt(held('other'), t0 - 15_000), now: t0,
      want: { action: 'update', why: 'takeover', spec: { holderIdentity: me, leaseDurationSeconds: 15, acquireTime: formatMicroTime(t0), renewTime: formatMicroTime(t0), leaseTransitions: 4 } },
    },
    {
      name: 'acquires a released Lease (empty holder) at once',
      current: held('', { leaseDurationSeconds: 1 }), obs: seenAt(held(''), t0), now: t0,
      want: { action: 'update', why: 'acquire', spec: { holderIdentity: me, leaseDurationSeconds: 15, acquireTime: formatMicroTime(t0), renewTime: formatMicroTime(t0), leaseTransitions: 4 } },
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      assert.deepEqual(decide(row.current, row.obs, row.now, me, cfg), row.want);
    });
  }
});

describe('observe', () => {
  it('keeps the observation time while the record is unchanged and restarts it on any change', () => {
    const a = observe(undefined, held('other'), t0);
    assert.equal(observe(a, { ...held('other') }, t0 + 5000).observedAtMs, t0, 'same content, other key order is the same record');
    assert.equal(observe(a, held('other', { renewTime: formatMicroTime(t0) }), t0 + 5000).observedAtMs, t0 + 5000);
  });
});

describe('validateConfig', () => {
  it('accepts the defaults and rejects what client-go rejects', () => {
    validateConfig(cfg);
    assert.throws(() => validateConfig({ leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 }));
    assert.throws(() => validateConfig({ leaseDurationMs: 15_000, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 }));
  });
});

describe('LeaderElector', () => {
  const config = { leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500 };
  function elector(server: FakeLeaseServer, clock: FakeClock, identity: string, log: string[]) {
    return new LeaderElector({
      http: server, namespace: 'ns', name: 'lock', identity, config, clock, logger: createLogger({ silent: true }),
      random: () => 0,
      onStartedLeading: () => log.push(`${identity} started`),
      onStoppedLeading: () => log.push(`${identity} stopped`),
    });
  }
  /** Advances the fake clock in small steps, letting the elector's promises settle between them. */
  async function run(clock: FakeClock, ms: number): Promise<void> {
    for (let t = 0; t < ms; t += 100) {
      clock.advance(100);
      for (let i = 0; i < 10; i++) await tick();
    }
  }

  it('one of two contenders leads; the other takes over only after the leader stops renewing for a lease duration', async () => {
    const server = new FakeLeaseServer();
    const clock = new FakeClock();
    const log: string[] = [];
    const a = elector(server, clock, 'a', log);
    const b = elector(server, clock, 'b', log);
    a.start();
    await run(clock, 200);
    b.start();
    await run(clock, 3000);
    assert.deepEqual(log, ['a started']);
    assert.equal(server.lease?.spec?.holderIdentity, 'a');
    assert.equal(b.isLeader(), false);
    assert.equal(b.isHealthy(), true, 'a standby that reads the Lease is healthy');
    // a crashes: stop it without releasing.
    await a.stop({ release: false });
    await run(clock, 3500);
    assert.equal(server.lease?.spec?.holderIdentity, 'a', 'b waits a full lease duration after the last change it saw');
    await run(clock, 1500);
    assert.equal(server.lease?.spec?.holderIdentity, 'b');
    assert.equal(server.lease?.spec?.leaseTransitions, 1);
    assert.deepEqual(log, ['a started', 'b started']);
    await b.stop();
  });

  it('gives up leadership when it cannot renew within the renew deadline', async () => {
    const server = new FakeLeaseServer();
    const clock = new FakeClock();
    const log: string[] = [];
    const a = elector(server, clock, 'a', log);
    a.start();
    await run(clock, 1000);
    assert.equal(a.isLeader(), true);
    server.down = true;
    await run(clock, 2500);
    assert.deepEqual(log, ['a started'], 'still within the renew deadline');
    await run(clock, 1000);
    assert.deepEqual(log, ['a started', 'a stopped']);
    assert.equal(a.isLeader(), false);
  });

  it('steps down when someone else holds the Lease', async () => {
    const server = new FakeLeaseServer();
    const clock = new FakeClock();
    const log: string[] = [];
    const a = elector(server, clock, 'a', log);
    a.start();
    await run(clock, 1000);
    server.overwrite({ holderIdentity: 'intruder', leaseDurationSeconds: 60, leaseTransitions: 5 });
    await run(clock, 4000);
    assert.deepEqual(log, ['a started', 'a stopped']);
    assert.equal(server.lease?.spec?.holderIdentity, 'intruder');
  });

  it('releases the Lease on a graceful stop so a successor acquires it at once', async () => {
    const server = new FakeLeaseServer();
    const clock = new FakeClock();
    const log: string[] = [];
    const a = elector(server, clock, 'a', log);
    const b = elector(server, clock, 'b', log);
    a.start();
    await run(clock, 500);
    b.start();
    await run(clock, 1000);
    await a.stop();
    assert.equal(server.lease?.spec?.holderIdentity, '');
    assert.equal(server.lease?.spec?.leaseDurationSeconds, 1);
    await run(clock, 1000);
    assert.equal(server.lease?.spec?.holderIdentity, 'b', 'within one retry period, not a lease duration');
    assert.deepEqual(log, ['a started', 'b started'], 'a graceful stop is not a loss');
    await b.stop();
  });
});
