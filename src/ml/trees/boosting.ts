// Gradient boosting: each round fits a tree to the loss's gradient and hessian at the current scores (Newton leaves
// -G/(H+l2), shrunk by the learning rate) and adds it. Squared error for regression, the logistic loss from one
// logit for two classes, the softmax log loss with one tree per class and round beyond. With validation rows and
// earlyStoppingRounds > 0 it stops once the validation loss has not improved for that many rounds and keeps the
// trees up to the best round.
import { rawOutputs, type TreeEnsembleParts } from './format.js';
import type { RoundHistory } from './fit-types.js';
import { growTree, type GrowOptions } from './grow.js';
import { logLoss, meanSquaredError } from './losses.js';
import { leafAt, NodeBuilder, type TreeNodes } from './nodes.js';
import type { PreparedFit } from './prepared.js';
import { randomBelow, type Random } from '../../shared/random.js';
import { sigmoid, softmaxInto } from './ensemble.js';

/** A smaller hessian sum in a child stops the split (scikit-learn's min_hessian_to_split). */
const minHessian = 1e-3;
/** An improvement of the validation loss smaller than this is none (scikit-learn's tol). */
const tolerance = 1e-7;

export interface FamilyFit {
  readonly parts: TreeEnsembleParts;
  readonly rounds: number;
  readonly bestRound: number;
  readonly stoppedEarly: boolean;
}

/** The starting score per raw output: the mean label, the logit of the positive share, or the log class shares. */
export function baseScore(p: PreparedFit, raw: number): number[] {
  const { task, outputs } = p.input;
  if (task === 'regression') return [p.value.reduce((a, b) => a + b, 0) / p.value.length];
  const counts = new Array<number>(outputs).fill(0);
  for (const c of p.classOf) counts[c] = (counts[c] ?? 0) + 1;
  const share = (c: number): number => Math.min(1 - 1e-7, Math.max(1e-7, (counts[c] ?? 0) / p.classOf.length));
  if (raw === 1) return [Math.log(share(1) / (1 - share(1)))];
  return counts.map((_, c) => Math.log(share(c)));
}

/** Probabilities (rows × k, or rows × 2 for one logit) of raw scores (rows × raw). */
function probabilitiesOf(scores: Float64Array, raw: number, rows: number, out: Float64Array): void {
  const row = new Float64Array(raw);
  for (let r = 0; r < rows; r++) {
    if (raw === 1) {
      const q = sigmoid(scores[r] ?? 0);
      out[r * 2] = 1 - q;
      out[r * 2 + 1] = q;
      continue;
    }
    for (let o = 0; o < raw; o++) row[o] = scores[r * raw + o] ?? 0;
    softmaxInto(row, out, r * raw);
  }
}

/** The gradient and hessian of output `k` at the current probabilities (or scores, for regression). */
function gradients(p: PreparedFit, raw: number, k: number, scores: Float64Array, probs: Float64Array, g: Float64Array, h: Float64Array): void {
  const { rows, task } = p.input;
  const width = raw === 1 ? 2 : raw;
  const positive = raw === 1 ? 1 : k;
  for (let r = 0; r < rows; r++) {
    if (task === 'regression') {
      g[r] = (scores[r] ?? 0) - (p.value[r] ?? 0);
      h[r] = 1;
      continue;
    }
    const q = probs[r * width + positive] ?? 0;
    g[r] = q - (p.classOf[r] === positive ? 1 : 0);
    h[r] = Math.max(q * (1 - q), 1e-16);
  }
}

/** Adds the leaf values of the tree at `root` to output k of `scores`. */
function addTree(nodes: TreeNodes, root: number, x: Float32Array, rows: number, width: number, scores: Float64Array, raw: number, k: number): void {
  for (let r = 0; r < rows; r++) scores[r * raw + k] = (scores[r * raw + k] ?? 0) + (nodes.values[leafAt(nodes, root, x, r * width)] ?? 0);
}

function lossOf(task: PreparedFit['input']['task'], scores: Float64Array, raw: number, classOf: Int32Array, value: Float64Array, probs: Float64Array): number {
  if (task === 'regression') return meanSquaredError(scores, value);
  probabilitiesOf(scores, raw, classOf.length, probs);
  return logLoss(probs, classOf, raw === 1 ? 2 : raw);
}

/** Each round's rows: all of them, or rowSubsample of them drawn without replacement. */
function roundSampler(rows: number, share: number, random: Random): () => Int32Array {
  const all = Int32Array.from({ length: rows }, (_, i) => i);
  const m = Math.max(1, Math.min(rows, Math.round(share * rows)));
  return () => {
    if (m === rows) return all.slice();
    for (let i = 0; i < m; i++) {
      const j = i + randomBelow(random, rows - i);
      const t = all[i] ?? 0;
      all[i] = all[j] ?? 0;
      all[j] = t;
    }
    return all.slice(0, m);
  };
}

export function fitBoosting(p: PreparedFit, random: Random, history: RoundHistory): FamilyFit {
  const { input, binned } = p;
  const { rows, width, x, settings: s, validation: val } = input;
  const raw = rawOutputs(input.family, input.task, input.outputs);
  const base = baseScore(p, raw);
  const scores = Float64Array.from({ length: rows * raw }, (_, i) => base[i % raw] ?? 0);
  const valScores = Float64Array.from({ length: (val?.rows ?? 0) * raw }, (_, i) => base[i % raw] ?? 0);
  const probs = new Float64Array(rows * Math.max(2, raw));
  const valProbs = new Float64Array((val?.rows ?? 0) * Math.max(2, raw));
  const g = new Float64Array(rows);
  const h = new Float64Array(rows);
  const nodes = new NodeBuilder(1);
  const roots: number[] = [];
  const treeOutput: number[] = [];
  const sample = roundSampler(rows, s.rowSubsample, random);
  const options: GrowOptions = {
    maxDepth: s.maxDepth, minRowsPerLeaf: s.minRowsPerLeaf, minHessian, l2: s.l2, leafScale: -s.learningRate,
    featuresPerSplit: Math.max(1, Math.round(s.featureSubsample * width)), random,
  };
  const earlyStopping = val !== undefined && val.rows > 0 && s.earlyStoppingRounds > 0;
  let best = { loss: Number.POSITIVE_INFINITY, round: 0 };
  let round = 0;
  let stoppedEarly = false;
  while (round < s.count) {
    round++;
    if (input.task === 'classification') probabilitiesOf(scores, raw, rows, probs);
    const rowsOfRound = sample();
    for (let k = 0; k < raw; k++) {
      gradients(p, raw, k, scores, probs, g, h);
      const root = growTree(binned, { kind: 'gradient', gradient: g, hessian: h }, rowsOfRound.slice(), options, nodes);
      roots.push(root);
      treeOutput.push(k);
      addTree(nodes.view(), root, x, rows, width, scores, raw, k);
      if (val !== undefined) addTree(nodes.view(), root, val.x, val.rows, width, valScores, raw, k);
    }
    const loss = lossOf(input.task, scores, raw, p.classOf, p.value, probs);
    const valLoss = val !== undefined && val.rows > 0 ? lossOf(input.task, valScores, raw, p.valClassOf, p.valValue, valProbs) : undefined;
    history.add(valLoss === undefined ? { round, loss } : { round, loss, valLoss });
    if (!earlyStopping || valLoss === undefined) continue;
    if (valLoss < best.loss - tolerance) best = { loss: valLoss, round };
    else if (round - best.round >= s.earlyStoppingRounds) {
      stoppedEarly = true;
      break;
    }
  }
  const kept = earlyStopping ? best.round : round;
  nodes.truncate(kept < round ? roots[kept * raw] ?? nodes.length : nodes.length);
  const parts: TreeEnsembleParts = {
    family: input.family, task: input.task, outputs: input.outputs, inputWidth: width, settings: s, baseScore: base,
    roots: Int32Array.from(roots.slice(0, kept * raw)), treeOutput: Int32Array.from(treeOutput.slice(0, kept * raw)), nodes: nodes.finish(),
  };
  return { parts, rounds: round, bestRound: kept, stoppedEarly };
}
