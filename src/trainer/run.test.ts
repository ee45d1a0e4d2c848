// The whole run in memory (MemoryStore, CPU backend): a JSONL regression data set plus feedback logs joined
// with their labels, through validation, training, evaluation and publishing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import winston from 'winston';
import { artifactKey, parseManifest } from '../shared/artifact-layout.js';
import { parseEvaluationReport } from '../shared/evaluation-report.js';
import { parseTrainerConfig, trainerConfigApiVersion } from '../shared/trainer-config.js';
import { MemoryStore } from '../storage/memory-store.js';
import { InvalidDataError, runTraining, VersionTakenError } from './run.js';

const log = winston.createLogger({ level: 'error', transports: [new winston.transports.Console({ silent: true })] });
const bucket = 'b';
const pipeline = { namespace: 'ns', name: 'reg' };

function line(i: number): string {
  const x = (i % 50) / 10;
  const c = i % 3 === 0 ? 'red' : 'blue';
  const y = 2 * x + (c === 'red' ? 3 : 0) + Math.sin(i) * 0.05;
  return JSON.stringify({ x, c, y, t: new Date(Date.UTC(2024, 0, 1) + i * 3_600_000).toISOString() });
}

function config(over: Record<string, unknown> = {}) {
  return parseTrainerConfig(JSON.stringify({
    apiVersion: trainerConfigApiVersion, pipeline, runId: 'r1', version: 'v1', seed: 1,
    data: {
      sources: [{ prefix: 'data/', format: 'jsonl' }],
      feedback: { predictionsPrefix: 'deployments/ns/reg/predictions/', feedbackPrefix: 'deployments/ns/reg/feedback/' },
    },
    schema: { features: [{ name: 'x', type: 'numeric' }, { name: 'c', type: 'categorical' }], label: 'y', task: 'regression', timestamp: 't' },
    validation: { minRows: 100 },
    model: { hiddenUnits: [16] },
    hyperparameters: { epochs: 40, batchSize: 16, learningRate: 0.02, patience: 10 },
    evaluation: { holdout: { lastFraction: 0.2 }, sliceColumn: 'c', gates: { thresholds: { r2: 0.8 } } },
    ...over,
  }));
}

async function seeded(): Promise<MemoryStore> {
  const store = new MemoryStore();
  await store.put(bucket, 'data/a.jsonl', Array.from({ length: 150 }, (_, i) => line(i)).join('\n'));
  await store.put(bucket, 'data/b.jsonl', Array.from({ length: 150 }, (_, i) => line(i + 150)).join('\n') + '\n');
  const preds = Array.from({ length: 20 }, (_, i) => JSON.stringify({ v: 1, kind: 'prediction', id: `p${i}`, time: new Date(Date.UTC(2024, 0, 2) + i * 60_000).toISOString(), modelVersion: 'v0', features: { x: i / 10, c: 'blue' }, prediction: 0 }));
  const labels = Array.from({ length: 15 }, (_, i) => JSON.stringify({ v: 1, kind: 'feedback', id: `p${i}`, label: (2 * i) / 10, time: '2024-02-01T00:00:00Z' }));
  await store.put(bucket, 'deployments/ns/reg/predictions/2024-01-02/x.jsonl', preds.join('\n') + '\n{torn');
  await store.put(bucket, 'deployments/ns/reg/feedback/2024-02-01/y.jsonl', labels.join('\n'));
  return store;
}

const deps = (store: MemoryStore) => ({ store, bucket, log, forcedBackend: 'cpu' as const, codeVersion: 'test', now: () => new Date('2024-03-01T00:00:00Z') });

describe('a training run (in memory)', () => {
  it('trains a regressor on JSONL plus joined feedback and publishes every artifact with the manifest last', async () => {
    const store = await seeded();
    const out = await runTraining(config(), deps(store));
    assert.equal(out.alreadyPublished, false);
    const manifest = parseManifest((await store.getBuffer(bucket, out.manifestKey)).toString());
    assert.equal(manifest.task, 'regression');
    assert.equal(manifest.artifacts.length, 7);
    // The operator reads metrics.json with the shared parser.
    const metrics = parseEvaluationReport((await store.getBuffer(bucket, artifactKey(pipeline, 'v1', 'metrics'))).toString());
    assert.equal(metrics.task, 'regression');
    assert.equal(metrics.primaryMetric, 'rmse');
    assert.equal(metrics.champion, undefined);
    assert.ok((metrics.candidate.metrics.r2 ?? 0) > 0.8, `r2 ${metrics.candidate.metrics.r2}`);
    assert.ok((metrics.candidate.metrics.rmse ?? 9) < (metrics.baseline.metrics.rmse ?? 0) / 2);
    assert.equal(metrics.gatesPassed, true);
    assert.deepEqual(metrics.candidate.slices.map((s) => s.value), ['blue', 'red']);
    assert.deepEqual(metrics.gates.map((g) => g.status), ['pass']);
    const lineage = JSON.parse((await store.getBuffer(bucket, artifactKey(pipeline, 'v1', 'lineage'))).toString()) as { feedback: { joined: number; unmatchedFeedback: number }; rows: { loaded: number }; sources: unknown[] };
    assert.equal(lineage.feedback.joined, 15);
    assert.equal(lineage.rows.loaded, 315);
    assert.equal(lineage.sources.length, 4);
  });

  // Bring your own data (docs/loop-semantics.md, "Event time, duplicates, holdout and refit"): 300 hourly rows with ids,
  // and fed-back rows that carry their event time: copies of the 10 newest uploaded rows (holdout rows), copies of 5
  // training rows and 6 new rows after the data. (Rows whose requests carried no event time take their prediction
  // time, months later here: the window would count back from them; inference-log.test.ts covers the count.)
  it('keeps event time, drops fed-back copies, refits on every row and writes the request columns into the spec', async () => {
    const store = new MemoryStore();
    const withId = (i: number): string => JSON.stringify({ ...(JSON.parse(line(i)) as object), id: `r${i}` });
    await store.put(bucket, 'data/a.jsonl', Array.from({ length: 300 }, (_, i) => withId(i)).join('\n'));
    const uploaded = (i: number) => JSON.parse(line(i)) as { x: number; c: string; y: number; t: string };
    const predictedAt = (k: number): string => new Date(Date.UTC(2024, 5, 1) + k * 60_000).toISOString();
    const pred = (k: number, features: { x: number; c: string }, extra: Record<string, unknown>) => JSON.stringify({ v: 1, kind: 'prediction', id: `q${k}`, time: predictedAt(k), modelVersion: 'v0', features, prediction: 0, ...extra });
    const preds: string[] = [];
    const labels: string[] = [];
    const add = (features: { x: number; c: string }, label: number, extra: Record<string, unknown>): void => {
      const k = preds.length;
      preds.push(pred(k, features, extra));
      labels.push(JSON.stringify({ v: 1, kind: 'feedback', id: `q${k}`, label, time: predictedAt(k + 1) }));
    };
    for (let i = 290; i < 300; i++) add({ x: uploaded(i).x, c: uploaded(i).c }, uploaded(i).y, { eventTime: uploaded(i).t, rowId: `r${i}` });
    for (let i = 100; i < 105; i++) add({ x: uploaded(i).x, c: uploaded(i).c }, uploaded(i).y + 1, { eventTime: uploaded(i).t }); // by content
    for (let i = 300; i < 306; i++) add({ x: uploaded(i).x, c: uploaded(i).c }, uploaded(i).y, { eventTime: uploaded(i).t, rowId: `n${i}` });
    await store.put(bucket, 'deployments/ns/reg/predictions/2024-06-01/x.jsonl', preds.join('\n'));
    await store.put(bucket, 'deployments/ns/reg/feedback/2024-06-01/y.jsonl', labels.join('\n'));
    const cfg = config({
      data: {
        sources: [{ prefix: 'data/', format: 'jsonl' }], window: { lastDays: 5 },
        feedback: { predictionsPrefix: 'deployments/ns/reg/predictions/', feedbackPrefix: 'deployments/ns/reg/feedback/' },
      },
      schema: { features: [{ name: 'x', type: 'numeric' }, { name: 'c', type: 'categorical' }], label: 'y', task: 'regression', timestamp: 't', rowId: 'id' },
      hyperparameters: { epochs: 15, batchSize: 16, learningRate: 0.02, patience: 5 },
      evaluation: { holdout: { lastFraction: 0.2 }, refit: true, gates: { minImprovementOverBaseline: 0.5 } },
    });
    await runTraining(cfg, deps(store));
    const read = async <T>(name: 'lineage' | 'metrics' | 'preprocessing' | 'referenceProfile'): Promise<T> => JSON.parse((await store.getBuffer(bucket, artifactKey(pipeline, 'v1', name))).toString()) as T;
    interface Lineage {
      feedback: { joined: number; eventTimeFromRequest: number; eventTimeFromPredictionTime: number; withRowId: number; admission: { admitted: number }; fedBackRows: { rows: number; eventTime: { to: string }; labelTime?: { from: string; to: string } } };
      duplicates: Record<string, unknown>;
      rows: { train: number; validation: number; holdout: number; outsideWindow?: number };
      driftReference: { rule: string; rows: number; to: string };
      refit: { requested: boolean; gatedModel: { epochs: number; trainRows: number }; refitRows: number; epochs: number; preprocessing: string };
    }
    const lineage = await read<Lineage>('lineage');
    assert.deepEqual(
      [lineage.feedback.joined, lineage.feedback.eventTimeFromRequest, lineage.feedback.eventTimeFromPredictionTime, lineage.feedback.withRowId],
      [21, 21, 0, 16],
    );
    assert.deepEqual(lineage.duplicates, {
      policy: 'prefer-uploaded', matchedBy: 'rowId', uploadedReplaced: 0, uploadedWithoutRowId: 0,
      fedBackMatchingHoldout: 10, fedBackMatchingUploaded: 5, fedBackRepeated: 0, fedBackKept: 6,
    });
    assert.equal(lineage.rows.holdout, 60, 'the newest 20% of the 300 uploaded rows');
    // The window counts 5 days back from the newest row by event time (the newest fed-back row, hour 305): the uploaded
    // rows of hours 185–239 (240–299 are the holdout) and the 6 new fed-back rows. With fed-back rows stamped with
    // their prediction time (June) the window kept those 6 rows and no uploaded row at all.
    const trained = lineage.rows.train + lineage.rows.validation;
    assert.equal(trained, 55 + 6);
    assert.equal(lineage.feedback.fedBackRows.rows, 6);
    assert.equal(lineage.feedback.fedBackRows.eventTime.to, uploaded(305).t);
    // When the labels of the 6 rows it trained on arrived (each a minute after its prediction): where the feedback
    // loop's latency starts.
    assert.deepEqual(lineage.feedback.fedBackRows.labelTime, { from: predictedAt(16), to: predictedAt(21) });
    assert.equal(lineage.refit.requested, true);
    assert.equal(lineage.refit.refitRows, trained + lineage.rows.holdout);
    assert.equal(lineage.refit.gatedModel.trainRows, lineage.rows.train);
    assert.equal(lineage.refit.epochs, Math.max(1, lineage.refit.gatedModel.epochs));
    assert.equal(lineage.refit.preprocessing, 'fitted on every row');
    assert.equal(lineage.driftReference.rule, 'default');
    const metrics = parseEvaluationReport((await store.getBuffer(bucket, artifactKey(pipeline, 'v1', 'metrics'))).toString());
    const baseline = metrics.gates.find((g) => g.gate === 'baseline');
    assert.equal(baseline?.status, 'pass', baseline?.message);
    assert.match(baseline?.message ?? '', /^rmse \d+\.\d+ vs baseline \d+\.\d+/);
    const spec = await read<{ timestampColumn?: string; rowIdColumn?: string }>('preprocessing');
    assert.deepEqual([spec.timestampColumn, spec.rowIdColumn], ['t', 'id']);
  });

  it('publishes the gated model and says the refit was skipped when a gate fails', async () => {
    const store = await seeded();
    await runTraining(config({ hyperparameters: { epochs: 2 }, evaluation: { holdout: { lastFraction: 0.2 }, refit: true, gates: { thresholds: { r2: 0.9999 } } } }), deps(store));
    const lineage = JSON.parse((await store.getBuffer(bucket, artifactKey(pipeline, 'v1', 'lineage'))).toString()) as { refit: { requested: boolean; skipped?: string } };
    assert.equal(lineage.refit.requested, true);
    assert.match(lineage.refit.skipped ?? '', /gates failed \(threshold\)/);
    assert.equal(await store.exists(bucket, 'pipelines/ns/reg/runs/r1/checkpoints/refit/latest.json'), false);
  });

  it('is idempotent for the same run id and refuses to overwrite another run\'s version', async () => {
    const store = await seeded();
    await runTraining(config({ hyperparameters: { epochs: 2 } }), deps(store));
    const again = await runTraining(config({ hyperparameters: { epochs: 2 } }), deps(store));
    assert.equal(again.alreadyPublished, true);
    await assert.rejects(runTraining(config({ runId: 'other', hyperparameters: { epochs: 2 } }), deps(store)), VersionTakenError);
  });

  it('stops on invalid data with the report in the run prefix and nothing published', async () => {
    const store = await seeded();
    await store.put(bucket, 'data/c.jsonl', JSON.stringify({ x: 'many', c: 'blue', y: 1, t: '2024-05-01T00:00:00Z' }));
    const err = await runTraining(config(), deps(store)).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof InvalidDataError);
    assert.ok(err.report.issues.some((i) => i.check === 'wrong-type' && i.column === 'x' && i.rows?.[0]?.object === 'data/c.jsonl'));
    assert.equal((await store.list(bucket, 'pipelines/ns/reg/versions/')).length, 0);
    assert.ok(await store.exists(bucket, err.reportKey));
  });

  it('rejects data whose feature PSI against the champion\'s profile exceeds validation.maxSchemaDriftPsi, publishing nothing', async () => {
    const store = await seeded();
    await runTraining(config({ hyperparameters: { epochs: 2 } }), deps(store));
    // The next run's x arrives in other units (x 100): a pipeline break, not a change of the world.
    await store.put(bucket, 'data/a.jsonl', Array.from({ length: 150 }, (_, i) => line(i)).map((l) => { const r = JSON.parse(l) as { x: number }; return JSON.stringify({ ...r, x: r.x * 100 }); }).join('\n'));
    await store.put(bucket, 'data/b.jsonl', Array.from({ length: 150 }, (_, i) => line(i + 150)).map((l) => { const r = JSON.parse(l) as { x: number }; return JSON.stringify({ ...r, x: r.x * 100 }); }).join('\n'));
    const next = config({ runId: 'r2', version: 'v2', championVersion: 'v1', hyperparameters: { epochs: 2 }, validation: { minRows: 100, maxSchemaDriftPsi: 1 } });
    const err = await runTraining(next, deps(store)).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof InvalidDataError, String(err));
    const issue = err.report.issues.find((i) => i.check === 'feature-drift');
    assert.equal(issue?.column, 'x');
    assert.match(issue?.message ?? '', /against the profile of v1/);
    assert.equal((await store.list(bucket, 'pipelines/ns/reg/versions/v2/')).length, 0);
    assert.ok(await store.exists(bucket, err.reportKey));
  });
});
