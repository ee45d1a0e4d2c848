// Prequential evaluation (test, then train, period by period) on a dataset the code was not designed around: the
// FAA wildlife strikes of vega-datasets (birdstrikes.csv, 1990–2002), a regression of the aircraft's speed from
// categorical columns whose names have spaces, by Flight Date (event time), one period a year. Every strategy
// predicts period p with the model it had before p's labels arrived, then learns p (or not):
//   mean            the training mean of everything seen (the baseline the trainer gates against)
//   static          trained on the first period only
//   every-period    retrained on every earlier period before each new one
//   …+refit         the same, the served model refitted on the holdout too (evaluation.refit)
// for Perennial's trainer (its runTraining, in process, on an in-memory store: the same code as the Job) and for
// scikit-learn's LinearRegression and RandomForestRegressor (Debian's python3-sklearn, bench/prequential_sklearn.py) on
// the same periods and features, side by side in one run. Prints RMSE and MAE over all predicted rows, per-period
// RMSE, fits and fit time. The loop's own figures (triggers, retrain count, upload→100% latency on the real cluster)
// come from test/e2e/own-data-loop.test.ts, which drives the same periods through the operator.
// Run: npx tsx bench/prequential.ts   (BENCH_EPOCHS, default 20; BENCH_LAST_YEAR, default 2002)
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import winston from 'winston';
import { loadModelFromStore } from '../src/ml/store-io.js';
import { predictRows } from '../src/ml/tensors.js';
import { artifactKey, versionPrefix } from '../src/shared/artifact-layout.js';
import { parsePreprocessingSpec } from '../src/shared/preprocessing.js';
import { readTrainerConfig } from '../src/shared/trainer-config.js';
import { MemoryStore } from '../src/storage/memory-store.js';
import { runTraining } from '../src/trainer/run.js';

const here = dirname(fileURLToPath(import.meta.url));
const csvPath = join(here, '..', 'node_modules/vega-datasets/data/birdstrikes.csv');
const features = ['Phase of flight', 'Aircraft Make Model', 'Wildlife Size', 'Time of day', 'Aircraft Airline Operator', 'Origin State'];
const label = 'Speed IAS in knots';
const timestamp = 'Flight Date';
const epochs = Number(process.env['BENCH_EPOCHS'] ?? 20);
const lastYear = Number(process.env['BENCH_LAST_YEAR'] ?? 2002);

type Row = Record<string, string>;

/** Labelled rows, one period per year from 1990 (the first period, 1990–1991, trains the static model). */
function periods(): Row[][] {
  const rows = parse<Row>(readFileSync(csvPath, 'utf8'), { columns: true, skip_empty_lines: true })
    .filter((r) => (r[label] ?? '').trim() !== '')
    .sort((a, b) => (a[timestamp] ?? '').localeCompare(b[timestamp] ?? ''));
  const byYear = new Map<number, Row[]>();
  for (const r of rows) {
    const year = Math.max(1991, Number((r[timestamp] ?? '').slice(0, 4)));
    if (year > lastYear) continue;
    byYear.set(year, [...(byYear.get(year) ?? []), r]);
  }
  return [...byYear.entries()].sort(([a], [b]) => a - b).map(([, v]) => v);
}

function csvOf(rows: readonly Row[]): string {
  const cols = [...features, label, timestamp];
  const quote = (v: string): string => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return [cols.map(quote).join(','), ...rows.map((r) => cols.map((c) => quote(r[c] ?? '')).join(','))].join('\n') + '\n';
}

interface Outcome {
  readonly model: string;
  readonly strategy: string;
  /** Predictions for periods 1..n. */
  readonly predictions: number[][];
  readonly fits: number;
  readonly fitSeconds: number;
}

const quiet = winston.createLogger({ silent: true });

/** Perennial's trainer on everything seen so far (one object per period in an in-memory store); the published model's predictor. */
async function perennialFit(seen: readonly Row[][], run: number, refit: boolean): Promise<(rows: readonly Row[]) => Promise<number[]>> {
  const store = new MemoryStore();
  const bucket = 'bench';
  for (const [i, p] of seen.entries()) await store.put(bucket, `data/${String(i).padStart(3, '0')}.csv`, csvOf(p));
  const config = readTrainerConfig({
    apiVersion: 'perennial.dev/trainer-config/v1', pipeline: { namespace: 'bench', name: 'birdstrikes' }, runId: `r${run}`, version: `v${run}`,
    data: { sources: [{ prefix: 'data/', format: 'csv' }] },
    schema: { features: features.map((name) => ({ name, type: 'categorical' })), label, task: 'regression', timestamp },
    validation: { minRows: 50, maxMissingRate: 0.5, unseenCategories: 'off', schemaDrift: 'off' },
    hyperparameters: { epochs, batchSize: 64, learningRate: 0.01, patience: 4 },
    evaluation: { refit },
  });
  await runTraining(config, { store, bucket, log: quiet, forcedBackend: undefined, codeVersion: 'bench', now: () => new Date() });
  const spec = parsePreprocessingSpec((await store.getBuffer(bucket, artifactKey(config.pipeline, config.version, 'preprocessing'))).toString('utf8'));
  const model = await loadModelFromStore(store, bucket, versionPrefix(config.pipeline, config.version) + 'model/');
  return async (rows) => {
    const p = await predictRows(model, spec, rows);
    if (p.task !== 'regression') throw new Error('expected a regression model');
    return p.values;
  };
}

async function perennial(all: readonly Row[][], strategy: 'static' | 'every-period', refit: boolean): Promise<Outcome> {
  const predictions: number[][] = [];
  let fits = 0;
  let seconds = 0;
  let predict: ((rows: readonly Row[]) => Promise<number[]>) | undefined;
  for (let p = 1; p < all.length; p++) {
    if (predict === undefined || strategy === 'every-period') {
      const start = performance.now();
      predict = await perennialFit(all.slice(0, p), p, refit);
      seconds += (performance.now() - start) / 1000;
      fits++;
    }
    predictions.push(await predict(all[p] ?? []));
  }
  return { model: 'Perennial MLP', strategy: strategy + (refit ? '+refit' : ''), predictions, fits, fitSeconds: seconds };
}

function meanBaseline(all: readonly Row[][]): Outcome {
  const predictions = all.slice(1).map((period, i) => {
    const seen = all.slice(0, i + 1).flat().map((r) => Number(r[label]));
    const mean = seen.reduce((a, b) => a + b, 0) / seen.length;
    return period.map(() => mean);
  });
  return { model: 'mean of seen labels', strategy: 'every-period', predictions, fits: all.length - 1, fitSeconds: 0 };
}

function sklearn(all: readonly Row[][]): Outcome[] {
  const input = JSON.stringify({ features, label, periods: all.map((p) => p.map((r) => Object.fromEntries([...features, label].map((c) => [c, r[c] ?? ''])))) });
  const run = spawnSync('/usr/bin/python3', [join(here, 'prequential_sklearn.py')], { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`prequential_sklearn.py failed (python3-sklearn installed? apt-get install python3-sklearn): ${run.stderr}`);
  return run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Outcome);
}

function errors(all: readonly Row[][], o: Outcome): { rmse: number; mae: number; perPeriod: number[] } {
  let se = 0;
  let ae = 0;
  let n = 0;
  const perPeriod = o.predictions.map((preds, i) => {
    const truth = (all[i + 1] ?? []).map((r) => Number(r[label]));
    let s = 0;
    preds.forEach((v, k) => {
      const e = v - (truth[k] ?? 0);
      s += e * e;
      ae += Math.abs(e);
    });
    se += s;
    n += preds.length;
    return Math.sqrt(s / Math.max(1, preds.length));
  });
  return { rmse: Math.sqrt(se / n), mae: ae / n, perPeriod };
}

const all = periods();
console.log(`prequential on birdstrikes.csv: ${all.length} periods (1990–1991, then a year each to ${lastYear}), ${all.flat().length} labelled rows, predicting ${all.slice(1).flat().length}; label ${label} (std ${std(all.flat().map((r) => Number(r[label]))).toFixed(1)} knots); MLP epochs ≤ ${epochs}`);
const outcomes: Outcome[] = [meanBaseline(all)];
for (const [strategy, refit] of [['static', false], ['every-period', false], ['every-period', true]] as const) outcomes.push(await perennial(all, strategy, refit));
outcomes.push(...sklearn(all));
const reference = errors(all, outcomes[0] as Outcome).rmse;
console.log(`\n${'model'.padEnd(22)} ${'strategy'.padEnd(20)} ${'RMSE'.padStart(7)} ${'MAE'.padStart(7)} ${'vs mean'.padStart(8)} ${'fits'.padStart(5)} ${'fit s'.padStart(7)}  RMSE per period`);
for (const o of outcomes) {
  const e = errors(all, o);
  console.log(`${o.model.padEnd(22)} ${o.strategy.padEnd(20)} ${e.rmse.toFixed(2).padStart(7)} ${e.mae.toFixed(2).padStart(7)} ${(e.rmse / reference).toFixed(3).padStart(8)} ${String(o.fits).padStart(5)} ${o.fitSeconds.toFixed(1).padStart(7)}  ${e.perPeriod.map((v) => v.toFixed(1)).join(' ')}`);
}

function std(xs: readonly number[]): number {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length);
}
