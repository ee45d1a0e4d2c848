// Learning under drift: prequential evaluation (predict a period with the model you had, then learn it) on real,
// public, time-ordered streams whose relation between inputs and label moves over time, for every model family,
// side by side in one run:
//   birdstrikes  regression: the aircraft's speed at an FAA wildlife strike from six categorical columns
//                (vega-datasets birdstrikes.csv, test/support/birdstrikes.ts); 1990–1991, then a year each to 2002
//   weather      classification: the kind of day (sun, rain, fog, drizzle, snow) in Seattle and New York from
//                precipitation, temperatures, wind and the location (vega-datasets weather.csv, test/support/
//                weather-loop.ts); 2012, then half-years to 2015
//   football     classification: home win, draw or away win of European league matches from the division and the
//                two teams (vega-datasets football.json, 2013–2017): team strength drifts season to season; the
//                2013-14 season, then half-seasons
// Strategies: static (trained on the first period only), every-period (retrained on every period seen before each
// new one) and every-period+search (the same with a hyperparameter search of BENCH_SEARCH_TRIALS trials in each
// run, trainer.search). Perennial's families (mlp, gradient-boosting, random-forest) train through the trainer's
// real runTraining on an in-memory store, as the Job does (refit on: the served model has seen every row, as
// scikit-learn's has); scikit-learn's LogisticRegression / LinearRegression and RandomForest (Debian's
// python3-sklearn, bench/learning_under_drift_sklearn.py) fit the same periods and columns. Prints, per stream,
// accuracy and log loss (classification) or RMSE and MAE (regression) over every predicted row, the metric per
// period, retrains and training seconds (the whole runTraining for Perennial: reading, checks, fit, evaluation,
// publishing).
// With --speed, it instead times the tree engine's fit and predict (fitTrees, in process) against scikit-learn's
// HistGradientBoosting and RandomForest on the same synthetic rows (BENCH_SPEED_ROWS, default 20,000 × 20 inputs).
// Run: npx tsx bench/learning-under-drift.ts [--streams=birdstrikes,weather,football] [--families=mlp,...] [--speed]
//      (BENCH_EPOCHS, default 20; BENCH_SEARCH_TRIALS, default 6, 0 leaves search out)
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import winston from 'winston';
import { loadTabularModel } from '../src/ml/load-model.js';
import { predictRows } from '../src/ml/predict.js';
import { readSavedModel } from '../src/ml/store-io.js';
import { fitTrees, resolveTreeSettings } from '../src/ml/trees/index.js';
import { synthetic } from '../src/ml/trees/testing/synthetic.js';
import { minProbability } from '../src/shared/calibration.js';
import { artifactKey, versionPrefix } from '../src/shared/artifact-layout.js';
import { parsePreprocessingSpec } from '../src/shared/preprocessing.js';
import { readTrainerConfig, type ModelFamily } from '../src/shared/trainer-config.js';
import { MemoryStore } from '../src/storage/memory-store.js';
import { runTraining } from '../src/trainer/run.js';
import { birdstrikes } from '../test/support/birdstrikes.js';
import { toCsv, type Row } from '../test/support/dataset.js';
import { weather } from '../test/support/weather-loop.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..');
const epochs = Number(process.env['BENCH_EPOCHS'] ?? 20);
const searchTrials = Number(process.env['BENCH_SEARCH_TRIALS'] ?? 6);
const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

interface Feature {
  readonly name: string;
  readonly type: 'numeric' | 'categorical';
}

interface Stream {
  readonly name: string;
  readonly task: 'classification' | 'regression';
  readonly features: readonly Feature[];
  readonly label: string;
  readonly timestamp: string;
  readonly periodNames: readonly string[];
  /** Labelled rows per period, in event-time order. */
  readonly periods: readonly Row[][];
  readonly about: string;
}

/** Rows cut into named periods by `periodOf` (undefined: left out), in the order of their names. */
function cut(rows: readonly Row[], timestamp: string, periodOf: (r: Row) => string | undefined): { periodNames: string[]; periods: Row[][] } {
  const by = new Map<string, Row[]>();
  for (const r of [...rows].sort((a, b) => (a[timestamp] ?? '').localeCompare(b[timestamp] ?? ''))) {
    const p = periodOf(r);
    if (p !== undefined) by.set(p, [...(by.get(p) ?? []), r]);
  }
  const names = [...by.keys()];
  return { periodNames: names, periods: names.map((n) => by.get(n) ?? []) };
}

function birdstrikesStream(): Stream {
  const label = birdstrikes.label.name;
  const rows = birdstrikes.rows.filter((r) => (r[label] ?? '').trim() !== '');
  const year = (r: Row): number => Number((r['Flight Date'] ?? '').slice(0, 4));
  return {
    name: 'birdstrikes', task: 'regression', label, timestamp: 'Flight Date',
    features: birdstrikes.features.map((f) => ({ name: f.name, type: 'categorical' })),
    ...cut(rows, 'Flight Date', (r) => (year(r) <= 1991 ? '1990-1991' : String(year(r)))),
    about: 'FAA wildlife strikes (vega-datasets birdstrikes.csv): speed in knots from 6 categorical columns',
  };
}

function weatherStream(): Stream {
  return {
    name: 'weather', task: 'classification', label: 'weather', timestamp: 'date',
    features: [...weather.features.map((f) => ({ name: f.name, type: f.type })), { name: 'location', type: 'categorical' }],
    ...cut(weather.rows, 'date', (r) => {
      const d = r['date'] ?? '';
      return d.startsWith('2012') ? '2012' : `${d.slice(0, 4)}-H${Number(d.slice(5, 7)) <= 6 ? 1 : 2}`;
    }),
    about: 'daily weather of Seattle and New York (vega-datasets weather.csv): the kind of day',
  };
}

interface Match {
  readonly date: string;
  readonly division: string;
  readonly home_team: string;
  readonly away_team: string;
  readonly home_score: number;
  readonly away_score: number;
}

function footballStream(): Stream {
  const matches = JSON.parse(readFileSync(join(repo, 'node_modules/vega-datasets/data/football.json'), 'utf8')) as Match[];
  const rows: Row[] = matches.map((m) => ({
    date: m.date, division: m.division, home_team: m.home_team, away_team: m.away_team,
    result: m.home_score > m.away_score ? 'home' : m.home_score < m.away_score ? 'away' : 'draw',
  }));
  // Seasons run from July to June: the first season trains the static model, then half-seasons.
  const period = (r: Row): string => {
    const d = r['date'] ?? '';
    const y = Number(d.slice(0, 4));
    const m = Number(d.slice(5, 7));
    const season = m >= 7 ? y : y - 1;
    return season === 2013 ? '2013-14' : `${season}-${String(season + 1).slice(2)} ${m >= 7 ? 'H1' : 'H2'}`;
  };
  return {
    name: 'football', task: 'classification', label: 'result', timestamp: 'date',
    features: ['division', 'home_team', 'away_team'].map((name) => ({ name, type: 'categorical' })),
    ...cut(rows, 'date', period),
    about: 'European league matches 2013–2017 (vega-datasets football.json): home win, draw or away win',
  };
}

/** A prediction: a number (regression) or the predicted class and the probability given to the true class. */
type Prediction = number | readonly [string, number];

interface Outcome {
  readonly model: string;
  readonly strategy: string;
  /** Predictions for periods 1..n. */
  readonly predictions: Prediction[][];
  readonly fits: number;
  readonly fitSeconds: number;
}

const quiet = winston.createLogger({ silent: true });

/** The search space of each family (trainer.search), a few parameters that matter most. */
const searchSpace: Record<ModelFamily, readonly Record<string, unknown>[]> = {
  'mlp': [{ name: 'learningRate', min: 0.001, max: 0.03, scale: 'log' }, { name: 'hiddenUnits', values: ['32', '64,32', '128,64'] }, { name: 'dropout', min: 0, max: 0.3 }],
  'gradient-boosting': [{ name: 'learningRate', min: 0.03, max: 0.3, scale: 'log' }, { name: 'maxDepth', min: 2, max: 8 }, { name: 'minRowsPerLeaf', min: 2, max: 50, scale: 'log' }],
  'random-forest': [{ name: 'maxDepth', min: 6, max: 20 }, { name: 'minRowsPerLeaf', min: 1, max: 10 }, { name: 'featureSubsample', min: 0.2, max: 0.8 }],
};

/** Perennial's trainer on everything seen so far (one object per period in an in-memory store); the published model's predictor. */
async function perennialFit(stream: Stream, seen: readonly Row[][], run: number, family: ModelFamily, search: boolean): Promise<(rows: readonly Row[]) => Prediction[]> {
  const store = new MemoryStore();
  const bucket = 'bench';
  const columns = [...stream.features.map((f) => f.name), stream.label, stream.timestamp];
  for (const [i, p] of seen.entries()) await store.put(bucket, `data/${String(i).padStart(3, '0')}.csv`, toCsv(columns, p));
  const config = readTrainerConfig({
    apiVersion: 'perennial.dev/trainer-config/v1', pipeline: { namespace: 'bench', name: stream.name }, runId: `r${run}`, version: `v${run}`,
    data: { sources: [{ prefix: 'data/', format: 'csv' }] },
    schema: { features: stream.features, label: stream.label, task: stream.task, timestamp: stream.timestamp },
    validation: { minRows: 50, maxMissingRate: 0.5, unseenCategories: 'off', schemaDrift: 'off' },
    model: { type: family },
    hyperparameters: { epochs, batchSize: 64, learningRate: 0.01, patience: 4 },
    ...(search && searchTrials > 0 ? { search: { trials: searchTrials, maxSeconds: 120, parameters: searchSpace[family] } } : {}),
    evaluation: { refit: true },
  });
  await runTraining(config, { store, bucket, log: quiet, forcedBackend: undefined, codeVersion: 'bench', now: () => new Date() });
  const spec = parsePreprocessingSpec((await store.getBuffer(bucket, artifactKey(config.pipeline, config.version, 'preprocessing'))).toString('utf8'));
  const model = await loadTabularModel(await readSavedModel(store, bucket, versionPrefix(config.pipeline, config.version) + 'model/'));
  return (rows) => {
    const p = predictRows(model, spec, rows);
    if (p.task === 'regression') return p.values;
    const classes = spec.label.task === 'classification' ? spec.label.classes : [];
    return p.probabilities.map((probs, i) => {
      const best = probs.indexOf(Math.max(...probs));
      const truth = classes.indexOf(rows[i]?.[stream.label] ?? '');
      return [classes[best] ?? '', truth < 0 ? 0 : probs[truth] ?? 0] as const;
    });
  };
}

const familyNames: Record<ModelFamily, string> = { 'mlp': 'Perennial MLP', 'gradient-boosting': 'Perennial boosting', 'random-forest': 'Perennial forest' };

async function perennial(stream: Stream, family: ModelFamily, strategy: 'static' | 'every-period' | 'every-period+search'): Promise<Outcome> {
  const predictions: Prediction[][] = [];
  let fits = 0;
  let seconds = 0;
  let predict: ((rows: readonly Row[]) => Prediction[]) | undefined;
  for (let p = 1; p < stream.periods.length; p++) {
    if (predict === undefined || strategy !== 'static') {
      const start = performance.now();
      predict = await perennialFit(stream, stream.periods.slice(0, p), p, family, strategy === 'every-period+search');
      seconds += (performance.now() - start) / 1000;
      fits++;
    }
    predictions.push(predict(stream.periods[p] ?? []));
  }
  return { model: familyNames[family], strategy, predictions, fits, fitSeconds: seconds };
}

/** The mean of the labels seen (regression) or their class shares (classification): what knowing nothing scores. */
function baseline(stream: Stream): Outcome {
  const predictions = stream.periods.slice(1).map((period, i): Prediction[] => {
    const seen = stream.periods.slice(0, i + 1).flat().map((r) => r[stream.label] ?? '');
    if (stream.task === 'regression') {
      const mean = seen.reduce((a, b) => a + Number(b), 0) / seen.length;
      return period.map(() => mean);
    }
    const counts = new Map<string, number>();
    for (const y of seen) counts.set(y, (counts.get(y) ?? 0) + 1);
    const majority = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
    return period.map((r) => [majority, (counts.get(r[stream.label] ?? '') ?? 0) / seen.length] as const);
  });
  return { model: stream.task === 'regression' ? 'mean of seen labels' : 'class shares seen', strategy: 'every-period', predictions, fits: stream.periods.length - 1, fitSeconds: 0 };
}

function sklearn(stream: Stream): Outcome[] {
  const input = JSON.stringify({ mode: 'prequential', task: stream.task, features: stream.features, label: stream.label, periods: stream.periods });
  const run = spawnSync('/usr/bin/python3', [join(here, 'learning_under_drift_sklearn.py')], { input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: { ...process.env, OMP_NUM_THREADS: '1' } });
  if (run.status !== 0) throw new Error(`learning_under_drift_sklearn.py failed (python3-sklearn installed? apt-get install python3-sklearn): ${run.stderr}`);
  return run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Outcome);
}

interface Scores {
  /** Accuracy (classification) or RMSE (regression), over every predicted row. */
  readonly main: number;
  /** Log loss (classification) or MAE (regression). */
  readonly second: number;
  readonly perPeriod: number[];
}

function scores(stream: Stream, o: Outcome): Scores {
  let a = 0;
  let b = 0;
  let n = 0;
  const perPeriod = o.predictions.map((preds, i) => {
    const truth = (stream.periods[i + 1] ?? []).map((r) => r[stream.label] ?? '');
    let s = 0;
    preds.forEach((p, k) => {
      if (typeof p === 'number') {
        const e = p - Number(truth[k]);
        s += e * e;
        b += Math.abs(e);
      } else {
        s += p[0] === truth[k] ? 1 : 0;
        b += -Math.log(Math.max(p[1], minProbability));
      }
    });
    a += s;
    n += preds.length;
    return stream.task === 'regression' ? Math.sqrt(s / Math.max(1, preds.length)) : s / Math.max(1, preds.length);
  });
  return { main: stream.task === 'regression' ? Math.sqrt(a / n) : a / n, second: b / n, perPeriod };
}

function report(stream: Stream, outcomes: readonly Outcome[]): void {
  const cls = stream.task === 'classification';
  const [mainName, secondName] = cls ? ['accuracy', 'log loss'] : ['RMSE', 'MAE'];
  console.log(`\n${stream.name}: ${stream.about}; ${stream.periods.flat().length} labelled rows in ${stream.periods.length} periods (${stream.periodNames[0] ?? ''} trains the static models, then ${stream.periodNames.slice(1).join(', ')}), predicting ${stream.periods.slice(1).flat().length}`);
  console.log(`${'model'.padEnd(32)} ${'strategy'.padEnd(20)} ${mainName.padStart(8)} ${secondName.padStart(8)} ${'fits'.padStart(5)} ${'fit s'.padStart(8)}  ${mainName} per period`);
  for (const o of outcomes) {
    const s = scores(stream, o);
    const digits = cls ? 3 : 2;
    console.log(`${o.model.padEnd(32)} ${o.strategy.padEnd(20)} ${s.main.toFixed(digits).padStart(8)} ${s.second.toFixed(3).padStart(8)} ${String(o.fits).padStart(5)} ${o.fitSeconds.toFixed(1).padStart(8)}  ${s.perPeriod.map((v) => v.toFixed(cls ? 2 : 1)).join(' ')}`);
  }
}

async function prequential(): Promise<void> {
  const builders: Record<string, () => Stream> = { birdstrikes: birdstrikesStream, weather: weatherStream, football: footballStream };
  const names = (arg('streams') ?? 'birdstrikes,weather,football').split(',');
  // --families= (empty) runs scikit-learn's side alone.
  const families = (arg('families') ?? 'mlp,gradient-boosting,random-forest').split(',').filter((f) => f !== '') as ModelFamily[];
  console.log(`learning under drift: prequential, ${names.join(', ')}; families ${families.join(', ')}; MLP epochs ≤ ${epochs}; search ${searchTrials} trials per run (0: none); every Perennial run refits on all rows`);
  for (const name of names) {
    const build = builders[name];
    if (build === undefined) throw new Error(`unknown stream ${name}; streams: ${Object.keys(builders).join(', ')}`);
    const stream = build();
    const outcomes: Outcome[] = [baseline(stream)];
    for (const family of families) {
      const strategies: readonly ('static' | 'every-period' | 'every-period+search')[] = searchTrials > 0 ? ['static', 'every-period', 'every-period+search'] : ['static', 'every-period'];
      for (const strategy of strategies) {
        const start = performance.now();
        outcomes.push(await perennial(stream, family, strategy));
        console.log(`# ${stream.name} ${family} ${strategy}: ${((performance.now() - start) / 1000).toFixed(0)} s`);
      }
    }
    outcomes.push(...sklearn(stream));
    report(stream, outcomes);
  }
}

/** --speed: the tree engine against scikit-learn on the same synthetic rows (an XOR of two of 20 inputs, 5 % noise). */
function speed(): void {
  const rows = Number(process.env['BENCH_SPEED_ROWS'] ?? 20_000);
  const width = 20;
  const rule = (x: Float32Array, u: number): number => ((((x[0] ?? 0) > 0) !== ((x[1] ?? 0) > 0)) !== (u < 0.05) ? 1 : 0);
  const train = synthetic(rows, width, 1, rule);
  const test = synthetic(5000, width, 2, rule);
  console.log(`tree engine speed: ${rows} training rows × ${width} inputs, 5000 predicted, one thread each; rows/s are rows over the whole fit (binning included)`);
  const line = (model: string, fitSeconds: number, predictRowsPerSecond: number, accuracy: number): void => {
    console.log(`${model.padEnd(52)} fit ${fitSeconds.toFixed(2).padStart(6)} s ${(rows / fitSeconds).toFixed(0).padStart(8)} rows/s   predict ${predictRowsPerSecond.toFixed(0).padStart(8)} rows/s   accuracy ${accuracy.toFixed(4)}`);
  };
  for (const [family, over, label] of [['gradient-boosting', { count: 200, earlyStoppingRounds: 0 }, 'Perennial boosting, 200 rounds, depth 6'], ['random-forest', {}, 'Perennial forest, 100 trees, depth 16']] as const) {
    const r = fitTrees({ family, task: 'classification', outputs: 2, ...train, settings: resolveTreeSettings(family, over, rows), seed: 1 });
    const start = performance.now();
    const p = r.model.predict(test.x, test.rows);
    const seconds = (performance.now() - start) / 1000;
    let right = 0;
    for (let i = 0; i < test.rows; i++) if (((p[i * 2 + 1] ?? 0) > 0.5 ? 1 : 0) === test.y[i]) right++;
    line(label, r.seconds, test.rows / seconds, right / test.rows);
  }
  const input = JSON.stringify({ mode: 'speed', rows, width, x: [...train.x], y: [...train.y], tx: [...test.x], ty: [...test.y], trows: test.rows });
  const run = spawnSync('/usr/bin/python3', [join(here, 'learning_under_drift_sklearn.py')], { input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: { ...process.env, OMP_NUM_THREADS: '1' } });
  if (run.status !== 0) throw new Error(`learning_under_drift_sklearn.py failed: ${run.stderr}`);
  for (const l of run.stdout.trim().split('\n')) {
    const o = JSON.parse(l) as { model: string; fitSeconds: number; predictRowsPerSecond: number; accuracy: number };
    line(o.model, o.fitSeconds, o.predictRowsPerSecond, o.accuracy);
  }
}

if (process.argv.includes('--speed')) speed();
else await prequential();
