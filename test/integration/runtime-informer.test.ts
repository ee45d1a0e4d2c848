// The supervised informer against a real API server that goes away: it delivers, survives the API server being
// stopped and started again (nothing changed meanwhile), and keeps delivering afterwards, with a correct cache,
// without any restart by the test. A second informer shows the no-event watchdog forcing relists.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { LocalCluster } from '../../localcluster/cluster.js';
import { kubeConfigFor, uniqueName } from '../../localcluster/test-cluster.js';
import { systemClock } from '../../src/operator/runtime/clock.js';
import { Informer, type InformerEvent } from '../../src/operator/runtime/informer.js';
import { KubeHttpClient } from '../../src/operator/runtime/kube-http.js';
import { createLogger } from '../../src/operator/runtime/log.js';
import { RuntimeMetrics } from '../../src/operator/runtime/metrics.js';
import type { KubeObject, ResourceRef } from '../../src/operator/runtime/resource.js';
import { eventually } from '../support/eventually.js';

type ConfigMap = KubeObject & { data?: Record<string, string> };
const configMaps: ResourceRef = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true };

describe('runtime informer', () => {
  let cluster: LocalCluster;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let http: KubeHttpClient;
  const namespace = uniqueName('inf');
  const logger = createLogger({ level: 'warn' });

  before(async () => {
    cluster = await LocalCluster.start({ name: 'runtime-informer', controllerManager: false, minio: false });
    kc = kubeConfigFor(cluster.info);
    core = kc.makeApiClient(CoreV1Api);
    http = new KubeHttpClient(kc);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });

  after(async () => {
    http?.close();
    await cluster?.stop();
  });

  it('keeps delivering across an API server restart, with a correct cache', async () => {
    const metrics = new RuntimeMetrics({ defaultMetrics: false });
    const inf = new Informer<ConfigMap>({
      kubeConfig: kc, http, ref: configMaps, namespace, clock: systemClock(), logger, metrics,
      restartBaseMs: 200, restartCapMs: 2000,
    });
    const seen: Array<{ event: InformerEvent; name: string; value: string | undefined }> = [];
    inf.onEvent((event, obj) => seen.push({ event, name: obj.metadata?.name ?? '', value: obj.data?.['v'] }));
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'before' }, data: { v: '1' } } });
    inf.start();
    try {
      await inf.synced;
      assert.equal(inf.hasSynced(), true);
      assert.equal(inf.get(namespace, 'before')?.data?.['v'], '1', 'the first list fills the cache');

      await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'watched', labels: { app: 'x' } }, data: { v: '1' } } });
      await eventually('the watch delivers an add', () => seen.find((s) => s.name === 'watched' && s.event === 'add'));

      // The outage: the watch breaks, ListWatch emits an error and stops; the supervisor must restart it.
      await cluster.stopApiServer();
      await sleep(3000);
      await cluster.startApiServer();

      await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'after', labels: { app: 'x' } }, data: { v: '1' } } });
      await core.patchNamespacedConfigMap(
        { namespace, name: 'before', body: [{ op: 'replace', path: '/data/v', value: '2' }] },
      );
      await core.deleteNamespacedConfigMap({ namespace, name: 'watched' });

      await eventually('the cache shows every change made after the restart', () =>
        inf.get(namespace, 'after') !== undefined &&
        inf.get(namespace, 'before')?.data?.['v'] === '2' &&
        inf.get(namespace, 'watched') === undefined ? true : undefined);
      assert.ok(seen.some((s) => s.name === 'after' && s.event === 'add'));
      assert.ok(seen.some((s) => s.name === 'before' && s.event === 'update' && s.value === '2'));
      assert.ok(seen.some((s) => s.name === 'watched' && s.event === 'delete'));
      assert.deepEqual(inf.list(namespace).map((o) => o.metadata?.name).sort(), ['after', 'before']);
      assert.deepEqual(inf.list(namespace, 'app=x').map((o) => o.metadata?.name), ['after']);
      const restarts = await metrics.value('perennial_informer_restarts_total', { cause: 'error' });
      assert.ok(restarts >= 1, `the supervisor restarted the informer (${restarts} restarts)`);
      // Each object is reported once per real change: no replayed adds for objects we already held.
      assert.equal(seen.filter((s) => s.name === 'before' && s.event === 'add').length, 1);
      console.log(`informer restarts after the outage: ${restarts}; lists: ${inf.listCount}`);
    } finally {
      await inf.stop();
    }
  });

  it('forces a relist after a silence longer than the watchdog period', async () => {
    const metrics = new RuntimeMetrics({ defaultMetrics: false });
    const inf = new Informer<ConfigMap>({
      kubeConfig: kc, http, ref: configMaps, namespace, clock: systemClock(), logger, metrics, watchdogMs: 1000,
    });
    let adds = 0;
    inf.onEvent((event) => {
      if (event === 'add') adds++;
    });
    inf.start();
    try {
      await inf.synced;
      const firstAdds = adds;
      await eventually('two forced relists', async () =>
        (await metrics.value('perennial_informer_restarts_total', { cause: 'watchdog' })) >= 2 && inf.listCount >= 3 ? true : undefined, 30_000);
      assert.equal(adds, firstAdds, 'a relist of unchanged objects reports nothing');
      await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'late' }, data: { v: '1' } } });
      await eventually('delivery after the relists', () => inf.get(namespace, 'late'));
    } finally {
      await inf.stop();
    }
  });
});
