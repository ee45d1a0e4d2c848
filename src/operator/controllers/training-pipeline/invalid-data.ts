// How the run's message words a failed validation (the trainer's validation report, read by observe.ts). Pure.
// The trainer's issue messages are kept, except where the operator knows what to do about them: a run with fewer
// rows than validation.minRows (typically the first, small upload of a new dataset) says the count, the minimum
// and the two ways out, since the data is otherwise refused without a hint.

/** An error of the validation report: its check (min-rows, missing-rate, ...) and the trainer's sentence. */
export interface ValidationIssue {
  readonly check: string | undefined;
  readonly message: string;
  /** The rows the check counted, when the report says (min-rows: the rows the run had). */
  readonly count?: number | undefined;
}

/** The trainer's min-rows sentence: "<rows> row(s), fewer than the required <minRows>". */
const minRowsSentence = /^(\d+) row\(s\), fewer than the required (\d+)/;

function minRowsText(issue: ValidationIssue, pipeline: string, minRowsNow: number): string {
  const m = minRowsSentence.exec(issue.message);
  const rows = issue.count ?? (m ? Number(m[1]) : undefined);
  // The minimum the run was given (the spec may have changed since); the spec's when the sentence does not say.
  const min = m ? Number(m[2]) : minRowsNow;
  const had = rows === undefined ? 'too few rows' : `${rows} row(s)`;
  return `${had}, fewer than the minimum ${min} (spec.validation.minRows): lower spec.validation.minRows or wait for more data, then run again (kubectl perennial trigger ${pipeline}, or the next trigger)`;
}

/** One issue in the run's words. */
export function issueText(issue: ValidationIssue, pipeline: string, minRowsNow: number): string {
  return issue.check === 'min-rows' ? minRowsText(issue, pipeline, minRowsNow) : issue.message;
}

/** The InvalidData run's message (also its Warning event and the Degraded condition's). */
export function invalidDataMessage(issues: readonly ValidationIssue[], pipeline: string, minRowsNow: number): string {
  const text = issues.map((i) => issueText(i, pipeline, minRowsNow)).join('; ');
  return `The data failed validation: ${text || 'see the validation report'}. Not retried on the same data.`;
}
