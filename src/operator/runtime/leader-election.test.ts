import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  type LeaseSpec, type Observation, decide, defaultLeaderElectionConfig as cfg, formatMicroTime, observe, validateConfig,
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
