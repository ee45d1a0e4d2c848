import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelDeployment } from '../../../api/model-deployment.js';
import { deployment, observedOf } from './fixtures.js';
import { planModelDeployment } from './plan.js';
import { ReplicasRouter } from './routers/replicas.js';
import { serverDriftWindowRowsEnv } from './server-deployment.js';

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
