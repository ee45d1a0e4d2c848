// The trainer config (src/shared/trainer-config.ts) the operator hands a run's Job, built from the pipeline spec.
// Pure. Every value is written out, defaults included (the CRD and the trainer share them: trainerDefaults in
// src/shared/trainer-config.ts), so the trainer never guesses. The operator
// re-applies the gates itself (gates.ts); passing them on makes the trainer's own verdicts in metrics.json agree.
import type { TrainingPipelineSpec } from '../../../api/training-pipeline.js';
import { feedbackPrefix, predictionsPrefix } from '../../../shared/artifact-layout.js';
import { defaultPrimaryMetric, lowerIsBetter, metricsOf, type MetricName } from '../../../shared/metric-names.js';
import {
  trainerConfigApiVersion, trainerDefaults, type Evaluation, type NumericRange, type TrainerConfig,
} from '../../../shared/trainer-config.js';
import { parseDuration } from '../../../api/duration.js';

/** Slices with fewer holdout rows are reported but not gated (the same number for trainer and operator). */
export const minSliceRows = trainerDefaults.minSliceRows;

/** The CRD's model type → the trainer config's family. */
export const modelFamilyOf = { MLP: 'mlp', GradientBoosting: 'gradient-boosting', RandomForest: 'random-forest' } as const;

type CrdModel = NonNullable<TrainingPipelineSpec['trainer']['model']>;

/** The CRD's model settings in the trainer config's words (absent tree settings stay absent: the family's defaults). */
function modelSettingsOf(model: CrdModel): TrainerConfig['model'] {
  const t = model.trees;
  return {
    type: modelFamilyOf[model.type],
    hiddenUnits: model.hiddenUnits,
    activation: model.activation,
    dropout: model.dropout,
    l2: 0,
    trees: {
      count: t?.count, maxDepth: t?.maxDepth, learningRate: t?.learningRate, minRowsPerLeaf: t?.minRowsPerLeaf, maxBins: t?.maxBins,
      rowSubsample: t?.rowSubsample, featureSubsample: t?.featureSubsample, l2: t?.l2, earlyStoppingRounds: t?.earlyStoppingRounds,
    },
    calibration: model.calibration === 'None' ? 'none' : 'temperature',
  };
}

function searchOf(search: TrainingPipelineSpec['trainer']['search']): TrainerConfig['search'] {
  if (search === undefined) return undefined;
  return {
    trials: search.trials,
    maxSeconds: search.timeBudget === undefined ? undefined : parseDuration(search.timeBudget) / 1000,
    parameters: search.parameters.map((p) => ({ name: p.name, min: p.min, max: p.max, scale: p.scale === 'Log' ? 'log' : 'linear', values: p.values })),
  };
}

const dayMs = 86_400_000;

export interface RunIdentity {
  readonly namespace: string;
  readonly pipeline: string;
  readonly runId: string;
  readonly version: string;
  /** The champion when the run starts: the candidate is compared with it on the same holdout. */
  readonly championVersion: string | undefined;
}

/**
 * The config as it travels (JSON in PERENNIAL_TRAINER_CONFIG): the parsed TrainerConfig except for the holdout,
 * which is written { lastFraction } or { from }. Absent (undefined) fields drop out of the JSON.
 */
export type TrainerConfigDocument = Omit<TrainerConfig, 'evaluation'> & {
  readonly evaluation: Omit<Evaluation, 'holdout'> & { readonly holdout: { readonly lastFraction: number } | { readonly from: string } };
};

export function primaryMetricOf(spec: TrainingPipelineSpec): MetricName {
  return spec.evaluation.primaryMetric ?? defaultPrimaryMetric[spec.data.schema.label.task];
}

/**
 * The trainer takes one bound per metric, on the side that matters (a floor for higher-is-better metrics, a
 * ceiling for losses); a spec bound on the other side is enforced by the operator's gates only.
 */
function trainerThresholds(spec: TrainingPipelineSpec): Partial<Record<MetricName, number>> {
  const out: Partial<Record<MetricName, number>> = {};
  for (const t of spec.evaluation.thresholds ?? []) {
    const bound = lowerIsBetter.has(t.metric) ? t.max : t.min;
    if (bound !== undefined) out[t.metric] = bound;
  }
  return out;
}

type FeedbackDuplicates = NonNullable<TrainerConfig['data']['feedback']>['duplicates'];

/** data.feedbackDuplicates in the trainer's words. */
export const duplicatesPolicy: Readonly<Record<TrainingPipelineSpec['data']['feedbackDuplicates'], FeedbackDuplicates>> = {
  DropFeedbackCopy: 'prefer-uploaded',
  KeepBoth: 'keep-both',
};

/** data.driftReference with its duration in days; absent (the trainer's default: the newest year) when unset or empty. */
export function driftReferenceOf(spec: TrainingPipelineSpec): TrainerConfig['data']['driftReference'] {
  const r = spec.data.driftReference;
  if (!r || (r.lastRows === undefined && r.duration === undefined)) return undefined;
  return { lastRows: r.lastRows, lastDays: r.duration === undefined ? undefined : parseDuration(r.duration) / dayMs };
}

export function buildTrainerConfig(spec: TrainingPipelineSpec, run: RunIdentity): TrainerConfigDocument {
  const { data, validation, trainer, evaluation } = spec;
  const ranges: Record<string, NumericRange> = {};
  const allowedCategories: Record<string, readonly string[]> = {};
  for (const f of data.schema.features) {
    if (f.min !== undefined || f.max !== undefined) ranges[f.name] = { min: f.min, max: f.max };
    if (f.categories !== undefined && f.categories.length > 0) allowedCategories[f.name] = f.categories;
  }
  const window = data.window && (data.window.lastRows !== undefined || data.window.duration !== undefined)
    ? { lastRows: data.window.lastRows, lastDays: data.window.duration === undefined ? undefined : parseDuration(data.window.duration) / dayMs }
    : undefined;
  const feedback = data.feedbackFrom === undefined ? undefined : {
    bucket: undefined,
    predictionsPrefix: predictionsPrefix({ namespace: run.namespace, name: data.feedbackFrom }),
    feedbackPrefix: feedbackPrefix({ namespace: run.namespace, name: data.feedbackFrom }),
    modelVersion: undefined,
    maxShare: data.maxFeedbackShare,
    duplicates: duplicatesPolicy[data.feedbackDuplicates],
  };
  const holdoutFrom = evaluation.holdout?.from;
  // model and hyperparameters have no default as a whole: an absent one means the CRD's documented field defaults.
  const d = trainerDefaults;
  const model: CrdModel = trainer.model ?? { type: 'MLP', hiddenUnits: [...d.hiddenUnits], activation: d.activation, dropout: d.dropout, calibration: 'Temperature' };
  const hp = trainer.hyperparameters ?? {
    epochs: d.epochs, batchSize: d.batchSize, learningRate: d.learningRate, earlyStoppingPatience: d.patience, validationSplit: d.validationFraction,
  };
  return {
    apiVersion: trainerConfigApiVersion,
    pipeline: { namespace: run.namespace, name: run.pipeline },
    runId: run.runId,
    version: run.version,
    outputBucket: spec.storage?.bucket,
    data: {
      sources: data.sources.map((s) => ({ bucket: s.bucket, prefix: s.prefix, format: s.format, delimiter: trainerDefaults.csvDelimiter })),
      where: undefined,
      window,
      replayFraction: data.replayFraction,
      feedback,
      driftReference: driftReferenceOf(spec),
    },
    schema: {
      features: data.schema.features.map((f) => ({ name: f.name, type: f.type })),
      label: data.schema.label.name,
      task: data.schema.label.task,
      classes: data.schema.label.classes,
      labelRange: data.schema.label.min === undefined && data.schema.label.max === undefined ? undefined : { min: data.schema.label.min, max: data.schema.label.max },
      timestamp: data.schema.timestampColumn,
      rowId: data.schema.rowIdColumn,
    },
    validation: {
      minRows: validation.minRows,
      maxMissingRate: validation.maxMissingRate,
      maxMissingRateByColumn: {},
      ranges,
      allowedCategories,
      unseenCategories: validation.allowUnseenCategories ? 'off' : 'error',
      // The trainer caps the share at one half (a larger floor cannot hold for two classes).
      minClassShare: Math.min(validation.minClassShare ?? 0, 0.5),
      schemaDrift: 'error',
      maxSchemaDriftPsi: validation.maxSchemaDriftPsi,
      maxLineBytes: trainerDefaults.maxLineBytes,
      maxExampleRows: trainerDefaults.maxExampleRows,
    },
    model: modelSettingsOf(model),
    search: searchOf(trainer.search),
    hyperparameters: {
      epochs: hp.epochs,
      batchSize: hp.batchSize,
      learningRate: hp.learningRate,
      patience: hp.earlyStoppingPatience,
      validationFraction: hp.validationSplit,
    },
    seed: trainer.seed,
    warmStart: trainer.warmStart === 'Champion' ? 'champion' : 'scratch',
    championVersion: run.championVersion,
    evaluation: {
      holdout: holdoutFrom !== undefined ? { from: holdoutFrom } : { lastFraction: evaluation.holdout?.fraction ?? trainerDefaults.holdoutFraction },
      metrics: metricsOf(data.schema.label.task),
      primaryMetric: primaryMetricOf(spec),
      sliceColumn: evaluation.slices?.column,
      minSliceRows,
      historicalSlice: evaluation.forgetting && { from: evaluation.forgetting.from, to: evaluation.forgetting.to },
      refit: evaluation.refit,
      gates: {
        thresholds: trainerThresholds(spec),
        maxDegradationVsChampion: evaluation.maxRegression,
        maxForgetting: evaluation.forgetting?.maxDrop,
        maxSliceGap: evaluation.slices?.maxGap,
        minImprovementOverBaseline: evaluation.minImprovementOverBaseline,
      },
    },
  };
}
