// The trainer's in-memory row: the projected raw values (only the columns the schema needs), where it came
// from (object key and line, so reports can name it), and its time when the schema has a timestamp column.
import type { RawRow } from '../shared/preprocessing.js';

export interface RowRef {
  readonly object: string;
  readonly line: number;
}

export interface Row {
  readonly values: RawRow;
  readonly ref: RowRef;
  /** Milliseconds since the epoch, when the schema has a readable timestamp. */
  readonly time: number | undefined;
  /**
   * A fed-back row (a logged prediction joined with a client's label) rather than uploaded data. Fed-back rows are
   * capped in share, checked against the classes and range of the uploaded data, and never held out for evaluation.
   */
  readonly fedBack?: true;
}
