// The tree-ensemble families (gradient boosting, random forest) for tabular data: what the trainer and the servers
// use. See docs/decisions/0007-own-tree-ensembles.md for why they are our own code.
export { binInputs, type BinnedInputs } from './bins.js';
export { TreeEnsemble } from './ensemble.js';
export { fitTrees } from './fit.js';
export { reportEvery, type RoundLoss, type TreeFitInput, type TreeFitResult } from './fit-types.js';
export { InvalidTreeModelError, treesFormat, treesFormatVersion, type TreeEnsembleParts } from './format.js';
export { InvalidTreeInputError } from './prepared.js';
export { resolveTreeSettings, treeDefaults, type ResolvedTreeSettings, type TreeFamily } from './settings.js';
