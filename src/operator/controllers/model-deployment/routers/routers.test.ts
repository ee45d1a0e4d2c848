import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayAPIRouter, routeHash } from './gateway-api.js';
import { ReplicasRouter } from './replicas.js';
import type { RouteInput, RoutePlan } from './router.js';

const owner = { apiVersion: 'perennial.dev/v1alpha1', kind: 'ModelDeployment', name: 'w', uid: 'u', controller: true };
function input(over: Partial<RouteInput>): RouteInput {
  return {
    namespace: 'ml', md: 'w', owner, port: 8080, total: 4, phase: 'canary', weight: 50, mirrorPercent: 100, previewReplicas: 4,
    stable: { hash: 's', ready: 4, replicas: 4 }, canary: { hash: 'c', ready: 0 }, ...over,
  };
}
type Core = Omit<RoutePlan, 'route'>;
const core = (p: RoutePlan): Core => ({ replicas: p.replicas, stableServiceRevision: p.stableServiceRevision, weight: p.weight, reached: p.reached });

describe('ReplicasRouter', () => {
  const r = new ReplicasRouter();
  const table: Array<[string, Partial<RouteInput>, Core]> = [
    ['no candidate: the stable revision only', { canary: undefined, phase: 'stable' }, { replicas: { stable: 4, canary: 0 }, stableServiceRevision: 's', weight: 0, reached: true }],
    ['candidate starting: no weight until its pods are ready', {}, { replicas: { stable: 4, canary: 2 }, stableServiceRevision: undefined, weight: 0, reached: false }],
    ['candidate half ready: stable gives one pod', { canary: { hash: 'c', ready: 1 } }, { replicas: { stable: 3, canary: 2 }, stableServiceRevision: undefined, weight: 20, reached: false }],
    ['split reached', { canary: { hash: 'c', ready: 2 }, stable: { hash: 's', ready: 2, replicas: 2 } }, { replicas: { stable: 2, canary: 2 }, stableServiceRevision: undefined, weight: 50, reached: true }],
    ['weight 0 keeps the candidate out of the Service', { weight: 0 }, { replicas: { stable: 4, canary: 0 }, stableServiceRevision: 's', weight: 0, reached: true }],
    ['shadow: a mirrored share of pods, no real traffic', { phase: 'shadow', mirrorPercent: 50, canary: { hash: 'c', ready: 2 } }, { replicas: { stable: 4, canary: 2 }, stableServiceRevision: 's', weight: 0, reached: true }],
    ['preview: full size, no real traffic', { phase: 'preview', canary: { hash: 'c', ready: 3 } }, { replicas: { stable: 4, canary: 4 }, stableServiceRevision: 's', weight: 0, reached: false }],
  ];
  for (const [name, over, want] of table) it(name, () => assert.deepEqual(core(r.plan(input(over))), want));
});

describe('GatewayAPIRouter', () => {
  const r = new GatewayAPIRouter({ parentRefs: [{ name: 'gw' }], pathPrefix: '/' });
  const table: Array<[string, Partial<RouteInput>, Core, Array<[string, number]>, number | undefined]> = [
    ['no candidate: all to stable', { canary: undefined, phase: 'stable' }, { replicas: { stable: 4, canary: 0 }, stableServiceRevision: 's', weight: 0, reached: true }, [['w', 100]], undefined],
    ['unready candidate gets no weight', { weight: 20 }, { replicas: { stable: 4, canary: 1 }, stableServiceRevision: 's', weight: 0, reached: false }, [['w', 100], ['w-canary', 0]], undefined],
    ['exact weights once ready', { weight: 20, canary: { hash: 'c', ready: 1 } }, { replicas: { stable: 4, canary: 1 }, stableServiceRevision: 's', weight: 20, reached: true }, [['w', 80], ['w-canary', 20]], undefined],
    ['an unready stable gives way to a ready candidate', { weight: 20, canary: { hash: 'c', ready: 1 }, stable: { hash: 's', ready: 0, replicas: 4 } }, { replicas: { stable: 4, canary: 1 }, stableServiceRevision: 's', weight: 100, reached: true }, [['w', 0], ['w-canary', 100]], undefined],
    ['shadow mirrors, weights stay on stable', { phase: 'shadow', mirrorPercent: 30, canary: { hash: 'c', ready: 2 } }, { replicas: { stable: 4, canary: 2 }, stableServiceRevision: 's', weight: 0, reached: true }, [['w', 100], ['w-canary', 0]], 30],
  ];
  for (const [name, over, want, backends, mirror] of table) {
    it(name, () => {
      const plan = r.plan(input(over));
      assert.deepEqual(core(plan), want);
      const rule = (plan.route as { spec: { rules: Array<{ backendRefs: Array<{ name: string; weight: number }>; filters?: Array<{ requestMirror: { percent: number } }> }> } }).spec.rules[0];
      assert.deepEqual(rule?.backendRefs.map((b) => [b.name, b.weight]), backends);
      assert.equal(rule?.filters?.[0]?.requestMirror.percent, mirror);
    });
  }
});

describe('GatewayAPIRouter: the GRPCRoute beside the HTTPRoute', () => {
  const r = new GatewayAPIRouter({ parentRefs: [{ name: 'gw', namespace: 'infra' }], pathPrefix: '/v2', hostnames: ['ml.example.com'] });
  type Route = { kind: string; metadata: { name: string }; spec: { parentRefs: unknown[]; hostnames?: string[]; rules: Array<{ matches?: unknown; backendRefs: Array<{ name: string; port: number; weight: number }>; filters?: Array<{ requestMirror: { percent: number; backendRef: { port: number } } }> }> } };
  it('same name, parents, hostnames, weights and mirror, on the gRPC port, for every method', () => {
    for (const over of [{ weight: 20, canary: { hash: 'c', ready: 1 } }, { phase: 'shadow' as const, mirrorPercent: 30, canary: { hash: 'c', ready: 2 } }, { canary: undefined, phase: 'stable' as const }]) {
      const plan = r.plan(input({ ...over, grpcPort: 9000 }));
      const http = plan.route as Route;
      const grpc = plan.grpcRoute as Route;
      assert.equal(grpc.kind, 'GRPCRoute');
      assert.equal(grpc.metadata.name, http.metadata.name);
      assert.deepEqual([grpc.spec.parentRefs, grpc.spec.hostnames], [http.spec.parentRefs, http.spec.hostnames]);
      assert.deepEqual(grpc.spec.rules[0]?.backendRefs.map((b) => [b.name, b.weight]), http.spec.rules[0]?.backendRefs.map((b) => [b.name, b.weight]));
      assert.ok(grpc.spec.rules[0]?.backendRefs.every((b) => b.port === 9000));
      assert.ok(http.spec.rules[0]?.backendRefs.every((b) => b.port === 8080));
      assert.equal(grpc.spec.rules[0]?.filters?.[0]?.requestMirror.percent, http.spec.rules[0]?.filters?.[0]?.requestMirror.percent);
      if (grpc.spec.rules[0]?.filters) assert.equal(grpc.spec.rules[0].filters[0]?.requestMirror.backendRef.port, 9000);
      assert.equal(grpc.spec.rules[0]?.matches, undefined);
    }
  });
  it('no gRPC port: no GRPCRoute, and the route hash is the HTTPRoute\'s alone as before', () => {
    const plan = r.plan(input({ grpcPort: 0 }));
    assert.equal(plan.grpcRoute, undefined);
    assert.equal(routeHash(plan.route!), routeHash(plan.route!, undefined));
    const withGrpc = r.plan(input({ grpcPort: 9000 }));
    assert.notEqual(routeHash(withGrpc.route!, withGrpc.grpcRoute), routeHash(withGrpc.route!));
    assert.notEqual(routeHash(withGrpc.route!, withGrpc.grpcRoute), routeHash(withGrpc.route!, r.plan(input({ grpcPort: 9001 })).grpcRoute), 'a new gRPC port rewrites the routes');
  });
});
