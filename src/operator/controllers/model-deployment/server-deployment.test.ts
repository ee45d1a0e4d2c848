import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelDeployment } from '../../../api/model-deployment.js';
import { podEnv } from '../../../shared/pod-contract.js';
import { deployment, observedOf } from './fixtures.js';
import { planModelDeployment } from './plan.js';
import { ReplicasRouter } from './routers/replicas.js';
import { buildService, samePorts, serverDriftWindowRowsEnv, workersEnv } from './server-deployment.js';

/** The server container's environment of the first revision the plan makes. */
function envOf(md: ModelDeployment): Record<string, string | undefined> {
  const plan = planModelDeployment(observedOf(md, 'v1'), new ReplicasRouter());
  const spec = plan.deployments[0]?.spec.template.spec as { containers: Array<{ env: Array<{ name: string; value?: string }> }> };
  return Object.fromEntries((spec.containers[0]?.env ?? []).map((e) => [e.name, e.value]));
}

describe('server pods\' drift window', () => {
  const table: Array<[string, (md: ReturnType<typeof deployment>) => ReturnType<typeof deployment>, string, string | undefined]> = [
    ['driftWindow in seconds, no row bound by default', (md) => md, '3600', undefined],
    ['driftWindowRows: the newest N rows within driftWindow', (md) => md.withServer({ driftWindow: '168h', driftWindowRows: 500 }), '604800', '500'],
  ];
  for (const [name, edit, seconds, rows] of table) {
    it(name, () => {
      const env = envOf(edit(deployment()).build());
      assert.equal(env['PERENNIAL_SERVER_DRIFT_WINDOW_SECONDS'], seconds);
      assert.equal(env[serverDriftWindowRowsEnv], rows);
      assert.equal(serverDriftWindowRowsEnv, 'PERENNIAL_SERVER_DRIFT_WINDOW_ROWS');
    });
  }
});

describe('the gRPC port', () => {
  const portsOf = (md: ModelDeployment): { container: unknown[]; services: Record<string, unknown[]> } => {
    const plan = planModelDeployment(observedOf(md, 'v1'), new ReplicasRouter());
    const spec = plan.deployments[0]?.spec.template.spec as { containers: Array<{ ports: unknown[] }> };
    return { container: spec.containers[0]?.ports ?? [], services: Object.fromEntries(plan.services.map((s) => [s.metadata.name, s.spec.ports.map((p) => p['name'])])) };
  };
  it('server.grpcPort (default 9000): a container port named grpc, the env, and the inference Services, not the feedback one', () => {
    const md = deployment().build();
    const { container, services } = portsOf(md);
    assert.deepEqual(container.at(-1), { name: 'grpc', containerPort: 9000, protocol: 'TCP' });
    assert.equal(envOf(md)['PERENNIAL_SERVER_GRPC_PORT'], '9000');
    assert.deepEqual(services, { weather: ['http', 'grpc'], 'weather-canary': ['http', 'grpc'], 'weather-feedback': ['feedback'] });
  });
  it('0: no gRPC listener, port or Service port', () => {
    const md = deployment().withServer({ grpcPort: 0 }).build();
    const { container, services } = portsOf(md);
    assert.ok(!container.some((p) => (p as { name: string }).name === 'grpc'));
    assert.equal(envOf(md)['PERENNIAL_SERVER_GRPC_PORT'], undefined);
    assert.deepEqual(services['weather'], ['http']);
  });
  it('the Service port speaks HTTP/2 in plaintext to the grpc container port', () => {
    const svc = buildService({ namespace: 'ml', md: 'w', name: 'w', owner: { apiVersion: 'v1', kind: 'x', name: 'w', uid: 'u' }, port: 8080, grpcPort: 9001, revisionHash: undefined });
    assert.deepEqual(svc.spec.ports[1], { name: 'grpc', port: 9001, targetPort: 'grpc', protocol: 'TCP', appProtocol: 'kubernetes.io/h2c' });
  });
});

describe('server.workers: serving processes per pod', () => {
  /** The first revision's Deployment the plan makes for v1. */
  const revisionOf = (md: ModelDeployment): unknown => planModelDeployment(observedOf(md, 'v1'), new ReplicasRouter()).deployments[0];
  /** The deployment as stored before the field existed (or read through a CRD that prunes it): no workers at all. */
  const withoutWorkers = (md: ModelDeployment): ModelDeployment => {
    const copy = structuredClone(md);
    delete (copy.spec.server as Partial<ModelDeployment['spec']['server']>).workers;
    return copy;
  };
  const table: Array<[string, number | undefined, string | undefined]> = [
    ['1 (the default): no variable, the server runs one process', 1, undefined],
    ['absent (a CRD from before the field prunes it): no variable', undefined, undefined],
    ['2: PERENNIAL_SERVER_WORKERS=2', 2, '2'],
    ['64, the most: PERENNIAL_SERVER_WORKERS=64', 64, '64'],
  ];
  for (const [name, workers, want] of table) {
    it(name, () => {
      const md = workers === undefined ? withoutWorkers(deployment().build()) : deployment().withServer({ workers }).build();
      assert.equal(envOf(md)['PERENNIAL_SERVER_WORKERS'], want);
      assert.deepEqual(workersEnv(workers), want === undefined ? [] : [{ name: 'PERENNIAL_SERVER_WORKERS', value: want }]);
    });
  }
  it('the default leaves the revision as it was before the field: same Deployment name (hash), same pod template, no pod rolled on upgrade', () => {
    const md = deployment().build();
    assert.equal(md.spec.server.workers, 1, 'the builder stores the default, as the API server does');
    assert.deepEqual(revisionOf(md), revisionOf(withoutWorkers(md)));
  });
  it('another count is a new revision (a new name and the variable in its pod template)', () => {
    const one = revisionOf(deployment().build()) as { metadata: { name: string } };
    const four = revisionOf(deployment().withServer({ workers: 4 }).build()) as { metadata: { name: string } };
    assert.notEqual(four.metadata.name, one.metadata.name);
    assert.equal(envOf(deployment().withServer({ workers: 4 }).build())['PERENNIAL_SERVER_WORKERS'], '4');
  });
  it('the variable is the pod contract\'s', () => assert.equal(podEnv.serverWorkers, 'PERENNIAL_SERVER_WORKERS'));
});

describe('server.maxConnectionAge and grpcMaxConnectionAge', () => {
  const without = (md: ModelDeployment): ModelDeployment => {
    const copy = structuredClone(md);
    const server = copy.spec.server as Partial<ModelDeployment['spec']['server']>;
    delete server.maxConnectionAge;
    delete server.grpcMaxConnectionAge;
    return copy;
  };
  const table: Array<[string, ModelDeployment, string | undefined, string | undefined]> = [
    ['the defaults (5s, 30s): no variables, the server\'s own defaults', deployment().build(), undefined, undefined],
    ['absent (a CRD from before the fields prunes them): no variables', without(deployment().build()), undefined, undefined],
    ['the defaults written otherwise: no variables', deployment().withServer({ maxConnectionAge: '5000ms', grpcMaxConnectionAge: '0.5m' }).build(), undefined, undefined],
    ['gRPC at 2s: its variable in ms', deployment().withServer({ grpcMaxConnectionAge: '2s' }).build(), undefined, '2000'],
    ['0s: never (the variable 0)', deployment().withServer({ maxConnectionAge: '0s', grpcMaxConnectionAge: '0s' }).build(), '0', '0'],
    ['1h30m', deployment().withServer({ maxConnectionAge: '1h30m' }).build(), '5400000', undefined],
  ];
  for (const [name, md, http, grpc] of table) {
    it(name, () => {
      const env = envOf(md);
      assert.equal(env[podEnv.serverMaxConnectionAgeMs], http);
      assert.equal(env[podEnv.serverGrpcMaxConnectionAgeMs], grpc);
    });
  }
});

describe('samePorts', () => {
  const want = [{ name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP' }, { name: 'grpc', port: 9000, targetPort: 'grpc', protocol: 'TCP', appProtocol: 'kubernetes.io/h2c' }];
  const table: Array<[string, Array<Record<string, unknown>>, boolean]> = [
    ['as the API server returns them (its own fields added)', want.map((p) => ({ ...p, nodePort: undefined })), true],
    ['a Service from before the gRPC port', [want[0]!], false],
    ['another port number', [want[0]!, { ...want[1]!, port: 9001 }], false],
    ['no appProtocol', [want[0]!, { ...want[1]!, appProtocol: undefined }], false],
    ['the order swapped', [want[1]!, want[0]!], false],
  ];
  for (const [name, existing, same] of table) it(name, () => assert.equal(samePorts(existing, want), same));
});
