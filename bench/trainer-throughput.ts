// Training throughput of the trainer's MLP, side by side in one run: the WASM, pure-JS CPU and native TensorFlow
// (tfjs-node, `make native-tfjs`) backends and scikit-learn's MLPClassifier on the same rows (Debian's
// python3-sklearn, bench/trainer_throughput_sklearn.py), for the default 64-32 MLP and a wide 512-256 one at a few
// batch sizes. The rows: Seattle and New York weather (vega-datasets) through the shared preprocessing, repeated
// BENCH_REPEAT times (default 1: 2,922 rows). Two tfjs measures per cell: `fit` is model.fit over the rows (what the
// trainer calls once per epoch), `step` is the same batches through optimizer.minimize with the batches sliced once,
// which leaves out fit()'s per-batch bookkeeping (callbacks, logs, slicing), to show where the time goes.
// Run: npx tsx bench/trainer-throughput.ts   (BENCH_EPOCHS=2, BENCH_REPEAT=1, BENCH_BACKENDS=wasm,cpu,tensorflow, BENCH_NO_SKLEARN=1)
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { parse } from 'csv-parse/sync';
import { isBackendName, selectBackend } from '../src/ml/backend.js';
import { buildMlp, compileMlp } from '../src/ml/mlp.js';
import { featuresTensor, labelsTensor } from '../src/ml/tensors.js';
import { encodeLabel, fitPreprocessing, transformRows, type RawRow } from '../src/shared/preprocessing.js';

const here = dirname(fileURLToPath(import.meta.url));
const weatherCsv = join(here, '..', 'node_modules/vega-datasets/data/weather.csv');
const once: RawRow[] = parse<Record<string, string>>(readFileSync(weatherCsv, 'utf8'), { columns: true, skip_empty_lines: true });
const rows: RawRow[] = Array.from({ length: Number(process.env['BENCH_REPEAT'] ?? 1) }, () => once).flat();
const features = [
  { name: 'precipitation', type: 'numeric' as const }, { name: 'temp_max', type: 'numeric' as const }, { name: 'temp_min', type: 'numeric' as const },
  { name: 'wind', type: 'numeric' as const }, { name: 'date', type: 'date' as const }, { name: 'location', type: 'categorical' as const },
];
const spec = fitPreprocessing(rows, { features, label: 'weather', task: 'classification' });
const classes = spec.label.task === 'classification' ? spec.label.classes.length : 1;
const epochs = Number(process.env['BENCH_EPOCHS'] ?? 2);
const backends = (process.env['BENCH_BACKENDS'] ?? 'wasm,cpu,tensorflow').split(',').filter(isBackendName);

interface Shape { readonly hiddenUnits: readonly number[]; readonly batchSize: number }
/** The trainer's default-sized model, and a wide one where the kernels, not the per-batch overhead, dominate. */
const shapes: Shape[] = [32, 128, 512].flatMap((batchSize) => [{ hiddenUnits: [64, 32], batchSize }, { hiddenUnits: [512, 256], batchSize }]);

function model(s: Shape): tf.Sequential {
  const m = buildMlp({ inputWidth: spec.width, task: 'classification', classes }, { hiddenUnits: [...s.hiddenUnits], activation: 'relu', dropout: 0, l2: 0 }, 1);
  compileMlp(m, 'classification', 0.01);
  return m;
}

/** Rows per second of model.fit over all rows, `epochs` times, after a one-epoch warm-up. */
async function fitRate(s: Shape, x: tf.Tensor2D, y: tf.Tensor2D): Promise<number> {
  const m = model(s);
  await m.fit(x, y, { epochs: 1, batchSize: s.batchSize, shuffle: false, verbose: 0 });
  const start = process.hrtime.bigint();
  await m.fit(x, y, { epochs, batchSize: s.batchSize, shuffle: false, verbose: 0 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  m.dispose();
  return (rows.length * epochs) / seconds;
}

/** The same work as bare optimizer steps on batches sliced once: fit()'s own per-batch cost is what is left out. */
async function stepRate(s: Shape, x: tf.Tensor2D, y: tf.Tensor2D): Promise<number> {
  const m = model(s);
  const n = x.shape[0];
  const batches: [tf.Tensor2D, tf.Tensor2D][] = [];
  for (let i = 0; i < n; i += s.batchSize) {
    const size = Math.min(s.batchSize, n - i);
    batches.push([x.slice([i, 0], [size, -1]), y.slice([i, 0], [size, -1])]);
  }
  const step = (): void => {
    for (const [bx, by] of batches) {
      m.optimizer.minimize(() => tf.mean(tf.metrics.categoricalCrossentropy(by, m.apply(bx) as tf.Tensor)));
    }
  };
  step();
  const start = process.hrtime.bigint();
  for (let e = 0; e < epochs; e++) step();
  await m.getWeights()[0]?.data(); // the native backend runs eagerly, but read back once to be sure all work is done
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  for (const [bx, by] of batches) tf.dispose([bx, by]);
  m.dispose();
  return (rows.length * epochs) / seconds;
}

function sklearnRates(): Map<string, number> | string {
  if (process.env['BENCH_NO_SKLEARN'] === '1') return 'skipped (BENCH_NO_SKLEARN=1)';
  const x = transformRows(spec, rows).reduce<number[][]>((acc, v, i) => {
    if (i % spec.width === 0) acc.push([]);
    acc[acc.length - 1]?.push(v);
    return acc;
  }, []);
  const y = rows.map((r) => encodeLabel(spec, r['weather']));
  const input = JSON.stringify({ x, y, epochs, shapes });
  const run = spawnSync('/usr/bin/python3', [join(here, 'trainer_throughput_sklearn.py')], { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) return `failed (python3-sklearn installed? apt-get install -y python3-sklearn): ${run.stderr.trim().split('\n').pop() ?? ''}`;
  const rates = new Map<string, number>();
  for (const line of run.stdout.trim().split('\n')) {
    const r = JSON.parse(line) as { hiddenUnits: number[]; batchSize: number; rowsPerSecond: number };
    rates.set(key(r), r.rowsPerSecond);
  }
  return rates;
}

function key(s: Shape): string {
  return `${s.hiddenUnits.join('-')}/${s.batchSize}`;
}

const fmt = (r: number | undefined): string => (r === undefined ? '-' : r.toFixed(0)).padStart(9);

console.log(`trainer throughput: tfjs ${tf.version.tfjs}, node ${process.version}, ${rows.length} rows × ${epochs} epochs, ${spec.width} inputs, ${classes} classes`);
const sklearn = sklearnRates();
if (typeof sklearn === 'string') console.log(`scikit-learn: ${sklearn}`);
const results = new Map<string, Map<string, number>>();
for (const backend of backends) {
  try {
    await selectBackend(backend);
  } catch (e: unknown) {
    console.log(`${backend}: not available (${e instanceof Error ? e.message : String(e)})`);
    continue;
  }
  const x = featuresTensor(spec, rows);
  const y = labelsTensor(spec, rows);
  for (const s of shapes) {
    const cell = results.get(key(s)) ?? new Map<string, number>();
    cell.set(`${backend} fit`, await fitRate(s, x, y));
    cell.set(`${backend} step`, await stepRate(s, x, y));
    console.error(`  ${backend} MLP ${key(s)}: fit ${fmt(cell.get(`${backend} fit`)).trim()}, step ${fmt(cell.get(`${backend} step`)).trim()} rows/s`);
    results.set(key(s), cell);
  }
  tf.dispose([x, y]);
}

// Where the time of a small model goes: the kernels one training step runs (forward, backward, Adam's update).
await selectBackend('wasm');
{
  const s = shapes[0] ?? { hiddenUnits: [64, 32], batchSize: 32 };
  const m = model(s);
  const x = featuresTensor(spec, rows.slice(0, s.batchSize));
  const y = labelsTensor(spec, rows.slice(0, s.batchSize));
  await m.trainOnBatch(x, y);
  const profile = await tf.profile(async () => {
    await m.trainOnBatch(x, y);
  });
  const counts = new Map<string, number>();
  for (const k of profile.kernels) counts.set(k.name, (counts.get(k.name) ?? 0) + 1);
  const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([name, n]) => `${name} ×${n}`).join(', ');
  console.log(`\none training step of MLP ${key(s)} runs ${profile.kernels.length} kernels (${top}, ...)`);
  tf.dispose([x, y]);
  m.dispose();
}

const columns = backends.flatMap((b) => [`${b} fit`, `${b} step`]);
console.log(`\nrows/s          ${columns.map((c) => c.padStart(17)).join('')}      sklearn  best tfjs fit / sklearn`);
for (const s of shapes) {
  const cell = results.get(key(s));
  const fits = backends.map((b) => cell?.get(`${b} fit`) ?? 0);
  const best = Math.max(...fits);
  const bestName = backends[fits.indexOf(best)] ?? '-';
  const sk = typeof sklearn === 'string' ? undefined : sklearn.get(key(s));
  const ratio = sk === undefined ? '' : `${(best / sk).toFixed(2)}× (${bestName})`;
  console.log(`MLP ${key(s).padEnd(12)}${columns.map((c) => fmt(cell?.get(c)).padStart(17)).join('')}${fmt(sk).padStart(13)}  ${ratio}`);
}
