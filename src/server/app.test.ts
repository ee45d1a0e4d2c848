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
import { ShadowMirror } from './shadow.js';
import { tinyModel } from './testing/tiny-model.js';

describe('ServerApp shutdown', () => {
  const dir = mkdtempSync(join(tmpdir(), 'perennial-app-'));
  const store = new MemoryStore();
  const writer = (prefix: string) => new LogWriter({
    store, bucket: 'b', prefix, spillDir: join(dir, prefix), fileStem: 'p', batchRecords: 10, flushMs: 1000, maxMemoryRecords: 100, now: () => new Date(),
  });
  const predictionLog = writer('predictions');
  const app = new ServerApp({
    modelName: 'weather', version: 'v1', track: 'stable', codeVersion: 'test', maxInstances: 10, maxBodyBytes: 1 << 20, bodyTimeoutMs: 10_000, maxStringBytes: 256,
    batch: { maxSize: 8, maxWaitMs: 0, maxQueueRows: 100 },
    metrics: new ServerMetrics({ namespace: 'ml', deployment: 'weather', version: 'v1' }, () => undefined, () => ({}), () => undefined),
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

describe('ServerApp edge: nothing a client sends is a 5xx, and a mirror is never mirrored again', () => {
  const dir = mkdtempSync(join(tmpdir(), 'perennial-app-edge-'));
  const store = new MemoryStore();
  const log = createLogger({ silent: true, transports: [new transports.Console()] });
  const apps: { app: ServerApp; metrics: ServerMetrics; hits: number; url: string; close: () => Promise<void> }[] = [];

  /** A real app on a real listener; its shadow mirrors to `mirrorTo()` (read when a mirror is sent). */
  async function start(track: string, mirrorTo?: () => string): Promise<(typeof apps)[number]> {
    const metrics = new ServerMetrics({ namespace: 'ml', deployment: 'weather', version: 'v1' }, () => undefined, () => ({}), () => 'classification');
    const predictionLog = new LogWriter({ store, bucket: 'b', prefix: `p${apps.length}`, spillDir: join(dir, String(apps.length)), fileStem: 'p', batchRecords: 100, flushMs: 1000, maxMemoryRecords: 1000, now: () => new Date() });
    const shadow = mirrorTo === undefined ? undefined : new ShadowMirror({ url: 'http://unused', sample: 1, timeoutMs: 2000, fetch: (_url, init) => fetch(mirrorTo(), init) }, {
      outcome: (o, n = 1) => metrics.shadowRequests.inc({ outcome: o }, n), latency: () => undefined,
    });
    const app = new ServerApp({
      modelName: 'weather', version: 'v1', track, codeVersion: 'test', maxInstances: 10, maxBodyBytes: 1 << 16, bodyTimeoutMs: 2000, maxStringBytes: 256,
      batch: { maxSize: 8, maxWaitMs: 0, maxQueueRows: 100 }, metrics, predictionLog, deployment: 'ml/weather', signingKey: Buffer.from('0123456789abcdef'),
      shadow, log, now: () => new Date(),
    });
    app.setModel(tinyModel('classification'), new DriftWindow([], 60_000));
    const entry = { app, metrics, hits: 0, url: '', close: (): Promise<void> => Promise.resolve() };
    const server = createServer((req, res) => {
      if (req.url?.includes(':predict') === true) entry.hits++;
      app.handle(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    entry.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    entry.close = async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await predictionLog.close(100);
    };
    apps.push(entry);
    return entry;
  }
  after(async () => {
    for (const a of apps) await a.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const predict = (base: string, body: unknown = { instances: [{ x: 1 }] }, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    fetch(`${base}/v1/models/weather:predict`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const settle = () => new Promise((r) => setTimeout(r, 200));
  const codes = async (m: ServerMetrics): Promise<Record<string, number>> => {
    const out: Record<string, number> = {};
    for (const line of (await m.registry.metrics()).split('\n')) {
      const x = /^perennial_server_requests_total\{.*code="(\d+)".*\} (\d+)$/.exec(line);
      if (x) out[x[1] ?? ''] = (out[x[1] ?? ''] ?? 0) + Number(x[2]);
    }
    return out;
  };

  const routeCount = async (m: ServerMetrics, route: string, code: number): Promise<number> => {
    const line = (await m.registry.metrics()).split('\n').find((l) => l.startsWith('perennial_server_requests_total{') && l.includes(`route="${route}"`) && l.includes(`code="${code}"`));
    return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
  };

  it('answers malformed requests with a 4xx naming the problem, and counts no 5xx', async () => {
    const a = await start('stable');
    const cases: [Promise<Response>, number, RegExp][] = [
      [fetch(`${a.url}/v1/models/weather:predict`, { method: 'POST', body: new TextEncoder().encode('{"instances":[{"x":1}]}') }), 415, /missing Content-Type/],
      [predict(a.url, '{"instances":[{"x":1}]}', { 'content-type': 'text/plain' }), 415, /not supported/],
      [fetch(`${a.url}/v2/models/%E0%A4%A/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }), 400, /malformed percent-escape in the model name/],
      [fetch(`${a.url}/v1/models/%zz`), 400, /malformed percent-escape/],
      [predict(a.url, { instances: [{ x: 1e300 }] }), 400, /instances\[0\]\.x: 1e\+300 is not a finite float32 number/],
      [predict(a.url, { instances: [{ x: 'NaN' }] }), 400, /instances\[0\]\.x: expected a number or null, got string/],
      [predict(a.url, '{"instances":[{"x":1e400}]}'), 400, /Infinity is not a finite float32 number/],
      [predict(a.url, `{"instances":[${'['.repeat(5000)}]}`), 400, /malformed JSON/],
    ];
    for (const [request, status, message] of cases) {
      const r = await request;
      assert.equal(r.status, status);
      assert.match(((await r.json()) as { error: string }).error, message);
    }
    assert.equal((await predict(a.url)).status, 200, 'still answers a good request');
    const c = await codes(a.metrics);
    assert.ok(Object.keys(c).every((code) => !code.startsWith('5')), JSON.stringify(c));
    const latencyCount = /perennial_server_request_duration_seconds_count\{[^}]*route="v1_predict"[^}]*\} (\d+)/.exec(await a.metrics.registry.metrics())?.[1];
    assert.equal(latencyCount, '1', 'refusals are no latency samples');
  });

  it('answers every route of the table, and counts each request under its route label', async () => {
    const a = await start('stable');
    const table: [string, string, number, string][] = [
      ['GET', '/metrics', 200, 'metrics'], ['POST', '/metrics', 405, 'metrics'],
      ['GET', '/', 200, 'health'], ['HEAD', '/v2/health/live', 200, 'health'], ['GET', '/v2/health/ready', 200, 'health'],
      ['GET', '/v2', 200, 'metadata'], ['POST', '/v1/feedback', 404, 'feedback'],
      ['GET', '/v2/models/weather', 200, 'metadata'], ['GET', '/v2/models/weather/versions/v1', 200, 'metadata'],
      ['GET', '/v2/models/weather/versions/v9', 404, 'metadata'], ['GET', '/v2/models/other/ready', 404, 'health'],
      ['GET', '/v2/models/weather/ready', 200, 'health'], ['GET', '/v2/models/weather/infer', 405, 'metadata'],
      ['GET', '/v1/models/weather', 200, 'metadata'], ['POST', '/v1/models/weather', 405, 'metadata'],
      ['GET', '/v1/models/weather:predict', 405, 'metadata'], ['GET', '/nope', 404, 'other'],
    ];
    for (const [method, path, status, route] of table) {
      const before = await routeCount(a.metrics, route, status);
      const r = await fetch(`${a.url}${path}`, { method });
      await r.arrayBuffer();
      assert.equal(r.status, status, `${method} ${path}`);
      assert.equal(await routeCount(a.metrics, route, status), before + 1, `${method} ${path} counted under ${route}`);
    }
  });

  it('counts a client that goes away mid-request as 499, not as an answer', async () => {
    const a = await start('stable');
    const controller = new AbortController();
    const sent = fetch(`${a.url}/v1/models/weather:predict`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '100' }, duplex: 'half', signal: controller.signal,
      body: new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode('{"instances":')) }),
    }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
    controller.abort();
    await sent;
    await settle();
    assert.deepEqual(await codes(a.metrics), { 499: 1 });
  });

  it('mirrors a request once: never a mirror, whatever the mirror URLs point at', async () => {
    let bUrl = '';
    const a = await start('stable', () => `${bUrl}/v1/models/weather:predict`);
    // b is a canary that mirrors back to a: a loop by configuration.
    const b = await start('canary', () => `${a.url}/v1/models/weather:predict`);
    bUrl = b.url;
    for (let i = 0; i < 5; i++) assert.equal((await predict(a.url)).status, 200);
    await settle();
    assert.deepEqual([a.hits, b.hits], [5, 5], 'a mirrored each request to b once; b did not mirror the mirrors back');
    // A server whose mirror points at itself.
    const self: { url: string } = { url: '' };
    const s = await start('stable', () => `${self.url}/v1/models/weather:predict`);
    self.url = s.url;
    for (let i = 0; i < 5; i++) await predict(s.url);
    await settle();
    assert.equal(s.hits, 10, 'each request and its one mirror');
    // A shadow-track server never mirrors.
    const shadowTrack = await start('shadow', () => `${a.url}/v1/models/weather:predict`);
    const before = a.hits;
    await predict(shadowTrack.url);
    await settle();
    assert.equal(a.hits, before);
  });
});

describe('ServerApp: the event time and row id a request carries are logged, never fed to the model', () => {
  const log = createLogger({ silent: true, transports: [new transports.Console()] });
  const records: Record<string, unknown>[] = [];
  const mirrored: unknown[] = [];
  const metrics = new ServerMetrics({ namespace: 'ml', deployment: 'weather', version: 'v1' }, () => undefined, () => ({}), () => 'classification');
  const app = new ServerApp({
    modelName: 'weather', version: 'v1', track: 'stable', codeVersion: 'test', maxInstances: 10, maxBodyBytes: 1 << 16, bodyTimeoutMs: 2000, maxStringBytes: 256,
    batch: { maxSize: 8, maxWaitMs: 0, maxQueueRows: 100 }, metrics,
    predictionLog: { append: (r: object) => records.push(r as Record<string, unknown>) } as unknown as LogWriter,
    deployment: 'ml/weather', signingKey: Buffer.from('0123456789abcdef'), log, now: () => new Date(),
    shadow: new ShadowMirror({ url: 'http://unused', sample: 1, timeoutMs: 2000, fetch: (_url, init) => {
      mirrored.push(JSON.parse(init?.body as string));
      return Promise.resolve(new Response(JSON.stringify({ predictions: ['sun'] })));
    } }, { outcome: () => undefined, latency: () => undefined }),
  });
  const served = tinyModel('classification');
  const server = createServer((req, res) => app.handle(req, res));
  let base = '';
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const post = async (path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
    const r = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };

  it('logs eventTime and rowId on both APIs, refuses unreadable ones with a 400, and logs nothing extra for a model without them', async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    app.setModel({ ...served, spec: { ...served.spec, timestampColumn: 'ts', rowIdColumn: 'rid' } }, new DriftWindow([], 60_000));

    const v1 = await post('/v1/models/weather:predict', { instances: [{ x: 1, ts: '2020-02-03T04:05:06Z', rid: 'r-1' }, { x: 2, ts: 1.6e12, rid: 9 }, { x: 3 }] });
    assert.equal(v1.status, 200);
    assert.deepEqual(records.map((r) => [r['features'], r['eventTime'], r['rowId']]), [
      [{ x: 1 }, '2020-02-03T04:05:06Z', 'r-1'], [{ x: 2 }, 1.6e12, '9'], [{ x: 3 }, undefined, undefined],
    ]);
    assert.ok(!('eventTime' in (records[2] ?? {})), 'an absent event time is no field, not undefined');
    assert.deepEqual(records.map((r) => r['id']), v1.body['prediction_ids']);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(mirrored[0], { instances: [{ x: 1, ts: '2020-02-03T04:05:06Z', rid: 'r-1' }, { x: 2, ts: 1.6e12, rid: '9' }, { x: 3 }] }, 'a mirror carries them too');

    records.length = 0;
    const v2 = await post('/v2/models/weather/infer', { inputs: [
      { name: 'x', datatype: 'FP64', shape: [2], data: [1, 2] },
      { name: 'ts', datatype: 'BYTES', shape: [2], data: ['2020-02-03', null] },
      { name: 'rid', datatype: 'INT64', shape: [2], data: [7, 8] },
    ] });
    assert.equal(v2.status, 200, JSON.stringify(v2.body));
    assert.deepEqual(records.map((r) => [r['eventTime'], r['rowId']]), [['2020-02-03', '7'], [undefined, '8']]);

    records.length = 0;
    const bad = await post('/v1/models/weather:predict', { instances: [{ x: 1, ts: '2020-01-01' }, { x: 1, ts: 'last tuesday' }] });
    assert.equal(bad.status, 400);
    assert.match(String(bad.body['error']), /^instances\[1\]\.ts: "last tuesday" is not an event time/);
    const badV2 = await post('/v2/models/weather/infer', { inputs: [{ name: 'x', datatype: 'FP64', shape: [1], data: [1] }, { name: 'rid', datatype: 'BYTES', shape: [1], data: [{ a: 1 }] }] });
    assert.equal(badV2.status, 400);
    assert.match(String(badV2.body['error']), /^inputs\[1\] \(rid\)\.data\[0\]: expected a string, got object/);
    assert.equal(records.length, 0, 'a refused request logs nothing');

    app.setModel(served, new DriftWindow([], 60_000));
    assert.equal((await post('/v1/models/weather:predict', { instances: [{ x: 1, ts: 'junk', rid: {} }] })).status, 200, 'a model without the columns ignores such fields');
    assert.deepEqual(Object.keys(records[0] ?? {}).filter((k) => k === 'eventTime' || k === 'rowId'), []);
  });
});

describe('ServerApp: the Kafka sink gets each prediction with the inference log\'s line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'perennial-app-events-'));
  const store = new MemoryStore();
  let logging = true;
  const predictionLog = new LogWriter({
    store, bucket: 'b', prefix: 'predictions', spillDir: dir, fileStem: 'p', batchRecords: 100, flushMs: 1000, maxMemoryRecords: 100, now: () => new Date(), enabled: () => logging,
  });
  const published: { record: Record<string, unknown>; json: string | undefined }[] = [];
  const app = new ServerApp({
    modelName: 'weather', version: 'v1', track: 'stable', codeVersion: 'test', maxInstances: 10, maxBodyBytes: 1 << 16, bodyTimeoutMs: 2000, maxStringBytes: 256,
    batch: { maxSize: 8, maxWaitMs: 0, maxQueueRows: 100 },
    metrics: new ServerMetrics({ namespace: 'ml', deployment: 'weather', version: 'v1' }, () => undefined, () => ({}), () => 'classification'),
    predictionLog, deployment: 'ml/weather', signingKey: Buffer.from('0123456789abcdef'), shadow: undefined,
    events: { publish: (record, json) => published.push({ record: record as unknown as Record<string, unknown>, json }) },
    log: createLogger({ silent: true, transports: [new transports.Console()] }), now: () => new Date(),
  });
  const server = createServer((req, res) => app.handle(req, res));
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes the line the log wrote (one JSON.stringify per record); none while logging is off', async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    app.setModel(tinyModel('classification'), new DriftWindow([], 60_000));
    const predict = () => fetch(`${base}/v1/models/weather:predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: [{ x: 1 }, { x: 2 }] }) });
    assert.equal((await predict()).status, 200);
    logging = false;
    assert.equal((await predict()).status, 200);
    await predictionLog.close(1000);
    const [batch] = await store.list('b', 'predictions');
    const lines = (await store.getBuffer('b', batch!.key)).toString('utf8').trim().split('\n');
    assert.equal(published.length, 4);
    assert.deepEqual(published.slice(0, 2).map((p) => p.json), lines, 'the sink gets the log\'s own lines');
    assert.deepEqual(published.slice(0, 2).map((p) => p.json), published.slice(0, 2).map((p) => JSON.stringify(p.record)));
    assert.deepEqual(published.slice(2).map((p) => p.json), [undefined, undefined], 'logging off: no line (the sink, switched off alike, drops them)');
  });
});
