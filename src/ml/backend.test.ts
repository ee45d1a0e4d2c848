// The backend order: forced alone, WASM first for small work per batch, the native backends first for large.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backendOrder, candidateOrder, mlpMultiplyAdds, nativeMinMultiplyAdds, type BackendName, type Workload } from './backend.js';

describe('mlpMultiplyAdds', () => {
  const cases: { name: string; args: Parameters<typeof mlpMultiplyAdds>; want: number }[] = [
    { name: 'no hidden layer is one product', args: [10, [], 3, 1], want: 30 },
    { name: 'each layer adds inputs × units', args: [16, [64, 32], 5, 1], want: 16 * 64 + 64 * 32 + 32 * 5 },
    { name: 'the batch multiplies it', args: [16, [64, 32], 5, 32], want: (16 * 64 + 64 * 32 + 32 * 5) * 32 },
  ];
  for (const c of cases) it(c.name, () => assert.equal(mlpMultiplyAdds(...c.args), c.want));
});

describe('candidateOrder', () => {
  const small: Workload = { multiplyAddsPerBatch: mlpMultiplyAdds(16, [64, 32], 5, 64) };
  const large: Workload = { multiplyAddsPerBatch: mlpMultiplyAdds(16, [512, 256], 5, 256) };
  const cases: { name: string; forced?: BackendName; workload?: Workload; want: readonly BackendName[] }[] = [
    { name: 'no workload keeps the design order', want: backendOrder },
    { name: 'a forced backend is tried alone', forced: 'tensorflow', workload: small, want: ['tensorflow'] },
    { name: 'the default 64-32 MLP at batch 64 starts on WASM', workload: small, want: ['wasm', 'tensorflow-gpu', 'tensorflow', 'cpu'] },
    { name: 'a 512-256 MLP at batch 256 starts on the native backends', workload: large, want: backendOrder },
    { name: 'exactly the threshold counts as large', workload: { multiplyAddsPerBatch: nativeMinMultiplyAdds }, want: backendOrder },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(candidateOrder(c.forced, c.workload), c.want));
  it('the small and large cases fall on either side of the threshold', () => {
    assert.ok(small.multiplyAddsPerBatch < nativeMinMultiplyAdds && large.multiplyAddsPerBatch >= nativeMinMultiplyAdds);
  });
});
