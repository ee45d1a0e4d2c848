// fitTrees: checks the input, bins it once, and grows the family's trees, all random choices from the seed (the
// bins' sample and the trees draw from separate streams), so the same input and seed give the same trees.
import { binInputs } from './bins.js';
import { fitBoosting } from './boosting.js';
import { TreeEnsemble } from './ensemble.js';
import { RoundHistory, type TreeFitInput, type TreeFitResult } from './fit-types.js';
import { fitForest } from './forest.js';
import { InvalidTreeInputError, inputProblems, labelsOf, type PreparedFit } from './prepared.js';
import { deriveSeed, mulberry32 } from '../../shared/random.js';

export function fitTrees(input: TreeFitInput): TreeFitResult {
  const problems = inputProblems(input);
  if (problems.length > 0) throw new InvalidTreeInputError(`cannot fit trees: ${problems.join('; ')}`);
  const start = performance.now();
  const s = input.settings;
  const binned = binInputs(input.x, input.rows, input.width, Math.min(255, Math.max(2, s.maxBins)), mulberry32(deriveSeed(input.seed, 0)));
  const { classOf, value } = labelsOf(input.task, input.y);
  const v = input.validation === undefined ? { classOf: new Int32Array(0), value: new Float64Array(0) } : labelsOf(input.task, input.validation.y);
  const prepared: PreparedFit = { input, binned, classOf, value, valClassOf: v.classOf, valValue: v.value };
  const history = new RoundHistory(input.onRound);
  const random = mulberry32(deriveSeed(input.seed, 1));
  const fit = input.family === 'gradient-boosting' ? fitBoosting(prepared, random, history) : fitForest(prepared, random, history);
  history.finish();
  const seconds = (performance.now() - start) / 1000;
  return {
    model: new TreeEnsemble(fit.parts), rounds: fit.rounds, bestRound: fit.bestRound, stoppedEarly: fit.stoppedEarly,
    history: history.rounds, seconds, rowsPerSecond: input.rows / Math.max(seconds, 1e-9),
  };
}
