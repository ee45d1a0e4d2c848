// ServerApp's shutdown states over real HTTP (a tiny real model): leave() keeps answering while reporting unready,
// with every answer closing its connection; drain() then refuses.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, transports } from 'winston';
import { MemoryStore } from '../storage/memory-store.js';
import { ServerApp } from './app.js';
import { DriftWindow } from './drift-window.js';
import { LogWriter } from './log-writer.js';
import { ServerMetrics } from './metrics.js';
import { tinyModel } from './testing/tiny-model.js';

describe('ServerApp shutdown', () => {
  const dir = mkdtempSync(join(tmpdir(), 'perennial-app-'));
  const store = new MemoryStore();
  const writer = (prefix: string) => new LogWriter({
    store, bucket: 'b', prefix, spillDir: join(dir, prefix), fileStem: 'p', batchRecords: 10, flushMs: 1000, maxMemoryRecords: 100, now: () => new Date(),
  });
  const predictionLog = writer('predictions');
  const app = new ServerApp({
    modelName: 'weather', version: 'v1', track: 'stable', codeVersion: 'test', maxInstances: 10, maxBodyBytes: 1 << 20,
    batch: { maxSize: 8, maxWaitMs: 0, maxQueueRows: 100 },
    metrics: new ServerMetrics('v1', () => undefined, () => ({}), () => undefined),
    predictionLog, deployment: 'ml/weather', signingKey: Buffer.from('0123456789abcdef'), shadow: undefined,
    log: createLogger({ silent: true, transports: [new transports.Console()] }), now: () => new Date(),
  });
  const server = createServer((req, res) => app.handle(req, res));
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await predictionLog.close(100);
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps serving after leave() (unready, Connection: close), refuses after drain()', async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    app.setModel(tinyModel('classification'), new DriftWindow([], 60_000));
    const predict = () => fetch(`${base}/v1/models/weather:predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: [{ x: 1 }] }) });

    const before = await fetch(`${base}/v2/health/live`);
    assert.equal(before.status, 200);
    assert.notEqual(before.headers.get('connection'), 'close');
    assert.equal((await predict()).status, 200, 'predictions are answered while running');

    app.leave();
    assert.equal(app.ready, false);
    const ready = await fetch(`${base}/v2/health/ready`);
    assert.equal(ready.status, 503, 'unready: the endpoint leaves the EndpointSlices');
    const live = await fetch(`${base}/v2/health/live`);
    assert.equal(live.status, 200);
    assert.equal(live.headers.get('connection'), 'close', 'no connection outlives the delay');
    const late = await predict();
    assert.equal(late.status, 200, 'a request sent on a stale endpoint list is still answered');
    assert.equal(late.headers.get('connection'), 'close');

    await app.drain();
    assert.equal((await predict()).status, 503, 'after the delay new requests are refused');
  });
});
