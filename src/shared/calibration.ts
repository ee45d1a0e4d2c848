// Calibration of a classifier's probabilities (model.calibration, docs/model-families.md): temperature scaling, one
// parameter T fitted on the validation rows after training. Each class probability p becomes p^(1/T) normalised
// (the same as dividing the logits by T), so the predicted class never changes; T > 1 softens overconfident
// probabilities, T < 1 sharpens timid ones. The trainer fits it and records it in the preprocessing spec; the
// servers and the trainer's evaluation apply it with applyCalibration, so both read the same probabilities.

export interface TemperatureCalibration {
  readonly method: 'temperature';
  readonly temperature: number;
  /** Validation rows it was fitted on, and their log loss before and after. */
  readonly rows: number;
  readonly logLossBefore: number;
  readonly logLossAfter: number;
}

export type Calibration = TemperatureCalibration;

/** Smallest probability fed to a logarithm: a class the model rules out entirely still gets a finite logit. */
export const minProbability = 1e-7;

/** Rescales `k`-class probability rows in place (row-major `rows × k`). */
export function applyCalibration(calibration: Calibration | undefined, probabilities: Float32Array | number[], k: number): void {
  if (calibration === undefined || calibration.temperature === 1) return;
  const inv = 1 / calibration.temperature;
  for (let start = 0; start + k <= probabilities.length; start += k) {
    let max = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < k; c++) max = Math.max(max, Math.log(Math.max(probabilities[start + c] ?? 0, minProbability)) * inv);
    let sum = 0;
    for (let c = 0; c < k; c++) {
      const e = Math.exp(Math.log(Math.max(probabilities[start + c] ?? 0, minProbability)) * inv - max);
      probabilities[start + c] = e;
      sum += e;
    }
    for (let c = 0; c < k; c++) probabilities[start + c] = (probabilities[start + c] ?? 0) / sum;
  }
}
