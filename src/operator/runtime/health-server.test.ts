import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HealthServer } from './health-server.js';
import { RuntimeMetrics } from './metrics.js';

describe('HealthServer', () => {
  it('answers healthz, readyz (from the readiness function) and metrics', async () => {
    const metrics = new RuntimeMetrics();
    metrics.reconcileTotal.inc({ controller: 'x', result: 'success' });
    let ready = false;
    const server = new HealthServer(metrics.registry, () => ({ ready, checks: { informers: ready, leader: true } }));
    const port = await server.listen(0, '127.0.0.1');
    try {
      const get = async (p: string) => {
        const r = await fetch(`http://127.0.0.1:${port}${p}`);
        return { status: r.status, text: await r.text() };
      };
      assert.equal((await get('/healthz')).status, 200);
      const notReady = await get('/readyz');
      assert.equal(notReady.status, 503);
      assert.match(notReady.text, /\[-\]informers failed/);
      ready = true;
      assert.equal((await get('/readyz')).status, 200);
      const m = await get('/metrics');
      assert.match(m.text, /perennial_reconcile_total\{controller="x",result="success"\} 1/);
      assert.match(m.text, /process_cpu_user_seconds_total/);
      const some = await get('/metrics?name=perennial_reconcile_total&name=nodejs_heap_size_used_bytes&name=no_such_metric');
      assert.match(some.text, /perennial_reconcile_total\{controller="x",result="success"\} 1/);
      assert.match(some.text, /^nodejs_heap_size_used_bytes \d+/m);
      assert.doesNotMatch(some.text, /process_cpu_user_seconds_total|perennial_workqueue_depth/);
      assert.equal((await get('/nope')).status, 404);
    } finally {
      await server.close();
    }
  });
});
