// Leader election between real processes sharing one Lease on the shared cluster: only the leader reconciles;
// when the leader crashes (SIGKILL: no release, renewals just stop) the standby takes over once the lease
// expires; when the leader stops gracefully (SIGTERM) it releases the Lease and the standby takes over at once.
// Takeover times are printed (tests never assert timings).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoordinationV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { repoRoot } from '../../localcluster/cluster.js';
import { kubeConfigFor, sharedCluster, uniqueName } from '../../localcluster/test-cluster.js';
import { KubeHttpClient } from '../../src/operator/runtime/kube-http.js';
import type { Lease } from '../../src/operator/runtime/leader-election.js';
import { eventually } from '../support/eventually.js';

interface Instance {
  readonly identity: string;
  readonly proc: ChildProcess;
  readonly reconciled: string[];
  started: boolean;
  exit: Promise<number | null>;
}

describe('runtime leader election', () => {
  let kc: KubeConfig;
  let kubeconfigPath: string;
  let core: CoreV1Api;
  let coordination: CoordinationV1Api;
  const namespace = uniqueName('le');
  const lease = 'perennial-test-leader';
  const instances: Instance[] = [];

  function launch(identity: string): Instance {
    const proc = spawn(process.execPath, [
      '--import', 'tsx', 'src/operator/runtime/testing/leader-child.ts', kubeconfigPath, namespace, lease, identity,
    ], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    const inst: Instance = {
      identity, proc, reconciled: [], started: false,
      exit: new Promise((resolve) => proc.on('exit', (code) => resolve(code))),
    };
    createInterface({ input: proc.stdout }).on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { event?: string; name?: string };
        if (msg.event === 'reconcile' && msg.name) inst.reconciled.push(msg.name);
        if (msg.event === 'started') inst.started = true;
      } catch {
        // not ours
      }
    });
    instances.push(inst);
    return inst;
  }

  const holder = async (): Promise<string | undefined> => {
    try {
      const l = await coordination.readNamespacedLease({ namespace, name: lease });
      return l.spec?.holderIdentity ?? '';
    } catch {
      return undefined;
    }
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
    for (const i of instances) if (i.proc.exitCode === null && i.proc.signalCode === null) i.proc.kill('SIGKILL');
    await core?.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  it('only the leader reconciles; a crashed leader is replaced after the lease expires, a stopped one at once', async () => {
    const a = launch('instance-a');
    await eventually('a leads', async () => ((await holder()) === 'instance-a' ? true : undefined));
    const b = launch('instance-b');
    await eventually('b has synced and stands by', () => b.started);

    for (const n of ['one', 'two', 'three']) {
      await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: n }, data: { v: '1' } } });
    }
    await eventually('a reconciles all three', () => ['one', 'two', 'three'].every((n) => a.reconciled.includes(n)));
    await core.patchNamespacedConfigMap({ namespace, name: 'two', body: [{ op: 'replace', path: '/data/v', value: '2' }] });
    await eventually('a reconciles the change', () => a.reconciled.filter((n) => n === 'two').length >= 2);
    await sleep(1000);
    assert.equal(b.reconciled.length, 0, 'the standby reconciles nothing');

    // Crash: no release, the Lease still names a until it expires.
    const killedAt = Date.now();
    a.proc.kill('SIGKILL');
    await a.exit;
    await eventually('b takes over', async () => ((await holder()) === 'instance-b' ? true : undefined), 30_000);
    const crashTakeoverMs = Date.now() - killedAt;
    await eventually('b reconciles everything on taking over', () => ['one', 'two', 'three'].every((n) => b.reconciled.includes(n)));
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'after-crash' }, data: {} } });
    await eventually('b reconciles new objects', () => b.reconciled.includes('after-crash'));
    assert.equal(a.reconciled.includes('after-crash'), false);

    const c = launch('instance-c');
    await eventually('c has synced and stands by', () => c.started);
    assert.equal(c.reconciled.length, 0, 'the new standby reconciles nothing');
    const cBefore = (await coordination.readNamespacedLease({ namespace, name: lease })).spec?.leaseTransitions ?? 0;

    // Graceful stop: b drains, releases the Lease, exits 0.
    const stoppedAt = Date.now();
    b.proc.kill('SIGTERM');
    assert.equal(await b.exit, 0, 'a graceful stop exits 0');
    await eventually('c takes over', async () => ((await holder()) === 'instance-c' ? true : undefined), 30_000);
    const releaseTakeoverMs = Date.now() - stoppedAt;
    const l = await coordination.readNamespacedLease({ namespace, name: lease });
    assert.equal(l.spec?.leaseTransitions, cBefore + 1, 'the takeover counts one transition');
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'after-stop' }, data: {} } });
    await eventually('c reconciles new objects', () => c.reconciled.includes('after-stop'));
    assert.equal(b.reconciled.includes('after-stop'), false);
    console.log(`takeover after a crash: ${crashTakeoverMs} ms; after a graceful stop: ${releaseTakeoverMs} ms ` +
      '(lease 4000 ms, renew deadline 3000 ms, retry 500 ms)');
    c.proc.kill('SIGTERM');
    assert.equal(await c.exit, 0);
  });

  it('a leader that loses its Lease stops all work: the process exits non-zero', async () => {
    const d = launch('instance-d');
    await eventually('d leads', async () => ((await holder()) === 'instance-d' ? true : undefined));
    // Someone else takes the Lease (as a partitioned leader would find after the fact).
    // Raw JSON: client-node's model would re-serialise the MicroTimes with 3 fractional digits.
    const raw = new KubeHttpClient(kc);
    const path = `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${lease}`;
    const current = await raw.request<Lease>('GET', path);
    await raw.request('PUT', path, { body: { ...current, spec: { ...current.spec, holderIdentity: 'intruder', leaseDurationSeconds: 3600 } } });
    raw.close();
    const code = await Promise.race([d.exit, sleep(30_000).then(() => 'still running' as const)]);
    assert.equal(code, 1, 'the default reaction to a lost Lease is to exit non-zero');
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'after-loss' }, data: {} } });
    await sleep(1000);
    assert.equal(d.reconciled.includes('after-loss'), false);
  });
});
