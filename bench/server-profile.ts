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
// Then the whole path: ServerApp.handle of a one-row v1 :predict and v2 infer, batcher and all, in waves of
// BENCH_WAVE requests (8: about the micro-batch wrk's 64 connections make), on a socket that discards what is
// written; beside it the same harness answering a fixed body (the bare handler), so the difference is the server's
// own work without the kernel's socket I/O and the HTTP parser, which bench/server-throughput.ts measures.
// Run: npx tsx bench/server-profile.ts   (no cluster, no network; BENCH_ROWS=1 rows per request)
// Profile: BENCH_PATH_ONLY=1 node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/server-profile.ts
import { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import * as tf from '@tensorflow/tfjs';
import { createLogger, transports } from 'winston';
import { selectBackend } from '../src/ml/backend.js';
import { buildMlp } from '../src/ml/mlp.js';
import { MlpModel } from '../src/ml/mlp-model.js';
import { ServerApp } from '../src/server/app.js';
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
    for (const p of predictions) if ('label' in p) metrics.countPrediction(p.label);
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
// BENCH_PATH_ONLY=1: only the whole path (for a CPU profile of it alone).
const results = process.env['BENCH_PATH_ONLY'] === '1' ? [] : stages.map(([name, f]) => [name, time(f)] as const);
const pad = Math.max(...results.map(([n]) => n.length));
for (const [name, us] of results) console.log(`  ${name.padEnd(pad)}  ${us.toFixed(2).padStart(8)} µs`);
const get = (prefix: string): number => results.find(([n]) => n.startsWith(prefix))?.[1] ?? NaN;
// predictBatch includes the model call: what it adds is calibration and building the answer's objects.
const served1 = ['parse', 'validate', 'preprocess', 'sign', 'log', 'metrics', 'drift', 'encode'].reduce((a, s) => a + get(s), 0);
const validateOnly = get('validate') - get('parse');
console.log(`  validation alone (validate − parse): ${validateOnly.toFixed(2)} µs`);
console.log(`  total of the stages with the plain-JS model: ${(served1 - get('preprocess') + get('calibrate')).toFixed(1)} µs per request; with tfjs WASM: ${(served1 - get('preprocess') + get('calibrate') - get('model: plain') + get('model: tfjs')).toFixed(1)} µs`);

/** A socket that takes every write and drops it. */
class NullSocket extends Duplex {
  override _read(): void {
    // nothing ever arrives
  }
  override _write(_chunk: unknown, _encoding: BufferEncoding, done: () => void): void {
    done();
  }
}

/** One request through `handler` on a NullSocket; resolves with the status once the answer is written. */
function call(handler: (req: IncomingMessage, res: ServerResponse) => void, url: string, text: string): Promise<number> {
  const socket = new NullSocket() as unknown as Socket;
  const req = new IncomingMessage(socket);
  req.method = 'POST';
  req.url = url;
  req.headers = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) };
  req.push(text);
  // As node:http's parser marks a request whose body arrived whole (else the ended request destroys its socket).
  req.complete = true;
  req.push(null);
  const res = new ServerResponse(req);
  res.assignSocket(socket);
  return new Promise((resolve) => {
    res.once('finish', () => {
      // What node:http's server does after 'finish': the app counts the request on 'close'.
      res.detachSocket(socket);
      res.emit('close');
      resolve(res.statusCode);
    });
    handler(req, res);
  });
}

const wave = Number(process.env['BENCH_WAVE'] ?? 8);
/** Microseconds per request of `handler` for requests sent in waves of `wave`, over about `ms` milliseconds. */
async function timePath(handler: (req: IncomingMessage, res: ServerResponse) => void, url: string, text: string, ms = 1500): Promise<number> {
  const round = async (): Promise<void> => {
    const statuses = await Promise.all(Array.from({ length: wave }, () => call(handler, url, text)));
    if (statuses.some((s) => s !== 200)) throw new Error(`${url}: status ${statuses.join(',')}`);
  };
  for (let i = 0; i < 500; i++) await round();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    await round();
    n += wave;
  }
  return ((performance.now() - start) * 1000) / n;
}

const appLog = new LogWriter({
  store: new MemoryStore(), bucket: 'b', prefix: 'app/', spillDir: '/tmp/perennial-bench-spill-app', fileStem: 'bench', batchRecords: 1000,
  flushMs: 1000, maxMemoryRecords: 100_000, now: () => new Date(),
});
const appConfidence = new ConfidenceWindow(3_600_000);
const app = new ServerApp({
  modelName: 'weather', version: 'v1', track: 'stable', codeVersion: 'bench', maxInstances: 1000, maxBodyBytes: 1 << 20, bodyTimeoutMs: 10_000, maxStringBytes: 256,
  batch: { maxSize: 64, maxWaitMs: 0, maxQueueRows: 10_000 },
  metrics: new ServerMetrics({ namespace: 'ml', deployment: 'weather', version: 'v1' }, () => undefined, () => ({}), () => 'classification', () => appConfidence.snapshot(Date.now())),
  predictionLog: appLog, deployment: 'ml/weather', signingKey: key, shadow: undefined, confidence: appConfidence,
  log: createLogger({ silent: true, transports: [new transports.Console()] }), now: () => new Date(),
});
app.setModel(served(jsModel), DriftWindow.fromProfile(profile, 3_600_000));
const handle = (req: IncomingMessage, res: ServerResponse): void => app.handle(req, res);
const v1Text = JSON.stringify({ instances: instances.slice(100, 101) });
const v2Text = JSON.stringify({ inputs: Object.entries(instances[100] ?? {}).map(([name, v]) => ({ name, datatype: typeof v === 'number' ? 'FP64' : 'BYTES', shape: [1], data: [v] })) });
const fixed = Buffer.from(JSON.stringify({ model_name: 'weather', model_version: 'v1', predictions: ['rain'], prediction_ids: ['p1.x.y'], classes, probabilities: [[0.2, 0.8]] }));
const bare = (req: IncomingMessage, res: ServerResponse): void => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': fixed.length });
    res.end(fixed);
  });
};
const bareUs = await timePath(bare, '/', v1Text);
const v1Us = await timePath(handle, '/v1/models/weather:predict', v1Text);
const v2Us = await timePath(handle, '/v2/models/weather/infer', v2Text);
console.log(`whole path, one-row requests in waves of ${wave} on a discarding socket, µs per request (harness included):`);
console.log(`  bare handler (fixed body)  ${bareUs.toFixed(2).padStart(8)} µs`);
console.log(`  v1 :predict                ${v1Us.toFixed(2).padStart(8)} µs   (server's own work: ${(v1Us - bareUs).toFixed(2)} µs)`);
console.log(`  v2 infer (JSON)            ${v2Us.toFixed(2).padStart(8)} µs   (server's own work: ${(v2Us - bareUs).toFixed(2)} µs)`);
await Promise.all([log.close(1000), appLog.close(1000)]);
