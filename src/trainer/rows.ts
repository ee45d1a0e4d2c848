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
  /**
   * The row's event time in milliseconds since the epoch, when the schema has a readable timestamp: for uploaded rows
   * the timestamp column, for fed-back rows the event time the request carried (else their prediction time, counted
   * in lineage). Windows, the holdout and the drift reference order rows by it.
   */
  readonly time: number | undefined;
  /**
   * A fed-back row (a logged prediction joined with a client's label) rather than uploaded data. Fed-back rows are
   * capped in share, checked against the classes and range of the uploaded data, and never held out for evaluation.
   */
  readonly fedBack?: true;
  /** A fed-back row's prediction time (milliseconds since the epoch), kept apart from its event time for lineage. */
  readonly predictionTime?: number;
  /** When a fed-back row's label arrived (milliseconds since the epoch): lineage's labelTime, the feedback loop's start. */
  readonly labelTime?: number;
}
