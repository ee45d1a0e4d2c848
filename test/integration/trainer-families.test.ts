// The model families through the real trainer process (its bundle, as the image runs it) on Seattle weather, against
// the shared cluster's MinIO: gradient boosting and random forest train, calibrate, publish, and the one loader reads
// each back from the store and predicts what metrics.json measured; a search records every trial and judges them on
// the validation rows only (a holdout with scrambled labels leaves every trial score as it was, and changes the
// holdout metrics); the temperature fitted on the validation rows lowers their log loss.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sharedCluster, uniqueName } from '../../localcluster/test-cluster.js';
import type { ClusterInfo } from '../../localcluster/cluster.js';
import { loadTabularModel } from '../../src/ml/load-model.js';
import { predictRows } from '../../src/ml/predict.js';
import { readSavedModel } from '../../src/ml/store-io.js';
import { artifactKey, versionPrefix } from '../../src/shared/artifact-layout.js';
import { accuracy, argmax } from '../../src/shared/metrics-math.js';
import { exitCodes } from '../../src/shared/pod-contract.js';
import { parsePreprocessingSpec } from '../../src/shared/preprocessing.js';
import type { MinioStore } from '../../src/storage/minio-store.js';
import { putText, readJsonObject, runTrainer, storeFor, trainerEnv, weatherLines } from './trainer-harness.js';
import { weatherDataPrefix, weatherInstances, weatherPipeline, weatherTrainerConfig } from '../support/served-model.js';

interface Metrics {
  candidate: { metrics: Record<string, number> };
  baseline: { metrics: Record<string, number> };
  training: { family: string; settings: Record<string, number>; bestRound?: number; rounds?: number; warmStart: boolean };
}

interface Trial { index: number; status: string; score?: number; seconds: number; parameters: Record<string, unknown> }
interface Lineage {
  family: string;
  settings: Record<string, number>;
  calibration: { method: string; temperature: number; rows: number; logLossBefore: number; logLossAfter: number };
  search?: { trials: Trial[]; winner: Trial; judgedOn: { trainRows: number; validationRows: number } };
}

/** The weather CSV with the weather of every 2015 row (the holdout) shuffled among them: same classes, wrong labels. */
function scrambledHoldout(): string {
  const { header, rows } = weatherLines();
  const cols = header.split(',');
  const weather = cols.indexOf('weather');
  const date = cols.indexOf('date');
  const held = rows.map((r, i) => ({ r, i })).filter(({ r }) => (r.split(',')[date] ?? '').startsWith('2015'));
  const labels = held.map(({ r }) => r.split(',')[weather] ?? '');
  const out = [...rows];
  held.forEach(({ r, i }, k) => {
    const cells = r.split(',');
    cells[weather] = labels[(k * 37 + 11) % labels.length] ?? '';
    out[i] = cells.join(',');
  });
  return [header, ...out].join('\n') + '\n';
}

describe('trainer model families on Seattle weather', () => {
  let info: ClusterInfo;
  let store: MinioStore;
  const bucket = uniqueName('families');
  const scrambled = uniqueName('families-scrambled');
  const seattle = weatherInstances('Seattle');
  const rows2015 = seattle.instances.filter((r) => String(r['date']).startsWith('2015'));
  const labels2015 = seattle.labels.filter((_, i) => String(seattle.instances[i]?.['date']).startsWith('2015'));

  before(async () => {
    info = await sharedCluster();
    store = storeFor(info);
    const { header, rows } = weatherLines();
    await store.ensureBucket(bucket);
    await putText(store, bucket, `${weatherDataPrefix}all.csv`, [header, ...rows].join('\n') + '\n');
    await store.ensureBucket(scrambled);
    await putText(store, scrambled, `${weatherDataPrefix}all.csv`, scrambledHoldout());
  });

  after(async () => {
    for (const b of [bucket, scrambled]) for (const o of await store.list(b, '')) await store.delete(b, o.key);
  });

  const train = async (b: string, version: string, over: Record<string, unknown>): Promise<{ metrics: Metrics; lineage: Lineage; stdout: string }> => {
    const r = await runTrainer(trainerEnv(info, b, weatherTrainerConfig(version, over)));
    assert.equal(r.code, exitCodes.success, r.stdout.slice(-4000) + r.stderr);
    return {
      metrics: await readJsonObject<Metrics>(store, b, artifactKey(weatherPipeline, version, 'metrics')),
      lineage: await readJsonObject<Lineage>(store, b, artifactKey(weatherPipeline, version, 'lineage')),
      stdout: r.stdout,
    };
  };

  for (const family of ['gradient-boosting', 'random-forest'] as const) {
    it(`${family}: trains, publishes, and the loader reads it back from the store predicting what metrics.json measured`, async () => {
      const version = `v-${family}`;
      const { metrics, lineage } = await train(bucket, version, { model: { type: family } });
      const c = metrics.candidate.metrics;
      const b = metrics.baseline.metrics;
      console.log(`# ${family}: 2015 accuracy ${c['accuracy']?.toFixed(4)} (baseline ${b['accuracy']?.toFixed(4)}), log loss ${c['logLoss']?.toFixed(4)} (baseline ${b['logLoss']?.toFixed(4)}); temperature ${lineage.calibration.temperature.toFixed(3)}, validation log loss ${lineage.calibration.logLossBefore.toFixed(4)} -> ${lineage.calibration.logLossAfter.toFixed(4)}; settings ${JSON.stringify(metrics.training.settings)}, rounds ${metrics.training.rounds} (best ${metrics.training.bestRound})`);
      assert.equal(metrics.training.family, family);
      assert.equal(lineage.family, family);
      assert.deepEqual(metrics.training.settings, lineage.settings);
      assert.ok((c['accuracy'] ?? 0) >= (b['accuracy'] ?? 1) + 0.15, `accuracy ${c['accuracy']} vs baseline ${b['accuracy']}`);
      assert.ok((c['logLoss'] ?? 9) < (b['logLoss'] ?? 0), 'log loss below the baseline');

      const spec = parsePreprocessingSpec((await store.getBuffer(bucket, artifactKey(weatherPipeline, version, 'preprocessing'))).toString('utf8'));
      assert.equal(spec.calibration?.temperature, lineage.calibration.temperature);
      const model = await loadTabularModel(await readSavedModel(store, bucket, versionPrefix(weatherPipeline, version) + 'model/'));
      assert.equal(model.family, family);
      const p = predictRows(model, spec, rows2015);
      assert.ok(p.task === 'classification');
      const classes = spec.label.task === 'classification' ? spec.label.classes : [];
      const truth = labels2015.map((l) => classes.indexOf(l));
      assert.ok(Math.abs(accuracy(truth, p.probabilities.map((q) => argmax(q))) - (c['accuracy'] ?? 0)) < 1e-9, 'the reloaded model scores what metrics.json says');
      model.dispose();
    });
  }

  it('calibration: the temperature fitted on the validation rows lowers their log loss', async () => {
    const { lineage } = await train(bucket, 'v-calibrated', { model: { type: 'random-forest', trees: { count: 60 } } });
    assert.equal(lineage.calibration.method, 'temperature');
    assert.ok(lineage.calibration.rows > 100, `fitted on ${lineage.calibration.rows} rows`);
    assert.notEqual(lineage.calibration.temperature, 1);
    assert.ok(lineage.calibration.logLossAfter < lineage.calibration.logLossBefore, JSON.stringify(lineage.calibration));
    const none = await train(bucket, 'v-uncalibrated', { model: { type: 'random-forest', trees: { count: 60 }, calibration: 'none' } });
    assert.equal(none.lineage.calibration.method, 'none');
    const spec = parsePreprocessingSpec((await store.getBuffer(bucket, artifactKey(weatherPipeline, 'v-uncalibrated', 'preprocessing'))).toString('utf8'));
    assert.equal(spec.calibration, undefined);
  });

  it('search: every trial in lineage and the log, judged on the validation rows, never on the holdout', async () => {
    const search = { trials: 5, parameters: [{ name: 'maxDepth', min: 2, max: 8 }, { name: 'learningRate', min: 0.03, max: 0.3, scale: 'log' }, { name: 'minRowsPerLeaf', values: ['5', '20'] }] };
    const over = { model: { type: 'gradient-boosting' }, search };
    const clean = await train(bucket, 'v-search', over);
    const noisy = await train(scrambled, 'v-search', over);
    const s = clean.lineage.search;
    assert.ok(s);
    assert.equal(s.trials.length, 5);
    assert.ok(s.trials.every((t) => t.status === 'done' && Number.isFinite(t.score) && t.seconds >= 0), JSON.stringify(s.trials));
    assert.deepEqual(s.trials[0]?.parameters, {});
    assert.equal(s.winner.score, Math.min(...s.trials.map((t) => t.score ?? Infinity)));
    for (const [name, value] of Object.entries(s.winner.parameters)) assert.equal(clean.lineage.settings[name === 'treeCount' ? 'count' : name], value, name);
    const logged = clean.stdout.split('\n').filter((l) => l.includes('"message":"search trial"'));
    assert.equal(logged.length, 5);
    console.log(`# search: ${s.trials.map((t) => `#${t.index} ${JSON.stringify(t.parameters)} ${t.score?.toFixed(4)} (${t.seconds.toFixed(1)} s)`).join('; ')}; winner #${s.winner.index}`);
    // The scrambled holdout changed what the gates see, and nothing the search saw.
    assert.deepEqual(noisy.lineage.search?.trials.map((t) => [t.index, t.parameters, t.score]), s.trials.map((t) => [t.index, t.parameters, t.score]));
    assert.notEqual(noisy.metrics.candidate.metrics['accuracy'], clean.metrics.candidate.metrics['accuracy']);
  });
});
