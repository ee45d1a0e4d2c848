// Event time, duplicates, holdout, refit and the baseline gate with the real trainer process against the real MinIO
// (docs/loop-semantics.md, "Event time, duplicates, holdout and refit"). The Seattle weather rows (2012–2015) are
// uploaded with a row id; the inference log holds what a server would have logged for requests that carried their
// event time: copies of the 50 newest uploaded rows (holdout rows; half with their row id, half matched by content),
// copies of 30 training rows (no row id, 10 logged as an old server did: the date only among the features), and 20
// new rows inside the data's time range (two of them sent twice). The predictions were made today.
//
// Before event time, fed-back rows were stamped with their prediction time (today): they became the newest rows, the
// window `lastDays: 400` counted back from today and kept only the 102 fed-back rows, no uploaded row, and the copies
// of holdout rows trained (the same data in memory, src/trainer/run.test.ts's event-time case, on the trainer of
// 41db671: train 19 + validation 2 = the 21 fed-back rows). Here the window keeps the uploaded rows of the 400 days
// before the holdout, no copy of an uploaded row trains, the holdout is the newest uploaded rows, the published model
// is a refit on every row, and metrics.json has a baseline verdict.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sharedCluster, uniqueName } from '../../localcluster/test-cluster.js';
import type { ClusterInfo } from '../../localcluster/cluster.js';
import { artifactKey } from '../../src/shared/artifact-layout.js';
import { exitCodes } from '../../src/shared/pod-contract.js';
import type { MinioStore } from '../../src/storage/minio-store.js';
import { putText, readJsonObject, runTrainer, storeFor, trainerEnv, weatherLines } from './trainer-harness.js';

const pipeline = { namespace: 'ml', name: 'weather-event-time' };
const dataPrefix = 'data/ml/weather-event-time/';
const logPrefix = 'deployments/ml/weather-event-time/';

interface Lineage {
  feedback: {
    joined: number; eventTimeFromRequest: number; eventTimeFromPredictionTime: number; withRowId: number;
    admission: { fedBack: number; admitted: number };
    fedBackRows: { rows: number; eventTime?: { from: string; to: string }; predictionTime?: { from: string; to: string } };
  };
  duplicates: { policy: string; matchedBy: string; uploadedReplaced: number; uploadedWithoutRowId: number; fedBackMatchingHoldout: number; fedBackMatchingUploaded: number; fedBackRepeated: number; fedBackKept: number };
  rows: { loaded: number; train: number; validation: number; holdout: number };
  driftReference: { rule: string; rows: number; from: string; to: string };
  refit: { requested: boolean; skipped?: string; gatedModel?: { epochs: number; epochsDone: number; trainRows: number; validationRows: number }; refitRows?: number; epochs?: number; preprocessing?: string };
}
interface Metrics {
  holdout: { rows: number; from?: string; to?: string };
  candidate: { rows: number; metrics: Record<string, number> };
  baseline: { metrics: Record<string, number> };
  gates: { gate: string; status: string; observed?: number; limit?: number; message: string }[];
  gatesPassed: boolean;
  training: { rows: number; validationRows: number; bestEpoch: number };
}

interface WeatherRow { location: string; date: string; precipitation: number; temp_max: number; temp_min: number; wind: number; weather: string }

describe('trainer: event time, duplicates, holdout and refit', () => {
  let info: ClusterInfo;
  let store: MinioStore;
  const bucket = uniqueName('trainer-evt');
  const { header, rows: lines } = weatherLines();
  const seattle: WeatherRow[] = lines.map((l) => l.split(',')).filter((c) => c[0] === 'Seattle').map(([location = '', date = '', p = '', tmax = '', tmin = '', w = '', weather = '']) => ({
    location, date, precipitation: Number(p), temp_max: Number(tmax), temp_min: Number(tmin), wind: Number(w), weather,
  }));
  const holdoutRows = Math.ceil(seattle.length * 0.2);
  const predictedAt = Date.now();

  // What a server logs: the request's features, its event time and row id, its own clock's time.
  let n = 0;
  const predictions: string[] = [];
  const labels: string[] = [];
  const logged = (r: WeatherRow, how: { rowId?: string; eventTime?: boolean; label?: string }): void => {
    const id = `evt-${n++}`;
    const { weather, ...features } = r;
    predictions.push(JSON.stringify({
      v: 1, kind: 'prediction', id, time: new Date(predictedAt + n * 1000).toISOString(), modelVersion: 'v0', track: 'stable', features, prediction: 'sun',
      ...(how.eventTime !== false ? { eventTime: r.date } : {}), ...(how.rowId !== undefined ? { rowId: how.rowId } : {}),
    }));
    labels.push(JSON.stringify({ v: 1, kind: 'feedback', id, label: how.label ?? weather, time: new Date(predictedAt + n * 1000 + 500).toISOString() }));
  };
  const newest = seattle.slice(-50);
  newest.forEach((r, i) => logged(r, i % 2 === 0 ? { rowId: `Seattle-${r.date}` } : {}));
  const trainingCopies = seattle.slice(400, 430);
  trainingCopies.forEach((r, i) => logged(r, { eventTime: i >= 10, label: r.weather === 'rain' ? 'sun' : 'rain' }));
  // New rows: days of 2014 with another wind, and new ids; the first two are sent twice.
  const fresh = seattle.filter((r) => r.date.startsWith('2014-06')).slice(0, 20).map((r) => ({ ...r, wind: r.wind + 0.35 }));
  fresh.forEach((r) => logged(r, { rowId: `new-${r.date}` }));
  fresh.slice(0, 2).forEach((r) => logged(r, { rowId: `new-${r.date}` }));
  const fedBack = predictions.length;

  const config = {
    apiVersion: 'perennial.dev/trainer-config/v1',
    pipeline, runId: 'evt-1', version: 'v1',
    data: {
      sources: [{ prefix: dataPrefix, format: 'csv' }], where: { column: 'location', in: ['Seattle'] },
      window: { lastDays: 400 },
      feedback: { predictionsPrefix: `${logPrefix}predictions/`, feedbackPrefix: `${logPrefix}feedback/`, maxShare: 0.5 },
    },
    schema: {
      features: [
        { name: 'precipitation', type: 'numeric' }, { name: 'temp_max', type: 'numeric' }, { name: 'temp_min', type: 'numeric' },
        { name: 'wind', type: 'numeric' }, { name: 'date', type: 'date' }, { name: 'location', type: 'categorical' },
      ],
      label: 'weather', task: 'classification', timestamp: 'date', rowId: 'id',
    },
    validation: { minRows: 500, ranges: { precipitation: { min: 0 }, wind: { min: 0 } }, allowedCategories: { location: ['Seattle'] }, schemaDrift: 'warning' },
    model: { hiddenUnits: [16, 8] },
    hyperparameters: { epochs: 25, batchSize: 32, learningRate: 0.01, patience: 6, validationFraction: 0.15 },
    seed: 7,
    evaluation: {
      holdout: { lastFraction: 0.2 }, metrics: ['accuracy', 'macroF1', 'logLoss'], primaryMetric: 'accuracy', refit: true,
      gates: { thresholds: { accuracy: 0.6 }, minImprovementOverBaseline: 0.05 },
    },
  };

  before(async () => {
    info = await sharedCluster();
    store = storeFor(info);
    await store.ensureBucket(bucket);
    // The data with a row id column, in two objects; a third, read last, corrects the label of one 2013 row.
    const withId = (l: string): string => {
      const c = l.split(',');
      return `${l},${c[0] ?? ''}-${c[1] ?? ''}`;
    };
    const half = Math.ceil(lines.length / 2);
    await putText(store, bucket, `${dataPrefix}part-0.csv`, [`${header},id`, ...lines.slice(0, half).map(withId)].join('\n') + '\n');
    await putText(store, bucket, `${dataPrefix}part-1.csv`, [`${header},id`, ...lines.slice(half).map(withId)].join('\n') + '\n');
    const corrected = seattle.find((r) => r.date === '2013-03-05');
    assert.ok(corrected);
    await putText(store, bucket, `${dataPrefix}part-2-corrections.csv`, `${header},id\nSeattle,2013-03-05,${corrected.precipitation},${corrected.temp_max},${corrected.temp_min},${corrected.wind},fog,Seattle-2013-03-05\n`);
    const day = new Date(predictedAt).toISOString().slice(0, 10);
    await putText(store, bucket, `${logPrefix}predictions/${day}/pod-a-1.jsonl`, predictions.join('\n') + '\n');
    await putText(store, bucket, `${logPrefix}feedback/${day}/pod-a-1.jsonl`, labels.join('\n') + '\n');
  });

  after(async () => {
    for (const o of await store.list(bucket, '')) await store.delete(bucket, o.key);
  });

  it('keeps event time, drops and counts fed-back copies, holds out the newest uploaded rows, refits on every row and gates against the baseline', async () => {
    const r = await runTrainer(trainerEnv(info, bucket, config));
    assert.equal(r.code, exitCodes.success, r.stdout.slice(-4000) + r.stderr.slice(-2000));
    const lineage = await readJsonObject<Lineage>(store, bucket, artifactKey(pipeline, 'v1', 'lineage'));
    const metrics = await readJsonObject<Metrics>(store, bucket, artifactKey(pipeline, 'v1', 'metrics'));
    console.log(`# lineage rows ${JSON.stringify(lineage.rows)}; duplicates ${JSON.stringify(lineage.duplicates)}; refit ${JSON.stringify(lineage.refit)}`);
    console.log(`# holdout ${metrics.holdout.rows} rows ${metrics.holdout.from} … ${metrics.holdout.to}; gates ${metrics.gates.map((g) => `${g.gate}:${g.status} (${g.message})`).join('; ')}`);

    // Event time: every fed-back row has the request's (eventTime, or the date among the features of an old record).
    assert.equal(lineage.feedback.joined, fedBack);
    assert.equal(lineage.feedback.eventTimeFromRequest, fedBack);
    assert.equal(lineage.feedback.eventTimeFromPredictionTime, 0);
    assert.equal(lineage.feedback.withRowId, 25 + 22);

    // No double counting: copies of holdout rows never train, copies of uploaded rows are dropped, the repeats too.
    assert.deepEqual(lineage.duplicates, {
      policy: 'prefer-uploaded', matchedBy: 'rowId', uploadedReplaced: 1, uploadedWithoutRowId: 0,
      fedBackMatchingHoldout: 50, fedBackMatchingUploaded: 30, fedBackRepeated: 2, fedBackKept: 20,
    });
    assert.equal(lineage.feedback.admission.admitted, 20);
    assert.equal(lineage.feedback.fedBackRows.rows, 20, 'only the new rows train');
    assert.equal(lineage.feedback.fedBackRows.eventTime?.from, '2014-06-01T00:00:00.000Z');
    assert.equal(lineage.feedback.fedBackRows.eventTime?.to, '2014-06-20T00:00:00.000Z');
    assert.ok(Date.parse(lineage.feedback.fedBackRows.predictionTime?.from ?? '') >= predictedAt, 'the prediction time is kept apart');

    // Holdout: the newest fifth of the uploaded rows by event time, nothing else.
    assert.equal(lineage.rows.holdout, holdoutRows);
    assert.equal(metrics.holdout.rows, holdoutRows);
    assert.equal(metrics.holdout.to?.slice(0, 10), '2015-12-31');
    assert.equal(metrics.holdout.from?.slice(0, 10), seattle[seattle.length - holdoutRows]?.date);

    // The window counts 400 days back from the newest pool row by event time: uploaded rows of 2013–2014 train.
    const trained = lineage.rows.train + lineage.rows.validation;
    assert.ok(trained - 20 >= 390, `${trained} rows in the window, 20 of them fed back`);
    assert.equal(metrics.training.rows, lineage.rows.train, 'metrics.json describes the gated model');

    // Baseline gate: a verdict naming both numbers, passed.
    const baseline = metrics.gates.find((g) => g.gate === 'baseline');
    assert.equal(baseline?.status, 'pass', baseline?.message);
    assert.match(baseline?.message ?? '', /^accuracy \d\.\d{4} vs baseline \d\.\d{4}: /);
    assert.ok(Math.abs((baseline?.observed ?? 0) - ((metrics.candidate.metrics['accuracy'] ?? 0) - (metrics.baseline.metrics['accuracy'] ?? 0))) < 1e-9);
    assert.equal(metrics.gatesPassed, true);

    // Refit: the published model trained on every row, for the gated model's best epoch count.
    assert.equal(lineage.refit.requested, true, JSON.stringify(lineage.refit));
    assert.equal(lineage.refit.refitRows, trained + holdoutRows);
    assert.equal(lineage.refit.gatedModel?.trainRows, lineage.rows.train);
    assert.equal(lineage.refit.gatedModel?.epochs, metrics.training.bestEpoch);
    assert.equal(lineage.refit.epochs, Math.max(1, metrics.training.bestEpoch));
    assert.equal(lineage.refit.preprocessing, 'fitted on every row');
    assert.match(r.stdout, /refit done: the published model trained on every row/);

    // The spec names the request columns the server logs; the drift reference is the newest year by event time.
    const spec = await readJsonObject<{ timestampColumn?: string; rowIdColumn?: string }>(store, bucket, artifactKey(pipeline, 'v1', 'preprocessing'));
    assert.deepEqual([spec.timestampColumn, spec.rowIdColumn], ['date', 'id']);
    assert.equal(lineage.driftReference.rule, 'default');
    assert.equal(lineage.driftReference.to.slice(0, 10), '2015-12-31');
    assert.equal(lineage.driftReference.rows, Math.min(1000, trained + holdoutRows), 'a year of daily rows holds fewer than 1,000: the newest 1,000 (here all rows)');
  });
});
