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
// RMSE, fits and fit time.
// With --loop (off by default: it needs root and 10+ minutes), the same periods also go through the real loop in the
// same run: the local cluster and node, the operator in this process (lighter than the helm-installed one; the same
// controllers), the trainer and server images as pods (test/support/loop-stack.ts), driven a period at a time by
// test/support/period-loop.ts as test/e2e/own-data-loop.test.ts drives it: 1990–1991 uploaded, v1 trained and served;
// then each year's strikes sent as a batch through the Service and predicted by whatever model serves then, the known
// speeds fed back, then the year uploaded; the newData trigger (polling every 10 s) retrains (same hyperparameters as
// the offline rows, from scratch, refit) and the blessed version rolls out to 100%. Its RMSE and MAE are computed from
// the predictions the server returned for the batch, over exactly the offline rows (status.liveMetrics, whose label
// windows need not match a batch, is printed beside it); with the runs started and upload→100% latency per period.
// Run: npx tsx bench/prequential.ts [--loop]   (BENCH_EPOCHS, default 20; BENCH_LAST_YEAR, default 2002)
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import winston from 'winston';
import { loadTabularModel } from '../src/ml/load-model.js';
import { readSavedModel } from '../src/ml/store-io.js';
import { predictRows } from '../src/ml/predict.js';
import { artifactKey, versionPrefix } from '../src/shared/artifact-layout.js';
import { parsePreprocessingSpec } from '../src/shared/preprocessing.js';
import { readTrainerConfig } from '../src/shared/trainer-config.js';
import { MemoryStore } from '../src/storage/memory-store.js';
import { runTraining } from '../src/trainer/run.js';
import { birdstrikes } from '../test/support/birdstrikes.js';
import { labelOf, rowsOf, toCsv, type Dataset } from '../test/support/dataset.js';
import { LoopStack } from '../test/support/loop-stack.js';
import { PeriodLoop, type PeriodResult } from '../test/support/period-loop.js';

const here = dirname(fileURLToPath(import.meta.url));
// The columns of the birdstrikes Dataset (test/support/birdstrikes.ts), which the e2e test and the loop use too.
const features = birdstrikes.features.map((f) => f.name);
const label = birdstrikes.label.name;
const timestamp = birdstrikes.timestampColumn ?? 'Flight Date';
const epochs = Number(process.env['BENCH_EPOCHS'] ?? 20);
const lastYear = Number(process.env['BENCH_LAST_YEAR'] ?? 2002);
const withLoop = process.argv.includes('--loop');

type Row = Readonly<Record<string, string>>;

/** Labelled rows, one period per year from 1990 (the first period, 1990–1991, trains the static model). */
function periods(): Row[][] {
  const rows = birdstrikes.rows
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
  return toCsv([...features, label, timestamp], rows);
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
async function perennialFit(seen: readonly Row[][], run: number, refit: boolean): Promise<(rows: readonly Row[]) => number[]> {
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
  const model = await loadTabularModel(await readSavedModel(store, bucket, versionPrefix(config.pipeline, config.version) + 'model/'));
  return (rows) => {
    const p = predictRows(model, spec, rows);
    if (p.task !== 'regression') throw new Error('expected a regression model');
    return p.values;
  };
}

async function perennial(all: readonly Row[][], strategy: 'static' | 'every-period', refit: boolean): Promise<Outcome> {
  const predictions: number[][] = [];
  let fits = 0;
  let seconds = 0;
  let predict: ((rows: readonly Row[]) => number[]) | undefined;
  for (let p = 1; p < all.length; p++) {
    if (predict === undefined || strategy === 'every-period') {
      const start = performance.now();
      predict = await perennialFit(all.slice(0, p), p, refit);
      seconds += (performance.now() - start) / 1000;
      fits++;
    }
    predictions.push(predict(all[p] ?? []));
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

/** The birdstrikes Dataset cut as periods() cuts it: '1990-1991', then one a year ('1992', …) to lastYear. */
const yearly: Dataset = {
  ...birdstrikes,
  periodOf: (r) => {
    const year = Number((r[timestamp] ?? '').slice(0, 4));
    if (!Number.isFinite(year) || year > lastYear) return undefined;
    return year <= 1991 ? '1990-1991' : String(year);
  },
};
const periodNames = (n: number): string[] => ['1990-1991', ...Array.from({ length: n - 1 }, (_, i) => String(1992 + i))];

interface LoopOutcome {
  readonly results: PeriodResult[];
  /** Runs started after the first (Initial) one: status.runCount (status.runs keeps only spec.historyLimit runs). */
  readonly retrains: number;
  /** The triggers of the runs the periods' uploads started. */
  readonly triggers: Record<string, number>;
}

/** The periods through the real loop (see the header): v1 on the first, then test-then-train a period at a time. */
async function perennialLoop(names: readonly string[]): Promise<LoopOutcome> {
  const t0 = Date.now();
  const log = (l: string): void => console.log(`# ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s  ${l}`);
  const [first = '', ...following] = names;
  const stack = await LoopStack.start({ name: 'bench-prequential', namespace: 'prequential', operator: 'in-process', data: { dataset: yearly, periods: [first] }, log });
  try {
    const loop = new PeriodLoop(stack, {
      name: 'birdstrikes', dataset: yearly, initial: [first], pollInterval: '10s', log, requireBlessed: false,
      hyperparameters: { epochs, batchSize: 64, learningRate: 0.01, earlyStoppingPatience: 4 }, warmStart: 'Scratch', refit: true,
    });
    await loop.apply();
    const v1 = await loop.finished('v1');
    log(`v1 ${v1.outcome} (${v1.trigger}) on ${first}: holdout rmse ${v1.metrics?.['rmse']?.toFixed(2) ?? '?'}`);
    await loop.served('v1');
    const initialRuns = (await loop.pipelineStatus()).status?.runCount ?? 0;
    const results: PeriodResult[] = [];
    for (const period of following) results.push(await loop.runPeriod(period));
    const triggers: Record<string, number> = {};
    for (const r of results) triggers[r.trigger] = (triggers[r.trigger] ?? 0) + 1;
    return { results, retrains: ((await loop.pipelineStatus()).status?.runCount ?? 0) - initialRuns, triggers };
  } finally {
    await stack.stop();
  }
}

/** The loop's errors from the predictions the server returned, over the labelled rows of each batch. */
function loopErrors(results: readonly PeriodResult[]): { rmse: number; mae: number; n: number; perPeriod: number[]; live: { rmse: number; labels: number } } {
  let se = 0;
  let ae = 0;
  let n = 0;
  let liveSe = 0;
  let liveN = 0;
  const perPeriod = results.map((r) => {
    let s = 0;
    let k = 0;
    r.samples.forEach((sample, i) => {
      const p = r.predictions[i];
      if (typeof sample.label !== 'number') return;
      if (typeof p !== 'number') throw new Error(`${r.period}: no prediction for a labelled row`);
      const e = p - sample.label;
      s += e * e;
      ae += Math.abs(e);
      k++;
    });
    se += s;
    n += k;
    if (r.liveRmse !== undefined) {
      liveSe += r.liveRmse ** 2 * r.liveLabels;
      liveN += r.liveLabels;
    }
    return Math.sqrt(s / Math.max(1, k));
  });
  return { rmse: Math.sqrt(se / n), mae: ae / n, n, perPeriod, live: { rmse: Math.sqrt(liveSe / Math.max(1, liveN)), labels: liveN } };
}

const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(q * s.length) - 1)] ?? NaN;
};

const all = periods();
console.log(`prequential on birdstrikes.csv: ${all.length} periods (1990–1991, then a year each to ${lastYear}), ${all.flat().length} labelled rows, predicting ${all.slice(1).flat().length}; label ${label} (std ${std(all.flat().map((r) => Number(r[label]))).toFixed(1)} knots); MLP epochs ≤ ${epochs}`);
const outcomes: Outcome[] = [meanBaseline(all)];
for (const [strategy, refit] of [['static', false], ['every-period', false], ['every-period', true]] as const) outcomes.push(await perennial(all, strategy, refit));
outcomes.push(...sklearn(all));
let looped: LoopOutcome | undefined;
if (withLoop) {
  const names = periodNames(all.length);
  // The loop predicts exactly the offline rows: the same labelled rows in each period.
  names.forEach((p, i) => {
    const labelled = rowsOf(yearly, p).filter((r) => labelOf(yearly, r) !== undefined).length;
    if (labelled !== all[i]?.length) throw new Error(`period ${p}: ${labelled} labelled rows in the loop, ${all[i]?.length ?? 0} offline`);
  });
  looped = await perennialLoop(names);
}
const reference = errors(all, outcomes[0] as Outcome).rmse;
const row = (model: string, strategy: string, rmse: number, mae: number, fits: number, fitSeconds: string, latency: string, perPeriod: readonly number[]): string =>
  `${model.padEnd(22)} ${strategy.padEnd(20)} ${rmse.toFixed(2).padStart(7)} ${mae.toFixed(2).padStart(7)} ${(rmse / reference).toFixed(3).padStart(8)} ${String(fits).padStart(5)} ${fitSeconds.padStart(7)} ${latency.padStart(13)}  ${perPeriod.map((v) => v.toFixed(1)).join(' ')}`;
console.log(`\n${'model'.padEnd(22)} ${'strategy'.padEnd(20)} ${'RMSE'.padStart(7)} ${'MAE'.padStart(7)} ${'vs mean'.padStart(8)} ${'fits'.padStart(5)} ${'fit s'.padStart(7)} ${'→100% med/max'.padStart(13)}  RMSE per period`);
for (const o of outcomes) {
  const e = errors(all, o);
  console.log(row(o.model, o.strategy, e.rmse, e.mae, o.fits, o.fitSeconds.toFixed(1), '-', e.perPeriod));
}
if (looped !== undefined) {
  const e = loopErrors(looped.results);
  const latencies = looped.results.flatMap((r) => (r.servingAt === undefined ? [] : [(r.servingAt - r.uploadedAt) / 1000]));
  const runSeconds = looped.results.reduce((a, r) => a + (r.endedAt - r.runStartedAt) / 1000, 0);
  console.log(row('Perennial loop', 'newData trigger', e.rmse, e.mae, looped.retrains, runSeconds.toFixed(1), `${quantile(latencies, 0.5).toFixed(0)}/${Math.max(...latencies).toFixed(0)} s`, e.perPeriod));
  console.log(`\nloop: ${e.n} labelled rows predicted by the served model (the offline rows: ${all.slice(1).flat().length}); retrains ${looped.retrains} (the periods' runs by trigger ${JSON.stringify(looped.triggers)}); ` +
    `fit s = the runs' start→end (Job, pod, training, publish); status.liveMetrics over its windows: rmse ${e.live.rmse.toFixed(2)} on ${e.live.labels} labels`);
  console.log(`${'period'.padEnd(10)} ${'by'.padEnd(4)} ${'labels'.padStart(6)} ${'RMSE'.padStart(6)} ${'live'.padStart(6)} ${'live n'.padStart(6)} ${'run'.padEnd(4)} ${'trigger'.padEnd(8)} ${'outcome'.padEnd(9)} ${'holdout'.padStart(7)} ${'→start'.padStart(7)} ${'→end'.padStart(6)} ${'→100%'.padStart(6)}`);
  looped.results.forEach((r, i) => {
    const after = (t: number | undefined): string => (t === undefined ? '-' : ((t - r.uploadedAt) / 1000).toFixed(1));
    console.log(`${r.period.padEnd(10)} ${r.servedBy.padEnd(4)} ${String(r.samples.filter((s) => typeof s.label === 'number').length).padStart(6)} ${(e.perPeriod[i] ?? NaN).toFixed(2).padStart(6)} ${(r.liveRmse ?? NaN).toFixed(2).padStart(6)} ${String(r.liveLabels).padStart(6)} ` +
      `${r.runVersion.padEnd(4)} ${r.trigger.padEnd(8)} ${r.outcome.padEnd(9)} ${(r.holdoutRmse ?? NaN).toFixed(2).padStart(7)} ${after(r.runStartedAt).padStart(7)} ${after(r.endedAt).padStart(6)} ${after(r.servingAt).padStart(6)}`);
  });
  console.log('times in s after the upload: →start the run\'s startTime (newData poll), →end its completionTime, →100% the version stable at 100% with a ready replica (seen by polling every 0.5 s); startTime and completionTime are whole seconds (±1 s)');
}

function std(xs: readonly number[]): number {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length);
}
