// Training throughput of the trainer's MLP on the WASM and the pure-JS CPU backends, side by side in one run:
// the Seattle weather rows (vega-datasets) through the shared preprocessing, the same model and batches on
// both backends. Prints rows/second per backend and their ratio. Run: npx tsx bench/trainer-throughput.ts
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { parse } from 'csv-parse/sync';
import { selectBackend, type BackendName } from '../src/ml/backend.js';
import { buildMlp, compileMlp } from '../src/ml/mlp.js';
import { featuresTensor, labelsTensor } from '../src/ml/tensors.js';
import { fitPreprocessing, type RawRow } from '../src/shared/preprocessing.js';

const weatherCsv = join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules/vega-datasets/data/weather.csv');
const rows: RawRow[] = parse<Record<string, string>>(readFileSync(weatherCsv, 'utf8'), { columns: true, skip_empty_lines: true });
const features = [
  { name: 'precipitation', type: 'numeric' as const }, { name: 'temp_max', type: 'numeric' as const }, { name: 'temp_min', type: 'numeric' as const },
  { name: 'wind', type: 'numeric' as const }, { name: 'date', type: 'date' as const }, { name: 'location', type: 'categorical' as const },
];
const spec = fitPreprocessing(rows, { features, label: 'weather', task: 'classification' });
const epochs = Number(process.env['BENCH_EPOCHS'] ?? 4);
/** The trainer's default-sized model, and a wider one where the kernels, not the per-batch overhead, dominate. */
const shapes = [
  { hiddenUnits: [64, 32], batchSize: 32 },
  { hiddenUnits: [256, 128], batchSize: 128 },
];

async function measure(backend: BackendName, hiddenUnits: number[], batchSize: number): Promise<number> {
  const model = { type: 'mlp' as const, hiddenUnits, activation: 'relu' as const, dropout: 0, l2: 0 };
  const choice = await selectBackend(backend);
  const x = featuresTensor(spec, rows);
  const y = labelsTensor(spec, rows);
  const m = buildMlp({ inputWidth: spec.width, task: 'classification', classes: spec.label.task === 'classification' ? spec.label.classes.length : 1 }, model, 1);
  compileMlp(m, 'classification', 0.01);
  await m.fit(x, y, { epochs: 1, batchSize, shuffle: false, verbose: 0 }); // warm-up: kernels compiled, memory allocated
  const start = process.hrtime.bigint();
  await m.fit(x, y, { epochs, batchSize, shuffle: false, verbose: 0 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  x.dispose();
  y.dispose();
  m.dispose();
  const rate = (rows.length * epochs) / seconds;
  console.log(`${choice.backend.padEnd(5)} ${rate.toFixed(0).padStart(8)} rows/s  (${rows.length} rows × ${epochs} epochs in ${seconds.toFixed(2)} s, batch ${batchSize}, MLP ${model.hiddenUnits.join('-')}, ${spec.width} inputs)`);
  return rate;
}

console.log(`trainer throughput, tfjs ${tf.version.tfjs}, node ${process.version}`);
for (const { hiddenUnits, batchSize } of shapes) {
  const wasm = await measure('wasm', hiddenUnits, batchSize);
  const cpu = await measure('cpu', hiddenUnits, batchSize);
  console.log(`MLP ${hiddenUnits.join('-')}, batch ${batchSize}: wasm/cpu ratio ${(wasm / cpu).toFixed(2)}×\n`);
}
