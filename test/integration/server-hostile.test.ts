// The model server against hostile and careless clients: the real server bundle on a model the real trainer made
// from the Seattle weather data, in the shared cluster's MinIO, spoken to over raw sockets where fetch cannot say it
// (malformed targets, broken chunking, stalled headers and bodies, absurd headers). After EVERY case the process
// is alive, a good request still gets its prediction, and /metrics shows no 5xx answer. The server's shadow URL is
// its own :predict endpoint (a mirror loop by configuration), so every good request is mirrored exactly once.
// Its gRPC port takes the same connection flood and must answer a call after it.
// A second server with the string cap off, a log bucket that does not exist and small log byte limits takes 1 MB
// values until its memory and spill folder are full: it stays up, within its limits, and counts what it drops.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sharedCluster, uniqueName } from '../../localcluster/test-cluster.js';
import type { ClusterInfo } from '../../localcluster/cluster.js';
import { podEnv } from '../../src/shared/pod-contract.js';
import { diffSamples, parsePrometheusText, serverMetricNames, type Sample } from '../../src/shared/server-metrics.js';
import type { MinioStore } from '../../src/storage/minio-store.js';
import { storeFor } from './trainer-harness.js';
import { serverEnv, startServer, trainWeatherModel, waitReady, weatherInstances, type RunningServer } from '../support/served-model.js';
import { freePort } from '../../localcluster/net.js';
import { grpcCall, oipStub } from '../../src/server/testing/oip-grpc-client.js';

const headersTimeoutMs = 2000;
const bodyTimeoutMs = 2000;
const maxConnections = 32;

interface RawAnswer {
  readonly status: number;
  readonly text: string;
  /** Milliseconds from the first byte sent until the server closed the connection (or the wait ended). */
  readonly ms: number;
  readonly closed: boolean;
}

/** Sends raw bytes, in timed parts (a number is a pause in ms), and reads until the server closes or `waitMs` ends. */
function raw(port: number, parts: readonly (string | Buffer | number)[], waitMs = 8000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const started = Date.now();
    const c = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      c.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text, ms: Date.now() - started, closed });
    };
    c.on('data', (d: Buffer) => chunks.push(d));
    c.on('close', () => finish(true));
    c.on('error', () => undefined);
    setTimeout(() => finish(false), waitMs).unref();
    c.once('connect', () => {
      void (async () => {
        for (const p of parts) {
          if (typeof p === 'number') await sleep(p);
          else if (!c.destroyed) c.write(p);
        }
      })();
    });
  });
}

/** A complete POST with the given body and headers (Content-Length added unless given). */
function post(path: string, body: string | Buffer, headers: Readonly<Record<string, string>> = { 'Content-Type': 'application/json' }): Buffer {
  const h = { Host: 'x', ...headers, ...('Content-Length' in headers || 'Transfer-Encoding' in headers ? {} : { 'Content-Length': String(Buffer.byteLength(body)) }), Connection: 'close' };
  const head = `POST ${path} HTTP/1.1\r\n${Object.entries(h).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), typeof body === 'string' ? Buffer.from(body) : body]);
}

const predictPath = '/v1/models/weather:predict';

/** The `error` of a JSON answer (decoded as UTF-8), else the raw answer. */
function errorOf(a: RawAnswer): string {
  const body = Buffer.from(a.text.split('\r\n\r\n').slice(1).join('\r\n\r\n'), 'latin1').toString('utf8');
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    return typeof parsed.error === 'string' ? parsed.error : a.text;
  } catch {
    return a.text;
  }
}

async function scrape(s: RunningServer): Promise<Sample[]> {
  return parsePrometheusText(await (await fetch(`${s.url}/metrics`)).text());
}

function total(samples: readonly Sample[], name: string, where: (l: Readonly<Record<string, string>>) => boolean = () => true): number {
  return samples.filter((s) => s.name === name && where(s.labels)).reduce((a, s) => a + s.value, 0);
}

describe('model server under hostile input', () => {
  let info: ClusterInfo;
  let store: MinioStore;
  let server: RunningServer;
  /** /metrics once the server is ready: its readiness answered 503 while the model loaded, which is no fault. */
  let ready: Sample[] = [];
  let port = 0;
  let grpcPort = 0;
  const bucket = uniqueName('hostile');
  const good = weatherInstances('Seattle').instances.slice(0, 3);

  before(async () => {
    info = await sharedCluster();
    store = storeFor(info);
    await trainWeatherModel(info, store, bucket, 'v1');
    port = await freePort();
    grpcPort = await freePort();
    server = await startServer(serverEnv(info, {
      bucket, version: 'v1', env: {
        [podEnv.serverPort]: String(port),
        [podEnv.serverGrpcPort]: String(grpcPort),
        // The mirror loop: this server's shadow is itself.
        [podEnv.serverShadowUrl]: `http://127.0.0.1:${port}${predictPath}`,
        [podEnv.serverHeadersTimeoutMs]: String(headersTimeoutMs),
        [podEnv.serverBodyTimeoutMs]: String(bodyTimeoutMs),
        [podEnv.serverMaxConnections]: String(maxConnections),
      },
    }));
    await waitReady(server);
    ready = await scrape(server);
  });

  after(async () => {
    await server.stop('SIGKILL');
    for (const o of await store.list(bucket, '')) await store.delete(bucket, o.key);
  });

  /** After every case: alive, a good request answered, no 5xx in /metrics. */
  async function stillHealthy(what: string): Promise<void> {
    assert.equal(server.child.exitCode, null, `${what}: the process exited: ${server.output().slice(-2000)}`);
    assert.equal(server.child.signalCode, null, `${what}: the process was killed`);
    const r = await fetch(`${server.url}${predictPath}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: good }) });
    assert.equal(r.status, 200, `${what}: a good request after it: ${await r.text()}`);
    const fivexx = diffSamples(ready, await scrape(server)).filter((s) => s.name === serverMetricNames.requests && (s.labels['code'] ?? '').startsWith('5') && s.value > 0);
    assert.deepEqual(fivexx.map((s) => `${s.labels['route'] ?? ''} ${s.labels['code'] ?? ''} ${s.value}`), [], `${what}: 5xx answers in /metrics`);
  }

  /** Runs one hostile case: the answer's status must be `expect` (a 4xx), then the server must be healthy. */
  async function hostile(what: string, send: () => Promise<RawAnswer>, expect: number | readonly number[], message?: RegExp): Promise<RawAnswer> {
    const a = await send();
    const allowed = typeof expect === 'number' ? [expect] : expect;
    assert.ok(allowed.includes(a.status), `${what}: answered ${a.status}, expected ${allowed.join(' or ')}: ${a.text.slice(0, 400)}`);
    if (message) assert.match(errorOf(a), message, what);
    if (a.status !== 0) assert.match(a.text, /content-type: application\/json/i, `${what}: a JSON error`);
    await stillHealthy(what);
    return a;
  }

  it('malformed request targets: 400 or 404, never a crash (they threw from new URL before)', async () => {
    const get = (target: string): Promise<RawAnswer> => raw(port, [`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`]);
    await hostile('GET //x:99999/', () => get('//x:99999/'), 404, /no route for GET/);
    await hostile('GET http://a:99999/', () => get('http://a:99999/'), 400, /malformed request target/);
    await hostile('GET http://[::1/', () => get('http://[::1/'), 400, /malformed request target/);
    await hostile('GET *', () => get('*'), 400, /malformed request target/);
    await hostile('a control character in the target', () => get('/v2\x01'), 400, /malformed request target/);
    await hostile('a 10 kB target', () => get(`/${'a'.repeat(10_000)}`), 404);
    await hostile('absolute form to a real route', () => get('http://weather.example/v2/health/live'), 200);
  });

  it('malformed percent-escapes in names: 400 (a 500 before, counted against canaries)', async () => {
    await hostile('truncated UTF-8 escape', () => raw(port, [post('/v2/models/%E0%A4%A/infer', '{}')]), 400, /malformed percent-escape in the model name/);
    await hostile('non-hex escape', () => raw(port, [post('/v1/models/%zz:predict', '{}')]), 400, /malformed percent-escape/);
    await hostile('lone % in the version', () => raw(port, ['GET /v2/models/weather/versions/%/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']), 400, /model version/);
  });

  it('broken encodings and chunking: 400 or 415', async () => {
    const chunked = (...parts: (string | number)[]): Promise<RawAnswer> => raw(port, [
      `POST ${predictPath} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`, ...parts,
    ]);
    await hostile('a chunk size that is not hex', () => chunked('zz\r\n{}\r\n0\r\n\r\n'), 400, /malformed/);
    await hostile('chunk data longer than its size', () => chunked('2\r\n{"instances":[]}\r\n0\r\n\r\n'), 400, /malformed chunked body/);
    await hostile('a body that breaks off mid-chunk after a pause', () => chunked('10\r\n{"instances":', 300, 'x\r\nGARBAGE\r\n'), 400);
    await hostile('Content-Length and Transfer-Encoding both', () => raw(port, [post(predictPath, '0\r\n\r\n', { 'Content-Type': 'application/json', 'Content-Length': '5', 'Transfer-Encoding': 'chunked' })]), 400);
    await hostile('a Content-Length that is not a number', () => raw(port, [post(predictPath, '{}', { 'Content-Type': 'application/json', 'Content-Length': 'lots' })]), 400, /Content-Length/);
    await hostile('an absurd Content-Length', () => raw(port, [post(predictPath, '{}', { 'Content-Type': 'application/json', 'Content-Length': '99999999999999999999999999' })]), [400, 413]);
    await hostile('a gzip body', () => raw(port, [post(predictPath, Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0]), { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' })]), 415, /Content-Encoding/);
    await hostile('UTF-16 JSON', () => raw(port, [post(predictPath, Buffer.from(JSON.stringify({ instances: good }), 'utf16le'), { 'Content-Type': 'application/json; charset=utf-16' })]), 415, /charset/);
    // Invalid UTF-8 inside a string is read as U+FFFD: an unknown category, a normal prediction.
    const bad = Buffer.concat([Buffer.from('{"instances":[{"precipitation":0,"temp_max":10,"temp_min":5,"wind":3,"date":"2015-01-01","location":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}]}')]);
    await hostile('invalid UTF-8 in a value', () => raw(port, [post(predictPath, bad)]), 200);
    await hostile('a body that is not JSON', () => raw(port, [post(predictPath, '{"instances": [')]), 400, /malformed JSON/);
    await hostile('JSON nested 100,000 deep', () => raw(port, [post(predictPath, `{"instances":${'['.repeat(100_000)}`)]), 400, /malformed JSON/);
    await hostile('headers past 16 KiB', () => raw(port, [`GET /v2/health/live HTTP/1.1\r\nHost: x\r\nX-Junk: ${'j'.repeat(20_000)}\r\n\r\n`]), 431);
  });

  it('wrong or missing content types: 415', async () => {
    const body = JSON.stringify({ instances: good });
    await hostile('no Content-Type', () => raw(port, [post(predictPath, body, {})]), 415, /missing Content-Type/);
    await hostile('text/plain', () => raw(port, [post(predictPath, body, { 'Content-Type': 'text/plain' })]), 415);
    await hostile('a form', () => raw(port, [post('/v2/models/weather/infer', 'a=b', { 'Content-Type': 'application/x-www-form-urlencoded' })]), 415);
    await hostile('a charset parameter is fine', () => raw(port, [post(predictPath, body, { 'Content-Type': 'application/json; charset=UTF-8' })]), 200);
  });

  it('stalled headers and bodies are closed within seconds (408), not held for Node\'s 300 s', async () => {
    const headers = await hostile('headers that never end', () => raw(port, [`POST ${predictPath} HTTP/1.1\r\nHost: x\r\n`], 15_000), 408);
    assert.ok(headers.closed && headers.ms < headersTimeoutMs + 2500, `closed after ${headers.ms} ms`);
    const body = await hostile('a body that stops halfway', () => raw(port, [`POST ${predictPath} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"instances":[`], 15_000), 408, /request body not received within 2 s/);
    assert.ok(body.closed && body.ms < bodyTimeoutMs + 2500, `closed after ${body.ms} ms`);
    const trickle = await hostile('a body trickled a byte a second', () => raw(port, [
      `POST ${predictPath} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`, ...Array.from({ length: 8 }, () => ['{', 1000]).flat(),
    ], 15_000), 408);
    assert.ok(trickle.closed && trickle.ms < bodyTimeoutMs + 2500, `closed after ${trickle.ms} ms`);
    const client = await hostile('a client that goes away mid-body', async () => {
      const a = await raw(port, [`POST ${predictPath} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`], 300);
      await sleep(300);
      return a;
    }, 0);
    assert.equal(client.status, 0);
    const m499 = await scrape(server);
    assert.ok(total(m499, serverMetricNames.requests, (l) => l['code'] === '499') >= 1, `counted as 499: ${JSON.stringify(m499.filter((x) => x.name === serverMetricNames.requests))}`);
  });

  it('huge and absurd values: 400 naming the field', async () => {
    const row = (over: Record<string, unknown>): string => JSON.stringify({ instances: [{ ...good[0], ...over }] });
    const v1 = (body: string): Promise<RawAnswer> => raw(port, [post(predictPath, body)]);
    await hostile('a 1 MB category', () => v1(row({ location: 'S'.repeat(1_000_000) })), 400, /instances\[0\]\.location: a string longer than 256 bytes/);
    await hostile('a 257-byte category', () => v1(row({ location: 'é'.repeat(129) })), 400, /a string of 258 bytes, longer than 256/);
    await hostile('1e300', () => v1(row({ wind: 1e300 })), 400, /instances\[0\]\.wind: 1e\+300 is not a finite float32 number/);
    await hostile('1e400 (Infinity once parsed)', () => v1(row({ wind: 1 }).replace('"wind":1', '"wind":1e400')), 400, /Infinity is not a finite float32 number/);
    await hostile('-1e39', () => v1(row({ temp_max: -1e39 })), 400, /not a finite float32 number/);
    await hostile('"NaN" as a string for a number', () => v1(row({ precipitation: 'NaN' })), 400, /expected a number or null, got string/);
    await hostile('"Infinity" as a string', () => v1(row({ precipitation: 'Infinity' })), 400);
    await hostile('a date that does not parse', () => v1(row({ date: '2015-13-45' })), 400, /instances\[0\]\.date: "2015-13-45" is not a date/);
    await hostile('epoch milliseconds past a Date', () => v1(row({ date: 1e300 })), 400, /is not a date/);
    await hostile('a 1 MB date string', () => v1(row({ date: '2015-01-01'.padEnd(900_000, 'x') })), 400, /a string longer than 256 bytes/);
    await hostile('an object for a number', () => v1(row({ wind: { $gt: 1 } })), 400, /expected a number or null, got object/);
    await hostile('feature named like a prototype member', () => v1(JSON.stringify({ instances: [{ toString: 1 }] })), 400, /missing feature/);
    await hostile('__proto__ keys', () => v1(`{"instances":[{"__proto__":{"wind":1},${row({}).slice('{"instances":[{'.length)}`), 200);
    await hostile('1,001 instances', () => v1(JSON.stringify({ instances: Array.from({ length: 1001 }, () => good[0]) })), 413, /at most 1000/);
    await hostile('a body past 1 MiB', () => v1(row({ location: 'S'.repeat(1_100_000) })), 413);
    await hostile('v2: a 1 MB input name', () => raw(port, [post('/v2/models/weather/infer', JSON.stringify({ inputs: [{ name: 'n'.repeat(1_000_000), datatype: 'FP64', shape: [1], data: [1] }] }))]), 400, /unknown input "n{64}"…/);
    await hostile('v2: shape [1e300]', () => raw(port, [post('/v2/models/weather/infer', JSON.stringify({ inputs: [{ name: 'wind', datatype: 'FP64', shape: [1e300], data: [1] }] }))]), 413);
    await hostile('v2: a 1 kB id', () => raw(port, [post('/v2/models/weather/infer', JSON.stringify({ id: 'i'.repeat(1000), inputs: [] }))]), 400, /"id": a string longer than 256 bytes/);
    // Finite float32 values can still overflow inside the model: then 422, never a NaN answer.
    await hostile('3.4e38 everywhere', () => v1(row({ precipitation: 3.4e38, temp_max: 3.4e38, temp_min: -3.4e38, wind: 3.4e38 })), [200, 422]);
  });

  /** Opens the cap and 8 more connections to `to` at once; how many the server left open 200 ms later (then all closed). */
  async function flood(to: number): Promise<number> {
    const held = await Promise.all(Array.from({ length: maxConnections + 8 }, () => new Promise<ReturnType<typeof connect>>((resolve) => {
      const c = connect(to, '127.0.0.1', () => resolve(c));
      c.on('error', () => undefined);
    })));
    await sleep(200);
    const alive = held.filter((c) => !c.destroyed && c.readyState === 'open').length;
    for (const c of held) c.destroy();
    await sleep(200);
    return alive;
  }

  it('a connection flood is capped; the server answers again once it is over', async () => {
    const alive = await flood(port);
    assert.ok(alive <= maxConnections, `${alive} connections stayed open, the cap is ${maxConnections}`);
    await stillHealthy('after a connection flood');
  });

  it('a connection flood on the gRPC port is capped alike; a call is answered once it is over', async () => {
    const alive = await flood(grpcPort);
    assert.ok(alive <= maxConnections, `${alive} gRPC connections stayed open, the cap is ${maxConnections}`);
    const stub = oipStub(`127.0.0.1:${grpcPort}`);
    try {
      const answer = await grpcCall(stub, 'ServerReady', {});
      assert.deepEqual(answer, { ready: true });
    } finally {
      stub.close();
    }
    await stillHealthy('after a gRPC connection flood');
  });

  it('a mirror loop (the shadow URL is the server itself): each request is mirrored once, not again', async () => {
    await sleep(500);
    const before = await scrape(server);
    const n = 20;
    for (let i = 0; i < n; i++) {
      const r = await fetch(`${server.url}${predictPath}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: good.slice(0, 1) }) });
      assert.equal(r.status, 200);
    }
    await sleep(1000);
    const after = await scrape(server);
    const ok = (s: readonly Sample[]): number => total(s, serverMetricNames.requests, (l) => l['route'] === 'v1_predict' && l['code'] === '200');
    const mirrored = (s: readonly Sample[]): number => total(s, serverMetricNames.shadowRequests);
    assert.equal(ok(after) - ok(before), 2 * n, 'each request and its one mirror');
    assert.equal(mirrored(after) - mirrored(before), n, 'one mirrored row per request, agreeing with itself');
    assert.equal(total(after, serverMetricNames.shadowRequests, (l) => l['outcome'] === 'agree') - total(before, serverMetricNames.shadowRequests, (l) => l['outcome'] === 'agree'), n);
    await stillHealthy('after the mirror loop');
  });

  it('1 MB values with the string cap off and the store refusing: the log stays within its byte limits and counts what it drops', async () => {
    const spillDir = mkdtempSync(join(tmpdir(), 'perennial-hostile-spill-'));
    const maxSpill = 8 << 20;
    const bounded = await startServer(serverEnv(info, {
      bucket: uniqueName('no-such-bucket'), version: 'v1', spillDir, env: {
        [podEnv.serverModelBucket]: bucket,
        [podEnv.serverMaxStringBytes]: '0',
        [podEnv.serverMaxBodyBytes]: String(2 << 20),
        [podEnv.serverLogBatchBytes]: String(1 << 20),
        [podEnv.serverLogMaxMemoryBytes]: String(4 << 20),
        [podEnv.serverLogMaxSpillBytes]: String(maxSpill),
        [podEnv.serverLogFlushMs]: '100',
      },
    }));
    try {
      await waitReady(bounded);
      const big = JSON.stringify({ instances: [{ ...good[0], location: 'S'.repeat(1_000_000) }] });
      let maxRss = 0;
      for (let i = 0; i < 60; i++) {
        const r = await fetch(`${bounded.url}${predictPath}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
        assert.equal(r.status, 200, await r.text());
      }
      await sleep(1500);
      const m = await scrape(bounded);
      maxRss = total(m, 'perennial_server_process_resident_memory_bytes');
      const records = (outcome: string): number => total(m, serverMetricNames.logRecords, (l) => l['stream'] === 'predictions' && l['outcome'] === outcome);
      const onDisk = readdirSync(join(spillDir, 'predictions')).reduce((a, f) => a + statSync(join(spillDir, 'predictions', f)).size, 0);
      console.log(`# 60 requests of 1 MB values, store refusing: spilled ${records('spilled')}, dropped ${records('dropped')}, ${onDisk} bytes on disk, RSS ${(maxRss / 1048576).toFixed(0)} MiB`);
      assert.equal(bounded.child.exitCode, null, bounded.output().slice(-2000));
      assert.ok(records('spilled') > 0, 'batches went to disk');
      assert.ok(records('dropped') > 0, 'what fit neither was dropped and counted');
      assert.ok(onDisk <= maxSpill, `${onDisk} bytes in the spill folder`);
      assert.ok(records('stored') === 0);
      assert.match(bounded.output(), /dropped \d+ inference-log records/, 'drops are logged');
      const pending = total(m, serverMetricNames.logPending, (l) => l['stream'] === 'predictions');
      assert.equal(pending + records('dropped'), 60, 'every record is pending or counted as dropped');
      const ok = await fetch(`${bounded.url}${predictPath}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: good }) });
      assert.equal(ok.status, 200);
    } finally {
      await bounded.stop('SIGKILL');
    }
  });
});
