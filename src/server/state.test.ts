// The server's small stateful pieces: the drift window, the labelled ids, the config reader, shadow agreement.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { profileFeature, type FeatureProfile } from '../shared/drift.js';
import { podEnv } from '../shared/pod-contract.js';
import { parseModelRef, readServerConfig, ServerConfigError } from './config.js';
import { DriftWindow, minDriftRows } from './drift-window.js';
import { LabelledIds } from './labelled-ids.js';
import { isFinitePrediction } from './model.js';
import { agrees, shouldMirror } from './shadow.js';
import { routeOf } from './routes.js';

describe('DriftWindow', () => {
  const ref = Array.from({ length: 1000 }, (_, i) => ({ x: i % 100, c: i % 2 === 0 ? 'a' : 'b' }));
  const profiles = [profileFeature('x', 'numeric', ref.map((r) => r.x)), profileFeature('c', 'categorical', ref.map((r) => r.c))];

  it('shows no drift for rows like the reference and major drift for shifted ones', () => {
    const same = new DriftWindow(profiles, 60_000);
    same.add(ref, 0);
    const s = same.snapshot(1000);
    assert.equal(s.rows, 1000);
    assert.ok((s.psi.get('x') ?? 1) < 0.01);
    const shifted = new DriftWindow(profiles, 60_000);
    shifted.add(ref.map((r) => ({ x: r.x + 60, c: 'z' })), 0);
    const d = shifted.snapshot(1000);
    assert.ok((d.psi.get('x') ?? 0) > 0.25);
    assert.ok((d.psi.get('c') ?? 0) > 0.25);
  });

  it('publishes no PSI until the window holds 10 rows per bin of the feature', () => {
    const w = new DriftWindow(profiles, 60_000);
    const shifted = ref.map((r) => ({ x: r.x + 60, c: 'z' }));
    const xRows = minDriftRows(profiles[0] as FeatureProfile);
    const cRows = minDriftRows(profiles[1] as FeatureProfile);
    assert.ok(cRows < xRows, `${cRows} < ${xRows}`);
    w.add(shifted.slice(0, cRows - 1), 0);
    assert.deepEqual([...w.snapshot(1000).psi.keys()], []);
    w.add(shifted.slice(0, 1), 0);
    assert.deepEqual([...w.snapshot(1000).psi.keys()], ['c']);
    w.add(shifted.slice(0, xRows - cRows), 0);
    assert.deepEqual([...w.snapshot(1000).psi.keys()], ['x', 'c']);
    assert.ok((w.snapshot(1000).psi.get('x') ?? 0) > 0.25);
  });

  it('forgets rows older than the window', () => {
    const w = new DriftWindow(profiles, 60_000, { slots: 60 });
    w.add(ref.slice(0, 10), 0);
    w.add(ref.slice(0, 5), 30_000);
    assert.equal(w.snapshot(59_000).rows, 15);
    assert.equal(w.snapshot(61_000).rows, 5);
    assert.equal(w.snapshot(200_000).rows, 0);
    assert.equal(w.snapshot(200_000).psi.size, 0);
  });
});

describe('LabelledIds', () => {
  it('takes the first label of an id and reports a second as a duplicate', () => {
    const f = new LabelledIds(1000, 10);
    assert.equal(f.first('a', 0), true);
    assert.equal(f.first('a', 10), false);
    assert.equal(f.first('b', 20), true);
  });
  it('forgets by age and by count, oldest first', () => {
    const f = new LabelledIds(1000, 2);
    f.first('a', 0);
    f.first('b', 100);
    f.first('c', 200);
    assert.equal(f.size, 2, 'a went by count');
    assert.equal(f.first('b', 300), false, 'b is remembered');
    assert.equal(f.first('c', 1150), false, 'c is remembered (950 ms old)');
    assert.equal(f.first('b', 1150), true, 'b went by age (1050 ms old)');
    assert.equal(f.first('a', 1150), true, 'a went by count');
  });
});

describe('server config', () => {
  const base = {
    [podEnv.serverModel]: 'ml/weather@v3', [podEnv.serverDeployment]: 'ml/weather-prod', [podEnv.storeEndpoint]: 'minio',
    [podEnv.storeBucket]: 'models', [podEnv.accessKeyId]: 'k', [podEnv.secretAccessKey]: 's',
  };
  it('reads the pod contract with defaults', () => {
    const c = readServerConfig(base);
    assert.deepEqual([c.pipeline, c.version, c.modelName, c.deployment, c.port, c.track, c.shadow], [
      { namespace: 'ml', name: 'weather' }, 'v3', 'weather', { namespace: 'ml', name: 'weather-prod' }, 8080, 'stable', undefined,
    ]);
    assert.deepEqual(c.batch, { maxSize: 64, maxWaitMs: 0, maxQueueRows: 4096 });
    assert.deepEqual(c.edge, { headersTimeoutMs: 10_000, bodyTimeoutMs: 10_000, maxConnections: 1024, maxRequestsPerConnection: 1000, maxConnectionAgeMs: 5000 });
    assert.equal(c.maxStringBytes, 256);
    assert.deepEqual([c.driftWindowSeconds, c.driftWindowRows], [3600, 0], 'no row bound unless asked');
    assert.deepEqual([c.log.batchBytes, c.log.maxMemoryBytes, c.log.maxSpillBytes], [1 << 20, 32 << 20, 256 << 20]);
    assert.equal(c.heapGrowingPercent, 300, 'a growing factor of 4 unless asked (heap-policy.ts)');
  });
  it("reads the heap growing percent: 0 leaves V8 its own, out of range is refused", () => {
    assert.equal(readServerConfig({ ...base, [podEnv.serverHeapGrowingPercent]: '0' }).heapGrowingPercent, 0);
    assert.equal(readServerConfig({ ...base, [podEnv.serverHeapGrowingPercent]: '100' }).heapGrowingPercent, 100);
    for (const bad of ['-1', '1001', '1.5', 'lots']) {
      assert.throws(() => readServerConfig({ ...base, [podEnv.serverHeapGrowingPercent]: bad }), /PERENNIAL_SERVER_HEAP_GROWING_PERCENT must be an integer in \[0, 1000\]/, bad);
    }
  });
  it('reads the edge and log byte limits; 0 switches the edge bounds off', () => {
    const c = readServerConfig({
      ...base, [podEnv.serverHeadersTimeoutMs]: '0', [podEnv.serverBodyTimeoutMs]: '2500', [podEnv.serverMaxConnections]: '0', [podEnv.serverMaxStringBytes]: '0',
      [podEnv.serverLogBatchBytes]: '65536', [podEnv.serverLogMaxMemoryBytes]: '131072', [podEnv.serverLogMaxSpillBytes]: '0',
    });
    assert.deepEqual(c.edge, { headersTimeoutMs: 0, bodyTimeoutMs: 2500, maxConnections: 0, maxRequestsPerConnection: 1000, maxConnectionAgeMs: 5000 });
    assert.deepEqual([c.maxStringBytes, c.log.batchBytes, c.log.maxMemoryBytes, c.log.maxSpillBytes], [0, 65536, 131072, 0]);
  });
  it('reads the gRPC port: unset or 0 is no listener, the HTTP or feedback port is refused', () => {
    const table: [Record<string, string>, number | undefined | RegExp][] = [
      [{}, undefined], [{ [podEnv.serverGrpcPort]: '0' }, undefined], [{ [podEnv.serverGrpcPort]: '9000' }, 9000],
      [{ [podEnv.serverGrpcPort]: '8080' }, /PERENNIAL_SERVER_GRPC_PORT \(8080\) must differ from PERENNIAL_SERVER_PORT \(8080\)/],
      [{ [podEnv.serverGrpcPort]: '8081', [podEnv.serverFeedbackToken]: 'a-token-of-16-chars' }, /must differ from PERENNIAL_SERVER_FEEDBACK_PORT \(8081\)/],
      [{ [podEnv.serverGrpcPort]: '70000' }, /PERENNIAL_SERVER_GRPC_PORT must be an integer/],
    ];
    for (const [env, want] of table) {
      if (want instanceof RegExp) assert.throws(() => readServerConfig({ ...base, ...env }), want);
      else assert.equal(readServerConfig({ ...base, ...env }).grpcPort, want);
    }
  });
  it('refuses a record bound in memory below two batches of records', () => {
    assert.throws(() => readServerConfig({ ...base, [podEnv.serverLogBatchRecords]: '5000', [podEnv.serverLogMaxMemoryRecords]: '9999' }),
      /PERENNIAL_SERVER_LOG_MAX_MEMORY_RECORDS \(9999\) must be at least twice PERENNIAL_SERVER_LOG_BATCH_RECORDS \(5000\)/);
    const c = readServerConfig({ ...base, [podEnv.serverLogBatchRecords]: '50' });
    assert.deepEqual([c.log.batchRecords, c.log.maxMemoryRecords], [50, 20_000]);
  });
  it('refuses a memory bound below two batches, and limits out of range', () => {
    assert.throws(() => readServerConfig({ ...base, [podEnv.serverLogBatchBytes]: '65536', [podEnv.serverLogMaxMemoryBytes]: '100000', [podEnv.serverBodyTimeoutMs]: '-1', [podEnv.serverMaxStringBytes]: 'lots' }), (e: unknown) => {
      assert.ok(e instanceof ServerConfigError);
      assert.equal(e.problems.length, 3, e.message);
      assert.match(e.message, /PERENNIAL_SERVER_LOG_MAX_MEMORY_BYTES \(100000\) must be at least twice PERENNIAL_SERVER_LOG_BATCH_BYTES \(65536\)/);
      assert.match(e.message, /PERENNIAL_SERVER_BODY_TIMEOUT_MS must be an integer in \[0, 600000\]/);
      return true;
    });
  });
  it('reads the drift window\'s row bound: 0 is none, negative or past a million is refused', () => {
    const table: [string, number | RegExp][] = [['0', 0], ['2000', 2000], ['1000000', 1_000_000], ['-1', /PERENNIAL_SERVER_DRIFT_WINDOW_ROWS must be an integer in \[0, 1000000\]/], ['1000001', /PERENNIAL_SERVER_DRIFT_WINDOW_ROWS/], ['lots', /PERENNIAL_SERVER_DRIFT_WINDOW_ROWS/]];
    for (const [text, want] of table) {
      const read = (): number => readServerConfig({ ...base, [podEnv.serverDriftWindowRows]: text }).driftWindowRows;
      if (typeof want === 'number') assert.equal(read(), want, text);
      else assert.throws(read, want, text);
    }
  });
  it('reports every problem at once', () => {
    assert.throws(() => readServerConfig({ ...base, [podEnv.serverModel]: 'weather', [podEnv.serverPort]: 'x', [podEnv.serverShadowUrl]: 'ftp://a', [podEnv.serverTrack]: 'blue' }), (e: unknown) => {
      assert.ok(e instanceof ServerConfigError);
      assert.equal(e.problems.length, 4, e.message);
      return true;
    });
  });
  it('parses model references', () => {
    assert.deepEqual(parseModelRef('ml/w@v1'), { pipeline: { namespace: 'ml', name: 'w' }, version: 'v1' });
    for (const bad of ['ml/w', 'w@v1', 'ml/w@', 'ml/../w@v1', 'a/b/c@v1']) assert.equal(parseModelRef(bad), undefined, bad);
  });
});

describe('shadow agreement', () => {
  it('compares classes exactly and values within a relative tolerance', () => {
    assert.equal(agrees({ label: 'sun', probabilities: [1] }, 'sun', 0.01), true);
    assert.equal(agrees({ label: 'sun', probabilities: [1] }, 'rain', 0.01), false);
    assert.equal(agrees({ value: 100 }, 100.5, 0.01), true);
    assert.equal(agrees({ value: 100 }, 102, 0.01), false);
    assert.equal(agrees({ value: 100 }, '100', 0.01), false);
  });
});

describe('shadow loop guard', () => {
  it('mirrors only requests that are no mirror themselves, and never on the shadow track', () => {
    const table: [string, Record<string, string>, boolean][] = [
      ['stable', {}, true], ['canary', {}, true], ['stable', { 'x-perennial-shadow': '1' }, false], ['canary', { 'x-perennial-shadow': '' }, false],
      ['shadow', {}, false], ['shadow', { 'x-perennial-shadow': '1' }, false],
    ];
    for (const [track, headers, want] of table) assert.equal(shouldMirror(track, headers), want, `${track} ${JSON.stringify(headers)}`);
  });
});

describe('finite predictions', () => {
  it('a NaN or infinite output is no prediction', () => {
    assert.equal(isFinitePrediction({ label: 'sun', probabilities: [0.2, 0.8] }), true);
    assert.equal(isFinitePrediction({ label: 'sun', probabilities: [NaN, NaN] }), false);
    assert.equal(isFinitePrediction({ value: 3 }), true);
    assert.equal(isFinitePrediction({ value: Infinity }), false);
  });
});

describe('route labels', () => {
  const table: [string, string, string][] = [
    ['POST', '/v2/models/weather/infer', 'v2_infer'], ['POST', '/v2/models/weather/versions/v1/infer', 'v2_infer'],
    ['POST', '/v1/models/weather:predict', 'v1_predict'], ['GET', '/v1/models/weather:predict', 'metadata'],
    ['POST', '/v1/feedback', 'feedback'], ['GET', '/v2/health/ready', 'health'], ['GET', '/v2/models/weather/ready', 'health'],
    ['GET', '/v2/models/weather', 'metadata'], ['GET', '/metrics', 'metrics'], ['GET', '/nope', 'other'],
  ];
  for (const [method, path, route] of table) it(`${method} ${path} → ${route}`, () => assert.equal(routeOf(method, path), route));
});
