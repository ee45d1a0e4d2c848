// How loaded rows become training, early-stopping validation, holdout and historical-slice sets. Pure.
//   1. order by time (stable; reading order when there is no timestamp)
//   2. holdout = uploaded rows from `from` on, or the newest `fraction` of them (never trained on, never used to fit
//      preprocessing; never fed-back rows: the gate that blesses a model is judged on data its owner uploaded)
//   3. the rest, with every fed-back row, is the pool; the window keeps its newest rows; of the older rows a seeded `replayFraction` is replayed
//   4. the newest `validationFraction` of the training rows decides early stopping
//   5. the historical slice is the pool's rows in [from, to), inside or outside the window
import type { Evaluation, TrainerConfig } from '../shared/trainer-config.js';
import { deriveSeed, mulberry32 } from '../shared/random.js';
import type { Row } from './rows.js';

export interface Split {
  readonly train: Row[];
  readonly validation: Row[];
  readonly holdout: Row[];
  readonly historical: Row[];
  readonly replayed: number;
  readonly outsideWindow: number;
}

const dayMs = 86_400_000;

export function orderByTime(rows: readonly Row[]): Row[] {
  return rows.map((r, i) => ({ r, i })).sort((a, b) => (a.r.time ?? 0) - (b.r.time ?? 0) || a.i - b.i).map((x) => x.r);
}

export function splitHoldout(ordered: readonly Row[], holdout: Evaluation['holdout']): { pool: Row[]; holdout: Row[] } {
  if (holdout.kind === 'from') {
    const from = Date.parse(holdout.from);
    return { pool: ordered.filter((r) => (r.time ?? -Infinity) < from), holdout: ordered.filter((r) => (r.time ?? -Infinity) >= from) };
  }
  const n = Math.max(1, Math.ceil(ordered.length * holdout.fraction));
  return { pool: ordered.slice(0, ordered.length - n), holdout: ordered.slice(ordered.length - n) };
}

export function applyWindow(pool: readonly Row[], config: Pick<TrainerConfig, 'data' | 'seed'>): { kept: Row[]; replayed: number; outside: number } {
  const w = config.data.window;
  if (w === undefined || pool.length === 0) return { kept: [...pool], replayed: 0, outside: 0 };
  let start = 0;
  if (w.lastRows !== undefined) start = Math.max(start, pool.length - w.lastRows);
  if (w.lastDays !== undefined) {
    const newest = pool[pool.length - 1]?.time ?? 0;
    const cut = newest - w.lastDays * dayMs;
    const first = pool.findIndex((r) => (r.time ?? -Infinity) >= cut);
    start = Math.max(start, first < 0 ? pool.length : first);
  }
  const older = pool.slice(0, start);
  const random = mulberry32(deriveSeed(config.seed, 0x7e91a7));
  const replay = older.filter(() => random() < config.data.replayFraction);
  // Replayed rows keep their time order ahead of the window.
  return { kept: [...replay, ...pool.slice(start)], replayed: replay.length, outside: older.length };
}

export function splitRows(rows: readonly Row[], config: Pick<TrainerConfig, 'data' | 'seed' | 'evaluation' | 'hyperparameters'>): Split {
  const ordered = orderByTime(rows);
  const held = splitHoldout(ordered.filter((r) => !r.fedBack), config.evaluation.holdout);
  const holdout = held.holdout;
  const heldOut = new Set(holdout);
  const pool = ordered.filter((r) => !heldOut.has(r));
  const { kept, replayed, outside } = applyWindow(pool, config);
  const nVal = Math.floor(kept.length * config.hyperparameters.validationFraction);
  const hs = config.evaluation.historicalSlice;
  const historical = hs === undefined ? [] : pool.filter((r) => {
    const t = r.time ?? -Infinity;
    return (hs.from === undefined || t >= Date.parse(hs.from)) && t < Date.parse(hs.to);
  });
  return { train: kept.slice(0, kept.length - nVal), validation: kept.slice(kept.length - nVal), holdout, historical, replayed, outsideWindow: outside };
}
