// The shard elector against an in-memory Lease collection (LIST by label, GET, POST, PUT with resourceVersion
// preconditions, DELETE), on a fake clock: takes every shard alone, hands back half to a second replica only after
// the shard's work drained, and stops all work when another replica holds a shard it held.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { errorForResponse } from './errors.js';
import type { HttpMethod, KubeHttp, RequestOptions } from './kube-http.js';
import type { Lease } from './leader-election.js';
import { createLogger } from './log.js';
import { ShardElector, leaseGroupLabel } from './shards-elector.js';
import { FakeClock } from './testing/fake-clock.js';

const status = (code: number, reason: string): Error => errorForResponse(code, JSON.stringify({ kind: 'Status', code, reason }), {});

/** Leases by name, with resourceVersions, as the API server keeps them. */
class FakeLeases implements KubeHttp {
  readonly leases = new Map<string, Lease & { metadata: { labels?: Record<string, string> } }>();
  private rv = 1;

  request<T>(method: HttpMethod, path: string, options: RequestOptions = {}): Promise<T> {
    try {
      return Promise.resolve(this.handle(method, path, options) as T);
    } catch (e: unknown) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  holders(): Record<string, string> {
    return Object.fromEntries([...this.leases].filter(([n]) => n.includes('-shard-')).map(([n, l]) => [n, l.spec?.holderIdentity ?? '']));
  }

  private handle(method: HttpMethod, path: string, options: RequestOptions): unknown {
    const name = /\/leases\/([^/?]+)$/.exec(path)?.[1];
    const body = options.body as (Lease & { metadata: { labels?: Record<string, string> } }) | undefined;
    if (method === 'GET' && name === undefined) {
      const [k, v] = String(options.query?.['labelSelector'] ?? '').split('=');
      return { items: [...this.leases.values()].filter((l) => l.metadata.labels?.[k ?? ''] === v).map((l) => structuredClone(l)) };
    }
    if (method === 'POST' && body) {
      const n = body.metadata.name ?? '';
      if (this.leases.has(n)) throw status(409, 'AlreadyExists');
      const stored = { ...structuredClone(body), metadata: { ...body.metadata, resourceVersion: String(++this.rv) } };
      this.leases.set(n, stored);
      return structuredClone(stored);
    }
    const current = this.leases.get(name ?? '');
    if (!current) throw status(404, 'NotFound');
    if (method === 'DELETE') {
      this.leases.delete(name ?? '');
      return {};
    }
    if (method === 'PUT' && body) {
      if (body.metadata.resourceVersion !== current.metadata.resourceVersion) throw status(409, 'Conflict');
      const stored = { ...structuredClone(body), metadata: { ...current.metadata, resourceVersion: String(++this.rv) } };
      this.leases.set(name ?? '', stored);
      return structuredClone(stored);
    }
    return structuredClone(current);
  }
}

function elector(http: FakeLeases, clock: FakeClock, identity: string, events: string[], drain: () => Promise<void> = () => Promise.resolve()): ShardElector {
  return new ShardElector({
    http, namespace: 'ops', group: 'op', shards: 4, identity, clock, logger: createLogger({ level: 'error' }), random: () => 0,
    config: { leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500 },
    onAcquired: (s) => events.push(`${identity} acquired ${s}`),
    onReleasing: (s) => {
      events.push(`${identity} releasing ${s}`);
      return drain();
    },
    onLost: () => events.push(`${identity} lost`),
  });
}

async function run(clock: FakeClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 100) {
    clock.advance(100);
    for (let i = 0; i < 5; i++) await tick();
  }
}

describe('ShardElector', () => {
  it('alone it takes every shard; a second replica gets half, each handed back only after its work drained', async () => {
    const http = new FakeLeases();
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const events: string[] = [];
    let finishDrain: () => void = () => undefined;
    const drained = new Promise<void>((resolve) => { finishDrain = resolve; });
    const a = elector(http, clock, 'a', events, () => drained);
    a.start();
    await run(clock, 1000);
    assert.deepEqual(a.heldShards(), [0, 1, 2, 3]);
    assert.ok([...http.leases.values()].every((l) => l.metadata.labels?.[leaseGroupLabel] === 'op'));
    const b = elector(http, clock, 'b', events);
    b.start();
    await run(clock, 2000);
    assert.equal(events.filter((e) => e.startsWith('a releasing')).length, 2, 'a hands back two');
    assert.deepEqual(b.heldShards(), [], 'b waits while a drains');
    assert.equal(Object.values(http.holders()).filter((h) => h === 'a').length, 4, 'a keeps renewing what it drains');
    finishDrain();
    await run(clock, 2000);
    assert.equal(a.heldShards().length, 2);
    assert.equal(b.heldShards().length, 2);
    assert.deepEqual([...a.heldShards(), ...b.heldShards()].sort(), [0, 1, 2, 3]);
    await a.stop();
    await b.stop();
    assert.ok(Object.values(http.holders()).every((h) => h === ''), 'a graceful stop releases every shard');
    assert.equal([...http.leases.keys()].filter((n) => n.includes('-member-')).length, 0, 'and deletes the membership Leases');
  });

  /** Replica a alone, holding every shard after its first second. */
  async function aloneAndHolding(): Promise<{ http: FakeLeases; clock: FakeClock; events: string[]; a: ReturnType<typeof elector> }> {
    const http = new FakeLeases();
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const events: string[] = [];
    const a = elector(http, clock, 'a', events);
    a.start();
    await run(clock, 1000);
    return { http, clock, events, a };
  }

  it('a shard it held now held by another replica: stops all work', async () => {
    const { http, clock, events, a } = await aloneAndHolding();
    const lease = http.leases.get('op-shard-0');
    assert.ok(lease?.spec);
    http.leases.set('op-shard-0', { ...lease, metadata: { ...lease.metadata, resourceVersion: '999' }, spec: { ...lease.spec, holderIdentity: 'intruder' } });
    await run(clock, 1000);
    assert.ok(events.includes('a lost'));
    assert.deepEqual(a.heldShards(), []);
  });

  it('a replica that cannot renew for its renew deadline stops all work', async () => {
    const { http, clock, events } = await aloneAndHolding();
    http.request = () => Promise.reject(status(503, 'ServiceUnavailable'));
    await run(clock, 4000);
    assert.ok(events.includes('a lost'));
  });
});
