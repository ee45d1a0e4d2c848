import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  type LeaseView, fnv1a, liveReplicas, memberLeaseName, planShards, preference, shardLeaseName, shardOf, shardOfLeaseName, shareOf,
} from './shards.js';

const now = 1_000_000;
const fresh = (holder: string): LeaseView => ({ holder, durationSeconds: 15, observedAtMs: now - 1_000 });
const stale = (holder: string): LeaseView => ({ holder, durationSeconds: 15, observedAtMs: now - 15_000 });

describe('shardOf', () => {
  it('is FNV-1a of the key modulo the shard count: the same in every process and release', () => {
    // Known FNV-1a 32-bit values: a change of the hash would move every object to another shard on upgrade.
    assert.equal(fnv1a(''), 0x811c9dc5);
    assert.equal(fnv1a('a'), 0xe40c292c);
    assert.equal(fnv1a('foobar'), 0xbf9cf968);
    assert.equal(shardOf('a', 4), 0xe40c292c % 4);
  });

  it('spreads keys over the shards evenly enough', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[shardOf(`team-${i % 40}/pipeline-${i}`, 4)]! += 1;
    for (const c of counts) assert.ok(c > 850 && c < 1150, `counts ${counts.join(', ')}`);
  });

  it('refuses a shard count that is not a positive integer', () => {
    assert.throws(() => shardOf('a/b', 0), RangeError);
    assert.throws(() => shardOf('a/b', 1.5), RangeError);
  });
});

describe('shareOf', () => {
  const table: Array<[identity: string, live: string[], shards: number, want: number]> = [
    ['a', ['a'], 4, 4],
    ['a', ['a', 'b', 'c'], 4, 2],
    ['b', ['a', 'b', 'c'], 4, 1],
    ['c', ['a', 'b', 'c'], 4, 1],
    ['c', ['a', 'b', 'c'], 5, 1],
    ['b', ['a', 'b', 'c'], 5, 2],
    ['e', ['a', 'b', 'c', 'd', 'e'], 4, 0],
    ['x', [], 3, 3],
  ];
  for (const [identity, live, shards, want] of table) {
    it(`${identity} among ${live.join(', ') || '(only itself)'} over ${shards} shards: ${want}`, () => assert.equal(shareOf(identity, live, shards), want));
  }
  it('the shares add up to the shard count', () => {
    const live = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7'];
    for (const shards of [1, 4, 7, 10, 64]) assert.equal(live.reduce((sum, id) => sum + shareOf(id, live, shards), 0), shards);
  });
});

describe('liveReplicas', () => {
  it('counts membership Leases seen changing within their duration, plus ourselves', () => {
    assert.deepEqual(liveReplicas([fresh('b'), stale('c'), fresh(''), fresh('a')], 'me', now), ['a', 'b', 'me']);
  });
  it('counts ourselves once when our own Lease is among them', () => {
    assert.deepEqual(liveReplicas([fresh('me')], 'me', now), ['me']);
  });
});

describe('planShards', () => {
  const leases = (entries: Array<[number, LeaseView]>): Map<number, LeaseView> => new Map(entries);
  const pref = (id: string) => (xs: number[]): number[] => [...xs].sort((a, b) => preference(id, b) - preference(id, a) || a - b);

  it('alone with no Leases yet: takes every shard', () => {
    const p = planShards({ shards: 4, identity: 'a', nowMs: now, leases: leases([]), members: [], held: new Set() });
    assert.deepEqual([...p.acquire].sort(), [0, 1, 2, 3]);
    assert.deepEqual(p.renew, []);
    assert.equal(p.share, 4);
  });

  it('a second replica joining: the holder of all four hands back the two it prefers least', () => {
    const all = leases([[0, fresh('a')], [1, fresh('a')], [2, fresh('a')], [3, fresh('a')]]);
    const p = planShards({ shards: 4, identity: 'a', nowMs: now, leases: all, members: [fresh('a'), fresh('b')], held: new Set([0, 1, 2, 3]) });
    assert.equal(p.share, 2);
    assert.deepEqual(p.renew, pref('a')([0, 1, 2, 3]).slice(0, 2));
    assert.deepEqual(p.release, pref('a')([0, 1, 2, 3]).slice(2));
    assert.deepEqual(p.acquire, []);
  });

  it('the joining replica waits while every shard is held and fresh, then takes what is released', () => {
    const held = leases([[0, fresh('a')], [1, fresh('a')], [2, fresh('a')], [3, fresh('a')]]);
    const before = planShards({ shards: 4, identity: 'b', nowMs: now, leases: held, members: [fresh('a')], held: new Set() });
    assert.deepEqual(before.acquire, []);
    const after = planShards({
      shards: 4, identity: 'b', nowMs: now, members: [fresh('a')], held: new Set(),
      leases: leases([[0, fresh('a')], [1, fresh('')], [2, fresh('a')], [3, fresh('')]]),
    });
    assert.deepEqual(after.acquire, pref('b')([1, 3]));
  });

  it('a dead replica: its shards and its membership expire, the survivor takes them all', () => {
    const p = planShards({
      shards: 4, identity: 'a', nowMs: now, members: [stale('b')], held: new Set([0, 2]),
      leases: leases([[0, fresh('a')], [1, stale('b')], [2, fresh('a')], [3, stale('b')]]),
    });
    assert.equal(p.live, 1);
    assert.deepEqual(p.renew, pref('a')([0, 2]));
    assert.deepEqual(p.acquire, pref('a')([1, 3]));
  });

  it('a shard of a live replica that is not yet expired is not taken, even when we are under our share', () => {
    const p = planShards({
      shards: 4, identity: 'a', nowMs: now, members: [fresh('b')], held: new Set([0]),
      leases: leases([[0, fresh('a')], [1, fresh('b')], [2, fresh('b')], [3, fresh('b')]]),
    });
    assert.deepEqual(p.acquire, []);
  });

  it('takes no more than its share of free shards', () => {
    const p = planShards({ shards: 5, identity: 'b', nowMs: now, members: [fresh('a'), fresh('c')], held: new Set(), leases: leases([]) });
    assert.equal(p.share, 2);
    assert.deepEqual(p.acquire, pref('b')([0, 1, 2, 3, 4]).slice(0, 2));
  });

  it('a shard we held that someone else holds now is lost (we must stop all work)', () => {
    const p = planShards({ shards: 2, identity: 'a', nowMs: now, members: [], held: new Set([0, 1]), leases: leases([[0, fresh('a')], [1, fresh('b')]]) });
    assert.deepEqual(p.lost, [1]);
  });

  it('three replicas over four shards: together they hold every shard, none more than two', () => {
    const ids = ['a', 'b', 'c'];
    const state = new Map<number, LeaseView>();
    const members = ids.map(fresh);
    for (let round = 0; round < 3; round++) {
      for (const id of ids) {
        const held = new Set([...state].filter(([, l]) => l.holder === id).map(([s]) => s));
        const p = planShards({ shards: 4, identity: id, nowMs: now, members, held, leases: state });
        for (const s of p.release) state.set(s, fresh(''));
        for (const s of p.acquire) state.set(s, fresh(id));
      }
    }
    const counts = ids.map((id) => [...state.values()].filter((l) => l.holder === id).length);
    assert.deepEqual(counts, [2, 1, 1]);
  });
});

describe('lease names', () => {
  it('one per shard, one per replica (a hash: an identity may hold characters a name cannot)', () => {
    assert.equal(shardLeaseName('perennial-operator', 3), 'perennial-operator-shard-3');
    assert.match(memberLeaseName('perennial-operator', 'host_12_ab'), /^perennial-operator-member-[0-9a-f]{8}$/);
    assert.equal(shardOfLeaseName('perennial-operator', 'perennial-operator-shard-3'), 3);
    assert.equal(shardOfLeaseName('perennial-operator', memberLeaseName('perennial-operator', 'x')), undefined);
    assert.equal(shardOfLeaseName('perennial-operator', 'perennial-operator-shard-x'), undefined);
  });
});
