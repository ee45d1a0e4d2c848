// Sharding between real operator processes on the shared cluster's API server (runtime/testing/shard-child.ts:
// the real Manager with shard Leases, one controller on ConfigMaps whose reconcile takes a while and writes one
// annotation per change). Three replicas share 4 shards; 40 objects are created and then all changed (a rollout
// of v1 → v2); mid-rollout one replica is SIGKILLed while it is inside a reconcile, later another stops gracefully.
// Checked from what the replicas print and what the API server holds:
//   - every object ends reconciled at its newest value (nothing lost);
//   - every value was written once (nothing duplicated);
//   - no object was ever inside a reconcile on two replicas at once (start/end intervals never overlap; a killed
//     replica's open reconcile counts until the kill);
//   - the dead replica's shards are taken over, and every replica holds at most its fair share.
// Takeover times are printed, never asserted.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { CoordinationV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { repoRoot } from '../../localcluster/cluster.js';
import { kubeConfigFor, sharedCluster, uniqueName } from '../../localcluster/test-cluster.js';
import { eventually } from '../support/eventually.js';

interface Line {
  readonly identity: string;
  readonly t: number;
  readonly event: string;
  readonly name?: string;
  readonly wrote?: string;
  readonly shards?: number[];
}

interface Replica {
  readonly identity: string;
  readonly proc: ChildProcess;
  readonly lines: Line[];
  shards: number[];
  started: boolean;
  killedAt?: number;
  readonly exit: Promise<number | null>;
}

const shards = 4;
const group = 'perennial-shard-test';
const objects = Array.from({ length: 40 }, (_, i) => `obj-${i}`);

/** Reconcile intervals per object, by replica; a reconcile open at a kill ends at the kill. */
function intervals(replicas: readonly Replica[]): Map<string, Array<{ identity: string; from: number; to: number }>> {
  const out = new Map<string, Array<{ identity: string; from: number; to: number }>>();
  for (const r of replicas) {
    const open = new Map<string, number[]>();
    for (const l of r.lines) {
      if (!l.name) continue;
      if (l.event === 'start') open.set(l.name, [...(open.get(l.name) ?? []), l.t]);
      if (l.event === 'end') {
        const from = open.get(l.name)?.shift();
        if (from !== undefined) out.set(l.name, [...(out.get(l.name) ?? []), { identity: r.identity, from, to: l.t }]);
      }
    }
    for (const [name, starts] of open) {
      for (const from of starts) out.set(name, [...(out.get(name) ?? []), { identity: r.identity, from, to: r.killedAt ?? Number.MAX_SAFE_INTEGER }]);
    }
  }
  return out;
}

function overlaps(replicas: readonly Replica[]): string[] {
  const found: string[] = [];
  for (const [name, list] of intervals(replicas)) {
    for (const a of list) {
      for (const b of list) {
        if (a.identity < b.identity && a.from < b.to && b.from < a.to) found.push(`${name}: ${a.identity} [${a.from}, ${a.to}] and ${b.identity} [${b.from}, ${b.to}]`);
      }
    }
  }
  return found;
}

describe('operator sharding across replicas', () => {
  let kc: KubeConfig;
  let kubeconfigPath: string;
  let core: CoreV1Api;
  let coordination: CoordinationV1Api;
  const namespace = uniqueName('shards');
  const replicas: Replica[] = [];

  function launch(identity: string): Replica {
    const proc = spawn(process.execPath, [
      '--import', 'tsx', 'src/operator/runtime/testing/shard-child.ts', kubeconfigPath, namespace, group, identity, String(shards), '150',
    ], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    const r: Replica = {
      identity, proc, lines: [], shards: [], started: false,
      exit: new Promise((resolve) => proc.on('exit', (code) => resolve(code))),
    };
    createInterface({ input: proc.stdout }).on('line', (text) => {
      let l: Line;
      try {
        l = JSON.parse(text) as Line;
      } catch {
        return;
      }
      if (l.event === 'started') r.started = true;
      if (l.event === 'shards') r.shards = l.shards ?? [];
      else r.lines.push(l);
    });
    replicas.push(r);
    return r;
  }

  const holders = async (): Promise<Map<number, string>> => {
    const list = await coordination.listNamespacedLease({ namespace, labelSelector: `perennial.dev/lease-group=${group}` });
    const out = new Map<number, string>();
    for (const l of list.items) {
      const m = /-shard-(\d+)$/.exec(l.metadata?.name ?? '');
      if (m) out.set(Number(m[1]), l.spec?.holderIdentity ?? '');
    }
    return out;
  };

  const observed = async (): Promise<Map<string, string | undefined>> => {
    const list = await core.listNamespacedConfigMap({ namespace });
    return new Map(list.items.map((cm) => [cm.metadata?.name ?? '', cm.metadata?.annotations?.['perennial.dev/observed-v']]));
  };

  const allObservedAt = async (v: string): Promise<true | undefined> => {
    const o = await observed();
    return objects.every((n) => o.get(n) === v) ? true : undefined;
  };

  const writes = (v: string): Map<string, number> => {
    const out = new Map<string, number>();
    for (const r of replicas) for (const l of r.lines) if (l.event === 'end' && l.wrote === v && l.name) out.set(l.name, (out.get(l.name) ?? 0) + 1);
    return out;
  };

  before(async () => {
    const info = await sharedCluster();
    kubeconfigPath = info.kubeconfigPath;
    kc = kubeConfigFor(info);
    core = kc.makeApiClient(CoreV1Api);
    coordination = kc.makeApiClient(CoordinationV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });

  after(async () => {
    for (const r of replicas) if (r.proc.exitCode === null && r.proc.signalCode === null) r.proc.kill('SIGKILL');
    await core?.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  it('splits the objects, survives a crash mid-rollout and a graceful stop: nothing lost, duplicated or reconciled twice at once', async () => {
    const a = launch('replica-a');
    await eventually('a alone holds every shard', async () => ((await holders()).size === shards && [...(await holders()).values()].every((h) => h === 'replica-a') ? true : undefined), 30_000);
    const b = launch('replica-b');
    const c = launch('replica-c');
    await eventually('three replicas share the four shards, two at most each', async () => {
      const h = [...(await holders()).values()];
      const counts = ['replica-a', 'replica-b', 'replica-c'].map((id) => h.filter((x) => x === id).length);
      return h.length === shards && counts.every((n) => n >= 1 && n <= 2) ? true : undefined;
    }, 60_000);

    for (const n of objects) await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: n }, data: { v: '1' } } });
    await eventually('every object reconciled at v1', () => allObservedAt('1'), 60_000);

    // The rollout: every object changes; the replica holding two shards (or a) is killed inside a reconcile.
    for (const n of objects) await core.patchNamespacedConfigMap({ namespace, name: n, body: [{ op: 'replace', path: '/data/v', value: '2' }] });
    const victim = [a, b, c].find((r) => r.shards.length === 2) ?? a;
    const victimShards = [...victim.shards];
    await eventually(`${victim.identity} is inside a reconcile`, () => {
      const starts = victim.lines.filter((l) => l.event === 'start').length;
      const ends = victim.lines.filter((l) => l.event === 'end').length;
      return starts > ends ? true : undefined;
    }, 30_000, 5);
    victim.killedAt = Date.now();
    victim.proc.kill('SIGKILL');
    await victim.exit;
    await eventually('the dead replica\'s shards are taken over', async () => {
      const h = await holders();
      return victimShards.every((s) => { const x = h.get(s); return x !== undefined && x !== '' && x !== victim.identity; }) ? true : undefined;
    }, 30_000);
    const crashTakeoverMs = Date.now() - (victim.killedAt ?? 0);
    await eventually('every object reconciled at v2', () => allObservedAt('2'), 60_000);

    // A graceful stop: the replica drains, releases its shards, and the last one takes them at once.
    const [stopping, last] = [a, b, c].filter((r) => r !== victim) as [Replica, Replica];
    const stoppedAt = Date.now();
    stopping.proc.kill('SIGTERM');
    assert.equal(await stopping.exit, 0, 'a graceful stop exits 0');
    await eventually('the last replica holds every shard', async () => ([...(await holders()).values()].filter((h) => h === last.identity).length === shards ? true : undefined), 30_000);
    const releaseTakeoverMs = Date.now() - stoppedAt;
    for (const n of objects) await core.patchNamespacedConfigMap({ namespace, name: n, body: [{ op: 'replace', path: '/data/v', value: '3' }] });
    await eventually('every object reconciled at v3 by the last replica', () => allObservedAt('3'), 60_000);

    const found = overlaps(replicas);
    assert.deepEqual(found, [], 'no object inside a reconcile on two replicas at once');
    for (const v of ['1', '2', '3']) {
      const w = writes(v);
      const twice = [...w].filter(([, n]) => n > 1).map(([name, n]) => `${name} ×${n}`);
      assert.deepEqual(twice, [], `each object's v${v} written once`);
    }
    const reconciles = replicas.map((r) => `${r.identity} ${r.lines.filter((l) => l.event === 'end').length}`).join(', ');
    console.log(`sharding: takeover after a SIGKILL ${crashTakeoverMs} ms (lease 4000 ms, renew deadline 3000 ms, retry 500 ms); ` +
      `after a graceful stop ${releaseTakeoverMs} ms; reconciles per replica: ${reconciles}`);
    last.proc.kill('SIGTERM');
    assert.equal(await last.exit, 0);
  });
});
