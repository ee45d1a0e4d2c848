// The whole chain on a few observations: the outcomes that end it early (not accepted, no store, nothing to serve
// yet), and the fixed points a reconcile must reach (planning on its own output changes nothing). The steps have
// their own tables; the reconciler tests play whole rollouts against the recording fake.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelDeployment } from '../../../api/model-deployment.js';
import { jsonEqual } from '../../runtime/json-diff.js';
import { deployment, observedOf, revisionName, revisions, rolling, serving, t0 } from './fixtures.js';
import type { Observed } from './observed.js';
import { planModelDeployment, type ModelDeploymentPlan } from './plan.js';
import { ReplicasRouter } from './routers/replicas.js';

const plan = (md: ModelDeployment, desired: string | undefined, edit: Partial<Observed> = {}): ModelDeploymentPlan =>
  planModelDeployment(observedOf(md, desired, edit), new ReplicasRouter());
const again = (md: ModelDeployment, p: ModelDeploymentPlan): ModelDeployment => ({ ...md, status: p.status });
const condition = (p: ModelDeploymentPlan, type: string): string | undefined => {
  const c = p.status.conditions?.find((x) => x.type === type);
  return c && `${c.status}/${c.reason}`;
};

describe('planModelDeployment', () => {
  it('a spec it may not act on: Degraded, Accepted=False, one Warning per generation, nothing else', () => {
    const md = deployment().withImage('docker.io/someone/server:1').build();
    const p = plan(md, 'v1');
    assert.equal(p.status.phase, 'Degraded');
    assert.equal(condition(p, 'Accepted'), 'False/NotPermitted');
    assert.deepEqual(p.events.map((e) => `${e.type} ${e.reason}`), ['Warning NotPermitted']);
    assert.deepEqual([p.deployments, p.services, p.requeueAfterMs], [[], [], undefined]);
    assert.deepEqual(plan(again(md, p), 'v1').events, [], 'said once');
  });

  it('without an object store: waits, keeping what serves', () => {
    const md = deployment().withStatus(serving('v1')).build();
    const p = plan(md, 'v1', { store: undefined });
    assert.equal(condition(p, 'Available'), 'False/WaitingForModel');
    assert.equal(p.status.phase, 'Healthy', 'a serving deployment keeps its phase');
    assert.deepEqual([p.deployments, p.deleteDeployments], [[], []], 'nothing created, nothing deleted');
  });

  it('nothing to serve yet: Pending, saying what it waits for, with no timer', () => {
    const p = plan(deployment().build(), undefined);
    assert.equal(p.status.phase, 'Pending');
    assert.equal(p.status.message, 'TrainingPipeline weather has no champion yet');
    assert.deepEqual([condition(p, 'Available'), condition(p, 'Progressing')], ['False/WaitingForModel', 'False/WaitingForModel']);
    assert.equal(p.requeueAfterMs, undefined);
  });

  const fixedPoints: Array<[string, ModelDeployment, string, Partial<Observed>]> = [
    ['the first version chosen, no pod ready', deployment().build(), 'v1', {}],
    ['healthy', deployment().withStatus(serving('v1')).build(), 'v1', { revisions: revisions({ [revisionName('v1')]: [2, 2] }) }],
    ['a candidate waiting for its pods', deployment().withStatus(rolling('v1', 'v2', 0)).build(), 'v2', { revisions: revisions({ [revisionName('v1')]: [2, 2], [revisionName('v2')]: [1, 0] }) }],
  ];
  for (const [name, md, desired, observed] of fixedPoints) {
    it(`is a fixed point: ${name}`, () => {
      const first = plan(md, desired, observed);
      const second = plan(again(md, first), desired, observed);
      assert.ok(jsonEqual(second.status, first.status), JSON.stringify({ first: first.status, second: second.status }));
      assert.deepEqual(second.events, []);
    });
  }

  it('a promotion changes no pod template: each revision\'s Deployment is the same before and after but for replicas; the old stable is only scaled', () => {
    // The e2e own-data loop's rollout: one replica, one step at 100 %. The old stable's pod goes at the 100 % step
    // (the candidate takes every pod; replica-split.ts) and the rollback window scales it back (children.ts): a new
    // pod by scaling, never by a template change.
    const md = (status: ModelDeployment['status']): ModelDeployment => deployment().withReplicas(1).withCanarySteps({ setWeight: 100 }).withStatus(status ?? {}).build();
    const [r1, r2] = [revisionName('v1'), revisionName('v2')];
    const before = plan(md(serving('v1')), 'v1', { revisions: revisions({ [r1]: [1, 1] }) });
    const atFull = plan(md(rolling('v1', 'v2', 0)), 'v2', { revisions: revisions({ [r1]: [1, 1], [r2]: [1, 1] }) });
    const promoted = plan(md(atFull.status), 'v2', { revisions: revisions({ [r1]: [0, 0], [r2]: [1, 1] }) });
    assert.equal(promoted.status.stableVersion, 'v2');
    assert.equal(promoted.status.previousRevision, r1);
    const byName = (p: ModelDeploymentPlan): Map<string, unknown> => new Map(p.deployments.map((d) => [d.metadata.name, { ...d, spec: { ...d.spec, replicas: 0 } }]));
    const replicasOf = (p: ModelDeploymentPlan): Array<[string, number]> => p.deployments.map((d) => [d.metadata.name, d.spec.replicas]);
    assert.deepEqual([replicasOf(before), replicasOf(atFull), replicasOf(promoted)], [[[r1, 1]], [[r1, 0], [r2, 1]], [[r2, 1]]]);
    assert.deepEqual(promoted.scale, [{ name: r1, replicas: 1 }], 'the previous revision is scaled back for the rollback window, not rebuilt');
    const table: Array<[string, ModelDeploymentPlan, ModelDeploymentPlan, string]> = [
      ['the old stable, serving → at the 100 % step', before, atFull, r1],
      ['the candidate, at the 100 % step → promoted', atFull, promoted, r2],
    ];
    for (const [name, a, b, revision] of table) {
      assert.ok(byName(a).has(revision) && byName(b).has(revision), name);
      assert.deepEqual(byName(b).get(revision), byName(a).get(revision), name);
    }
  });

  it('looks again after the shortest wait any step asked for', () => {
    const v1 = revisionName('v1');
    const p = plan(deployment().withStatus(serving('v2', { previousRevision: v1, previousVersion: 'v1', promotedTime: new Date(t0 - 9 * 60_000).toISOString() })).build(), 'v2',
      { revisions: revisions({ [v1]: [2, 2], [revisionName('v2')]: [2, 2] }) });
    assert.equal(p.requeueAfterMs, 30_000, 'the live-metrics interval, before the window ends in 60 s');
  });
});
