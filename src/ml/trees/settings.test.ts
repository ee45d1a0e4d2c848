import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolveTreeSettings, treeDefaults, type ResolvedTreeSettings, type TreeFamily } from './settings.js';

describe('resolveTreeSettings', () => {
  const cases: readonly { name: string; family: TreeFamily; rows: number; set: Parameters<typeof resolveTreeSettings>[1]; expect: Partial<ResolvedTreeSettings> }[] = [
    { name: 'boosting on a few hundred rows keeps leaves of 5', family: 'gradient-boosting', rows: 300, set: {}, expect: { count: 500, maxDepth: 6, learningRate: 0.1, minRowsPerLeaf: 5, maxBins: 255, l2: 1, earlyStoppingRounds: 20, rowSubsample: 1, featureSubsample: 1 } },
    { name: 'boosting leaves grow with the rows (1/1000)', family: 'gradient-boosting', rows: 40_000, set: {}, expect: { minRowsPerLeaf: 40 } },
    { name: 'boosting leaves stop growing at 100', family: 'gradient-boosting', rows: 5_000_000, set: {}, expect: { minRowsPerLeaf: 100 } },
    { name: 'a forest of 100 deep trees, leaves of 1 on small data', family: 'random-forest', rows: 2_000, set: {}, expect: { count: 100, maxDepth: 16, minRowsPerLeaf: 1, rowSubsample: 1, featureSubsample: 1 / 3, l2: 0, earlyStoppingRounds: 0, learningRate: 1 } },
    { name: 'a forest on a million rows: leaves of 100 bound the trees', family: 'random-forest', rows: 1_000_000, set: {}, expect: { minRowsPerLeaf: 100 } },
    { name: 'what the spec sets wins', family: 'gradient-boosting', rows: 300, set: { count: 50, maxDepth: 3, learningRate: 0.3, minRowsPerLeaf: 1, maxBins: 16, rowSubsample: 0.8, featureSubsample: 0.5, l2: 0, earlyStoppingRounds: 0 }, expect: { count: 50, maxDepth: 3, learningRate: 0.3, minRowsPerLeaf: 1, maxBins: 16, rowSubsample: 0.8, featureSubsample: 0.5, l2: 0, earlyStoppingRounds: 0 } },
    { name: 'an undefined field is the default', family: 'gradient-boosting', rows: 300, set: { count: undefined, maxDepth: 4 }, expect: { count: 500, maxDepth: 4 } },
    { name: 'boosting-only settings do not reach a forest', family: 'random-forest', rows: 300, set: { learningRate: 0.3, l2: 5, earlyStoppingRounds: 7, count: 10 }, expect: { learningRate: 1, l2: 0, earlyStoppingRounds: 0, count: 10 } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = resolveTreeSettings(c.family, c.set, c.rows);
      for (const [k, v] of Object.entries(c.expect)) assert.equal(got[k as keyof ResolvedTreeSettings], v, k);
    });
  }

  it('resolves every field to a number, for both families at any row count', () => {
    for (const family of ['gradient-boosting', 'random-forest'] as const) {
      for (const rows of [1, 100, 12_345, 10_000_000]) {
        const got = resolveTreeSettings(family, {}, rows);
        assert.deepEqual(got, treeDefaults(family, rows));
        for (const v of Object.values(got)) assert.ok(Number.isFinite(v));
      }
    }
  });
});
