// Training one model of the configured family (model.type) on training rows, judged on validation rows: the MLP
// through the epoch loop with checkpoints (train.ts), the tree ensembles through fitTrees (src/ml/trees) with early
// stopping on the validation loss. The run's candidate, each search trial and the refit all train here, so they
// are the same recipe. The summary is what metrics.json's `training` and lineage record, the resolved settings
// included (the tree defaults depend on the row count).
import type { Logger } from 'winston';
import { buildMlp, compileMlp } from '../ml/mlp.js';
import { MlpModel } from '../ml/mlp-model.js';
import { featuresTensor, labelsTensor } from '../ml/tensors.js';
import type { TabularModel } from '../ml/tabular-model.js';
import { fitTrees, resolveTreeSettings, type ResolvedTreeSettings } from '../ml/trees/index.js';
import { minProbability } from '../shared/calibration.js';
import { encodeLabel, transformRows, type PreprocessingSpec } from '../shared/preprocessing.js';
import type { TrainerConfig } from '../shared/trainer-config.js';
import type { CheckpointStore, EpochRecord } from './checkpoints.js';
import type { Row } from './rows.js';
import { trainModel } from './train.js';

export interface FitInput {
  /** The settings: the run's, or a search trial's. */
  readonly config: TrainerConfig;
  readonly spec: PreprocessingSpec;
  readonly train: readonly Row[];
  /** Early stopping; empty for a refit (nothing left to validate on). */
  readonly validation: readonly Row[];
  readonly log: Logger;
  /** MLP: where epochs checkpoint (nowhere for a trial) and the fingerprint a resume must match. */
  readonly checkpoints: CheckpointStore;
  readonly fingerprint: string;
  /** MLP: the model to start from (a warm start from the champion); else built fresh from the seed. */
  readonly initial?: MlpModel | undefined;
  /** A refit: the MLP trains exactly this many epochs keeping the last; trees grow exactly these settings. */
  readonly refit?: { readonly epochs: number } | { readonly settings: ResolvedTreeSettings } | undefined;
  /** A search trial: fewer log lines. */
  readonly quiet?: boolean;
}

export interface MlpFitSummary {
  readonly family: 'mlp';
  readonly settings: Readonly<Record<string, unknown>>;
  /** Epochs already done when this process started (> 0: resumed from a checkpoint). */
  readonly startEpoch: number;
  readonly epochsDone: number;
  readonly bestEpoch: number;
  readonly stoppedEarly: boolean;
  readonly history: readonly EpochRecord[];
  readonly seconds: number;
  readonly rowsPerSecond: number | undefined;
}

export interface TreeFitSummary {
  readonly family: 'gradient-boosting' | 'random-forest';
  readonly settings: ResolvedTreeSettings;
  readonly rounds: number;
  readonly bestRound: number;
  readonly stoppedEarly: boolean;
  readonly history: readonly { round: number; loss: number; valLoss?: number }[];
  readonly seconds: number;
  readonly rowsPerSecond: number;
}

export type FitSummary = MlpFitSummary | TreeFitSummary;

export interface Fitted {
  readonly model: TabularModel;
  readonly summary: FitSummary;
}

/** The label of each row in the model's encoding: class index, or the standardised regression value. */
export function encodedLabels(spec: PreprocessingSpec, rows: readonly Row[]): Float32Array {
  const out = new Float32Array(rows.length);
  rows.forEach((r, i) => {
    const y = encodeLabel(spec, r.values[spec.label.name]);
    if (y === undefined) throw new Error(`row ${i} has no usable label`);
    out[i] = y;
  });
  return out;
}

/**
 * The loss a trial is judged by (lower is better): the mean log loss of the raw, uncalibrated probabilities
 * (classification), or the mean squared error on the standardised label (regression). The same formula for every
 * family and every trial, whatever loss the family trains on (the MLP's training loss adds its L2 penalty).
 */
export function validationLoss(outputs: Float32Array, labels: Float32Array, task: 'classification' | 'regression', k: number): number {
  const n = labels.length;
  if (n === 0) return Number.NaN;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const y = labels[i] ?? 0;
    if (task === 'classification') sum -= Math.log(Math.max(outputs[i * k + y] ?? 0, minProbability));
    else sum += ((outputs[i] ?? 0) - y) ** 2;
  }
  return sum / n;
}

/** validationLoss of a model on rows. */
export function lossOn(model: TabularModel, spec: PreprocessingSpec, rows: readonly Row[]): number {
  const out = model.predict(transformRows(spec, rows.map((r) => r.values)), rows.length);
  return validationLoss(out, encodedLabels(spec, rows), spec.label.task, model.outputs);
}

export async function fitFamily(input: FitInput): Promise<Fitted> {
  const family = input.config.model.type;
  return family === 'mlp' ? fitMlp(input) : fitTreeFamily(input, family);
}

async function fitMlp(input: FitInput): Promise<Fitted> {
  const { config, spec, log } = input;
  const task = config.schema.task;
  const layers = input.initial?.layers
    ?? buildMlp({ inputWidth: spec.width, task, classes: spec.label.task === 'classification' ? spec.label.classes.length : 1 }, config.model, config.seed);
  compileMlp(layers, task, config.hyperparameters.learningRate);
  const refitEpochs = input.refit !== undefined && 'epochs' in input.refit ? input.refit.epochs : undefined;
  const hyperparameters = refitEpochs === undefined ? config.hyperparameters : { ...config.hyperparameters, epochs: refitEpochs, patience: 0 };
  const rows = input.train.map((r) => r.values);
  const x = featuresTensor(spec, rows);
  const y = labelsTensor(spec, rows);
  const hasVal = input.validation.length > 0;
  const valX = hasVal ? featuresTensor(spec, input.validation.map((r) => r.values)) : undefined;
  const valY = hasVal ? labelsTensor(spec, input.validation.map((r) => r.values)) : undefined;
  try {
    const r = await trainModel({
      model: layers, x, y, valX, valY, hyperparameters, seed: config.seed, fingerprint: input.fingerprint, checkpoints: input.checkpoints,
      ...(refitEpochs !== undefined ? { restoreBest: false } : {}),
      onEpoch: (e) => {
        if (input.quiet !== true) log.info(refitEpochs === undefined ? 'epoch done' : 'refit epoch done', { epoch: e.epoch, loss: e.loss, valLoss: e.valLoss });
      },
    });
    const { hiddenUnits, activation, dropout, l2 } = config.model;
    return {
      model: input.initial ?? new MlpModel(layers),
      summary: {
        family: 'mlp', settings: { hiddenUnits, activation, dropout, l2, ...hyperparameters },
        startEpoch: r.startEpoch, epochsDone: r.epochsDone, bestEpoch: r.bestEpoch, stoppedEarly: r.stoppedEarly, history: r.history,
        seconds: r.trainSeconds, rowsPerSecond: r.trainSeconds > 0 ? r.rowsTrained / r.trainSeconds : undefined,
      },
    };
  } finally {
    x.dispose();
    y.dispose();
    valX?.dispose();
    valY?.dispose();
  }
}

function fitTreeFamily(input: FitInput, family: 'gradient-boosting' | 'random-forest'): Fitted {
  const { config, spec, log, train, validation } = input;
  const settings = input.refit !== undefined && 'settings' in input.refit ? input.refit.settings : resolveTreeSettings(family, config.model.trees, train.length);
  const outputs = spec.label.task === 'classification' ? spec.label.classes.length : 1;
  const r = fitTrees({
    family, task: config.schema.task, outputs, settings, seed: config.seed,
    x: transformRows(spec, train.map((row) => row.values)), rows: train.length, width: spec.width, y: encodedLabels(spec, train),
    ...(validation.length > 0 ? { validation: { x: transformRows(spec, validation.map((row) => row.values)), y: encodedLabels(spec, validation), rows: validation.length } } : {}),
    onRound: (e) => {
      if (input.quiet !== true) log.info('trees round done', { family, round: e.round, loss: e.loss, valLoss: e.valLoss });
    },
  });
  return {
    model: r.model,
    summary: { family, settings, rounds: r.rounds, bestRound: r.bestRound, stoppedEarly: r.stoppedEarly, history: r.history, seconds: r.seconds, rowsPerSecond: r.rowsPerSecond },
  };
}

/** For a search trial: no checkpoints (a retried pod runs the search again; the trials are seeded). */
export const noCheckpoints: CheckpointStore = {
  latest: () => Promise.resolve(undefined),
  save: () => Promise.resolve(),
};
