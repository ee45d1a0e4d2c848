import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { contextOf, deployment, draftOf, observedOf, revisionName, revisions, rolling } from './fixtures.js';
import { GatewayAPIRouter } from './routers/gateway-api.js';
import { trafficFor } from './traffic.js';

describe('trafficFor', () => {
  const cached = revisions({ [revisionName('v1')]: [2, 2], [revisionName('v2')]: [1, 1] });
  const gateway = { parentRefs: [{ name: 'gw' }], pathPrefix: '/' };
  const table: Array<[string, ReturnType<typeof deployment>, boolean, { stable: number; canary: number }, number, boolean]> = [
    ['a canary step: the split follows ready pods (2 stable, 1 candidate ready)', deployment(), false, { stable: 1, canary: 1 }, 33, false],
    ['shadow: a mirrored share of pods, no weight', deployment().throughGateway(gateway).withRollout({ shadow: { percent: 50, duration: '1m', minAgreement: 0.9 } }), false, { stable: 2, canary: 1 }, 0, true],
    ['shadow promoted: both at full size until the candidate is ready', deployment().throughGateway(gateway).withRollout({ shadow: { percent: 50, duration: '1m', minAgreement: 0.9 } }), true, { stable: 2, canary: 2 }, 0, false],
    ['preview promoted: the same', deployment().blueGreen(), true, { stable: 2, canary: 2 }, 0, false],
  ];
  for (const [name, builder, forPromotion, replicas, weight, reached] of table) {
    it(name, () => {
      const md = builder.withStatus(rolling('v1', 'v2', 0)).build();
      const routing = md.spec.rollout.trafficRouting.gatewayAPI;
      const ctx = contextOf(observedOf(md, 'v2', { revisions: cached }), routing ? new GatewayAPIRouter(routing) : undefined);
      const r = trafficFor(ctx, draftOf(ctx), 0, forPromotion);
      assert.deepEqual([r.replicas, r.weight, r.reached], [replicas, weight, reached]);
    });
  }
});
