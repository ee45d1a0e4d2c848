// The dashboard as the operator runs it: off unless PERENNIAL_DASHBOARD_PORT is set (the chart sets it when
// dashboard.enabled), reading the manager's informer caches, recording each deployment's history from their events,
// checking every request with the API server (TokenReview, SubjectAccessReview) through the operator's client.
import { modelDeployments, trainingPipelines } from '../resources.js';
import type { Manager } from '../runtime/manager.js';
import type { ModelDeployment } from '../../api/model-deployment.js';
import { Access } from './access.js';
import { LiveHistory } from './history.js';
import { DashboardServer } from './server.js';

export interface DashboardConfig {
  readonly port: number;
  readonly host: string;
}

export class DashboardConfigError extends Error {
  override readonly name = 'DashboardConfigError';
}

/** PERENNIAL_DASHBOARD_PORT (unset or empty: no dashboard; 0 picks a free port) and PERENNIAL_DASHBOARD_HOST. */
export function dashboardConfig(env: Readonly<Record<string, string | undefined>>): DashboardConfig | undefined {
  const raw = env['PERENNIAL_DASHBOARD_PORT'];
  if (raw === undefined || raw === '') return undefined;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new DashboardConfigError(`PERENNIAL_DASHBOARD_PORT: must be a port number, got "${raw}"`);
  return { port, host: env['PERENNIAL_DASHBOARD_HOST'] || '0.0.0.0' };
}

export interface RunningDashboard {
  readonly port: number;
  close(): Promise<void>;
}

/** Hooks the history on the manager's informers (before it starts) and listens. */
export async function startDashboard(manager: Manager, config: DashboardConfig): Promise<RunningDashboard> {
  const pipelines = manager.informer(trainingPipelines);
  const deployments = manager.informer(modelDeployments);
  const history = new LiveHistory(() => manager.clock.now());
  deployments.onEvent((event, obj) => {
    if (event === 'delete') history.forget(obj.metadata?.namespace ?? '', obj.metadata?.name ?? '');
    else history.observe(obj as unknown as ModelDeployment);
  });
  const server = new DashboardServer({
    pipelines, deployments, history, access: new Access(manager.http), now: () => manager.clock.now(), logger: manager.logger.child({ component: 'dashboard' }),
  });
  const port = await server.listen(config.port, config.host);
  manager.logger.info('dashboard listening', { port });
  return { port, close: () => server.close() };
}
