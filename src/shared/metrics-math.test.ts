import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { accuracy, argmax, logLoss, macroF1, mae, r2, rmse, rocAuc } from './metrics-math.js';

const close = (a: number, b: number, eps = 1e-9): void => assert.ok(Math.abs(a - b) < eps, `${a} ≉ ${b}`);

describe('metrics maths', () => {
  const classification: { name: string; truth: number[]; pred: number[]; k: number; acc: number; f1: number }[] = [
    { name: 'all right', truth: [0, 1, 2], pred: [0, 1, 2], k: 3, acc: 1, f1: 1 },
    { name: 'all wrong', truth: [0, 0, 1], pred: [1, 1, 0], k: 2, acc: 0, f1: 0 },
    // class 0: tp 1, fp 1, fn 1 → F1 0.5; class 1: tp 1, fp 1, fn 1 → 0.5
    { name: 'half', truth: [0, 0, 1, 1], pred: [0, 1, 1, 0], k: 2, acc: 0.5, f1: 0.5 },
    // scikit-learn: f1_score([0,0,0,1],[0,0,0,0],average='macro') = (6/7 + 0)/2
    { name: 'majority only', truth: [0, 0, 0, 1], pred: [0, 0, 0, 0], k: 2, acc: 0.75, f1: 3 / 7 },
    // a class absent from truth and predictions does not count
    { name: 'absent class ignored', truth: [0, 1], pred: [0, 1], k: 5, acc: 1, f1: 1 },
    { name: 'empty', truth: [], pred: [], k: 2, acc: Number.NaN, f1: Number.NaN },
  ];
  for (const c of classification) {
    it(`accuracy and macro-F1: ${c.name}`, () => {
      const a = accuracy(c.truth, c.pred);
      const f = macroF1(c.truth, c.pred, c.k);
      if (Number.isNaN(c.acc)) assert.ok(Number.isNaN(a) && Number.isNaN(f));
      else {
        close(a, c.acc);
        close(f, c.f1);
      }
    });
  }

  const auc: { name: string; truth: number[]; scores: number[]; want: number }[] = [
    { name: 'perfect', truth: [0, 0, 1, 1], scores: [0.1, 0.2, 0.8, 0.9], want: 1 },
    { name: 'inverted', truth: [0, 0, 1, 1], scores: [0.9, 0.8, 0.2, 0.1], want: 0 },
    { name: 'all tied', truth: [0, 1, 0, 1], scores: [0.5, 0.5, 0.5, 0.5], want: 0.5 },
    // scikit-learn roc_auc_score([0,0,1,1],[0.1,0.4,0.35,0.8]) = 0.75
    { name: 'sklearn example', truth: [0, 0, 1, 1], scores: [0.1, 0.4, 0.35, 0.8], want: 0.75 },
    { name: 'one class only', truth: [1, 1], scores: [0.2, 0.3], want: Number.NaN },
  ];
  for (const c of auc) {
    it(`ROC AUC: ${c.name}`, () => {
      const got = rocAuc(c.truth, c.scores);
      if (Number.isNaN(c.want)) assert.ok(Number.isNaN(got));
      else close(got, c.want);
    });
  }

  it('log loss matches the definition and clips certainty', () => {
    close(logLoss([0, 1], [[0.8, 0.2], [0.4, 0.6]]), -(Math.log(0.8) + Math.log(0.6)) / 2);
    close(logLoss([0], [[0, 1]]), -Math.log(1e-15));
  });

  const regression: { name: string; t: number[]; p: number[]; rmse: number; mae: number; r2: number }[] = [
    { name: 'exact', t: [1, 2, 3], p: [1, 2, 3], rmse: 0, mae: 0, r2: 1 },
    { name: 'mean predictor', t: [1, 2, 3], p: [2, 2, 2], rmse: Math.sqrt(2 / 3), mae: 2 / 3, r2: 0 },
    // scikit-learn r2_score([3,-0.5,2,7],[2.5,0.0,2,8]) = 0.9486081370449679
    { name: 'sklearn example', t: [3, -0.5, 2, 7], p: [2.5, 0, 2, 8], rmse: Math.sqrt(0.375), mae: 0.5, r2: 0.9486081370449679 },
  ];
  for (const c of regression) {
    it(`regression metrics: ${c.name}`, () => {
      close(rmse(c.t, c.p), c.rmse);
      close(mae(c.t, c.p), c.mae);
      close(r2(c.t, c.p), c.r2);
    });
  }

  it('argmax takes the first of equal maxima', () => {
    assert.equal(argmax([0.2, 0.5, 0.5]), 1);
    assert.equal(argmax(new Float32Array([3, 1])), 0);
  });
});
