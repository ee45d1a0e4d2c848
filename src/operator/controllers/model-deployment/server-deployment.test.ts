import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelDeployment } from '../../../api/model-deployment.js';
import { deployment, observedOf } from './fixtures.js';
import { planModelDeployment } from './plan.js';
import { ReplicasRouter } from './routers/replicas.js';
import { buildService, samePorts, serverDriftWindowRowsEnv } from './server-deployment.js';

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
