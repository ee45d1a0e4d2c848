// The status writer and the manager on a real API server: a tiny CRD with a status subresource (installed here
// under a unique group), a reconciler that sets a condition and observedGeneration through the status writer, and
// a reconcile loop that runs many times per second (requeueAfterMs, like a resync). Exactly one status write per
// spec generation: no write when nothing changed, and no 409 from acting on a cache older than our own write.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { kubeConfigFor, sharedCluster, uniqueName } from '../../localcluster/test-cluster.js';
import { type Condition, setCondition } from '../../src/operator/runtime/conditions.js';
import { KubeHttpClient } from '../../src/operator/runtime/kube-http.js';
import { createLogger } from '../../src/operator/runtime/log.js';
import { systemClock } from '../../src/operator/runtime/clock.js';
import { KubeEventRecorder } from '../../src/operator/runtime/events.js';
import { Manager } from '../../src/operator/runtime/manager.js';
import { type KubeObject, type ObjectKey, type ResourceRef, controllerRef } from '../../src/operator/runtime/resource.js';
import { eventually } from '../support/eventually.js';

type Widget = KubeObject & { spec?: { size?: number }; status?: { observedGeneration?: number; conditions?: Condition[] } };

const WidgetReason = { Reconciled: 'Reconciled' } as const;

describe('runtime status writer', () => {
  let kc: KubeConfig;
  let core: CoreV1Api;
  let custom: CustomObjectsApi;
  let ext: ApiextensionsV1Api;
  const namespace = uniqueName('st');
  const group = `${uniqueName('st')}.test.perennial.dev`;
  const ref: ResourceRef = { group, version: 'v1', plural: 'widgets', kind: 'Widget', namespaced: true };

  before(async () => {
    kc = kubeConfigFor(await sharedCluster());
    core = kc.makeApiClient(CoreV1Api);
    custom = kc.makeApiClient(CustomObjectsApi);
    ext = kc.makeApiClient(ApiextensionsV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    // Raw JSON: client-node's model classes would drop x-kubernetes-preserve-unknown-fields.
    const raw = new KubeHttpClient(kc);
    await raw.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      body: {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: `widgets.${group}` },
        spec: {
          group,
          scope: 'Namespaced',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
          versions: [{
            name: 'v1', served: true, storage: true, subresources: { status: {} },
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  spec: { type: 'object', properties: { size: { type: 'integer' } } },
                  status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                },
              },
            },
          }],
        },
      },
    });
    raw.close();
    await eventually('the CRD is established', async () => {
      const crd = await ext.readCustomResourceDefinition({ name: `widgets.${group}` });
      return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
    });
  });

  after(async () => {
    await ext?.deleteCustomResourceDefinition({ name: `widgets.${group}` }).catch(() => undefined);
    await core?.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  it('writes status exactly once per spec change however often it reconciles', async () => {
    const mgr = new Manager({ kubeConfig: kc, namespace, logger: createLogger({ level: 'warn' }) });
    const widgets = mgr.informer<Widget>(ref);
    const writer = mgr.statusWriter('widgets');
    let reconciles = 0;
    const reconciler = {
      async reconcile(key: ObjectKey) {
        reconciles++;
        const w = widgets.get(key.namespace, key.name);
        if (!w) return {};
        const generation = w.metadata?.generation ?? 0;
        const desired = {
          ...w.status,
          observedGeneration: generation,
          conditions: setCondition(w.status?.conditions, {
            type: 'Ready', status: 'True', reason: WidgetReason.Reconciled,
            message: `size ${w.spec?.size ?? 0}`, observedGeneration: generation,
          }, Date.now()),
        };
        await writer.write(ref, w, desired);
        // Reconcile again almost at once: many reconciles of an unchanged object, the first of them racing the
        // watch event of our own write (the write expectations make it wait for the cache instead of writing the
        // same status again with a stale resourceVersion).
        return { requeueAfterMs: 1 };
      },
    };
    mgr.addController({ name: 'widgets', primary: ref, workers: 2, reconciler });
    await mgr.start();
    const writes = () => mgr.metrics.value('perennial_status_writes_total', { controller: 'widgets' });
    const errors = () => mgr.metrics.value('perennial_reconcile_errors_total', { controller: 'widgets' });
    const read = async () => (await custom.getNamespacedCustomObject({ group, version: 'v1', namespace, plural: 'widgets', name: 'w1' })) as Widget & {
      metadata: { resourceVersion: string; managedFields?: unknown[] };
    };
    try {
      await custom.createNamespacedCustomObject({
        group, version: 'v1', namespace, plural: 'widgets', body: { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 1 } },
      });
      const first = await eventually('status for generation 1', async () => {
        const w = await read();
        return w.status?.observedGeneration === 1 ? w : undefined;
      });
      const startCount = reconciles;
      await eventually('many more reconciles', () => (reconciles - startCount >= 200 ? true : undefined));
      const again = await read();
      assert.equal(await writes(), 1, 'one status write for generation 1');
      assert.equal(again.metadata.resourceVersion, first.metadata.resourceVersion, 'resourceVersion unchanged by the reconciles');
      assert.deepEqual(again.metadata.managedFields, first.metadata.managedFields, 'managedFields unchanged');
      assert.equal(await errors(), 0, 'no conflict: no reconcile acted on a cache older than its own write');
      const cond = again.status?.conditions?.[0];
      assert.equal(cond?.reason, 'Reconciled');
      assert.equal(cond?.observedGeneration, 1);

      await custom.patchNamespacedCustomObject({
        group, version: 'v1', namespace, plural: 'widgets', name: 'w1', body: [{ op: 'replace', path: '/spec/size', value: 2 }],
      });
      const second = await eventually('status for generation 2', async () => {
        const w = await read();
        return w.status?.observedGeneration === 2 ? w : undefined;
      });
      const mark = reconciles;
      await eventually('many more reconciles', () => (reconciles - mark >= 200 ? true : undefined));
      assert.equal(await writes(), 2, 'one more write for the spec change, none after');
      assert.equal((await read()).metadata.resourceVersion, second.metadata.resourceVersion);
      assert.equal(second.status?.conditions?.[0]?.message, 'size 2');
      assert.equal(second.status?.conditions?.[0]?.lastTransitionTime, cond?.lastTransitionTime,
        'the condition stayed True, so its transition time did not move');
      assert.equal(await errors(), 0);
      console.log(`reconciles: ${reconciles}, status writes: ${await writes()}`);
    } finally {
      await mgr.stop();
    }
  });

  it('records events, aggregating repeats into one Event with a series', async () => {
    const http = new KubeHttpClient(kc);
    try {
      const recorder = new KubeEventRecorder(http, systemClock(), createLogger({ level: 'warn' }), 'test-instance');
      const regarding = { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { namespace, name: 'w-events', uid: '0b1e0b1e-0000-4000-8000-000000000001' } };
      await recorder.event(regarding, 'Normal', 'Reconciled', 'all good');
      await recorder.event(regarding, 'Normal', 'Reconciled', 'all good');
      await recorder.event(regarding, 'Normal', 'Reconciled', 'all good');
      await recorder.event(regarding, 'Warning', 'Degraded', 'something broke');
      const list = await http.request<{ items: Array<{ reason?: string; type?: string; reportingController?: string; series?: { count?: number } }> }>(
        'GET', `/apis/events.k8s.io/v1/namespaces/${namespace}/events`);
      const mine = list.items.filter((e) => e.reportingController === 'perennial.dev/operator');
      assert.equal(mine.length, 2, 'one Event per distinct event');
      assert.equal(mine.find((e) => e.reason === 'Reconciled')?.series?.count, 3);
      assert.equal(mine.find((e) => e.reason === 'Degraded')?.type, 'Warning');
    } finally {
      http.close();
    }
  });

  it('maps owned objects to their owner: a deleted child is re-created; health and metrics are served', async () => {
    const configMaps: ResourceRef = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true };
    const mgr = new Manager({ kubeConfig: kc, namespace, logger: createLogger({ level: 'warn' }), healthPort: 0, healthHost: '127.0.0.1' });
    const widgets = mgr.informer<Widget>(ref);
    const children = mgr.informer<KubeObject>(configMaps);
    const reconciled: string[] = [];
    mgr.addController({
      name: 'widget-children', primary: ref, owns: [configMaps], workers: 1,
      reconciler: {
        async reconcile(key: ObjectKey) {
          reconciled.push(key.name);
          const w = widgets.get(key.namespace, key.name);
          if (!w?.metadata?.uid) return {};
          const name = `${key.name}-child`;
          if (!children.get(key.namespace, name)) {
            await mgr.kube.create(configMaps, {
              metadata: { namespace: key.namespace, name, ownerReferences: [controllerRef({ metadata: w.metadata }, ref)] },
              data: { size: String(w.spec?.size ?? 0) },
            }, { alreadyExistsOk: true });
          }
          return {};
        },
      },
    });
    await mgr.start();
    try {
      const port = mgr.healthPort;
      assert.ok(port);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      assert.equal(ready.status, 200, await ready.text());
      await custom.createNamespacedCustomObject({
        group, version: 'v1', namespace, plural: 'widgets', body: { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'w2' }, spec: { size: 3 } },
      });
      const first = await eventually('the child', async () => core.readNamespacedConfigMap({ namespace, name: 'w2-child' }).catch(() => undefined));
      assert.equal(first.metadata?.ownerReferences?.[0]?.controller, true);
      const before = reconciled.filter((n) => n === 'w2').length;
      await core.deleteNamespacedConfigMap({ namespace, name: 'w2-child' });
      const second = await eventually('the child re-created', async () => {
        const c = await core.readNamespacedConfigMap({ namespace, name: 'w2-child' }).catch(() => undefined);
        return c && c.metadata?.uid !== first.metadata?.uid ? c : undefined;
      });
      assert.ok(second);
      assert.ok(reconciled.filter((n) => n === 'w2').length > before, 'the child event reconciled its owner');
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(metrics, /perennial_reconcile_total\{controller="widget-children",result="success"\} \d+/);
      assert.match(metrics, /perennial_workqueue_adds_total\{controller="widget-children"\} \d+/);
      assert.match(metrics, /perennial_reconcile_duration_seconds_bucket/);
    } finally {
      await mgr.stop();
    }
  });
});
