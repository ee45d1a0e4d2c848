import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { aDeployment, aPipeline } from '../../api/testing/builders.js';
import type { KubeObject } from '../runtime/resource.js';
import { loopEvent } from './loop-events.js';

const now = Date.parse('2026-01-02T03:04:05Z');
const running = aPipeline('weather').inNamespace('ml').withStatus({
  championVersion: 'v2',
  runs: [{ name: 'weather-3', version: 'v3', trigger: 'Drift', startTime: '2026-01-02T03:00:00Z', outcome: 'Running' }],
}).build();
const rolling = aDeployment('weather').inNamespace('ml').withStatus({ stableVersion: 'v2', canaryVersion: 'v3', previousVersion: 'v1' }).build();

describe('loopEvent: which Events are loop moments, and their version', () => {
  const table: Array<[string, KubeObject, string, string, string, { type: string; version: string } | undefined]> = [
    ['a blessed run: the version it published', running, 'Normal', 'Blessed', 'Run weather-3: blessed (accuracy 0.9).', { type: 'run.blessed', version: 'v3' }],
    ['a run the gates rejected', running, 'Warning', 'Rejected', 'Run weather-3: accuracy 0.5 < 0.7.', { type: 'run.rejected', version: 'v3' }],
    ['a run refused by validation', running, 'Warning', 'InvalidData', 'Run weather-3: 30% bad lines.', { type: 'run.invalidData', version: 'v3' }],
    ['a failed run', running, 'Warning', 'RunFailed', 'Run weather-3: the trainer exited 1.', { type: 'run.failed', version: 'v3' }],
    ['a run killed for memory ended Failed', running, 'Warning', 'OOMKilled', 'Run weather-3: the trainer was OOMKilled.', { type: 'run.failed', version: 'v3' }],
    ['a run started by the drift trigger: sustained drift on the champion', running, 'Normal', 'RunStarted', 'Run weather-4 started (Drift): PSI 0.4 > 0.2 for 10m.', { type: 'drift.sustained', version: 'v2' }],
    ['a run started by a schedule: nothing', running, 'Normal', 'RunStarted', 'Run weather-4 started (Schedule): cron.', undefined],
    ['a promotion: the candidate', rolling, 'Normal', 'RolloutComplete', 'v3 promoted to stable (was v2).', { type: 'rollout.promoted', version: 'v3' }],
    ['an abort by a failed gate', rolling, 'Warning', 'RolloutAborted', 'Rollout of v3 aborted: accuracy.', { type: 'rollout.aborted', version: 'v3' }],
    ['a candidate superseded by a newer one: not an abort to tell', rolling, 'Normal', 'RolloutAborted', 'Rollout of v3 superseded by v4.', undefined],
    ['a rollback: the version it went back to', rolling, 'Normal', 'RolledBack', 'Rolled back from v2 to v1.', { type: 'rollout.rolledBack', version: 'v1' }],
    ['a step of a rollout: nothing', rolling, 'Normal', 'RolloutProgressing', 'Step 1.', undefined],
    ['another kind: nothing', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' } }, 'Warning', 'RolledBack', '', undefined],
  ];
  for (const [name, obj, type, reason, note, want] of table) {
    it(name, () => {
      const e = loopEvent(obj, type, reason, note, now);
      assert.deepEqual(e === undefined ? undefined : { type: e.type, version: e.version }, want);
      if (e) assert.deepEqual([e.namespace, e.name, e.reason, e.message, e.time], ['ml', 'weather', reason, note, '2026-01-02T03:04:05.000Z']);
    });
  }
});
