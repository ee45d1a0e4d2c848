// A fit's input, checked and in the shapes the families work with: labels as class indices or float64 values,
// the inputs binned once.
import type { BinnedInputs } from './bins.js';
import type { TreeFitInput } from './fit-types.js';

export interface PreparedFit {
  readonly input: TreeFitInput;
  readonly binned: BinnedInputs;
  /** Classification: each row's class. */
  readonly classOf: Int32Array;
  /** Regression: each row's label. */
  readonly value: Float64Array;
  readonly valClassOf: Int32Array;
  readonly valValue: Float64Array;
}

/** A fit input that cannot be trained on: the message says what is wrong. */
export class InvalidTreeInputError extends Error {
  override readonly name = 'InvalidTreeInputError';
}

/** The problems of a fit input (empty when it is fine). */
export function inputProblems(input: TreeFitInput): string[] {
  const problems: string[] = [];
  const { rows, width, outputs, task, validation: v } = input;
  if (!Number.isInteger(rows) || rows < 1) problems.push(`rows must be a positive integer, got ${rows}`);
  if (!Number.isInteger(width) || width < 1) problems.push(`width must be a positive integer, got ${width}`);
  if (task === 'regression' ? outputs !== 1 : !(Number.isInteger(outputs) && outputs >= 2)) problems.push(`outputs ${outputs} does not fit a ${task}`);
  if (input.x.length !== rows * width) problems.push(`x has ${input.x.length} numbers, rows × width is ${rows * width}`);
  if (input.y.length !== rows) problems.push(`y has ${input.y.length} labels for ${rows} rows`);
  if (v !== undefined && (v.x.length !== v.rows * width || v.y.length !== v.rows)) problems.push(`validation: ${v.x.length} inputs and ${v.y.length} labels for ${v.rows} rows of ${width}`);
  const badLabel = (y: number): boolean => (task === 'classification' ? !Number.isInteger(y) || y < 0 || y >= outputs : !Number.isFinite(y));
  if (input.y.some(badLabel) || (v?.y.some(badLabel) ?? false)) problems.push(task === 'classification' ? `labels must be class indices 0..${outputs - 1}` : 'labels must be finite');
  if (input.x.some((x) => !Number.isFinite(x))) problems.push('x has a value that is not finite (the preprocessing imputes missing values)');
  return problems;
}

export function labelsOf(task: TreeFitInput['task'], y: Float32Array): { classOf: Int32Array; value: Float64Array } {
  return task === 'classification'
    ? { classOf: Int32Array.from(y), value: new Float64Array(0) }
    : { classOf: new Int32Array(0), value: Float64Array.from(y) };
}
