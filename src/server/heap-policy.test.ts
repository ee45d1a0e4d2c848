// The heap policy's flag, and its effect on V8 in a process that applies it at run time (its effect on a server's
// tail is measured in bench/server-throughput.ts and decision 0012, round ten).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { heapGrowingFlag } from './heap-policy.js';

describe('heapGrowingFlag', () => {
  it("names the growing factor, or nothing for V8's own choice", () => {
    const table: [number, string | undefined][] = [[0, undefined], [1, '--heap-growing-percent=1'], [300, '--heap-growing-percent=300']];
    for (const [percent, want] of table) assert.equal(heapGrowingFlag(percent), want, String(percent));
  });
  it('refuses what is not a whole number ≥ 0', () => {
    for (const bad of [-1, 1.5, Number.NaN]) assert.throws(() => heapGrowingFlag(bad), RangeError, String(bad));
  });
});

describe('applyHeapPolicy', () => {
  // A process applies the policy at run time (as main() does), then retains ~250 MB in steps; V8's verbose GC trace
  // prints the factor each mark-compact's next old-generation limit is set with. This workload's own factor is 4 (V8
  // picks it from its GC and mutator speeds), so a factor of 1.5 can only be the policy's.
  const module = fileURLToPath(new URL('./heap-policy.ts', import.meta.url));
  const script = join(mkdtempSync(join(tmpdir(), 'heap-policy-')), 'grow.mts');
  writeFileSync(script, `import { applyHeapPolicy } from ${JSON.stringify(module)};
applyHeapPolicy(Number(process.argv[2]));
const kept: unknown[][] = [];
for (let step = 0; step < 24; step++) {
  const part: unknown[] = [];
  for (let i = 0; i < 150_000; i++) part.push({ i, s: 'x' + i });
  kept.push(part);
}
console.log(kept.length);
`);
  function factors(percent: number): string[] {
    const out = execFileSync(process.execPath, ['--trace-gc-verbose', '--import', 'tsx', script, String(percent)], { encoding: 'utf8', maxBuffer: 64 << 20 });
    return [...out.matchAll(/\[HeapController\] Limit: old size: \d+ KB, new limit: \d+ KB \(([\d.]+)\)/g)].map((m) => m[1] ?? '');
  }

  it('sets the factor of every mark-compact after it: 1 + percent / 100', () => {
    const table: [number, string][] = [[50, '1.5'], [300, '4.0']];
    for (const [percent, want] of table) {
      const seen = factors(percent);
      assert.ok(seen.length >= 2, `${percent}: ${seen.length} mark-compacts`);
      assert.deepEqual(new Set(seen), new Set([want]), `${percent}: factors ${seen.join(', ')}`);
    }
  });

  it("leaves V8 its own factor at 0 (this workload's: 4)", () => {
    const seen = factors(0);
    assert.ok(seen.length >= 2, `${seen.length} mark-compacts`);
    assert.ok(!seen.includes('1.5'), `factors ${seen.join(', ')}`);
  });
});
