import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TrainingPipelineStatus, TrainingRun } from '../../api/training-pipeline.js';
import { CredentialsError } from '../controllers/store-credentials.js';
import { MlflowRequestError, MlflowUnavailableError } from './mlflow-client.js';
import { exportedStatus, failureOf, mlflowAuth, pendingExport, retryAt } from './mlflow-export.js';

const run = (name: string, outcome: TrainingRun['outcome'], version?: string): TrainingRun => ({ name, trigger: 'Manual', startTime: '2026-01-01T00:00:00Z', outcome, ...(version ? { version } : {}) });
const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('pendingExport', () => {
  const runs = [run('r3', 'Running'), run('r2', 'Blessed', 'v2'), run('r1', 'Failed')];
  const cases: Array<{ name: string; status: TrainingPipelineStatus; runs: string[]; champion: string | undefined }> = [
    { name: 'nothing exported: every ended run, oldest first', status: { runs, championVersion: 'v2' }, runs: ['r1', 'r2'], champion: 'v2' },
    { name: 'exported runs are left out; the alias already on the champion', status: { runs, championVersion: 'v2', mlflow: { exportedRuns: ['r1', 'r2'], champion: 'v2' } }, runs: [], champion: undefined },
    { name: 'a rollback moved the champion: the alias follows', status: { runs, championVersion: 'v1', mlflow: { exportedRuns: ['r1', 'r2'], champion: 'v2' } }, runs: [], champion: 'v1' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const p = pendingExport(c.status);
      assert.deepEqual(p.runs.map((r) => r.name), c.runs);
      assert.equal(p.champion, c.champion);
    });
  }
});

describe('retryAt', () => {
  it('waits 10 s after one failure, 20 s after two, at most 5 minutes', () => {
    const t = '2026-01-01T00:00:00.000Z';
    assert.equal(retryAt({ failures: 0 }), undefined);
    assert.equal(retryAt({ failures: 1, lastErrorTime: t }), Date.parse(t) + 10_000);
    assert.equal(retryAt({ failures: 2, lastErrorTime: t }), Date.parse(t) + 20_000);
    assert.equal(retryAt({ failures: 30, lastErrorTime: t }), Date.parse(t) + 300_000);
  });
});

describe('exportedStatus', () => {
  const status: TrainingPipelineStatus = { runs: [run('r2', 'Blessed', 'v2'), run('r1', 'Failed')], championVersion: 'v2', mlflow: { failures: 2, lastError: 'x', lastErrorTime: '2026-01-01T00:00:00.000Z' } };
  it('all exported: MLflowSynced True, the failure forgotten', () => {
    const next = exportedStatus(status, { exportedRuns: ['r2', 'r1', 'gone'], champion: 'v2', registeredVersions: [{ version: 'v2', modelVersion: '1' }] }, undefined, 0, 3);
    assert.deepEqual(next.mlflow, { exportedRuns: ['r2', 'r1'], champion: 'v2', registeredVersions: [{ version: 'v2', modelVersion: '1' }], failures: 0 });
    const c = next.conditions?.find((x) => x.type === 'MLflowSynced');
    assert.equal(c?.status, 'True');
    assert.equal(c?.observedGeneration, 3);
  });
  it('a failure: False with its reason, the progress kept, the failures counted', () => {
    const next = exportedStatus(status, { exportedRuns: ['r1'] }, { reason: 'MLflowUnavailable', message: 'MLflow did not answer' }, Date.parse('2026-01-02T00:00:00Z'), 1);
    assert.equal(next.mlflow?.failures, 3);
    assert.deepEqual(next.mlflow?.exportedRuns, ['r1']);
    assert.equal(next.mlflow?.lastErrorTime, '2026-01-02T00:00:00Z');
    const c = next.conditions?.find((x) => x.type === 'MLflowSynced');
    assert.equal(c?.status, 'False');
    assert.equal(c?.reason, 'MLflowUnavailable');
    assert.match(c?.message ?? '', /Training and promotion go on/);
  });
});

describe('failureOf', () => {
  const cases: Array<[unknown, string]> = [
    [new MlflowUnavailableError('down'), 'MLflowUnavailable'],
    [new MlflowRequestError('no', 400, 'INVALID_PARAMETER_VALUE'), 'MLflowRefused'],
    [new CredentialsError('missing'), 'CredentialsUnavailable'],
  ];
  for (const [e, reason] of cases) it(`${(e as Error).name} → ${reason}`, () => assert.equal(failureOf(e).reason, reason));
});

describe('mlflowAuth', () => {
  it('a token is a bearer token', () => assert.deepEqual(mlflowAuth({ token: b64('t0k\n') }, 'ml', 's'), { token: 't0k' }));
  it('username and password are basic authentication', () => assert.deepEqual(mlflowAuth({ username: b64('u'), password: b64('p') }, 'ml', 's'), { username: 'u', password: 'p' }));
  it('a missing Secret or keys is a CredentialsError', () => {
    assert.throws(() => mlflowAuth(undefined, 'ml', 's'), CredentialsError);
    assert.throws(() => mlflowAuth({ username: b64('u') }, 'ml', 's'), /neither/);
  });
});
