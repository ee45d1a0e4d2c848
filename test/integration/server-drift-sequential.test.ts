// The sequential drift detector in the real server process (the bundle, as the image runs it) on models the real
// trainer made from the weather data, with the loop's features (precipitation, temperatures, wind): stationary
// Seattle traffic never sets it, New York traffic sets it within a couple of hundred rows (long before the PSI
// window says anything), and a server loading a new version starts with it unset, its evidence at 0.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sharedCluster, uniqueName } from '../../localcluster/test-cluster.js';
import type { ClusterInfo } from '../../localcluster/cluster.js';
import { detectionThreshold } from '../../src/shared/drift-sequential.js';
import type { RawRow } from '../../src/shared/preprocessing.js';
import { driftEvidence, featurePsi, parsePrometheusText, serverMetricNames as N, type Sample } from '../../src/shared/server-metrics.js';
import type { MinioStore } from '../../src/storage/minio-store.js';
import { shuffled } from '../support/dataset.js';
import { storeFor } from './trainer-harness.js';
import { postJson, serverEnv, startServer, trainWeatherModel, waitReady, weatherInstances, type RunningServer } from '../support/served-model.js';

/** The loop's features only (weather-loop.ts): the date is the event time, not a feature; no location. */
const loopSchema = (location: string): Record<string, unknown> => ({
  data: { sources: [{ prefix: 'data/ml/weather/', format: 'csv' }], where: { column: 'location', in: [location] } },
  schema: {
    features: [{ name: 'precipitation', type: 'numeric' }, { name: 'temp_max', type: 'numeric' }, { name: 'temp_min', type: 'numeric' }, { name: 'wind', type: 'numeric' }],
    label: 'weather', task: 'classification', timestamp: 'date',
  },
  validation: { minRows: 500, ranges: { precipitation: { min: 0 }, wind: { min: 0 } }, schemaDrift: 'warning' },
  hyperparameters: { epochs: 2, batchSize: 64, learningRate: 0.01, patience: 1, validationFraction: 0.15 },
  evaluation: { holdout: { from: '2015-01-01' }, gates: { thresholds: { accuracy: 0 } } },
});

const rowsOf = (location: string): RawRow[] => weatherInstances(location).instances.map((r) => ({
  precipitation: r['precipitation'] ?? null, temp_max: r['temp_max'] ?? null, temp_min: r['temp_min'] ?? null, wind: r['wind'] ?? null, date: r['date'] ?? null,
}));

async function scrape(s: RunningServer): Promise<Sample[]> {
  return parsePrometheusText(await (await fetch(`${s.url}/metrics`)).text());
}

const value = (samples: readonly Sample[], name: string): number | undefined => samples.find((x) => x.name === name)?.value;

async function predict(s: RunningServer, rows: readonly RawRow[]): Promise<void> {
  const r = await postJson(`${s.url}/v1/models/weather:predict`, { instances: rows });
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

describe('server: sequential drift detection', () => {
  let info: ClusterInfo;
  let store: MinioStore;
  const bucket = uniqueName('drift-seq');
  const seattle = rowsOf('Seattle');
  const newYork = rowsOf('New York');
  const threshold = detectionThreshold(4);
  const running: RunningServer[] = [];

  async function serve(version: string, deployment: string): Promise<RunningServer> {
    const s = await startServer(serverEnv(info, { bucket, version, deployment }));
    running.push(s);
    await waitReady(s);
    return s;
  }

  before(async () => {
    info = await sharedCluster();
    store = storeFor(info);
    await trainWeatherModel(info, store, bucket, 'v1', loopSchema('Seattle'));
    await trainWeatherModel(info, store, bucket, 'v2', loopSchema('New York'));
  });

  after(async () => {
    for (const s of running) await s.stop('SIGKILL');
    for (const o of await store.list(bucket, '')) await store.delete(bucket, o.key);
  });

  it('stationary Seattle traffic (every Seattle day, resampled) never sets it', async () => {
    const s = await serve('v1', 'ml/weather-stationary');
    // 40,000 rows: 27 times the Seattle days, in requests of 100 like a busy client's.
    let seed = 1;
    for (let i = 0; i < 400; i++) await predict(s, shuffled(seattle, seed++).slice(0, 100));
    const samples = await scrape(s);
    const evidence = driftEvidence(samples, 'v1');
    console.log(`# stationary: ${value(samples, N.driftDetectorRows)} rows, evidence ${JSON.stringify(Object.fromEntries([...evidence].map(([k, v]) => [k, Number(v.toFixed(2))])))} nats, threshold ${threshold.toFixed(2)}`);
    assert.equal(value(samples, N.driftDetectorRows), 40_000);
    assert.deepEqual([...evidence.keys()].sort(), ['precipitation', 'temp_max', 'temp_min', 'wind']);
    assert.ok(Math.max(...evidence.values()) < threshold, 'every feature below the threshold');
    assert.equal(value(samples, N.driftDetected), 0);
    assert.equal(value(samples, N.driftDetectedTime), undefined);
  });

  it('New York traffic after Seattle sets it within 200 rows, while the PSI window still reads little', async () => {
    const s = await serve('v1', 'ml/weather-shift');
    for (let i = 0; i < 10; i++) await predict(s, shuffled(seattle, 100 + i).slice(0, 100));
    assert.equal(value(await scrape(s), N.driftDetected), 0, 'Seattle first: nothing');
    const ny = shuffled(newYork, 7);
    let sent = 0;
    let samples: Sample[] = [];
    const t0 = Date.now();
    while (sent < 400 && value(samples, N.driftDetected) !== 1) {
      await predict(s, ny.slice(sent, sent + 10));
      sent += 10;
      samples = await scrape(s);
    }
    const psi = featurePsi(samples, 'v1');
    console.log(`# shift: detected after ${sent} New York rows; evidence ${JSON.stringify(Object.fromEntries([...driftEvidence(samples, 'v1')].map(([k, v]) => [k, Number(v.toFixed(2))])))}; window PSI then ${JSON.stringify(Object.fromEntries([...psi].map(([k, v]) => [k, Number(v.toFixed(3))])))}`);
    assert.equal(value(samples, N.driftDetected), 1);
    assert.ok(sent <= 200, `detected after ${sent} rows`);
    const at = (value(samples, N.driftDetectedTime) ?? 0) * 1000;
    assert.ok(at >= t0 - 1000 && at <= Date.now() + 1000, 'detected at the time of the request that crossed');
    assert.ok(Math.max(...driftEvidence(samples, 'v1').values()) >= threshold);
    assert.ok(Math.max(...psi.values()) < 0.25, 'the 1-hour PSI window (1,000 Seattle rows) has not crossed 0.25 yet');
  });

  it('a server loading a new version starts with it unset: New York traffic to the New York model, and the Seattle model again', async () => {
    const v2 = await serve('v2', 'ml/weather-shift');
    let samples = await scrape(v2);
    assert.equal(value(samples, N.driftDetectorRows), 0);
    assert.deepEqual([...driftEvidence(samples, 'v2').values()], [0, 0, 0, 0], 'nothing carried over');
    for (let i = 0; i < 40; i++) await predict(v2, shuffled(newYork, 200 + i).slice(0, 100));
    samples = await scrape(v2);
    console.log(`# v2 (New York reference) on New York traffic: evidence ${JSON.stringify(Object.fromEntries([...driftEvidence(samples, 'v2')].map(([k, v]) => [k, Number(v.toFixed(2))])))}`);
    assert.equal(value(samples, N.driftDetected), 0);
    assert.ok(Math.max(...driftEvidence(samples, 'v2').values()) < threshold);
    const again = await serve('v1', 'ml/weather-shift');
    samples = await scrape(again);
    assert.equal(value(samples, N.driftDetected), 0);
    assert.equal(value(samples, N.driftDetectorRows), 0);
  });
});
