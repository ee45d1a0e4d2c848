// The saved form's vocabulary shared by the writer (ensemble.ts) and the reader (saved.ts): the format name the
// servers dispatch on, its version, the parts of an ensemble, and the shapes that follow from family and task.
import type { TreeNodes } from './nodes.js';
import type { ResolvedTreeSettings, TreeFamily } from './settings.js';

export const treesFormat = 'perennial-trees';
export const treesFormatVersion = 1;

export type TreeTask = 'classification' | 'regression';

export interface TreeEnsembleParts {
  readonly family: TreeFamily;
  readonly task: TreeTask;
  readonly outputs: number;
  readonly inputWidth: number;
  readonly settings: ResolvedTreeSettings;
  /** Boosting's starting raw score per raw output (the prior); empty for a forest. */
  readonly baseScore: readonly number[];
  /** Where each tree starts in the node arrays. */
  readonly roots: Int32Array;
  /** The raw output each tree adds to (boosting with 3+ classes: its class; else 0). */
  readonly treeOutput: Int32Array;
  readonly nodes: TreeNodes;
}

export class InvalidTreeModelError extends Error {
  override readonly name = 'InvalidTreeModelError';
  constructor(reason: string) {
    super(`invalid ${treesFormat} model: ${reason}`);
  }
}

/** Raw outputs of boosting: 1 for regression and two classes (a logit), else one per class. */
export function rawOutputs(family: TreeFamily, task: TreeTask, outputs: number): number {
  return family === 'gradient-boosting' && task === 'classification' && outputs > 2 ? outputs : 1;
}

/** Leaf width: a forest's classification trees hold class frequencies, every other tree one value. */
export function leafWidthOf(family: TreeFamily, task: TreeTask, outputs: number): number {
  return family === 'random-forest' && task === 'classification' ? outputs : 1;
}

