// The tree families' settings: what a TrainingPipeline's trainer.model.trees sets, and the family's default for the
// run's row count for what it leaves out. Lineage records the resolved settings, so a run says what it trained with.
import type { TreeSettings } from '../../shared/trainer-config.js';

export type TreeFamily = 'gradient-boosting' | 'random-forest';

export interface ResolvedTreeSettings {
  /** Trees (random forest) or the most boosting rounds (gradient boosting). */
  readonly count: number;
  readonly maxDepth: number;
  /** Shrinkage of each boosting round (random forest: 1, unused). */
  readonly learningRate: number;
  readonly minRowsPerLeaf: number;
  /** Bins per input: the split candidates (at most 255, a bin index fits a byte). */
  readonly maxBins: number;
  /** Share of the rows each tree sees: a bootstrap sample of this size (forest), a sample without replacement (boosting). */
  readonly rowSubsample: number;
  /** Share of the inputs tried at each split. */
  readonly featureSubsample: number;
  /** L2 penalty on leaf values (boosting; forest: 0). */
  readonly l2: number;
  /** Rounds without improvement of the validation loss before boosting stops (0: never; forest: 0). */
  readonly earlyStoppingRounds: number;
}

/**
 * The smallest leaf boosting allows for `rows` training rows. Small data needs small leaves to learn anything (5 rows,
 * not scikit-learn's 20, since pipelines start with a few hundred rows); on large data a leaf of 1/1000 of the rows
 * cannot fit noise and makes fewer, cheaper nodes; 100 is enough for any row count (LightGBM's 20 is for leaf-wise trees).
 */
function boostingMinLeaf(rows: number): number {
  return Math.max(5, Math.min(100, Math.round(rows / 1000)));
}

/**
 * The smallest leaf of a forest's trees: 1 row as Breiman (and scikit-learn) grow them up to 10,000 rows; beyond, a
 * ten-thousandth of the rows, which bounds a tree at about 20,000 nodes whatever the row count, so 100 trees stay a
 * few tens of MB in the model server (a forest of fully grown trees on a million rows would be gigabytes).
 */
function forestMinLeaf(rows: number): number {
  return Math.max(1, Math.round(rows / 10_000));
}

/** Per-family defaults for `rows` training rows, overridden by what the spec sets. */
export function treeDefaults(family: TreeFamily, rows: number): ResolvedTreeSettings {
  if (family === 'gradient-boosting') {
    return {
      // A cap, not a target: early stopping on the validation loss ends most fits long before it.
      count: 500,
      // Depth-wise trees of up to 64 leaves: enough for interactions of several inputs (scikit-learn's default is 31
      // leaves), shallow enough that each round stays a weak learner.
      maxDepth: 6,
      // The usual shrinkage: 0.1 converges in tens to a few hundred rounds, where 0.01 would need thousands.
      learningRate: 0.1,
      minRowsPerLeaf: boostingMinLeaf(rows),
      maxBins: 255,
      // Every row and input each round, as scikit-learn's HistGradientBoosting does: subsampling is for the spec
      // (or a search) to ask for, since it trades accuracy for speed only on large data.
      rowSubsample: 1,
      featureSubsample: 1,
      // XGBoost's default: a leaf whose rows are nearly all one class gets a bounded value instead of a huge one.
      l2: 1,
      // 20 rounds at learning rate 0.1 is long enough to see a plateau is one, short enough not to waste time.
      earlyStoppingRounds: 20,
    };
  }
  return {
    // 100 trees: the forest's error is flat beyond a few hundred and within a hair of it at 100 (scikit-learn's default).
    count: 100,
    // Deep trees (a forest averages away their variance); 16 levels bound a tree's size on any data.
    maxDepth: 16,
    learningRate: 1,
    minRowsPerLeaf: forestMinLeaf(rows),
    maxBins: 255,
    // A bootstrap sample of as many rows as there are (Breiman).
    rowSubsample: 1,
    // A third of the inputs per split: Breiman's choice for regression; for classification between √p/p and 1 for
    // the tens to hundreds of one-hot inputs a tabular spec makes (the defaults do not know the input width).
    featureSubsample: 1 / 3,
    l2: 0,
    earlyStoppingRounds: 0,
  };
}

/** Per-family defaults for `rows` training rows, overridden by what the spec sets (a field absent or undefined: the default). */
export function resolveTreeSettings(family: TreeFamily, settings: Partial<TreeSettings>, rows: number): ResolvedTreeSettings {
  const d = treeDefaults(family, rows);
  return {
    count: settings.count ?? d.count,
    maxDepth: settings.maxDepth ?? d.maxDepth,
    learningRate: family === 'gradient-boosting' ? settings.learningRate ?? d.learningRate : d.learningRate,
    minRowsPerLeaf: settings.minRowsPerLeaf ?? d.minRowsPerLeaf,
    maxBins: settings.maxBins ?? d.maxBins,
    rowSubsample: settings.rowSubsample ?? d.rowSubsample,
    featureSubsample: settings.featureSubsample ?? d.featureSubsample,
    l2: family === 'gradient-boosting' ? settings.l2 ?? d.l2 : d.l2,
    earlyStoppingRounds: family === 'gradient-boosting' ? settings.earlyStoppingRounds ?? d.earlyStoppingRounds : d.earlyStoppingRounds,
  };
}
