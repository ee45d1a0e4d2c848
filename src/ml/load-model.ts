// One loader for every model family: model.json's "format" names the family that reads the files (tfjs's
// "layers-model" for the MLP, "perennial-trees" for the tree ensembles). The trainer (champion, warm start) and the
// servers load through it, so a version of any family, old MLP versions included, loads the same way everywhere.
import { MlpModel, mlpFormat } from './mlp-model.js';
import type { SavedModel, TabularModel } from './tabular-model.js';
import { TreeEnsemble, treesFormat } from './trees/index.js';

/** A saved model no family reads; the message says why. */
export class UnknownModelFormatError extends Error {
  override readonly name = 'UnknownModelFormatError';
}

/** model.json's format field (undefined when it is not JSON or has none). */
export function savedFormat(saved: SavedModel): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(saved.modelJson);
  } catch {
    return undefined;
  }
  const format = typeof json === 'object' && json !== null ? (json as { format?: unknown }).format : undefined;
  return typeof format === 'string' ? format : undefined;
}

export async function loadTabularModel(saved: SavedModel): Promise<TabularModel> {
  const format = savedFormat(saved);
  if (format === mlpFormat) return MlpModel.fromSaved(saved);
  if (format === treesFormat) return TreeEnsemble.fromSaved(saved);
  throw new UnknownModelFormatError(format === undefined
    ? 'model.json is not a JSON object with a "format" field'
    : `model.json has format "${format}"; readable formats: ${mlpFormat}, ${treesFormat}`);
}
