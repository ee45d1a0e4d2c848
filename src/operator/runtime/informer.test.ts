// The informer's supervision with the real client-node ListWatch, a fake list endpoint and a watch endpoint that
// refuses connections: every watch fails at once, so every restart is visible, and the fake clock decides when
// restarts happen.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { Informer, type InformerEvent } from './informer.js';
import type { HttpMethod, KubeHttp, RequestOptions } from './kube-http.js';
import { createLogger } from './log.js';
import { RuntimeMetrics } from './metrics.js';
import type { KubeObject, ResourceRef } from './resource.js';
import { FakeClock } from './testing/fake-clock.js';

const ref: ResourceRef = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true };

class FakeList implements KubeHttp {
  items: KubeObject[] = [];
  lists = 0;
  fail = false;
  request<T>(method: HttpMethod, _path: string, _options?: RequestOptions): Promise<T> {
    assert.equal(method, 'GET');
    this.lists++;
    if (this.fail) return Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    return Promise.resolve({ metadata: { resourceVersion: String(100 + this.lists) }, items: structuredClone(this.items) } as T);
  }
}

const cm = (name: string, rv: string): KubeObject => ({ metadata: { namespace: 'ns', name, resourceVersion: rv } });

async function until(what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await cond()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function refusingKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

describe('Informer supervision', () => {
  it('restarts a failed ListWatch with growing backoff, one restart at a time, and relists with replace semantics', async () => {
    const clock = new FakeClock();
    const http = new FakeList();
    http.items = [cm('a', '1'), cm('b', '1')];
    const metrics = new RuntimeMetrics({ defaultMetrics: false });
    const restarts = () => metrics.value('perennial_informer_restarts_total', { cause: 'error' });
    const inf = new Informer<KubeObject>({
      kubeConfig: refusingKubeConfig(), http, ref, namespace: 'ns', clock, logger: createLogger({ silent: true }), metrics,
      restartBaseMs: 100, restartCapMs: 1000, watchdogMs: 3_600_000,
    });
    const events: string[] = [];
    inf.onEvent((e: InformerEvent, o) => events.push(`${e} ${o.metadata?.name ?? ''}`));
    inf.start();
    try {
      await inf.synced;
      assert.deepEqual(events.sort(), ['add a', 'add b']);
      await until('the watch failure schedules one restart', async () => (await restarts()) === 1);
      assert.equal(clock.timerCount, 2, 'the watchdog and exactly one restart timer');

      // While down, b was deleted and a changed: the relist must report both.
      http.items = [cm('a', '2')];
      clock.advance(99);
      assert.equal(http.lists, 1, 'no restart before the backoff');
      clock.advance(1);
      await until('the second list', () => http.lists === 2);
      await until('the replace events', () => events.length === 4);
      assert.deepEqual(events.slice(2).sort(), ['delete b', 'update a']);
      assert.equal(inf.get('ns', 'b'), undefined);
      assert.equal(inf.get('ns', 'a')?.metadata?.resourceVersion, '2');

      await until('the second restart', async () => (await restarts()) === 2);
      clock.advance(199);
      assert.equal(http.lists, 2, 'the backoff doubled');
      clock.advance(1);
      await until('the third list', () => http.lists === 3);
      assert.equal(events.length, 4, 'an unchanged relist reports nothing');

      // A failing list is an error too: restarted with the next backoff step.
      http.fail = true;
      await until('the third restart', async () => (await restarts()) === 3);
      clock.advance(400);
      await until('the fourth list attempt', () => http.lists === 4);
      await until('the fourth restart', async () => (await restarts()) === 4);
      assert.deepEqual(inf.list('ns').map((o) => o.metadata?.name), ['a'], 'a failed list keeps the cache');
    } finally {
      await inf.stop();
    }
    assert.equal(clock.timerCount, 0, 'stop clears every timer');
  });
});

describe('Informer indexes', () => {
  it('finds objects by the values an index gives them, kept through adds, updates and deletes (a relist replacing the cache)', async () => {
    const clock = new FakeClock();
    const http = new FakeList();
    const tagged = (name: string, rv: string, tags: string[], namespace = 'ns'): KubeObject =>
      ({ metadata: { namespace, name, resourceVersion: rv, annotations: { tags: tags.join(',') } } });
    http.items = [tagged('a', '1', ['x']), tagged('b', '1', ['x', 'y']), tagged('c', '1', ['x'], 'other')];
    const inf = new Informer<KubeObject>({
      kubeConfig: refusingKubeConfig(), http, ref, namespace: '', clock, logger: createLogger({ silent: true }),
      restartBaseMs: 100, restartCapMs: 100, watchdogMs: 3_600_000,
    });
    const tags = (o: KubeObject) => (o.metadata?.annotations?.['tags'] ?? '').split(',').filter((t) => t !== '');
    inf.addIndex('tags', tags);
    inf.addIndex('tags', () => ['ignored']); // a second add of the same name keeps the first
    const names = (ns: string, v: string) => inf.byIndex('tags', ns, v).map((o) => o.metadata?.name).sort();
    inf.start();
    try {
      await inf.synced;
      assert.deepEqual(names('ns', 'x'), ['a', 'b']);
      assert.deepEqual(names('ns', 'y'), ['b']);
      assert.deepEqual(names('other', 'x'), ['c'], 'per namespace');
      assert.deepEqual(names('ns', 'ignored'), []);
      assert.throws(() => inf.byIndex('nope', 'ns', 'x'), /no index nope/);
      assert.throws(() => inf.addIndex('late', tags), /after the informer started/);

      // a leaves x for z, b is deleted, d arrives under y: the relist after the watch failure replaces the cache.
      http.items = [tagged('a', '2', ['z']), tagged('c', '1', ['x'], 'other'), tagged('d', '1', ['y'])];
      await until('the watch failure schedules a restart', () => clock.timerCount === 2);
      clock.advance(100);
      await until('the relist', () => http.lists === 2 && inf.get('ns', 'b') === undefined);
      assert.deepEqual(names('ns', 'x'), []);
      assert.deepEqual(names('ns', 'y'), ['d']);
      assert.deepEqual(names('ns', 'z'), ['a']);
      assert.deepEqual(names('other', 'x'), ['c']);
    } finally {
      await inf.stop();
    }
  });
});

describe('Informer label indexes', () => {
  it('lists by an indexed label reading only its objects, with the whole selector still applied', async () => {
    const clock = new FakeClock();
    const http = new FakeList();
    const labelled = (name: string, labels: Record<string, string>, namespace = 'ns'): KubeObject => ({ metadata: { namespace, name, resourceVersion: '1', labels } });
    http.items = [
      labelled('a', { app: 'x', tier: 'web' }), labelled('b', { app: 'x', tier: 'db' }), labelled('c', { app: 'y' }),
      labelled('d', { tier: 'web' }), labelled('e', { app: 'x' }, 'other'),
    ];
    const inf = new Informer<KubeObject>({
      kubeConfig: refusingKubeConfig(), http, ref, namespace: '', clock, logger: createLogger({ silent: true }), watchdogMs: 3_600_000,
    });
    inf.indexLabel('app');
    const reads: string[] = [];
    const byIndex = inf.byIndex.bind(inf);
    inf.byIndex = (name, namespace, value) => {
      reads.push(`${name} ${namespace} ${value}`);
      return byIndex(name, namespace, value);
    };
    inf.start();
    try {
      await inf.synced;
      const names = (ns: string | undefined, sel: string | Record<string, string>) => inf.list(ns, sel).map((o) => o.metadata?.name).sort();
      assert.deepEqual(names('ns', { app: 'x' }), ['a', 'b']);
      assert.deepEqual(names('ns', { app: 'x', tier: 'web' }), ['a']);
      assert.deepEqual(names('ns', 'tier=web,app=x'), ['a']);
      assert.deepEqual(names('ns', 'app=nobody'), []);
      assert.equal(reads.length, 4, 'each went through the index');
      assert.deepEqual(names('ns', { tier: 'web' }), ['a', 'd'], 'a label not indexed scans the namespace');
      assert.deepEqual(names(undefined, { app: 'x' }), ['a', 'b', 'e'], 'all namespaces scan');
      assert.deepEqual(names('ns', 'app!=x'), ['c', 'd']);
      assert.equal(reads.length, 4);
    } finally {
      await inf.stop();
    }
  });
});
