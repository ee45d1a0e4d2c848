// Rows that arrive twice: a request that was predicted, labelled and fed back, and the same row uploaded later as
// data; a fed-back row logged twice; an uploaded row corrected by a later object. Pure. Applied before fed-back rows
// are admitted (feedback-rows.ts) and the rows are split (split.ts), so a dropped copy never uses up the share cap.
//
// Key: the row-id column's value when the schema declares `rowId` and the row has one; else a content key, the
// row's event time plus every feature value normalised (numbers as numbers, categories trimmed, dates as instants).
// The label is not in the key: an uploaded row and its fed-back copy with another label are the same row.
// A fed-back row with a row id is matched by id; one without (an old server, a request without the column) by content.
//
//   1. uploaded rows repeated by row id: the last read wins (a correction), in every mode; counted;
//   2. a fed-back row matching a row of the holdout (the newest uploaded rows by event time, split.ts) never trains,
//      in every mode: training on a copy of a holdout row would leak it and flatter the gate;
//   3. `duplicates: 'prefer-uploaded'` (default): a fed-back row matching any uploaded row is dropped, and of fed-back
//      rows sharing a key the first (by prediction time) is kept; `'keep-both'`: both train.
// Every count goes to lineage (`duplicates`) and the run log.
import { toCategory, toNumber, toTime, type RawValue } from '../shared/preprocessing.js';
import type { TrainerConfig } from '../shared/trainer-config.js';
import type { Row } from './rows.js';
import { orderByTime, splitHoldout } from './split.js';

export interface DuplicateStats {
  readonly policy: 'prefer-uploaded' | 'keep-both';
  /** What rows are matched by: the declared row-id column, or their content (event time and feature values). */
  readonly matchedBy: 'rowId' | 'content';
  /** Uploaded rows replaced by a later uploaded row with the same row id. */
  readonly uploadedReplaced: number;
  /** Uploaded rows without a value in the declared row-id column (matched by content). */
  readonly uploadedWithoutRowId: number;
  /** Fed-back rows dropped because they copy a holdout row (every policy). */
  readonly fedBackMatchingHoldout: number;
  /** Fed-back rows dropped because they copy an uploaded training row ('prefer-uploaded'). */
  readonly fedBackMatchingUploaded: number;
  /** Fed-back rows dropped because an earlier fed-back row has the same key ('prefer-uploaded'). */
  readonly fedBackRepeated: number;
  /** Fed-back rows kept. */
  readonly fedBackKept: number;
}

type DupConfig = Pick<TrainerConfig, 'schema' | 'data' | 'evaluation'>;

function normalised(type: 'numeric' | 'categorical' | 'date', v: RawValue): string | number | null {
  if (type === 'numeric') return toNumber(v) ?? null;
  if (type === 'date') return toTime(v) ?? null;
  return toCategory(v) ?? null;
}

/** The content key: event time and every feature value, normalised. */
export function contentKey(row: Row, schema: TrainerConfig['schema']): string {
  return JSON.stringify([row.time ?? null, ...schema.features.map((f) => normalised(f.type, row.values[f.name]))]);
}

/** The row's id in the declared row-id column (trimmed), undefined when none is declared or the row has none. */
export function rowIdOf(row: Row, schema: TrainerConfig['schema']): string | undefined {
  return schema.rowId === undefined ? undefined : toCategory(row.values[schema.rowId]);
}

/** Uploaded rows repeated by row id keep the last read; rows without an id are all kept. Order is kept. */
export function latestUploaded(uploaded: readonly Row[], schema: TrainerConfig['schema']): { rows: Row[]; replaced: number; withoutId: number } {
  if (schema.rowId === undefined) return { rows: [...uploaded], replaced: 0, withoutId: 0 };
  const last = new Map<string, Row>();
  let withoutId = 0;
  for (const r of uploaded) {
    const id = rowIdOf(r, schema);
    if (id === undefined) withoutId++;
    else last.set(id, r);
  }
  const rows = uploaded.filter((r) => {
    const id = rowIdOf(r, schema);
    return id === undefined || last.get(id) === r;
  });
  return { rows, replaced: uploaded.length - rows.length, withoutId };
}

/** Keys of a set of rows: their ids (rows with one) and their content keys (all rows). */
class KeySet {
  private readonly ids = new Set<string>();
  private readonly contents = new Set<string>();
  constructor(private readonly schema: TrainerConfig['schema']) {}
  add(r: Row): void {
    const id = rowIdOf(r, this.schema);
    if (id !== undefined) this.ids.add(id);
    this.contents.add(contentKey(r, this.schema));
  }
  /** A row with an id matches by id; one without, by content. */
  has(r: Row): boolean {
    const id = rowIdOf(r, this.schema);
    return id !== undefined ? this.ids.has(id) : this.contents.has(contentKey(r, this.schema));
  }
}

/** Drops duplicate rows by the rules at the top of this file; the rows keep their order. */
export function resolveDuplicates(rows: readonly Row[], config: DupConfig): { rows: Row[]; stats: DuplicateStats } {
  const schema = config.schema;
  const policy = config.data.feedback?.duplicates ?? 'prefer-uploaded';
  const uploaded = latestUploaded(rows.filter((r) => !r.fedBack), schema);
  const keptUploaded = new Set(uploaded.rows);
  // The same holdout split.ts will draw: it is taken from uploaded rows only, so fed-back rows cannot move it.
  const holdout = new KeySet(schema);
  for (const r of splitHoldout(orderByTime(uploaded.rows), config.evaluation.holdout).holdout) holdout.add(r);
  const trusted = new KeySet(schema);
  for (const r of uploaded.rows) trusted.add(r);
  const fedBackSeen = new KeySet(schema);
  let matchingHoldout = 0;
  let matchingUploaded = 0;
  let repeated = 0;
  let kept = 0;
  const out = rows.filter((r) => {
    if (!r.fedBack) return keptUploaded.has(r);
    if (holdout.has(r)) matchingHoldout++;
    else if (policy === 'prefer-uploaded' && trusted.has(r)) matchingUploaded++;
    else if (policy === 'prefer-uploaded' && fedBackSeen.has(r)) repeated++;
    else {
      fedBackSeen.add(r);
      kept++;
      return true;
    }
    return false;
  });
  return {
    rows: out,
    stats: {
      policy, matchedBy: schema.rowId !== undefined ? 'rowId' : 'content', uploadedReplaced: uploaded.replaced, uploadedWithoutRowId: uploaded.withoutId,
      fedBackMatchingHoldout: matchingHoldout, fedBackMatchingUploaded: matchingUploaded, fedBackRepeated: repeated, fedBackKept: kept,
    },
  };
}
