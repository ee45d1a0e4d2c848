// Where a one-row :predict request's time goes inside the model server, stage by stage, in one process: each stage
// of ServerApp's path run alone in a loop on the same weather row (the Seattle features, an MLP 16-8 on the shared
// preprocessing: the shape bench/server-throughput.ts serves), microseconds per row. The HTTP stack itself (parsing
// the request, writing the answer on the socket) is not here: bench/server-throughput.ts measures it as the bare
// node:http ceiling. Stages:
//   parse      JSON.parse of the request body          validate   parseV1Predict (every edge check)
//   preprocess transformRows                           model      the forward pass: tfjs (WASM) and plain JS
//   calibrate  modelOutputs' calibration + argmax       sign       a nonce and the HMAC of the prediction id
//   log        the inference-log record appended (serialised; the store upload is batched and not counted)
//   metrics    the prediction counter and the request counter and histogram
//   drift      drift window + sequential detector + confidence window
//   encode     JSON.stringify of the answer
// Run: npx tsx bench/server-profile.ts   (no cluster, no network; BENCH_ROWS=1 rows per request)
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/ml/backend.js';
import { buildMlp } from '../src/ml/mlp.js';
import { MlpModel } from '../src/ml/mlp-model.js';
import { ConfidenceWindow } from '../src/server/confidence-window.js';
import { DriftWindow } from '../src/server/drift-window.js';
import { LogWriter } from '../src/server/log-writer.js';
import { ServerMetrics } from '../src/server/metrics.js';
import { predictBatch, type ServedModel } from '../src/server/model.js';
import { parseV1Predict, signatureOf } from '../src/server/requests.js';
import { profileRows, referenceProfileVersion, type ReferenceProfile } from '../src/shared/drift.js';
import { inferenceLogVersion } from '../src/shared/inference-log.js';
import { newNonce, signPredictionId } from '../src/shared/prediction-id.js';
import { fitPreprocessing, transformRows, type RawRow } from '../src/shared/preprocessing.js';
import { MemoryStore } from '../src/storage/memory-store.js';
import { weatherInstances } from '../test/support/served-model.js';

const perRequest = Number(process.env['BENCH_ROWS'] ?? 1);
const { instances, labels } = weatherInstances('Seattle');
const features = [
  { name: 'precipitation', type: 'numeric' }, { name: 'temp_max', type: 'numeric' }, { name: 'temp_min', type: 'numeric' },
  { name: 'wind', type: 'numeric' }, { name: 'date', type: 'date' }, { name: 'location', type: 'categorical' },
] as const;
const training = instances.map((r, i) => ({ ...r, weather: labels[i] ?? '' }));
const spec = fitPreprocessing(training, { features: [...features], label: 'weather', task: 'classification' });
if (spec.label.task !== 'classification') throw new Error('unreachable');
const classes = spec.label.classes;
const profile: ReferenceProfile = { version: referenceProfileVersion, rows: instances.length, features: profileRows(instances, features), epsilon: 1e-4 };

await selectBackend('wasm');
const layers = buildMlp({ inputWidth: spec.width, task: 'classification', classes: classes.length }, { hiddenUnits: [16, 8], activation: 'relu', dropout: 0, l2: 0 }, 7);
const tfjsModel = new MlpModel(layers);
const jsModel = tfjsModel.frozen();
if (jsModel === undefined) throw new Error('the MLP has no plain-JS forward pass');
const served = (model: ServedModel['model']): ServedModel => ({ manifest: {} as ServedModel['manifest'], spec, profile, model });

const body = JSON.stringify({ instances: instances.slice(100, 100 + perRequest) });
const parsed = parseV1Predict(JSON.parse(body), signatureOf(spec), 1000, 256, undefined);
const rows: RawRow[] = parsed.rows;
const x = transformRows(spec, rows);
const predictions = predictBatch(served(jsModel), rows);
const metrics = new ServerMetrics({ namespace: 'ml', deployment: 'weather', version: 'v1' }, () => undefined, () => ({}), () => 'classification');
const log = new LogWriter({
  store: new MemoryStore(), bucket: 'b', prefix: 'p/', spillDir: '/tmp/perennial-bench-spill', fileStem: 'bench', batchRecords: 1000,
  flushMs: 3_600_000, maxMemoryRecords: 1_000_000, batchBytes: 256 << 20, maxMemoryBytes: 2 ** 34, now: () => new Date(),
});
const drift = DriftWindow.fromProfile(profile, 3_600_000);
const confidence = new ConfidenceWindow(3_600_000);
const key = Buffer.from('bench-signing-key-0123456789');

/** Microseconds per call of `f`, after a warm-up, over about `ms` milliseconds. */
function time(f: () => void, ms = 600): number {
  for (let i = 0; i < 2000; i++) f();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    for (let i = 0; i < 200; i++) f();
    n += 200;
  }
  return ((performance.now() - start) * 1000) / n;
}

const now = new Date();
const stages: [string, () => void][] = [
  ['parse (JSON.parse)', () => void JSON.parse(body)],
  ['validate (parseV1Predict)', () => parseV1Predict(JSON.parse(body), signatureOf(spec), 1000, 256, undefined)],
  ['preprocess (transformRows)', () => transformRows(spec, rows)],
  ['model: tfjs WASM', () => tfjsModel.predict(x, rows.length)],
  ['model: plain JS (served)', () => jsModel.predict(x, rows.length)],
  ['calibrate + argmax (predictBatch − model)', () => predictBatch(served(jsModel), rows)],
  ['sign (nonce + HMAC)', () => {
    for (const p of predictions) {
      if ('label' in p) signPredictionId(key, 'ml/weather', { nonce: newNonce(), version: 'v1', track: 'stable', timeMs: now.getTime(), prediction: p.label, probabilities: p.probabilities });
    }
  }],
  ['log (record appended)', () => {
    for (const [i, p] of predictions.entries()) {
      if ('label' in p) log.append({ v: inferenceLogVersion, kind: 'prediction', id: 'p1.x.y', time: now.toISOString(), modelVersion: 'v1', track: 'stable', features: rows[i], prediction: p.label, probabilities: p.probabilities });
    }
  }],
  ['metrics (prediction + request)', () => {
    for (const p of predictions) if ('label' in p) metrics.predictions.inc({ class: p.label });
    metrics.observeRequest('predict', 200, 0.002);
  }],
  ['drift + confidence windows', () => {
    drift.add(rows, now.getTime());
    confidence.add(predictions, now.getTime());
  }],
  ['encode (JSON.stringify answer)', () => JSON.stringify({
    model_name: 'weather', model_version: 'v1', predictions: predictions.map((p) => ('label' in p ? p.label : p.value)),
    prediction_ids: ['p1.WyJGZWtVZi10LWV0NUpoUXNPVEkzSXpnIiwidjEiLCJzdGFibGUiLDE3OTY0MzEzMjA3OTksInJhaW4iLFswLDAsOTk5MzE2LDY4MywxXV0.XtUwzNQ7rjdkMYDunW6JCA'],
    classes, probabilities: predictions.map((p) => ('label' in p ? p.probabilities : [])),
  })],
];

console.log(`server stages for a ${perRequest}-row :predict, node ${process.version}, tfjs ${tf.version_core}, µs per request (one process)`);
const results = stages.map(([name, f]) => [name, time(f)] as const);
const pad = Math.max(...results.map(([n]) => n.length));
for (const [name, us] of results) console.log(`  ${name.padEnd(pad)}  ${us.toFixed(2).padStart(8)} µs`);
const get = (prefix: string): number => results.find(([n]) => n.startsWith(prefix))?.[1] ?? NaN;
// predictBatch includes the model call: what it adds is calibration and building the answer's objects.
const served1 = ['parse', 'validate', 'preprocess', 'sign', 'log', 'metrics', 'drift', 'encode'].reduce((a, s) => a + get(s), 0);
const validateOnly = get('validate') - get('parse');
console.log(`  validation alone (validate − parse): ${validateOnly.toFixed(2)} µs`);
console.log(`  total of the stages with the plain-JS model: ${(served1 - get('preprocess') + get('calibrate')).toFixed(1)} µs per request; with tfjs WASM: ${(served1 - get('preprocess') + get('calibrate') - get('model: plain') + get('model: tfjs')).toFixed(1)} µs`);
await log.close(1000);
