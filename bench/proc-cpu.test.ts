import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { parseSchedstat, schedOfProcessTree } from './proc-cpu.js';

describe('parseSchedstat', () => {
  const cases: [string, ReturnType<typeof parseSchedstat>][] = [
    ['6672000000 2645000000 16977\n', { runMs: 6672, waitMs: 2645, slices: 16977 }],
    ['0 0 0', { runMs: 0, waitMs: 0, slices: 0 }],
    ['1 2', undefined],
    ['1 2 3 4', undefined],
    ['a b c', undefined],
  ];
  for (const [text, want] of cases) it(JSON.stringify(text), () => assert.deepEqual(parseSchedstat(text), want));
});

describe('schedOfProcessTree', () => {
  it('adds the processes a process forked, and counts what they ran', async () => {
    // A parent that forks a child spinning for 300 ms of CPU, and waits for it.
    const parent = spawn('sh', ['-c', `${JSON.stringify(process.execPath)} -e "const t = Date.now(); while (Date.now() - t < 300) {} setTimeout(() => {}, 5000)" & wait`], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 1500));
      const tree = schedOfProcessTree(parent.pid!);
      assert.ok(tree.runMs >= 250, `the child's 300 ms of CPU counted: ${tree.runMs} ms`);
      assert.ok(tree.slices > 0);
    } finally {
      spawnSync('pkill', ['-KILL', '-P', String(parent.pid)]);
      parent.kill('SIGKILL');
    }
  });
});
