// Calibration of the candidate (model.calibration, docs/model-families.md): after training and before the
// evaluation, temperature scaling is fitted on the validation rows (the rows early stopping already looked at; the
// holdout stays unseen) and recorded in the spec the model is published with, so the evaluation (metrics.json) and
// the servers read the same calibrated probabilities (src/ml/predict.ts).
import type { Logger } from 'winston';
import type { TabularModel } from '../ml/tabular-model.js';
import { fitTemperature, type Calibration } from '../shared/calibration.js';
import { transformRows, type PreprocessingSpec } from '../shared/preprocessing.js';
import type { TrainerConfig } from '../shared/trainer-config.js';
import { encodedLabels } from './fit-family.js';
import type { Row } from './rows.js';

/** What lineage says: the fitted calibration, or why there is none. */
export type CalibrationLineage = Calibration | { readonly method: 'none'; readonly reason: string };

/** The spec without a calibration: the champion's (a warm start reuses its spec) is not this model's. */
export function uncalibrated(spec: PreprocessingSpec): PreprocessingSpec {
  const { calibration: _c, ...rest } = spec;
  return rest;
}

/** Why a calibration cannot be fitted (pure); undefined when it can. */
export function calibrationSkipped(task: TrainerConfig['schema']['task'], method: TrainerConfig['model']['calibration'], validationRows: number): string | undefined {
  if (task !== 'classification') return 'regression: nothing to calibrate';
  if (method === 'none') return 'model.calibration is none';
  if (validationRows === 0) return 'no validation rows to fit it on (hyperparameters.validationFraction is 0, or too few rows)';
  return undefined;
}

export function calibrate(config: TrainerConfig, spec: PreprocessingSpec, model: TabularModel, validation: readonly Row[], log: Logger): { spec: PreprocessingSpec; lineage: CalibrationLineage } {
  const bare = uncalibrated(spec);
  const skipped = calibrationSkipped(config.schema.task, config.model.calibration, validation.length);
  if (skipped !== undefined) {
    if (config.schema.task === 'classification') log.info('calibration skipped', { reason: skipped });
    return { spec: bare, lineage: { method: 'none', reason: skipped } };
  }
  const raw = model.predict(transformRows(bare, validation.map((r) => r.values)), validation.length);
  const fitted = fitTemperature(raw, Int32Array.from(encodedLabels(bare, validation)), model.outputs);
  if (fitted === undefined) {
    const reason = `too little to fit on (${validation.length} validation rows, or a single class)`;
    log.info('calibration skipped', { reason });
    return { spec: bare, lineage: { method: 'none', reason } };
  }
  log.info('calibration fitted', { ...fitted });
  return { spec: { ...bare, calibration: fitted }, lineage: fitted };
}
