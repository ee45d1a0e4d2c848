// The server's small stateful pieces: the drift window, the feedback store, the config reader, shadow agreement.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { profileFeature, type FeatureProfile } from '../shared/drift.js';
import { podEnv } from '../shared/pod-contract.js';
import { parseModelRef, readServerConfig, ServerConfigError } from './config.js';
import { DriftWindow, minDriftRows } from './drift-window.js';
import { FeedbackStore } from './feedback-store.js';
import { agrees } from './shadow.js';
import { routeOf } from './app.js';

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
    const w = new DriftWindow(profiles, 60_000, 60);
    w.add(ref.slice(0, 10), 0);
    w.add(ref.slice(0, 5), 30_000);
    assert.equal(w.snapshot(59_000).rows, 15);
    assert.equal(w.snapshot(61_000).rows, 5);
    assert.equal(w.snapshot(200_000).rows, 0);
    assert.equal(w.snapshot(200_000).psi.size, 0);
  });
});

describe('FeedbackStore', () => {
  it('accepts the first label, reports a second as duplicate and an unseen id as unknown', () => {
    const f = new FeedbackStore(1000, 10);
    f.remember('a', 'sun', 0);
    assert.deepEqual(f.label('a', 10), { kind: 'accepted', prediction: 'sun' });
    assert.deepEqual(f.label('a', 20), { kind: 'duplicate' });
    assert.deepEqual(f.label('b', 20), { kind: 'unknown' });
  });
  it('forgets by age and by count, oldest first', () => {
    const f = new FeedbackStore(1000, 2);
    f.remember('a', 1, 0);
    f.remember('b', 2, 100);
    f.remember('c', 3, 200);
    assert.equal(f.size, 2);
    assert.equal(f.label('a', 300).kind, 'unknown');
    assert.equal(f.label('b', 1150).kind, 'unknown', 'expired');
    assert.equal(f.label('c', 1150).kind, 'accepted');
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

describe('route labels', () => {
  const table: [string, string, string][] = [
    ['POST', '/v2/models/weather/infer', 'v2_infer'], ['POST', '/v2/models/weather/versions/v1/infer', 'v2_infer'],
    ['POST', '/v1/models/weather:predict', 'v1_predict'], ['GET', '/v1/models/weather:predict', 'metadata'],
    ['POST', '/v1/feedback', 'feedback'], ['GET', '/v2/health/ready', 'health'], ['GET', '/v2/models/weather/ready', 'health'],
    ['GET', '/v2/models/weather', 'metadata'], ['GET', '/metrics', 'metrics'], ['GET', '/nope', 'other'],
  ];
  for (const [method, path, route] of table) it(`${method} ${path} → ${route}`, () => assert.equal(routeOf(method, path), route));
});
