import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelDeployment } from '../../../api/model-deployment.js';
import { advanceStep } from './advance-step.js';
import { childrenOf, withChildren, type Children } from './children.js';
import { at, contextOf, deployment, draftOf, observedOf, revisionName, revisions, rolling, serving, t0 } from './fixtures.js';
import type { ObservedRevision } from './observed.js';
import { GatewayAPIRouter } from './routers/gateway-api.js';

const [v1, v2, v3] = [revisionName('v1'), revisionName('v2'), revisionName('v3')];

function childrenFor(md: ModelDeployment, cached: Map<string, ObservedRevision>, gateway = false): Children {
  const spec = md.spec.rollout.trafficRouting.gatewayAPI;
  const ctx = contextOf(observedOf(md, md.status?.canaryVersion ?? md.status?.stableVersion, { revisions: cached }), gateway && spec ? new GatewayAPIRouter(spec) : undefined);
  const { draft, route } = advanceStep(ctx, draftOf(ctx));
  return childrenOf(ctx, draft, route);
}

const replicas = (c: Children): Array<[string, number]> => c.deployments.map((d) => [d.metadata.name, d.spec.replicas]);

describe('childrenOf', () => {
  it('stable only: its Deployment at full size, the Services, the feedback Secret once', () => {
    const c = childrenFor(deployment().withStatus(serving('v1')).build(), revisions({ [v1]: [2, 2] }));
    assert.deepEqual(replicas(c), [[v1, 2]]);
    assert.deepEqual(c.services.map((s) => s.metadata.name), ['weather', 'weather-canary', 'weather-feedback']);
    assert.equal(c.feedbackSecret?.name, 'weather-feedback');
    assert.deepEqual([c.scale, c.deleteDeployments, c.route, c.routeHash], [[], [], undefined, undefined]);
  });

  it('a rollout: both revisions with the split\'s replicas; any other Deployment it controls goes', () => {
    const c = childrenFor(deployment().withStatus(rolling('v1', 'v2', 0)).build(), revisions({ [v1]: [2, 2], [v2]: [1, 0], [v3]: [2, 2] }));
    assert.deepEqual(replicas(c), [[v1, 2], [v2, 1]]);
    assert.deepEqual(c.deleteDeployments, [{ name: v3, uid: `uid-${v3}` }]);
  });

  it('the previous revision within the rollback window: kept, scaled back to full size, never re-created', () => {
    const status = serving('v2', { previousRevision: v1, previousVersion: 'v1', promotedTime: at(t0 - 60_000) });
    const c = childrenFor(deployment().withStatus(status).build(), revisions({ [v1]: [0, 0], [v2]: [2, 2] }));
    assert.deepEqual(replicas(c), [[v2, 2]]);
    assert.deepEqual(c.scale, [{ name: v1, replicas: 2 }]);
    assert.deepEqual(c.deleteDeployments, []);
  });

  it('blue-green adds the preview Service on the candidate', () => {
    const c = childrenFor(deployment().blueGreen().withStatus(rolling('v1', 'v2', 0)).build(), revisions({ [v1]: [2, 2], [v2]: [2, 0] }));
    assert.deepEqual(c.services.map((s) => [s.metadata.name, s.spec.selector['perennial.dev/revision']]), [
      ['weather', v1.slice('weather-'.length)], ['weather-canary', v2.slice('weather-'.length)], ['weather-preview', v2.slice('weather-'.length)], ['weather-feedback', undefined],
    ]);
  });

  it('a feedback Secret the spec names, or one already created, is not created', () => {
    assert.equal(childrenFor(deployment().withServer({ feedback: { port: 8081, secretName: 'mine' } }).withStatus(serving('v1')).build(), revisions({})).feedbackSecret, undefined);
    assert.equal(childrenFor(deployment().withStatus(serving('v1', { feedbackSecret: 'weather-feedback' })).build(), revisions({})).feedbackSecret, undefined);
  });

  it('the HTTPRoute is written when its hash changed, and recorded in status', () => {
    const md = deployment().throughGateway().withStatus(serving('v1')).build();
    const first = childrenFor(md, revisions({ [v1]: [2, 2] }), true);
    assert.equal(first.route?.metadata?.name, 'weather');
    assert.match(first.routeHash ?? '', /^[0-9a-f]+$/);
    const again = childrenFor(deployment().throughGateway().withStatus(serving('v1', { routeHash: first.routeHash ?? '' })).build(), revisions({ [v1]: [2, 2] }), true);
    assert.equal(again.route, undefined, 'unchanged: not written again');
    const ctx = contextOf(observedOf(md, 'v1'));
    assert.equal(withChildren(draftOf(ctx), first).status.routeHash, first.routeHash);
    assert.equal(withChildren(draftOf(ctx), first).status.feedbackSecret, 'weather-feedback');
  });
});
