// Which rows the drift reference profile is built from.
//
// Drift answers "does live traffic still look like what this model was built for?". The answer must come from the
// recent data of the run, not from all of it: after New York traffic arrives, the retrain learns from Seattle's
// history plus the fed-back New York requests, and a profile of that whole mix would keep New York traffic drifting
// (PSI ~0.4–0.5 on temperature and wind) against the very model trained for it, so the drift trigger would fire again
// after every minInterval and the loop would never settle.
//
// "Recent" is by event time (every row's time is its event time, fed-back rows included: docs/loop-semantics.md), and
// it must cover the data's cycles: the reference used to be the newest 1,000 rows, a constant that is six weeks of
// one hourly series but only part of a week once a few hourly series (stations, sensors, a busy service's requests)
// share the data, so a weekly-seasonal feature was profiled on part of a week and drift fired every new week
// although nothing drifted. The default is therefore a span of event
// time, the newest year (it holds the daily, weekly and yearly cycles), extended to at least driftReferenceMinRows
// rows when the year holds fewer (enough for decile edges and a PSI floor of (10−1)/1000 ≈ 0.01 on the reference
// side) and capped at the newest driftReferenceMaxRows (deciles of more rows change nothing, and the cap bounds the
// profile's work). `data.driftReference` sets it: `lastRows` caps the count, `lastDays` the span back from the newest
// row; both set, both apply. Without a timestamp column there is no "recent": the training split (capped at
// `lastRows` when set), as before. Pure.
import type { Row } from './rows.js';

/** Default span of the reference, back from the newest row: a year holds the daily, weekly and yearly cycles. */
export const driftReferenceDays = 365;
/** The default reference holds at least this many rows (the newest), also when the year holds fewer. */
export const driftReferenceMinRows = 1000;
/** The default reference holds at most this many rows (the newest). */
export const driftReferenceMaxRows = 100_000;

const dayMs = 86_400_000;

/** data.driftReference (trainer-config.ts), either field optional. */
export type DriftReferenceSetting = { readonly lastRows?: number | undefined; readonly lastDays?: number | undefined } | undefined;

/** Which rows the profile was built from, for lineage. */
export interface DriftReferenceSelection {
  /** 'default' (a year, ≥ min rows, ≤ max rows), 'configured' (data.driftReference), 'training-split' (no time). */
  readonly rule: 'default' | 'configured' | 'training-split';
  readonly rows: number;
  /** Event-time range of the rows (ISO-8601), when they have times. */
  readonly from?: string;
  readonly to?: string;
  readonly lastRows?: number;
  readonly lastDays?: number;
}

/** The newest rows of time-ordered `ordered` within `lastDays` of the newest and at most `lastRows`. */
function newest(ordered: readonly Row[], lastRows: number | undefined, lastDays: number | undefined): Row[] {
  let start = 0;
  if (lastRows !== undefined) start = Math.max(start, ordered.length - lastRows);
  if (lastDays !== undefined) {
    const cut = (ordered[ordered.length - 1]?.time ?? 0) - lastDays * dayMs;
    const first = ordered.findIndex((r) => (r.time ?? -Infinity) >= cut);
    start = Math.max(start, first < 0 ? ordered.length : first);
  }
  return ordered.slice(start);
}

/** Selects the reference rows by the rules at the top of this file. `rows`: every row of the run. */
export function selectDriftReference(rows: readonly Row[], training: readonly Row[], setting: DriftReferenceSetting): { rows: readonly Row[]; selection: DriftReferenceSelection } {
  if (rows.length === 0 || rows.some((r) => r.time === undefined)) {
    const capped = setting?.lastRows !== undefined ? training.slice(-setting.lastRows) : training;
    return { rows: capped, selection: { rule: 'training-split', rows: capped.length, ...(setting?.lastRows !== undefined ? { lastRows: setting.lastRows } : {}) } };
  }
  const ordered = rows.map((r, i) => ({ r, i })).sort((a, b) => (a.r.time ?? 0) - (b.r.time ?? 0) || a.i - b.i).map((x) => x.r);
  let picked: Row[];
  let rule: DriftReferenceSelection['rule'];
  if (setting !== undefined && (setting.lastRows !== undefined || setting.lastDays !== undefined)) {
    picked = newest(ordered, setting.lastRows, setting.lastDays);
    rule = 'configured';
  } else {
    const year = newest(ordered, driftReferenceMaxRows, driftReferenceDays);
    picked = year.length >= driftReferenceMinRows ? year : ordered.slice(-driftReferenceMinRows);
    rule = 'default';
  }
  const times = picked.map((r) => r.time ?? 0);
  return {
    rows: picked,
    selection: {
      rule, rows: picked.length,
      ...(times.length > 0 ? { from: new Date(times[0] ?? 0).toISOString(), to: new Date(times[times.length - 1] ?? 0).toISOString() } : {}),
      ...(rule === 'configured' && setting?.lastRows !== undefined ? { lastRows: setting.lastRows } : {}),
      ...(rule === 'configured' && setting?.lastDays !== undefined ? { lastDays: setting.lastDays } : {}),
    },
  };
}

/** The reference rows of a split: every row of the run (train, validation and holdout) by the rules above. */
export function driftReferenceRowsOf(
  split: { readonly train: readonly Row[]; readonly validation: readonly Row[]; readonly holdout: readonly Row[] },
  setting: DriftReferenceSetting = undefined,
): { rows: readonly Row[]; selection: DriftReferenceSelection } {
  return selectDriftReference([...split.train, ...split.validation, ...split.holdout], split.train, setting);
}
