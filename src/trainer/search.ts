// Hyperparameter search inside a run (config.search, docs/model-families.md): random search. Trial 0 trains the
// spec's own settings, so a search never does worse on the validation rows than the same run without one; the
// others are seeded draws from the space. Random search rather than a grid because a few parameters usually matter
// and random draws try more distinct values of each for the same number of trials; rather than a model-based search
// because the trial counts here are small (tens) and the draws can be planned before any training starts, which
// keeps the plan a pure function of (search, seed) that lineage can reproduce.
//
// planTrials and applyTrial are pure; runSearch sequences the trials against an injected trainer and clock.
import {
  integerSearchParameters, parseSearchValue, searchParameters,
  type SearchParameter, type SearchParameterName, type SearchSpec, type TrainerConfig,
} from '../shared/trainer-config.js';
import { deriveSeed, mulberry32 } from '../shared/random.js';

export type TrialValue = number | readonly number[];

export interface Trial {
  readonly index: number;
  /** The parameters this trial changes; every other setting is the spec's. Trial 0 changes none. */
  readonly parameters: Readonly<Partial<Record<SearchParameterName, TrialValue>>>;
}

/** Salt of the search's random stream, so its draws do not repeat the shuffles seeded by the same run seed. */
const searchSalt = 0x5ea4c4;
/** Draws tried per trial before the space is taken to be used up (a small values list, a narrow integer range). */
const drawsPerTrial = 50;

/**
 * Trial 0 is the spec's own settings (parameters {}); then `trials - 1` seeded random draws from the space
 * (log/linear ranges, integer rounding, values lists), de-duplicated; pure and deterministic for (search, seed).
 * A space with fewer distinct points than `trials - 1` yields fewer trials.
 */
export function planTrials(search: SearchSpec, seed: number): Trial[] {
  const random = mulberry32(deriveSeed(seed, searchSalt));
  const trials: Trial[] = [{ index: 0, parameters: {} }];
  const seen = new Set<string>();
  let attempts = (search.trials - 1) * drawsPerTrial;
  while (trials.length < search.trials && attempts > 0) {
    attempts--;
    const parameters: Partial<Record<SearchParameterName, TrialValue>> = {};
    for (const p of search.parameters) parameters[p.name] = valueAt(p, random());
    const key = JSON.stringify(parameters);
    if (seen.has(key)) continue;
    seen.add(key);
    trials.push({ index: trials.length, parameters });
  }
  return trials;
}

/** One value of a parameter, `u` uniform in [0, 1). Exported for its table tests. */
export function valueAt(p: SearchParameter, u: number): TrialValue {
  if (p.values !== undefined) {
    const text = p.values[Math.min(p.values.length - 1, Math.floor(u * p.values.length))] ?? '';
    const v = parseSearchValue(p.name, text);
    if (v === undefined) throw new InvalidSearchError(`${p.name}: "${text}" is not a valid value`);
    return v;
  }
  if (p.min === undefined || p.max === undefined) throw new InvalidSearchError(`${p.name}: a range needs both min and max`);
  if (!integerSearchParameters.includes(p.name)) return continuousAt(p.min, p.max, p.scale, u);
  // Integers: the floor of a draw over [lo, hi + 1), so each integer of the range gets its share (on a log scale, the
  // share of its stretch of the logarithm: 1 is as likely as 2-3, as 4-7 and so on).
  const lo = Math.round(p.min);
  const hi = Math.round(p.max);
  return Math.min(hi, Math.floor(continuousAt(lo, hi + 1, p.scale, u)));
}

function continuousAt(min: number, max: number, scale: SearchParameter['scale'], u: number): number {
  const v = scale === 'log' ? Math.exp(Math.log(min) + u * (Math.log(max) - Math.log(min))) : min + u * (max - min);
  // exp(log(x)) can land an ulp outside the range, and a bound such as learningRate's 1 must hold exactly.
  return Math.min(max, Math.max(min, v));
}

/** A search the config validation should have refused (a parameter of another family, an unreadable value). */
export class InvalidSearchError extends Error {
  override readonly name = 'InvalidSearchError';
}

/**
 * The config a trial trains with: learningRate → hyperparameters.learningRate (mlp) or model.trees.learningRate
 * (gradient-boosting); batchSize, dropout, hiddenUnits, l2 (mlp: model.l2; gradient-boosting: model.trees.l2);
 * treeCount → model.trees.count; maxDepth, minRowsPerLeaf, rowSubsample, featureSubsample → model.trees.*.
 */
export function applyTrial(config: TrainerConfig, trial: Trial): TrainerConfig {
  const family = config.model.type;
  let model = config.model;
  let hyperparameters = config.hyperparameters;
  let trees = config.model.trees;
  for (const [name, value] of Object.entries(trial.parameters) as [SearchParameterName, TrialValue | undefined][]) {
    if (value === undefined) continue;
    if (!searchParameters[name].includes(family)) throw new InvalidSearchError(`${name} does not apply to model type ${family}`);
    if (name === 'hiddenUnits') {
      if (typeof value === 'number') throw new InvalidSearchError('hiddenUnits takes a list of layer widths');
      model = { ...model, hiddenUnits: [...value] };
      continue;
    }
    if (typeof value !== 'number') throw new InvalidSearchError(`${name} takes a number`);
    const onTrees = family !== 'mlp';
    switch (name) {
      case 'learningRate':
        if (onTrees) trees = { ...trees, learningRate: value };
        else hyperparameters = { ...hyperparameters, learningRate: value };
        break;
      case 'l2':
        if (onTrees) trees = { ...trees, l2: value };
        else model = { ...model, l2: value };
        break;
      case 'batchSize': hyperparameters = { ...hyperparameters, batchSize: value }; break;
      case 'dropout': model = { ...model, dropout: value }; break;
      case 'treeCount': trees = { ...trees, count: value }; break;
      case 'maxDepth': trees = { ...trees, maxDepth: value }; break;
      case 'minRowsPerLeaf': trees = { ...trees, minRowsPerLeaf: value }; break;
      case 'rowSubsample': trees = { ...trees, rowSubsample: value }; break;
      case 'featureSubsample': trees = { ...trees, featureSubsample: value }; break;
    }
  }
  return { ...config, model: { ...model, trees }, hyperparameters };
}

/** What training one trial gave. score: the validation loss, lower is better. */
export interface TrialOutcome {
  readonly score: number;
  readonly detail?: Readonly<Record<string, unknown>>;
}

export interface TrialRecord {
  readonly index: number;
  readonly parameters: Trial['parameters'];
  readonly status: 'done' | 'failed' | 'skipped';
  readonly score?: number;
  readonly seconds: number;
  readonly reason?: string;
  readonly detail?: Readonly<Record<string, unknown>>;
}

export interface SearchResult {
  readonly trials: readonly TrialRecord[];
  readonly winner: TrialRecord;
  readonly stoppedBy: 'trials' | 'time';
  readonly seconds: number;
}

/** Every trial failed: there is nothing to train as the candidate. Carries the records for lineage. */
export class SearchFailedError extends Error {
  override readonly name = 'SearchFailedError';
  constructor(readonly trials: readonly TrialRecord[]) {
    const first = trials.find((t) => t.status === 'failed');
    super(`every search trial failed; the first, trial ${first?.index ?? 0}: ${first?.reason ?? 'no reason given'}`);
  }
}

/**
 * Runs trials in order until all are done or maxSeconds has passed (a trial started is finished; the rest are
 * 'skipped' with the reason); a trial that throws is 'failed' with its message and the search goes on; the winner is
 * the lowest finite score (ties: lowest index); if every trial failed, throw a SearchFailedError naming the first
 * failure. A trial whose score is not a finite number (a loss that diverged) counts as failed. `now` is injected (ms)
 * so tests control time.
 */
export async function runSearch(search: SearchSpec, seed: number, trainTrial: (trial: Trial) => Promise<TrialOutcome>, now: () => number): Promise<SearchResult> {
  const started = now();
  const records: TrialRecord[] = [];
  for (const trial of planTrials(search, seed)) {
    const spent = (now() - started) / 1000;
    if (search.maxSeconds !== undefined && spent >= search.maxSeconds) {
      records.push({ index: trial.index, parameters: trial.parameters, status: 'skipped', seconds: 0, reason: `the time budget of ${search.maxSeconds}s was spent (${round(spent)}s)` });
      continue;
    }
    records.push(await runTrial(trial, trainTrial, now));
  }
  const winner = pickWinner(records);
  if (winner === undefined) throw new SearchFailedError(records);
  return {
    trials: records,
    winner,
    stoppedBy: records.some((r) => r.status === 'skipped') ? 'time' : 'trials',
    seconds: (now() - started) / 1000,
  };
}

async function runTrial(trial: Trial, trainTrial: (trial: Trial) => Promise<TrialOutcome>, now: () => number): Promise<TrialRecord> {
  const t0 = now();
  const base = { index: trial.index, parameters: trial.parameters };
  try {
    const outcome = await trainTrial(trial);
    const seconds = (now() - t0) / 1000;
    const detail = outcome.detail === undefined ? {} : { detail: outcome.detail };
    if (!Number.isFinite(outcome.score)) return { ...base, status: 'failed', seconds, reason: `the validation loss is ${outcome.score}`, ...detail };
    return { ...base, status: 'done', score: outcome.score, seconds, ...detail };
  } catch (e: unknown) {
    return { ...base, status: 'failed', seconds: (now() - t0) / 1000, reason: e instanceof Error ? e.message : String(e) };
  }
}

/** The done trial with the lowest score; ties go to the lowest index (the spec's own settings first). */
export function pickWinner(records: readonly TrialRecord[]): TrialRecord | undefined {
  let best: TrialRecord | undefined;
  for (const r of records) {
    if (r.status !== 'done' || r.score === undefined || !Number.isFinite(r.score)) continue;
    if (best === undefined || r.score < (best.score ?? Number.POSITIVE_INFINITY)) best = r;
  }
  return best;
}

function round(seconds: number): number {
  return Math.round(seconds * 10) / 10;
}
