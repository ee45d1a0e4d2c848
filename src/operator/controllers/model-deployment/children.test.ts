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

  it('the server settings ConfigMap: logPredictions and the candidate\'s track, written when they change, recorded in status', () => {
    const settingsOf = (c: Children): unknown => JSON.parse(c.settings?.data['settings.json'] ?? 'null');
    const hashOf = (h: string): string => h.slice('weather-'.length);
    const stable = childrenFor(deployment().withStatus(serving('v1')).build(), revisions({ [v1]: [2, 2] }));
    assert.equal(stable.settings?.metadata.name, 'weather-server');
    assert.deepEqual(settingsOf(stable), { logPredictions: true, tracks: {} });
    const canary = childrenFor(deployment().withStatus(rolling('v1', 'v2', 0)).build(), revisions({ [v1]: [2, 2], [v2]: [1, 0] }));
    assert.deepEqual(settingsOf(canary), { logPredictions: true, tracks: { [hashOf(v2)]: 'canary' } });
    const shadowed = deployment().throughGateway().withRollout({ shadow: { percent: 100, duration: '5m', minAgreement: 0.9 } });
    const shadow = childrenFor(shadowed.withStatus(rolling('v1', 'v2', 0)).build(), revisions({ [v1]: [2, 2], [v2]: [2, 0] }), true);
    assert.deepEqual(settingsOf(shadow), { logPredictions: true, tracks: { [hashOf(v2)]: 'shadow' } });
    const off = childrenFor(deployment().withServer({ logPredictions: false }).withStatus(serving('v1')).build(), revisions({ [v1]: [2, 2] }));
    assert.deepEqual(settingsOf(off), { logPredictions: false, tracks: {} });
    // Written only when it differs from what status says was written.
    const again = childrenFor(deployment().withStatus(serving('v1', { settingsHash: stable.settingsHash ?? '' })).build(), revisions({ [v1]: [2, 2] }));
    assert.equal(again.settings, undefined);
    const ctx = contextOf(observedOf(deployment().withStatus(serving('v1')).build(), 'v1'));
    assert.equal(withChildren(draftOf(ctx), stable).status.settingsHash, stable.settingsHash);
  });

  it('the pods mount the settings ConfigMap and know their revision; no track or logPredictions in the template', () => {
    const c = childrenFor(deployment().withStatus(rolling('v1', 'v2', 0)).build(), revisions({ [v1]: [2, 2], [v2]: [1, 0] }));
    const pod = c.deployments[1]?.spec.template.spec as { containers: Array<{ env: Array<{ name: string; value?: string }>; volumeMounts: unknown[] }>; volumes: unknown[] };
    const env = Object.fromEntries(pod.containers[0]?.env.map((e) => [e.name, e.value]) ?? []);
    assert.equal(env['PERENNIAL_SERVER_REVISION'], v2.slice('weather-'.length));
    assert.equal(env['PERENNIAL_SERVER_SETTINGS_FILE'], '/etc/perennial/server/settings.json');
    assert.ok(!('PERENNIAL_SERVER_TRACK' in env) && !('PERENNIAL_SERVER_LOG_PREDICTIONS' in env));
    assert.deepEqual(pod.volumes.at(-1), { name: 'settings', configMap: { name: 'weather-server', optional: true } });
    assert.deepEqual(pod.containers[0]?.volumeMounts.at(-1), { name: 'settings', mountPath: '/etc/perennial/server', readOnly: true });
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
