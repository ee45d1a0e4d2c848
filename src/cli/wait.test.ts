import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitExitCode, waitFor, waitVerdict, type Waitable } from './wait.js';

const c = (type: string, status: string, reason = ''): { type: string; status: string; reason: string; message: string } => ({ type, status, reason, message: '' });
const obj = (conditions: ReturnType<typeof c>[], generation = 1, observedGeneration = 1): Waitable =>
  ({ metadata: { generation }, status: { observedGeneration, conditions } });

describe('waitVerdict', () => {
  const cases: [string, Waitable, string, 'True' | 'False', 'met' | 'failed' | 'pending'][] = [
    ['no status yet', { metadata: { generation: 1 } }, 'Available', 'True', 'pending'],
    ['a status of an older generation, even with the condition met', obj([c('Available', 'True')], 2, 1), 'Available', 'True', 'pending'],
    ['the condition met', obj([c('Available', 'True')]), 'Available', 'True', 'met'],
    ['the condition False, waited for False', obj([c('Progressing', 'False', 'RolloutComplete')]), 'Progressing', 'False', 'met'],
    ['a rejected spec fails', obj([c('Accepted', 'False', 'InvalidSpec'), c('Available', 'False')]), 'Available', 'True', 'failed'],
    ['a rollback fails a wait for the rollout to end', obj([c('Degraded', 'True', 'RolledBack'), c('Progressing', 'False', 'RolledBack')]), 'Progressing', 'False', 'failed'],
    ['a failed run fails a wait for Ready', obj([c('Degraded', 'True', 'RunFailed'), c('Ready', 'False')]), 'Ready', 'True', 'failed'],
    ['a rejected spec fails even a condition left True', obj([c('Accepted', 'False', 'InvalidSpec'), c('Available', 'True')]), 'Available', 'True', 'failed'],
    ['waiting for Accepted=False itself', obj([c('Accepted', 'False', 'InvalidSpec')]), 'Accepted', 'False', 'met'],
    ['Degraded while a new run is under way: still pending', obj([c('Degraded', 'True', 'RunFailed'), c('Progressing', 'True', 'RunRunning'), c('Ready', 'False')]), 'Ready', 'True', 'pending'],
    ['waiting for Degraded itself', obj([c('Degraded', 'True', 'RolledBack')]), 'Degraded', 'True', 'met'],
    ['no such condition yet', obj([]), 'Ready', 'True', 'pending'],
  ];
  for (const [name, o, type, status, want] of cases) it(name, () => assert.equal(waitVerdict(o, { type, status }).state, want));
});

describe('waitFor', () => {
  it('reads until met, logging only changes', async () => {
    const readings = [obj([], 2, 1), obj([], 2, 1), obj([c('Available', 'False')], 2, 2), obj([c('Available', 'True')], 2, 2)];
    let clock = 0;
    const log: string[] = [];
    const got = await waitFor({ type: 'Available', status: 'True', timeoutMs: 60_000 }, {
      read: () => Promise.resolve(readings.shift() ?? obj([])), now: () => clock, sleep: (ms) => { clock += ms; return Promise.resolve(); }, log: (l) => log.push(l),
    });
    assert.equal(got.state, 'met');
    assert.equal(log.length, 2, log.join('\n'));
    assert.equal(clock, 6000);
  });

  it('times out with the last reason, sleeping no longer than the time left', async () => {
    let clock = 0;
    const got = await waitFor({ type: 'Available', status: 'True', timeoutMs: 5000 }, {
      read: () => Promise.resolve(obj([c('Available', 'False', 'ReplicasUnavailable')])), now: () => clock,
      sleep: (ms) => { clock += ms; return Promise.resolve(); }, log: () => undefined,
    });
    assert.deepEqual(got, { state: 'timeout', why: 'Available=False (ReplicasUnavailable)' });
    assert.equal(clock, 5000);
  });

  it('exit codes: 0 met, 1 failed, 2 timeout', () => {
    assert.deepEqual(['met', 'failed', 'timeout'].map((s) => waitExitCode(s as 'met')), [0, 1, 2]);
  });
});
