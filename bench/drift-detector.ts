// The sequential drift detector alone (src/shared/drift-sequential.ts) on the weather data the loop runs on: a
// Seattle model's reference profile (the trainer's default reference: the newest 1,000 Seattle days, the four
// features), then
//   1. detection delay: Seattle traffic (every Seattle day, shuffled) for a while, then New York days: rows after the
//      change until the detector signals, over many shuffles and change points; beside it, the rows the PSI window
//      (the Window detector: PSI > 0.25 once it holds 10 rows per bin) needs when it held `--window` Seattle rows at
//      the change;
//   2. false alarms on stationary traffic: Seattle days resampled with replacement (all four years: not exactly the
//      reference), `--runs` runs of `--rows` rows, and the reference rows themselves resampled (no change at all);
//      then one long run of `--long` rows (longer than the loop-latency bench's stationary leg).
// Run: npx tsx bench/drift-detector.ts [--runs 200] [--rows 20000] [--long 2000000] [--window 2000] [--rate 1e-8]
//   [--prior 4] [--memory 32] [--delta 0.05]   (the CUSUM's settings, to see what each costs)
import { parseArgs } from 'node:util';
import { binIndex, profileRows, psiFromCounts, type FeatureProfile } from '../src/shared/drift.js';
import { minDriftRows } from '../src/server/drift-window.js';
import { SequentialDetector, defaultFalseAlarmRate, indifferenceNats, memoryRows, priorRows, type CusumOptions } from '../src/shared/drift-sequential.js';
import type { RawRow } from '../src/shared/preprocessing.js';
import { shuffled } from '../test/support/dataset.js';
import { weather } from '../test/support/weather-loop.js';
import { mulberry32 as random } from '../src/shared/random.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '200' },
    rows: { type: 'string', default: '20000' },
    long: { type: 'string', default: '2000000' },
    window: { type: 'string', default: '2000' },
    rate: { type: 'string', default: String(defaultFalseAlarmRate) },
    prior: { type: 'string', default: String(priorRows) },
    memory: { type: 'string', default: String(memoryRows) },
    delta: { type: 'string', default: String(indifferenceNats) },
  },
});
const runs = Number(args.runs);
const rowsPerRun = Number(args.rows);
const longRows = Number(args.long);
const windowRows = Number(args.window);
const rate = Number(args.rate);
const cusum: CusumOptions = { priorRows: Number(args.prior), memoryRows: Number(args.memory), indifferenceNats: Number(args.delta) };
const detector = (): SequentialDetector => new SequentialDetector(profile, rate, cusum);

const features = weather.features.map((f) => ({ name: f.name, type: f.type }));
const rowsOf = (location: string): RawRow[] => weather.rows.filter((r) => r['location'] === location).map((r) => weather.instance(r) as RawRow);
const seattle = rowsOf('Seattle');
const newYork = rowsOf('New York');
// The trainer's default reference: the newest year by event time, extended to the newest 1,000 rows (drift-reference.ts).
const reference = [...seattle].sort((a, b) => String(a['date']).localeCompare(String(b['date']))).slice(-1000);
const profile: FeatureProfile[] = profileRows(reference, features);
const binsOf = (row: RawRow): number[] => profile.map((f) => binIndex(f.binning, row[f.name]));
const seattleBins = seattle.map(binsOf);
const newYorkBins = newYork.map(binsOf);
const referenceBins = reference.map(binsOf);


function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

/** Rows after the change until the detector signals (Infinity: not within the New York days). */
function sequentialDelay(before: readonly number[][], after: readonly number[][]): { delay: number; early: boolean } {
  const d = detector();
  let t = 0;
  for (const b of before) d.add(b, t++);
  if (d.state().detectedAtMs !== undefined) return { delay: 0, early: true };
  for (const b of after) {
    d.add(b, t++);
    if (d.state().detectedAtMs !== undefined) return { delay: t - before.length, early: false };
  }
  return { delay: Infinity, early: false };
}

/** Rows after the change until a window of the newest `window` rows has PSI > 0.25 on some feature. */
function windowDelay(before: readonly number[][], after: readonly number[][], window: number): number {
  const stream = [...before.slice(-window), ...after];
  const counts = profile.map((f) => new Array<number>(f.shares.length).fill(0));
  const need = Math.max(...profile.map(minDriftRows));
  for (let i = 0; i < stream.length; i++) {
    (stream[i] as number[]).forEach((b, k) => ((counts[k] as number[])[b] = ((counts[k] as number[])[b] ?? 0) + 1));
    const old = stream[i - window];
    if (old) old.forEach((b, k) => ((counts[k] as number[])[b] = ((counts[k] as number[])[b] ?? 0) - 1));
    const held = Math.min(i + 1, window);
    const changed = i + 1 - Math.min(window, before.length);
    if (changed <= 0 || held < need) continue;
    if (profile.some((f, k) => psiFromCounts(f, counts[k] as number[]) > 0.25)) return changed;
  }
  return Infinity;
}

function delays(): void {
  const seq: number[] = [];
  const win: number[] = [];
  let early = 0;
  for (let r = 0; r < runs; r++) {
    const g = random(1000 + r);
    const before = shuffled(seattleBins, 7 + r).slice(0, 200 + Math.floor(g() * 1200));
    const after = shuffled(newYorkBins, 11 + r);
    const s = sequentialDelay(before, after);
    if (s.early) early++;
    else seq.push(s.delay);
    win.push(windowDelay(shuffled(seattleBins, 13 + r).slice(0, windowRows), after, windowRows));
  }
  seq.sort((a, b) => a - b);
  win.sort((a, b) => a - b);
  const line = (xs: number[]): string => `median ${quantile(xs, 0.5)}, p90 ${quantile(xs, 0.9)}, max ${xs[xs.length - 1] ?? NaN} rows`;
  console.log(`detection delay, Seattle → New York (${runs} shuffles, 200–1,400 Seattle rows before the change):`);
  console.log(`  sequential (α ${rate}/row, threshold ${detector().threshold.toFixed(2)} nats): ${line(seq)}${early > 0 ? `; ${early} alarm(s) before the change` : ''}`);
  console.log(`  PSI window of ${windowRows} rows (PSI > 0.25, ≥ ${Math.max(...profile.map(minDriftRows))} rows): ${line(win)}`);
}

/** Alarms over `count` runs of `length` rows drawn with replacement from `pool`; and the largest peak seen. */
function stationary(pool: readonly number[][], count: number, length: number, seed: number): { alarms: number; peak: number } {
  let alarms = 0;
  let peak = 0;
  for (let r = 0; r < count; r++) {
    const g = random(seed + r);
    const d = detector();
    for (let i = 0; i < length; i++) d.add(pool[Math.floor(g() * pool.length)] as number[], i);
    const s = d.state();
    if (s.detectedAtMs !== undefined) alarms++;
    peak = Math.max(peak, ...s.evidence.values());
  }
  return { alarms, peak };
}

function falseAlarms(): void {
  const threshold = detector().threshold;
  console.log(`false alarms on stationary traffic (threshold ${threshold.toFixed(2)} nats; the bound: at most ${rate} per row):`);
  const all = stationary(seattleBins, runs, rowsPerRun, 50_000);
  console.log(`  Seattle 2012–2015 resampled: ${all.alarms} alarm(s) in ${runs} runs × ${rowsPerRun} rows (${runs * rowsPerRun} rows); largest peak ${all.peak.toFixed(2)} nats`);
  const ref = stationary(referenceBins, runs, rowsPerRun, 90_000);
  console.log(`  the reference rows resampled: ${ref.alarms} alarm(s) in ${runs} runs × ${rowsPerRun} rows; largest peak ${ref.peak.toFixed(2)} nats`);
  const long = stationary(seattleBins, 1, longRows, 7);
  console.log(`  one run of ${longRows} Seattle rows: ${long.alarms} alarm(s); largest peak ${long.peak.toFixed(2)} nats`);
}

console.log(`reference: the newest ${reference.length} Seattle days, features ${profile.map((f) => `${f.name} (${f.shares.length} bins)`).join(', ')}`);
const t0 = Date.now();
delays();
falseAlarms();
console.log(`(${((Date.now() - t0) / 1000).toFixed(1)} s)`);
