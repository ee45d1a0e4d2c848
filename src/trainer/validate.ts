// Data validation: pure checks over what the loader saw, producing the validation report. Each check is a
// small named function returning issues; the run is invalid when any issue has severity "error". Issues name
// the column, the objects, and example rows (object key + line number) with the offending value.
import type { ReferenceProfile } from '../shared/drift.js';
import { toCategory, toNumber, toTime, type RawValue } from '../shared/preprocessing.js';
import type { Schema, ValidationRules } from '../shared/trainer-config.js';
import type { DriftReferenceSetting } from './drift-reference.js';
import { featureDrift, recentRows, type FeatureDrift } from './feature-drift.js';
import type { Row, RowRef } from './rows.js';

export const validationReportVersion = 1;

export type IssueCheck =
  | 'empty-object' | 'malformed-line' | 'missing-column' | 'wrong-type' | 'missing-label' | 'unknown-label'
  | 'missing-rate' | 'out-of-range' | 'unseen-category' | 'label-balance' | 'min-rows' | 'schema-drift' | 'no-data'
  | 'feature-drift' | 'missing-row-id';

export interface IssueRow extends RowRef {
  readonly value?: string;
  readonly reason?: string;
}

export interface Issue {
  readonly check: IssueCheck;
  readonly severity: 'error' | 'warning';
  readonly message: string;
  readonly column?: string;
  readonly objects?: readonly string[];
  /** Up to maxExampleRows examples; `count` has the total. */
  readonly rows?: readonly IssueRow[];
  readonly count?: number;
}

export interface ObjectSummary {
  readonly key: string;
  readonly etag: string;
  readonly size: number;
  /** Records parsed from the object. */
  readonly records: number;
  /** Records kept after the `where` filter. */
  readonly rows: number;
  /** Columns the object declared (CSV header) or used (JSONL keys). */
  readonly columns: readonly string[];
}

export interface BadLine extends RowRef {
  readonly reason: string;
}

/** Profile of a run's data that the next run compares its schema against. */
export interface DataProfile {
  readonly version: 1;
  readonly columns: readonly string[];
  readonly features: readonly { readonly name: string; readonly type: string }[];
  readonly label: string;
  readonly task: string;
  readonly categories: Readonly<Record<string, readonly string[]>>;
}

export interface ColumnSummary {
  readonly type: string;
  readonly missing: number;
  readonly missingRate: number;
  readonly min?: number;
  readonly max?: number;
  readonly distinct?: number;
}

export interface ValidationReport {
  readonly version: typeof validationReportVersion;
  readonly ok: boolean;
  readonly rows: number;
  readonly objects: readonly ObjectSummary[];
  readonly columns: Readonly<Record<string, ColumnSummary>>;
  readonly labelDistribution: Readonly<Record<string, number>>;
  readonly issues: readonly Issue[];
  /** PSI per feature against the champion's profile, when validation.maxSchemaDriftPsi is set and it has one. */
  readonly featureDrift?: FeatureDrift;
}

export interface ValidationInput {
  readonly schema: Schema;
  readonly rules: ValidationRules;
  readonly objects: readonly ObjectSummary[];
  readonly badLines: readonly BadLine[];
  readonly rows: readonly Row[];
  readonly previous: DataProfile | undefined;
  /** The champion's reference profile (feature drift), when there is a champion that has one. */
  readonly reference?: { readonly version: string; readonly profile: ReferenceProfile } | undefined;
  /** data.driftReference: the feature-drift check compares the rows the reference profile would be built from. */
  readonly driftReference?: DriftReferenceSetting;
}

/** Texts that mean "no value" in a label cell, besides empty and null. */
export function isMissingLabel(v: RawValue): boolean {
  if (v === null || v === undefined) return true;
  if (typeof v === 'number') return !Number.isFinite(v);
  const t = String(v).trim();
  return t === '' || /^nan$/i.test(t);
}

function examples(rules: ValidationRules, rows: IssueRow[]): { rows: IssueRow[]; count: number } {
  return { rows: rows.slice(0, rules.maxExampleRows), count: rows.length };
}

function show(v: RawValue): string {
  const s = String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function requiredColumns(schema: Schema): string[] {
  return [...schema.features.map((f) => f.name), schema.label, ...(schema.timestamp !== undefined ? [schema.timestamp] : [])];
}

export function checkObjects(input: ValidationInput): Issue[] {
  const issues: Issue[] = [];
  const empty = input.objects.filter((o) => o.records === 0 && !input.badLines.some((b) => b.object === o.key));
  if (empty.length > 0) issues.push({ check: 'empty-object', severity: 'error', message: `${empty.length} object(s) hold no rows`, objects: empty.map((o) => o.key) });
  if (input.badLines.length > 0) {
    const ex = examples(input.rules, input.badLines.map((b) => ({ object: b.object, line: b.line, reason: b.reason })));
    issues.push({ check: 'malformed-line', severity: 'error', message: `${input.badLines.length} line(s) could not be parsed`, objects: [...new Set(input.badLines.map((b) => b.object))], ...ex });
  }
  if (input.objects.length === 0) issues.push({ check: 'no-data', severity: 'error', message: 'no data objects under the configured prefixes' });
  return issues;
}

export function checkColumns(input: ValidationInput): Issue[] {
  const issues: Issue[] = [];
  for (const col of requiredColumns(input.schema)) {
    const lacking = input.objects.filter((o) => o.records > 0 && !o.columns.includes(col)).map((o) => o.key);
    if (lacking.length > 0) issues.push({ check: 'missing-column', severity: 'error', column: col, message: `required column "${col}" is absent from ${lacking.length} object(s)`, objects: lacking });
  }
  return [...issues, ...checkRowIds(input)];
}

/**
 * schema.rowId: every data object has the column (else its rows could never be matched with their fed-back copies,
 * an error), and a row without a value in it is matched by content instead (a warning, counted).
 */
export function checkRowIds(input: ValidationInput): Issue[] {
  const col = input.schema.rowId;
  if (col === undefined) return [];
  const issues: Issue[] = [];
  const lacking = input.objects.filter((o) => o.records > 0 && !o.columns.includes(col)).map((o) => o.key);
  if (lacking.length > 0) {
    issues.push({
      check: 'missing-column', severity: 'error', column: col, objects: lacking,
      message: `row-id column "${col}" (schema.rowId) is absent from ${lacking.length} object(s): add the column, or remove schema.rowId to match fed-back rows by content`,
    });
  }
  const lackingObjects = new Set(lacking);
  const missing = input.rows.filter((r) => !r.fedBack && !lackingObjects.has(r.ref.object) && toCategory(r.values[col]) === undefined).map((r) => ({ ...r.ref, reason: 'row id missing' }));
  if (missing.length > 0) {
    issues.push({ check: 'missing-row-id', severity: 'warning', column: col, message: `${missing.length} uploaded row(s) have no "${col}" (schema.rowId); they are matched with fed-back rows by event time and features instead`, ...examples(input.rules, missing) });
  }
  return issues;
}

export function checkTypes(input: ValidationInput): Issue[] {
  const issues: Issue[] = [];
  const { schema, rules, rows } = input;
  const typed = [
    ...schema.features.filter((f) => f.type !== 'categorical'),
    ...(schema.timestamp !== undefined ? [{ name: schema.timestamp, type: 'date' as const }] : []),
    ...(schema.task === 'regression' ? [{ name: schema.label, type: 'numeric' as const }] : []),
  ];
  for (const f of typed) {
    const bad: IssueRow[] = [];
    for (const r of rows) {
      const v = r.values[f.name];
      if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) continue;
      if (f.name === schema.label && isMissingLabel(v)) continue;
      const ok = f.type === 'numeric' ? toNumber(v) !== undefined || (typeof v === 'string' && /^nan$/i.test(v.trim())) : toTime(v) !== undefined;
      if (!ok) bad.push({ ...r.ref, value: show(v), reason: `not a ${f.type === 'numeric' ? 'number' : 'date'}` });
    }
    if (bad.length > 0) issues.push({ check: 'wrong-type', severity: 'error', column: f.name, message: `${bad.length} value(s) of "${f.name}" are not ${f.type === 'numeric' ? 'numbers' : 'dates'}`, ...examples(rules, bad) });
  }
  if (schema.timestamp !== undefined) {
    const ts = schema.timestamp;
    const missing = rows.filter((r) => toCategory(r.values[ts]) === undefined).map((r) => ({ ...r.ref, reason: 'timestamp missing' }));
    if (missing.length > 0) issues.push({ check: 'wrong-type', severity: 'error', column: ts, message: `${missing.length} row(s) have no timestamp`, ...examples(rules, missing) });
  }
  return issues;
}

export function checkLabels(input: ValidationInput): Issue[] {
  const issues: Issue[] = [];
  const { schema, rules, rows } = input;
  const missing = rows.filter((r) => isMissingLabel(r.values[schema.label])).map((r) => ({ ...r.ref, value: show(r.values[schema.label] ?? null), reason: 'label missing or NaN' }));
  if (missing.length > 0) issues.push({ check: 'missing-label', severity: 'error', column: schema.label, message: `${missing.length} row(s) have a missing or NaN label`, ...examples(rules, missing) });
  if (schema.task === 'classification' && schema.classes !== undefined) {
    const classes = schema.classes;
    const unknown = rows
      .filter((r) => !isMissingLabel(r.values[schema.label]) && !classes.includes(toCategory(r.values[schema.label]) ?? ''))
      .map((r) => ({ ...r.ref, value: show(r.values[schema.label] ?? null), reason: 'not one of the declared classes' }));
    if (unknown.length > 0) issues.push({ check: 'unknown-label', severity: 'error', column: schema.label, message: `${unknown.length} label(s) outside the declared classes ${classes.join(', ')}`, ...examples(rules, unknown) });
  }
  return issues;
}

export function checkMissingRates(input: ValidationInput): Issue[] {
  const issues: Issue[] = [];
  if (input.rows.length === 0) return issues;
  for (const f of input.schema.features) {
    const max = input.rules.maxMissingRateByColumn[f.name] ?? input.rules.maxMissingRate;
    const missing = input.rows.filter((r) => (f.type === 'numeric' ? toNumber(r.values[f.name]) : toCategory(r.values[f.name])) === undefined);
    const rate = missing.length / input.rows.length;
    if (rate > max) {
      issues.push({
        check: 'missing-rate', severity: 'error', column: f.name,
        message: `"${f.name}" is missing in ${(rate * 100).toFixed(1)}% of rows, more than the allowed ${(max * 100).toFixed(1)}%`,
        ...examples(input.rules, missing.map((r) => ({ ...r.ref, reason: 'missing' }))),
      });
    }
  }
  return issues;
}

export function checkRanges(input: ValidationInput): Issue[] {
  const issues: Issue[] = [];
  for (const [col, range] of Object.entries(input.rules.ranges)) {
    const bad: IssueRow[] = [];
    for (const r of input.rows) {
      const x = toNumber(r.values[col]);
      if (x === undefined) continue;
      if ((range.min !== undefined && x < range.min) || (range.max !== undefined && x > range.max)) bad.push({ ...r.ref, value: String(x), reason: `outside [${range.min ?? '-∞'}, ${range.max ?? '∞'}]` });
    }
    if (bad.length > 0) issues.push({ check: 'out-of-range', severity: 'error', column: col, message: `${bad.length} value(s) of "${col}" out of range`, ...examples(input.rules, bad) });
  }
  return issues;
}

export function checkCategories(input: ValidationInput): Issue[] {
  const issues: Issue[] = [];
  const { rules, rows, previous } = input;
  for (const f of input.schema.features.filter((x) => x.type === 'categorical')) {
    const allowed = rules.allowedCategories[f.name];
    const known = allowed ?? previous?.categories[f.name];
    if (known === undefined) continue;
    // Declared lists follow the configured severity; categories merely new since the last run only warn.
    const severity = allowed !== undefined ? rules.unseenCategories : 'warning';
    if (severity === 'off') continue;
    const bad = rows
      .filter((r) => {
        const c = toCategory(r.values[f.name]);
        return c !== undefined && !known.includes(c);
      })
      .map((r) => ({ ...r.ref, value: show(r.values[f.name] ?? null), reason: allowed !== undefined ? 'not an allowed category' : 'not seen in the previous run' }));
    if (bad.length > 0) {
      const values = [...new Set(bad.map((b) => b.value))].slice(0, 10);
      issues.push({ check: 'unseen-category', severity, column: f.name, message: `${bad.length} value(s) of "${f.name}" are unseen categories: ${values.join(', ')}`, ...examples(rules, bad) });
    }
  }
  return issues;
}

export function labelDistribution(input: ValidationInput): Record<string, number> {
  const out: Record<string, number> = {};
  if (input.schema.task !== 'classification') return out;
  for (const r of input.rows) {
    if (isMissingLabel(r.values[input.schema.label])) continue;
    const c = toCategory(r.values[input.schema.label]) ?? '';
    out[c] = (out[c] ?? 0) + 1;
  }
  return out;
}

export function checkBalanceAndSize(input: ValidationInput): Issue[] {
  const issues: Issue[] = [];
  if (input.rows.length < input.rules.minRows) {
    issues.push({ check: 'min-rows', severity: 'error', message: `${input.rows.length} row(s), fewer than the required ${input.rules.minRows}` });
  }
  if (input.schema.task === 'classification' && input.rows.length > 0) {
    const dist = labelDistribution(input);
    const total = Object.values(dist).reduce((a, b) => a + b, 0);
    const classes = input.schema.classes ?? Object.keys(dist);
    if (Object.keys(dist).length < 2) issues.push({ check: 'label-balance', severity: 'error', column: input.schema.label, message: `only ${Object.keys(dist).length} class(es) present; a classifier needs at least 2` });
    const rare = classes.filter((c) => total > 0 && (dist[c] ?? 0) / total < input.rules.minClassShare);
    if (rare.length > 0) {
      issues.push({ check: 'label-balance', severity: 'error', column: input.schema.label, message: `class(es) ${rare.map((c) => `${c} (${(((dist[c] ?? 0) / total) * 100).toFixed(1)}%)`).join(', ')} below the minimum share ${(input.rules.minClassShare * 100).toFixed(1)}%` });
    }
  }
  return issues;
}

export function checkSchemaDrift(input: ValidationInput, current: DataProfile): Issue[] {
  const prev = input.previous;
  if (prev === undefined || input.rules.schemaDrift === 'off') return [];
  const severity = input.rules.schemaDrift;
  const issues: Issue[] = [];
  const removed = prev.columns.filter((c) => !current.columns.includes(c));
  const added = current.columns.filter((c) => !prev.columns.includes(c));
  if (removed.length > 0) issues.push({ check: 'schema-drift', severity, message: `column(s) ${removed.join(', ')} present in the previous run are gone` });
  if (added.length > 0) issues.push({ check: 'schema-drift', severity: 'warning', message: `new column(s) ${added.join(', ')} since the previous run` });
  for (const f of current.features) {
    const before = prev.features.find((p) => p.name === f.name);
    if (before && before.type !== f.type) issues.push({ check: 'schema-drift', severity, column: f.name, message: `"${f.name}" changed type from ${before.type} to ${f.type}` });
  }
  if (prev.label !== current.label || prev.task !== current.task) issues.push({ check: 'schema-drift', severity, message: `label/task changed from ${prev.label}/${prev.task} to ${current.label}/${current.task}` });
  return issues;
}

/** The PSI of each feature against the champion's profile (feature-drift.ts), when the rule is set and there is one. */
export function measureFeatureDrift(input: ValidationInput): FeatureDrift | undefined {
  const maxPsi = input.rules.maxSchemaDriftPsi;
  const reference = input.reference;
  if (maxPsi === undefined || reference === undefined || input.rows.length === 0) return undefined;
  const psi = featureDrift(input.rows, reference.profile, input.schema.features.map((f) => f.name), input.driftReference);
  return { against: reference.version, maxPsi, referenceRows: reference.profile.rows, rows: recentRows(input.rows, input.driftReference).length, psi };
}

export function checkFeatureDrift(drift: FeatureDrift | undefined): Issue[] {
  if (drift === undefined) return [];
  return Object.entries(drift.psi).filter(([, psi]) => psi > drift.maxPsi).map(([name, psi]) => ({
    check: 'feature-drift', severity: 'error', column: name,
    message: `"${name}" PSI ${psi.toFixed(3)} against the profile of ${drift.against} exceeds validation.maxSchemaDriftPsi ${drift.maxPsi} (${drift.rows} recent rows vs ${drift.referenceRows}): a break in the data, not a change of the world?`,
  }));
}

export function dataProfile(input: ValidationInput): DataProfile {
  const categories: Record<string, string[]> = {};
  for (const f of input.schema.features.filter((x) => x.type === 'categorical')) {
    categories[f.name] = [...new Set(input.rows.map((r) => toCategory(r.values[f.name])).filter((c): c is string => c !== undefined))].sort();
  }
  return {
    version: 1,
    columns: [...new Set(input.objects.flatMap((o) => o.columns))].sort(),
    features: input.schema.features.map((f) => ({ name: f.name, type: f.type })),
    label: input.schema.label,
    task: input.schema.task,
    categories,
  };
}

function columnSummaries(input: ValidationInput): Record<string, ColumnSummary> {
  const out: Record<string, ColumnSummary> = {};
  const n = input.rows.length;
  for (const f of input.schema.features) {
    const vals = input.rows.map((r) => r.values[f.name]);
    if (f.type === 'numeric') {
      const nums = vals.map(toNumber).filter((x): x is number => x !== undefined);
      const missing = n - nums.length;
      // Reduce, not Math.min(...nums): spreading a million values overflows the call stack.
      const range = nums.length > 0 ? { min: nums.reduce((a, b) => (b < a ? b : a)), max: nums.reduce((a, b) => (b > a ? b : a)) } : {};
      out[f.name] = { type: f.type, missing, missingRate: n > 0 ? missing / n : 0, ...range };
    } else {
      const cats = vals.map(f.type === 'date' ? (v: RawValue) => (toTime(v) === undefined ? undefined : String(v)) : toCategory).filter((x): x is string => x !== undefined);
      const missing = n - cats.length;
      out[f.name] = { type: f.type, missing, missingRate: n > 0 ? missing / n : 0, distinct: new Set(cats).size };
    }
  }
  return out;
}

/** Runs every check; `ok` is false when any issue is an error. */
export function validateData(input: ValidationInput): { report: ValidationReport; profile: DataProfile } {
  const profile = dataProfile(input);
  const drift = measureFeatureDrift(input);
  const issues = [
    ...checkObjects(input), ...checkColumns(input), ...checkTypes(input), ...checkLabels(input), ...checkMissingRates(input),
    ...checkRanges(input), ...checkCategories(input), ...checkBalanceAndSize(input), ...checkSchemaDrift(input, profile),
    ...checkFeatureDrift(drift),
  ];
  return {
    report: {
      version: validationReportVersion,
      ok: !issues.some((i) => i.severity === 'error'),
      rows: input.rows.length,
      objects: input.objects,
      columns: columnSummaries(input),
      labelDistribution: labelDistribution(input),
      issues,
      ...(drift ? { featureDrift: drift } : {}),
    },
    profile,
  };
}
