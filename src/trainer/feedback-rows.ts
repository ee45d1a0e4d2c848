// Which fed-back rows a run may train on. Pure. Uploaded data comes from the pipeline's owner; fed-back rows come
// from whoever held the feedback token, so they are admitted under three rules, reported in lineage:
//   1. the label is one the uploaded data could have (src/shared/label-check.ts): a declared class, or for an
//      undeclared class list one seen in the uploaded rows (new classes enter only through uploaded data); a
//      finite number inside the declared range (regression);
//   2. they are at most `maxShare` of the training rows: beyond it the newest are kept (by time, else by order);
//   3. they are never held out for evaluation (split.ts): the gate that blesses a model is judged on uploaded rows.
import { checkLabel } from '../shared/label-check.js';
import { toCategory, type LabelSpec } from '../shared/preprocessing.js';
import type { TrainerConfig } from '../shared/trainer-config.js';
import type { Row } from './rows.js';

export interface FeedbackAdmission {
  /** Uploaded rows and admitted fed-back rows, in their original order. */
  readonly rows: Row[];
  readonly stats: {
    /** Fed-back rows joined from the logs. */
    readonly fedBack: number;
    /** Of those, dropped for a label outside the classes or the range. */
    readonly rejectedLabels: number;
    /** Of those, dropped by the share cap. */
    readonly capped: number;
    readonly admitted: number;
  };
}

/** Classes of the uploaded rows (or the declared ones), sorted: the classes fed-back labels must be among. */
export function trustedClasses(config: Pick<TrainerConfig, 'schema'>, rows: readonly Row[]): string[] {
  if (config.schema.classes !== undefined) return [...config.schema.classes];
  const seen = new Set<string>();
  for (const r of rows) {
    if (r.fedBack) continue;
    const c = toCategory(r.values[config.schema.label]);
    if (c !== undefined) seen.add(c);
  }
  return [...seen].sort();
}

/** Most fed-back rows next to `trusted` uploaded rows so that they make at most `maxShare` of the total. */
export function feedbackCap(trusted: number, maxShare: number): number {
  if (maxShare >= 1) return Infinity;
  return Math.floor((maxShare / (1 - maxShare)) * trusted + 1e-9);
}

export function admitFeedback(rows: readonly Row[], config: Pick<TrainerConfig, 'schema' | 'data'>): FeedbackAdmission {
  const fedBack = rows.filter((r) => r.fedBack);
  if (fedBack.length === 0) return { rows: [...rows], stats: { fedBack: 0, rejectedLabels: 0, capped: 0, admitted: 0 } };
  const s = config.schema;
  const label: LabelSpec = s.task === 'classification'
    ? { task: 'classification', name: s.label, classes: trustedClasses(config, rows) }
    : { task: 'regression', name: s.label, mean: 0, std: 1, ...(s.labelRange?.min !== undefined ? { min: s.labelRange.min } : {}), ...(s.labelRange?.max !== undefined ? { max: s.labelRange.max } : {}) };
  const valid = fedBack.filter((r) => checkLabel(label, r.values[s.label]).ok);
  const cap = feedbackCap(rows.length - fedBack.length, config.data.feedback?.maxShare ?? 0.5);
  // The newest fed-back rows are kept: ordered by time (reading order breaks ties and stands in without a time).
  const kept = new Set(valid.map((r, i) => ({ r, i })).sort((a, b) => (a.r.time ?? 0) - (b.r.time ?? 0) || a.i - b.i).slice(Math.max(0, valid.length - cap)).map((x) => x.r));
  return {
    rows: rows.filter((r) => !r.fedBack || kept.has(r)),
    stats: { fedBack: fedBack.length, rejectedLabels: fedBack.length - valid.length, capped: valid.length - kept.size, admitted: kept.size },
  };
}
