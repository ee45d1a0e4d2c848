import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fitTrees } from './fit.js';
import type { RoundLoss, TreeFitInput } from './fit-types.js';
import { logLoss } from './losses.js';
import { InvalidTreeInputError } from './prepared.js';
import { resolveTreeSettings, type TreeFamily } from './settings.js';
import { accuracy, coin, step, synthetic, threeClasses, xor, type Synthetic } from './testing/synthetic.js';

const families: readonly TreeFamily[] = ['gradient-boosting', 'random-forest'];

function input(family: TreeFamily, task: 'classification' | 'regression', outputs: number, train: Synthetic, over: Partial<TreeFitInput> = {}, settings: Parameters<typeof resolveTreeSettings>[1] = {}): TreeFitInput {
  return {
    family, task, outputs, x: train.x, y: train.y, rows: train.rows, width: train.width,
    settings: resolveTreeSettings(family, settings, train.rows), seed: 11, ...over,
  };
}

describe('fitTrees learns what a linear model cannot', () => {
  const train = synthetic(1500, 6, 1, xor);
  const test = synthetic(500, 6, 2, xor);
  for (const family of families) {
    it(`${family}: XOR of two inputs among four distractors, accuracy above 0.95`, () => {
      const { model } = fitTrees(input(family, 'classification', 2, train, { validation: test }));
      const p = model.predict(test.x, test.rows);
      assert.ok(accuracy(p, test.y, 2) > 0.95, `accuracy ${accuracy(p, test.y, 2)}`);
      for (let r = 0; r < test.rows; r++) assert.ok(Math.abs((p[r * 2] ?? 0) + (p[r * 2 + 1] ?? 0) - 1) < 1e-6);
    });
    it(`${family}: three classes from an interaction, rows of probabilities that sum to 1`, () => {
      const tr = synthetic(2000, 4, 3, threeClasses);
      const te = synthetic(500, 4, 4, threeClasses);
      const { model } = fitTrees(input(family, 'classification', 3, tr, { validation: te }));
      const p = model.predict(te.x, te.rows);
      assert.ok(accuracy(p, te.y, 3) > 0.95, `accuracy ${accuracy(p, te.y, 3)}`);
      for (let r = 0; r < te.rows; r++) assert.ok(Math.abs((p[r * 3] ?? 0) + (p[r * 3 + 1] ?? 0) + (p[r * 3 + 2] ?? 0) - 1) < 1e-5);
    });
    it(`${family}: a step function for regression, within 0.1 away from the step`, () => {
      const tr = synthetic(1000, 3, 5, step);
      const te = synthetic(300, 3, 6, step);
      // Every input at every split: with a third of three inputs, a forest's trees also cut boxes on the two that do
      // not matter, and its average is then only near the step's levels (as any forest's would be).
      const { model } = fitTrees(input(family, 'regression', 1, tr, { validation: te }, { featureSubsample: 1 }));
      const p = model.predict(te.x, te.rows);
      for (let r = 0; r < te.rows; r++) {
        if (Math.abs((te.x[r * 3] ?? 0) - 0.3) < 0.05) continue;
        assert.ok(Math.abs((p[r] ?? 0) - (te.y[r] ?? 0)) < 0.1, `row ${r}: ${p[r]} for ${te.y[r]}`);
      }
    });
  }

  it('a split tries more inputs when the drawn ones cannot separate the rows (no mixed leaf left behind)', () => {
    // One tree, one input of three per split: nodes whose drawn input has all their rows in one bin used to end as
    // mixed leaves (21 of these 300 rows wrong); drawing on until an input splits makes the tree exact off the step.
    const tr = synthetic(1000, 3, 5, step);
    const te = synthetic(300, 3, 6, step);
    const { model } = fitTrees(input('random-forest', 'regression', 1, tr, {}, { count: 1, featureSubsample: 0.34 }));
    const p = model.predict(te.x, te.rows);
    const wrong = [...p].filter((v, r) => Math.abs((te.x[r * 3] ?? 0) - 0.3) >= 0.05 && Math.abs(v - (te.y[r] ?? 0)) > 0.1);
    assert.deepEqual(wrong, []);
  });

  it('stumps (depth 1) cannot learn XOR, depth 2 can: the interaction is learned by the trees, not by chance', () => {
    const stumps = fitTrees(input('gradient-boosting', 'classification', 2, train, {}, { maxDepth: 1, count: 200 })).model;
    const pairs = fitTrees(input('gradient-boosting', 'classification', 2, train, {}, { maxDepth: 2, count: 200 })).model;
    assert.ok(accuracy(stumps.predict(test.x, test.rows), test.y, 2) < 0.65);
    assert.ok(accuracy(pairs.predict(test.x, test.rows), test.y, 2) > 0.95);
  });
});

describe('fitTrees is deterministic', () => {
  const train = synthetic(600, 5, 7, xor);
  for (const family of families) {
    it(`${family}: the same input and seed give the same trees, another seed other trees`, () => {
      const settings = { rowSubsample: 0.7, featureSubsample: 0.6, count: 30 };
      const a = fitTrees(input(family, 'classification', 2, train, {}, settings)).model.toSaved();
      const b = fitTrees(input(family, 'classification', 2, train, {}, settings)).model.toSaved();
      const c = fitTrees(input(family, 'classification', 2, train, { seed: 12 }, settings)).model.toSaved();
      assert.equal(a.modelJson, b.modelJson);
      assert.ok(a.weights.equals(b.weights));
      assert.ok(!a.weights.equals(c.weights));
    });
  }
});

describe('boosting early stopping', () => {
  it('stops once the validation loss has not improved for earlyStoppingRounds and keeps the best round', () => {
    const train = synthetic(400, 4, 8, coin);
    const val = synthetic(300, 4, 9, coin);
    const r = fitTrees(input('gradient-boosting', 'classification', 2, train, { validation: val }, { minRowsPerLeaf: 1, l2: 0, earlyStoppingRounds: 5 }));
    assert.equal(r.stoppedEarly, true);
    const losses = r.history.map((h) => h.valLoss ?? NaN);
    const best = losses.indexOf(Math.min(...losses)) + 1;
    assert.equal(r.bestRound, best);
    assert.equal(r.rounds, best + 5);
    assert.equal(r.history.length, r.rounds);
    assert.equal(r.model.trees, best);
    // The kept model is the best round's: its validation loss is the one the history recorded then.
    const p = r.model.predict(val.x, val.rows);
    assert.ok(Math.abs(logLoss(p, Int32Array.from(val.y), 2) - (losses[best - 1] ?? NaN)) < 1e-5);
  });

  it('without validation rows, or with earlyStoppingRounds 0, grows every round', () => {
    const train = synthetic(300, 3, 10, coin);
    const val = synthetic(100, 3, 11, coin);
    for (const over of [{}, { validation: val }]) {
      const r = fitTrees(input('gradient-boosting', 'classification', 2, train, over, { count: 40, earlyStoppingRounds: 'validation' in over ? 0 : 5 }));
      assert.deepEqual([r.rounds, r.bestRound, r.stoppedEarly, r.model.trees], [40, 40, false, 40]);
    }
  });
});

describe('fitTrees inputs', () => {
  it('splits only on inputs that vary: a constant input and a one-hot pair', () => {
    const rows = 200;
    const x = new Float32Array(rows * 3);
    const y = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      const hot = r % 3 === 0 ? 1 : 0;
      x.set([7, hot, 1 - hot], r * 3);
      y[r] = hot;
    }
    for (const family of families) {
      const { model } = fitTrees(input(family, 'classification', 2, { x, y, rows, width: 3 }, {}, { count: 10, featureSubsample: 1 }));
      assert.ok(!model.parts.nodes.feature.includes(0), 'no split on the constant input');
      assert.equal(accuracy(model.predict(x, rows), y, 2), 1);
    }
  });

  it('reports every round in the history and every 10th and the last to onRound', () => {
    const seen: RoundLoss[] = [];
    const r = fitTrees(input('random-forest', 'regression', 1, synthetic(100, 2, 12, step), { onRound: (e) => seen.push(e) }, { count: 25 }));
    assert.equal(r.history.length, 25);
    assert.deepEqual(seen.map((e) => e.round), [10, 20, 25]);
    assert.ok(r.history.every((h) => Number.isFinite(h.loss) || h.round < 5), 'out-of-bag loss once every row was left out once');
    assert.ok(r.seconds > 0 && r.rowsPerSecond > 0);
  });

  const bad: readonly { name: string; over: Partial<TreeFitInput>; says: RegExp }[] = [
    { name: 'x shorter than rows × width', over: { x: new Float32Array(5) }, says: /x has 5 numbers/ },
    { name: 'a label per row', over: { y: new Float32Array(3) }, says: /y has 3 labels/ },
    { name: 'class indices within outputs', over: { y: new Float32Array(10).fill(2) }, says: /class indices 0\.\.1/ },
    { name: 'finite inputs', over: { x: new Float32Array(20).fill(NaN) }, says: /not finite/ },
    { name: 'a classification has two outputs or more', over: { outputs: 1 }, says: /outputs 1 does not fit/ },
  ];
  for (const b of bad) {
    it(`rejects an input: ${b.name}`, () => {
      const ok = { x: new Float32Array(20), y: new Float32Array(10), rows: 10, width: 2 };
      assert.throws(() => fitTrees(input('gradient-boosting', 'classification', 2, ok, b.over)), (e: unknown) => e instanceof InvalidTreeInputError && b.says.test(e.message));
    });
  }
});
