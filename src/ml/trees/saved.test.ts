import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TreeEnsemble } from './ensemble.js';
import { fitTrees } from './fit.js';
import { InvalidTreeModelError, treesFormat } from './format.js';
import { resolveTreeSettings, type TreeFamily } from './settings.js';
import { step, synthetic, threeClasses, xor } from './testing/synthetic.js';
import type { SavedModel } from '../tabular-model.js';

const train = (family: TreeFamily, task: 'classification' | 'regression', outputs: number, rule: (x: Float32Array) => number): TreeEnsemble => {
  const d = synthetic(300, 4, 21, rule);
  return fitTrees({ family, task, outputs, ...d, settings: resolveTreeSettings(family, { count: 12 }, d.rows), seed: 3 }).model;
};

const models = {
  'boosting, two classes': train('gradient-boosting', 'classification', 2, xor),
  'boosting, three classes': train('gradient-boosting', 'classification', 3, threeClasses),
  'boosting, regression': train('gradient-boosting', 'regression', 1, step),
  'forest, three classes': train('random-forest', 'classification', 3, threeClasses),
  'forest, regression': train('random-forest', 'regression', 1, step),
};

describe('TreeEnsemble save and load', () => {
  const probe = synthetic(200, 4, 22, xor);
  for (const [name, model] of Object.entries(models)) {
    it(`${name}: loads to identical predictions`, () => {
      const saved = model.toSaved();
      const json = JSON.parse(saved.modelJson) as Record<string, unknown>;
      assert.equal(json['format'], treesFormat);
      const back = TreeEnsemble.fromSaved(saved);
      assert.deepEqual([back.family, back.inputWidth, back.outputs, back.trees], [model.family, model.inputWidth, model.outputs, model.trees]);
      assert.deepEqual(back.predict(probe.x, probe.rows), model.predict(probe.x, probe.rows));
      assert.ok(back.toSaved().weights.equals(saved.weights));
    });
  }
});

describe('TreeEnsemble.fromSaved rejects a malformed model with the reason', () => {
  const good = models['boosting, three classes'].toSaved();
  const forest = models['forest, regression'].toSaved();
  const json = (s: SavedModel): Record<string, unknown> => JSON.parse(s.modelJson) as Record<string, unknown>;
  const withJson = (s: SavedModel, change: (j: Record<string, unknown>) => void): SavedModel => {
    const j = json(s);
    change(j);
    return { modelJson: JSON.stringify(j), weights: s.weights };
  };
  /** The byte offset of array `name` in weights.bin. */
  const offsetOf = (s: SavedModel, name: string): number => {
    let at = 0;
    for (const w of json(s)['weights'] as { name: string; length: number }[]) {
      if (w.name === name) return at;
      at += w.length * 4;
    }
    throw new Error(name);
  };
  /** The first split node of the model (a node with feature ≥ 0). */
  const firstSplit = (s: SavedModel): number => {
    const at = offsetOf(s, 'feature');
    for (let n = 0; ; n++) if (s.weights.readInt32LE(at + n * 4) >= 0) return n;
  };
  const withInt = (s: SavedModel, name: string, node: number, value: number): SavedModel => {
    const weights = Buffer.from(s.weights);
    weights.writeInt32LE(value, offsetOf(s, name) + node * 4);
    return { modelJson: s.modelJson, weights };
  };
  const withFloat = (s: SavedModel, name: string, node: number, value: number): SavedModel => {
    const weights = Buffer.from(s.weights);
    weights.writeFloatLE(value, offsetOf(s, name) + node * 4);
    return { modelJson: s.modelJson, weights };
  };
  const split = firstSplit(good);
  const leaf = (() => {
    const at = offsetOf(forest, 'feature');
    for (let n = 0; ; n++) if (forest.weights.readInt32LE(at + n * 4) === -1) return n;
  })();

  const cases: readonly { name: string; saved: SavedModel; says: RegExp }[] = [
    { name: 'model.json that is not JSON', saved: { modelJson: '{"format": "perennial-tr', weights: good.weights }, says: /not JSON/ },
    { name: 'another format', saved: withJson(good, (j) => { j['format'] = 'layers-model'; }), says: /format must be "perennial-trees"/ },
    { name: 'a newer format version', saved: withJson(good, (j) => { j['formatVersion'] = 2; }), says: /formatVersion 2/ },
    { name: 'an unknown family', saved: withJson(good, (j) => { j['family'] = 'xgboost'; }), says: /family must be one of/ },
    { name: 'a regression with two outputs', saved: withJson(forest, (j) => { j['outputs'] = 2; }), says: /outputs 2 does not fit a regression/ },
    { name: 'a base score per class missing', saved: withJson(good, (j) => { j['baseScore'] = [0, 0]; }), says: /baseScore must be 3 finite numbers/ },
    { name: 'a setting missing', saved: withJson(good, (j) => { j['settings'] = { count: 3 }; }), says: /settings\.maxDepth/ },
    { name: 'truncated weights.bin', saved: { modelJson: good.modelJson, weights: good.weights.subarray(0, good.weights.length - 10) }, says: /truncated/ },
    { name: 'bytes beyond the arrays', saved: { modelJson: good.modelJson, weights: Buffer.concat([good.weights, Buffer.alloc(4)]) }, says: /weights\.bin has \d+ bytes/ },
    { name: 'a node count that does not match the file', saved: withJson(good, (j) => { j['nodes'] = (j['nodes'] as number) + 1; }), says: /weights\.bin has/ },
    { name: 'an array listed with the wrong length', saved: withJson(good, (j) => { (j['weights'] as { length: number }[])[2] = { name: 'feature', length: 1 } as never; }), says: /weights\[2\] must be feature/ },
    { name: 'a split on an input the model does not have', saved: withInt(good, 'feature', split, 4), says: new RegExp(`node ${split} splits on input 4 of 4`) },
    { name: 'a child before its parent (a cycle)', saved: withInt(good, 'left', split, split), says: /are not after it/ },
    { name: 'a child in another tree', saved: withInt(good, 'right', split, 1_000_000), says: /are not after it/ },
    { name: 'a threshold that is NaN', saved: withFloat(good, 'threshold', split, NaN), says: /threshold: node \d+ is not finite/ },
    { name: 'a leaf value that is infinite', saved: withFloat(forest, 'values', leaf, Infinity), says: /values: node \d+/ },
    { name: 'a tree adding to a class the model has not', saved: withInt(good, 'treeOutput', 0, 3), says: /tree 0 adds to output 3 of 3/ },
    { name: 'trees out of order', saved: withInt(good, 'roots', 1, 0), says: /roots: tree 0 spans nodes 0..0/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.throws(() => TreeEnsemble.fromSaved(c.saved), (e: unknown) => {
        assert.ok(e instanceof InvalidTreeModelError, String(e));
        assert.match(e.message, c.says);
        return true;
      });
    });
  }
});
