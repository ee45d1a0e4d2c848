// Synthetic data whose answer is known, for the tree tests: inputs uniform in [-1, 1], labels from a rule.
import { mulberry32 } from '../../../shared/random.js';

export interface Synthetic {
  readonly x: Float32Array;
  readonly y: Float32Array;
  readonly rows: number;
  readonly width: number;
}

/** `rows` rows of `width` uniform inputs and the label `rule` gives each (from its inputs, and a uniform draw for noise). */
export function synthetic(rows: number, width: number, seed: number, rule: (x: Float32Array, noise: number) => number): Synthetic {
  const random = mulberry32(seed);
  const x = new Float32Array(rows * width);
  const y = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const row = x.subarray(r * width, (r + 1) * width);
    for (let f = 0; f < width; f++) row[f] = random() * 2 - 1;
    y[r] = rule(row, random());
  }
  return { x, y, rows, width };
}

/** XOR of the signs of the first two inputs: no single input (and no linear model) tells the class. */
export const xor = (x: Float32Array): number => (((x[0] ?? 0) > 0) !== ((x[1] ?? 0) > 0) ? 1 : 0);
/** Three classes by thirds of the first input, swapped by the second's sign: an interaction again. */
export const threeClasses = (x: Float32Array): number => {
  const third = Math.min(2, Math.floor(((x[0] ?? 0) + 1) * 1.5));
  return (x[1] ?? 0) > 0 ? third : 2 - third;
};
/** A step at 0.3 in the first input. */
export const step = (x: Float32Array): number => ((x[0] ?? 0) > 0.3 ? 2 : -1);
/** A coin flip: nothing to learn, so fitting it only overfits. */
export const coin = (_x: Float32Array, noise: number): number => (noise < 0.5 ? 1 : 0);

export function accuracy(probabilities: Float32Array, y: Float32Array, k: number): number {
  let right = 0;
  for (let r = 0; r < y.length; r++) {
    let best = 0;
    for (let c = 1; c < k; c++) if ((probabilities[r * k + c] ?? 0) > (probabilities[r * k + best] ?? 0)) best = c;
    if (best === y[r]) right++;
  }
  return right / y.length;
}
