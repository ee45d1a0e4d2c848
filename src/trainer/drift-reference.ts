// Which rows the drift reference profile is built from.
//
// Drift answers "does live traffic still look like what this model was built for?". The answer must come from the
// most recent data of the run, not from all of it: after New York traffic arrives, the retrain learns from Seattle's
// history plus the fed-back New York requests, and a profile of that whole mix would keep New York traffic drifting
// (PSI ~0.4–0.5 on temperature and wind) against the very model trained for it, so the drift trigger would fire again
// after every minInterval and the loop would never settle. Fed-back rows carry the time of their prediction, so "the
// most recent rows by the timestamp column" is the serving traffic when there is feedback, and the latest history
// when there is none. Without a timestamp column there is no "recent": the training split, as before.
import type { Row } from './rows.js';

/** Rows in the reference: enough for decile edges and a PSI floor of (10−1)/1000 ≈ 0.01 on the reference side. */
export const driftReferenceRows = 1000;

/** The most recent `size` rows of the run (train, validation and holdout) by time; the training split when rows have no time. */
export function driftReferenceRowsOf(split: { readonly train: readonly Row[]; readonly validation: readonly Row[]; readonly holdout: readonly Row[] }, size = driftReferenceRows): readonly Row[] {
  const all = [...split.train, ...split.validation, ...split.holdout];
  if (all.length === 0 || all.some((r) => r.time === undefined)) return split.train;
  return all.sort((a, b) => (a.time ?? 0) - (b.time ?? 0)).slice(-size);
}
