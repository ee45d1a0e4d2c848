// The dashboard as the operator runs it: off unless PERENNIAL_DASHBOARD_PORT is set (the chart sets it when
// dashboard.enabled), reading the manager's informer caches, recording each deployment's history from their events,
// checking every request with the API server (TokenReview, SubjectAccessReview) through the operator's client.
import type { ModelDeployment } from '../../api/model-deployment.js';
import type { TrainingPipeline } from '../../api/training-pipeline.js';
import { MinioStore } from '../../storage/minio-store.js';
import type { OperatorConfig } from '../config.js';
import { isAccepted } from '../controllers/acceptance.js';
import { CredentialsError, PipelineStores, secretReader } from '../controllers/store-credentials.js';
import { reviewTrainingPipeline } from '../controllers/training-pipeline/spec-checks.js';
import { tenancyPolicy } from '../operator.js';
import { modelDeployments, trainingPipelines } from '../resources.js';
import type { Manager } from '../runtime/manager.js';
import { Access } from './access.js';
import { LiveHistory } from './history.js';
import { VersionReports } from './reports.js';
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

/** The version reports, read with the store clients and tenancy rules the TrainingPipeline controller uses. */
function versionReports(manager: Manager, operator: OperatorConfig): VersionReports {
  const store = operator.store;
  const tenancy = tenancyPolicy(operator);
  const client = (accessKey: string, secretKey: string): MinioStore | undefined => (store
    ? new MinioStore({ endPoint: store.endPoint, port: store.port, useSSL: store.useSSL, accessKey, secretKey, region: store.region })
    : undefined);
  const stores = new PipelineStores(secretReader(manager.http), (keys) => {
    const c = client(keys.accessKey, keys.secretKey);
    if (!c) throw new CredentialsError('the operator has no object store configured');
    return c;
  });
  return new VersionReports({
    accepted: (tp: TrainingPipeline) => isAccepted(reviewTrainingPipeline(tp, tenancy)),
    store: store ? client(store.accessKey, store.secretKey) : undefined,
    defaultBucket: tenancy.defaultBucket,
    storeForSecret: (namespace, secret) => stores.forSecret(namespace, secret),
  });
}

/** Hooks the history on the manager's informers (before it starts) and listens. */
export async function startDashboard(manager: Manager, config: DashboardConfig, operator: OperatorConfig): Promise<RunningDashboard> {
  const pipelines = manager.informer(trainingPipelines);
  const deployments = manager.informer(modelDeployments);
  const history = new LiveHistory(() => manager.clock.now());
  deployments.onEvent((event, obj) => {
    if (event === 'delete') history.forget(obj.metadata?.namespace ?? '', obj.metadata?.name ?? '');
    else history.observe(obj as unknown as ModelDeployment);
  });
  const server = new DashboardServer({
    pipelines, deployments, history, reports: versionReports(manager, operator), access: new Access(manager.http), now: () => manager.clock.now(), logger: manager.logger.child({ component: 'dashboard' }),
  });
  const port = await server.listen(config.port, config.host);
  manager.logger.info('dashboard listening', { port });
  return { port, close: () => server.close() };
}
