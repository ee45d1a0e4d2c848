// OIP REST over real HTTP on a ServerApp with a tiny real model (one numeric feature x, every row `sun`): JSON and
// binary both ways, outputs and parameters, the repository index, statistics, and hostile bodies answered 4xx.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, transports } from 'winston';
import { MemoryStore } from '../../storage/memory-store.js';
import { ServerApp } from '../app.js';
import { DriftWindow } from '../drift-window.js';
import { LogWriter } from '../log-writer.js';
import { ServerMetrics } from '../metrics.js';
import { tinyModel } from '../testing/tiny-model.js';
import { encodeTensorBytes } from './rest-binary.js';

describe('OIP REST on a ServerApp', () => {
  const dir = mkdtempSync(join(tmpdir(), 'perennial-oip-rest-'));
  const predictionLog = new LogWriter({
    store: new MemoryStore(), bucket: 'b', prefix: 'p', spillDir: dir, fileStem: 'p', batchRecords: 100, flushMs: 1000, maxMemoryRecords: 1000, now: () => new Date(),
  });
  const metrics = new ServerMetrics({ namespace: 'ml', deployment: 'weather', version: 'v1' }, () => undefined, () => ({}), () => 'classification');
  const app = new ServerApp({
    modelName: 'weather', version: 'v1', track: 'stable', codeVersion: 'test', maxInstances: 10, maxBodyBytes: 1 << 16, bodyTimeoutMs: 2000, maxStringBytes: 256,
    batch: { maxSize: 8, maxWaitMs: 0, maxQueueRows: 100 }, metrics, predictionLog, deployment: 'ml/weather', signingKey: Buffer.from('0123456789abcdef'),
    shadow: undefined, log: createLogger({ silent: true, transports: [new transports.Console()] }), now: () => new Date(),
  });
  let server: Server;
  let base = '';
  before(async () => {
    server = createServer((req, res) => app.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await predictionLog.close(100);
    rmSync(dir, { recursive: true, force: true });
  });
  const infer = (body: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    fetch(`${base}/v2/models/weather/infer`, { method: 'POST', headers, body });
  const json = async (r: Response): Promise<Record<string, unknown>> => (await r.json()) as Record<string, unknown>;

  it('before the model is loaded: 503 with Retry-After, and the repository says why', async () => {
    const r = await infer(JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }] }));
    assert.equal(r.status, 503);
    assert.equal(r.headers.get('retry-after'), '1');
    assert.match(String((await json(r))['error']), /model not ready/);
    const index = await fetch(`${base}/v2/repository/index`, { method: 'POST' });
    assert.deepEqual(await index.json(), [{ name: 'weather', version: 'v1', state: 'UNAVAILABLE', reason: 'model not loaded yet' }]);
    app.setModel(tinyModel('classification'), new DriftWindow([], 60_000));
  });

  it('JSON: per-feature tensors, the outputs asked, the id echoed', async () => {
    const r = await infer(JSON.stringify({
      id: 'req-1', inputs: [{ name: 'x', datatype: 'FP64', shape: [2, 1], data: [[1], [2]] }],
      outputs: [{ name: 'label' }, { name: 'classification', parameters: { classification: 2 } }],
    }));
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-model-version'), 'v1');
    const body = await json(r);
    assert.equal(body['id'], 'req-1');
    const [label, cls] = body['outputs'] as { name: string; shape: number[]; data: string[] }[];
    assert.deepEqual(label, { name: 'label', datatype: 'BYTES', shape: [2], data: ['sun', 'sun'] });
    assert.deepEqual(cls?.shape, [2, 2]);
    assert.match(cls?.data[0] ?? '', /^0\.\d+:1:sun$/);
  });

  it('binary: a [n, k] FP32 input without Content-Type (as tritonclient sends it), binary outputs back', async () => {
    const x = encodeTensorBytes('FP32', [1, 2, 3]);
    const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [3, 1], parameters: { binary_data_size: x.length } }], parameters: { binary_data_output: true } }));
    const r = await infer(Buffer.concat([header, x]), { 'inference-header-content-length': String(header.length) });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/octet-stream');
    const body = Buffer.from(await r.arrayBuffer());
    const length = Number(r.headers.get('inference-header-content-length'));
    const outHeader = JSON.parse(body.subarray(0, length).toString()) as { outputs: { name: string; parameters: { binary_data_size: number } }[] };
    assert.deepEqual(outHeader.outputs.map((o) => o.name), ['label', 'probabilities', 'prediction_id']);
    const [labelSize = 0, probSize = 0] = outHeader.outputs.map((o) => o.parameters.binary_data_size);
    assert.equal(probSize, 3 * 2 * 4, 'probabilities: FP32 [3, 2]');
    const probs = body.subarray(length + labelSize, length + labelSize + probSize);
    assert.ok(Math.abs(probs.readFloatLE(4) - 0.731) < 0.01, 'sun: softmax of (0, 1)');
    assert.equal(length + outHeader.outputs.reduce((s, o) => s + o.parameters.binary_data_size, 0), body.length);
  });

  it('publishes the feature order, the [n, k] form and the extensions', async () => {
    const meta = await json(await fetch(`${base}/v2/models/weather/versions/v1`));
    assert.deepEqual(meta['parameters'], { classes: 'rain,sun', features: 'x', matrix_input: 'input', matrix_datatype: 'FP32' });
    assert.deepEqual((await json(await fetch(`${base}/v2`)))['extensions'], ['binary_tensor_data', 'classification', 'model_repository', 'statistics']);
  });

  it('the repository index is read-only; statistics in Triton\'s shape', async () => {
    const index = await fetch(`${base}/v2/repository/index`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"ready":true}' });
    assert.deepEqual(await index.json(), [{ name: 'weather', version: 'v1', state: 'READY', reason: '' }]);
    const load = await fetch(`${base}/v2/repository/models/weather/load`, { method: 'POST', body: '{}' });
    assert.equal(load.status, 403);
    assert.match(String((await json(load))['error']), /read-only/);
    const stats = (await json(await fetch(`${base}/v2/models/weather/versions/v1/stats`)))['model_stats'] as Record<string, unknown>[];
    const s = stats[0] as { inference_count: number; execution_count: number; inference_stats: Record<string, { count: number; ns: number }> };
    assert.equal(s.inference_count, 5, '2 + 3 rows answered');
    assert.ok(s.execution_count >= 2);
    assert.equal(s.inference_stats['success']?.count, 2);
    assert.ok((s.inference_stats['compute_infer']?.ns ?? 0) > 0);
    assert.equal((await fetch(`${base}/v2/models/other/stats`)).status, 404);
    assert.deepEqual(((await json(await fetch(`${base}/v2/models/stats`)))['model_stats'] as { name: string }[]).map((x) => x.name), ['weather']);
  });

  it('hostile bodies get a 4xx with a reason and are counted as such, never a 5xx', async () => {
    const x = encodeTensorBytes('FP32', [1]);
    const header = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1], parameters: { binary_data_size: 4 } }] });
    const cases: [string | Buffer, Record<string, string>, number, RegExp][] = [
      [Buffer.concat([Buffer.from(header), x]), {}, 400, /malformed JSON/],
      [Buffer.concat([Buffer.from(header), x]), { 'inference-header-content-length': '99999' }, 400, /longer than the body/],
      [Buffer.concat([Buffer.from(header), x.subarray(0, 2)]), { 'inference-header-content-length': String(header.length) }, 400, /only 2 bytes of binary data remain/],
      [Buffer.concat([Buffer.from(header), encodeTensorBytes('FP32', [NaN])]), { 'inference-header-content-length': String(header.length) }, 400, /data\[0\]: NaN is not a finite float32 number/],
      [JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }], outputs: [{ name: 'scores' }] }), {}, 400, /unknown output "scores"/],
      [JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }], parameters: { priority: 1 } }), {}, 400, /parameter "priority" is not understood \(understood: binary_data_output\)/],
      [JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [-1], data: [1] }] }), {}, 400, /not a non-negative integer/],
      [JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }] }), { 'content-type': 'text/csv' }, 415, /not supported/],
      [JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }] }), { 'content-encoding': 'gzip' }, 415, /send the body uncompressed/],
      [JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }] }), { 'content-type': 'application/json; charset=utf-16' }, 415, /charset "utf-16" is not supported/],
      ['x'.repeat(70_000), {}, 413, /body too large/],
    ];
    for (const [body, headers, status, reason] of cases) {
      const r = await infer(body, typeof body === 'string' ? { 'content-type': 'application/json', ...headers } : headers);
      assert.equal(r.status, status, reason.source);
      assert.match(String((await json(r))['error']), reason);
    }
    const counted = (await metrics.registry.metrics()).split('\n').filter((l) => l.startsWith('perennial_server_requests_total{'));
    assert.deepEqual(counted.filter((l) => /code="5/.test(l) && !/code="503"/.test(l)), [], 'no 5xx but the 503 before the model was loaded');
    assert.ok(counted.some((l) => /route="v2_infer"/.test(l) && /code="400"/.test(l) && l.endsWith(' 7')), counted.join('\n'));
  });
});
