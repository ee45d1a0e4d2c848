// Feature drift against the champion: validation.maxSchemaDriftPsi. Pure.
//
// A retrain on data that left the world the champion was built for is what the loop is for; data that moved far
// more than the world does is a break upstream (a unit changed, a column filled by another source, a join gone
// wrong), and a model trained on it would be judged on the same broken holdout. So, when the rule is set and the
// champion has a reference profile (reference-profile.json, drift.ts: per feature its bins and their shares over
// the most recent rows of the run that trained it), the run's data is binned the same way and compared with PSI:
// a feature whose PSI exceeds the rule is an error, the run publishes nothing and the champion keeps serving.
// Like with like: the profile is of the champion run's most recent rows by event time, selected by
// drift-reference.ts (its training split when the data has no time), so the rows compared are this run's rows
// selected by the same rule (all of them without time).
// The PSI of every profiled feature goes into the report (featureDrift), also when none exceeds the rule.
import { histogram, psiFromCounts, type ReferenceProfile } from '../shared/drift.js';
import { selectDriftReference, type DriftReferenceSetting } from './drift-reference.js';
import type { Row } from './rows.js';

export interface FeatureDrift {
  /** The champion version whose profile the data was compared with. */
  readonly against: string;
  /** The rule (validation.maxSchemaDriftPsi). */
  readonly maxPsi: number;
  /** Rows compared: the profile's and this run's. */
  readonly referenceRows: number;
  readonly rows: number;
  /** PSI per feature the profile and the schema share. */
  readonly psi: Readonly<Record<string, number>>;
}

/** The rows compared with the profile: the most recent by event time as the reference profile picks them, or all when a row has no time. */
export function recentRows(rows: readonly Row[], setting: DriftReferenceSetting = undefined): readonly Row[] {
  return selectDriftReference(rows, rows, setting).rows;
}

/** PSI per feature of these rows against the profile, for the features named. */
export function featureDrift(rows: readonly Row[], profile: ReferenceProfile, features: readonly string[], setting: DriftReferenceSetting = undefined): Record<string, number> {
  const recent = recentRows(rows, setting);
  const out: Record<string, number> = {};
  for (const f of profile.features) {
    if (!features.includes(f.name)) continue;
    const counts = histogram(f.binning, recent.map((r) => r.values[f.name] ?? null));
    out[f.name] = psiFromCounts(f, counts, profile.epsilon);
  }
  return out;
}
