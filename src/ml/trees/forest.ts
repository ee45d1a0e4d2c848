// Random forest (Breiman): each tree grows deep on a bootstrap sample of the rows, trying a random share of the
// inputs at each split; leaves hold class frequencies or the mean label, and the forest averages its trees. Its
// reported loss is out-of-bag: each training row predicted by the trees whose sample left it out, an honest
// estimate without validation rows.
import type { FamilyFit } from './boosting.js';
import type { TreeEnsembleParts } from './format.js';
import type { RoundHistory } from './fit-types.js';
import { growTree, type GrowOptions, type RowTargets } from './grow.js';
import { nll } from './losses.js';
import { leafAt, NodeBuilder, type TreeNodes } from './nodes.js';
import type { PreparedFit } from './prepared.js';
import { randomBelow, type Random } from '../../shared/random.js';

/** Adds the leaves of the tree at `root` for rows (all, or those `skip` leaves out) into sums (rows × w); counts them. */
function addLeaves(nodes: TreeNodes, root: number, x: Float32Array, rows: number, width: number, sums: Float64Array, counts: Int32Array | undefined, skip: Uint8Array | undefined): void {
  const w = nodes.leafWidth;
  for (let r = 0; r < rows; r++) {
    if (skip !== undefined && skip[r] === 1) continue;
    const at = leafAt(nodes, root, x, r * width) * w;
    for (let o = 0; o < w; o++) sums[r * w + o] = (sums[r * w + o] ?? 0) + (nodes.values[at + o] ?? 0);
    if (counts !== undefined) counts[r] = (counts[r] ?? 0) + 1;
  }
}

/** The loss of averaged predictions (sums / count per row) over rows with a count > 0. */
function averagedLoss(p: PreparedFit, sums: Float64Array, count: (r: number) => number, classOf: Int32Array, value: Float64Array): number {
  const w = p.input.task === 'classification' ? p.input.outputs : 1;
  const rows = p.input.task === 'classification' ? classOf.length : value.length;
  let s = 0;
  let n = 0;
  for (let r = 0; r < rows; r++) {
    const c = count(r);
    if (c === 0) continue;
    n++;
    if (p.input.task === 'classification') s += nll((sums[r * w + (classOf[r] ?? 0)] ?? 0) / c);
    else s += ((sums[r] ?? 0) / c - (value[r] ?? 0)) ** 2;
  }
  return n === 0 ? Number.NaN : s / n;
}

export function fitForest(p: PreparedFit, random: Random, history: RoundHistory): FamilyFit {
  const { input, binned } = p;
  const { rows, width, x, settings: s, validation: val } = input;
  const classification = input.task === 'classification';
  const w = classification ? input.outputs : 1;
  const targets: RowTargets = classification ? { kind: 'classes', classOf: p.classOf, classes: w } : { kind: 'values', value: p.value };
  const options: GrowOptions = {
    maxDepth: s.maxDepth, minRowsPerLeaf: s.minRowsPerLeaf, minHessian: 0, l2: 0, leafScale: 1,
    featuresPerSplit: Math.max(1, Math.round(s.featureSubsample * width)), random,
  };
  const sampleSize = Math.max(1, Math.round(s.rowSubsample * rows));
  const nodes = new NodeBuilder(w);
  const roots: number[] = [];
  const oobSums = new Float64Array(rows * w);
  const oobCounts = new Int32Array(rows);
  const valSums = new Float64Array((val?.rows ?? 0) * w);
  const inBag = new Uint8Array(rows);
  const index = new Int32Array(sampleSize);
  for (let t = 1; t <= s.count; t++) {
    inBag.fill(0);
    for (let i = 0; i < sampleSize; i++) {
      const r = randomBelow(random, rows);
      index[i] = r;
      inBag[r] = 1;
    }
    const root = growTree(binned, targets, index, options, nodes);
    roots.push(root);
    addLeaves(nodes.view(), root, x, rows, width, oobSums, oobCounts, inBag);
    const loss = averagedLoss(p, oobSums, (r) => oobCounts[r] ?? 0, p.classOf, p.value);
    if (val !== undefined && val.rows > 0) {
      addLeaves(nodes.view(), root, val.x, val.rows, width, valSums, undefined, undefined);
      history.add({ round: t, loss, valLoss: averagedLoss(p, valSums, () => t, p.valClassOf, p.valValue) });
    } else {
      history.add({ round: t, loss });
    }
  }
  const parts: TreeEnsembleParts = {
    family: input.family, task: input.task, outputs: input.outputs, inputWidth: width, settings: s, baseScore: [],
    roots: Int32Array.from(roots), treeOutput: new Int32Array(roots.length), nodes: nodes.finish(),
  };
  return { parts, rounds: s.count, bestRound: s.count, stoppedEarly: false };
}
