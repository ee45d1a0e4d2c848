// Observe: everything one ModelDeployment reconcile decides from, read into one immutable value (observed.ts). The
// caches give the deployment's server Deployments and Services (those it controls) and the pipeline it follows;
// desired-model.ts resolves the model to serve; the metric provider measures what measurements-wanted.ts asks for.
// A measurement that fails is no error of the reconcile: it is recorded as why there is none (the analysis reads it
// as Inconclusive), classified where it enters: no values yet is normal (debug), a provider that could not be asked
// is a problem someone may have to fix (warn, with its reason), anything else is a bug of ours (error).
import type { ModelDeployment } from '../../../api/model-deployment.js';
import type { TrainingPipeline } from '../../../api/training-pipeline.js';
import type { CacheReader } from '../../runtime/informer.js';
import type { Logger } from '../../runtime/log.js';
import type { KubeObject } from '../../runtime/resource.js';
import type { StoreSettings } from '../../store-settings.js';
import { isAccepted } from '../acceptance.js';
import { metricSource, type TenancyPolicy } from '../tenancy.js';
import { resolveDesiredModel, type DesiredModel } from './desired-model.js';
import { measurementsWanted, type MeasurementWindow } from './measurements-wanted.js';
import { NoValuesError, ProviderError, type MetricProvider } from './metrics/provider.js';
import { worstFault, type ReadPods } from '../pod-faults.js';
import { hashOfRevision, revisionSelector, selectorLabels } from './names.js';
import type { MeasureResult, Observed, ObservedRevision, ObservedService } from './observed.js';
import { reviewModelDeployment } from './spec-checks.js';

export interface ObserveDeps {
  readonly pipelines: CacheReader<KubeObject>;
  /** apps/v1 Deployments (the server revisions). */
  readonly serverDeployments: CacheReader<KubeObject>;
  /** Lists pods by label (a revision's server pods, read when its Deployment is stuck). */
  readonly readPods: ReadPods;
  readonly services: CacheReader<KubeObject>;
  /** How server pods reach the object store; undefined when the operator runs without one. */
  readonly store: StoreSettings | undefined;
  /** The metric provider: the pods, or the Prometheus at this URL (one the install-time policy allows). */
  readonly metricProvider: (prometheusURL: string | undefined) => MetricProvider;
  readonly tenancy: TenancyPolicy;
  readonly logger: Logger;
}

interface DeploymentObject extends KubeObject {
  readonly spec?: { readonly replicas?: number; readonly progressDeadlineSeconds?: number };
  readonly status?: {
    readonly readyReplicas?: number;
    readonly conditions?: ReadonlyArray<{ readonly type: string; readonly status: string; readonly reason?: string }>;
  };
}

interface ServiceLike extends KubeObject {
  readonly spec?: { readonly selector?: Readonly<Record<string, string>>; readonly ports?: ReadonlyArray<Record<string, unknown>> };
}

type Source = 'pods' | 'prometheus';

const controlledBy = (md: ModelDeployment) => (o: KubeObject): boolean =>
  o.metadata?.ownerReferences?.some((r) => r.controller === true && r.uid === md.metadata.uid) ?? false;

function ownedRevisions(deps: ObserveDeps, md: ModelDeployment): Map<string, ObservedRevision> {
  const list = deps.serverDeployments.list(md.metadata.namespace ?? '', selectorLabels(md.metadata.name ?? '')) as DeploymentObject[];
  return new Map(list.filter(controlledBy(md)).map((d): [string, ObservedRevision] => {
    const name = d.metadata?.name ?? '';
    const progressing = d.status?.conditions?.find((c) => c.type === 'Progressing');
    return [name, {
      name, uid: d.metadata?.uid ?? '', replicas: d.spec?.replicas ?? 0, readyReplicas: d.status?.readyReplicas ?? 0,
      progressDeadlineSeconds: d.spec?.progressDeadlineSeconds,
      deadlineExceeded: progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded',
    }];
  }));
}

/**
 * What holds the pods of the revisions that need a cause named: those whose Deployment gave up, and those with
 * pods wanted and none ready. Listed by the revision's labels on demand, not cached: memory stays bounded by one
 * revision's pods for one reconcile, and listing needs only the `list` the pods metric provider already uses.
 * A list that fails names no cause (the Deployment's own condition still decides); it is logged.
 */
async function withPodFaults(deps: ObserveDeps, md: ModelDeployment, revisions: Map<string, ObservedRevision>): Promise<Map<string, ObservedRevision>> {
  const namespace = md.metadata.namespace ?? '';
  const out = new Map(revisions);
  for (const r of revisions.values()) {
    if (!r.deadlineExceeded && !(r.replicas > 0 && r.readyReplicas === 0)) continue;
    try {
      const pods = await deps.readPods(namespace, revisionSelector(md.metadata.name ?? '', hashOfRevision(md.metadata.name ?? '', r.name)));
      out.set(r.name, { ...r, podFault: worstFault(pods) });
    } catch (e: unknown) {
      deps.logger.warn('server pods not listed', { namespace, name: md.metadata.name, revision: r.name, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  return out;
}

function ownedServices(deps: ObserveDeps, md: ModelDeployment): Map<string, ObservedService> {
  const list = deps.services.list(md.metadata.namespace ?? '', selectorLabels(md.metadata.name ?? '')) as ServiceLike[];
  return new Map(list.filter(controlledBy(md)).map((s): [string, ObservedService] => {
    const name = s.metadata?.name ?? '';
    return [name, { name, selector: s.spec?.selector ?? {}, ports: s.spec?.ports }];
  }));
}

/**
 * Why there is no measurement, as the analysis records say it (status and Events). A Prometheus's own answer is
 * never repeated there: its words stay in the operator's log. The pods provider's words are the operator's own
 * about the deployment's own pods.
 */
export function measurementProblem(e: unknown, source: Source): string {
  if (e instanceof NoValuesError) return `${e.name}: ${e.message}`;
  if (e instanceof ProviderError && source === 'pods') return `${e.name}: ${e.message}`;
  return `${e instanceof Error ? e.name : 'Error'}: the ${source === 'pods' ? 'pods' : 'Prometheus'} metric provider could not be asked (details in the operator's log)`;
}

/** The log level of a failed measurement: none yet is normal; a provider that cannot answer needs looking at. */
export function measurementLogLevel(e: unknown): 'debug' | 'warn' | 'error' {
  if (e instanceof NoValuesError) return 'debug';
  return e instanceof ProviderError ? 'warn' : 'error';
}

async function measure(deps: ObserveDeps, md: ModelDeployment, nowMs: number, source: { kind: Source; url: string | undefined }, w: MeasurementWindow | undefined): Promise<MeasureResult | undefined> {
  if (!w) return undefined;
  const namespace = md.metadata.namespace ?? '';
  const name = md.metadata.name ?? '';
  try {
    const m = await deps.metricProvider(source.url).measure({
      namespace, deployment: name, revisionHash: w.hash, version: w.version, port: md.spec.server.port, windowStartMs: w.windowStartMs, nowMs,
      ...(w.labelsFromMs === undefined ? {} : { labelsFromMs: w.labelsFromMs }),
    });
    return { ok: true, m };
  } catch (e: unknown) {
    const reason = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    deps.logger.log(measurementLogLevel(e), 'no measurement', { namespace, name, revision: w.hash, provider: source.kind, reason });
    return { ok: false, reason: measurementProblem(e, source.kind) };
  }
}

export async function observe(deps: ObserveDeps, md: ModelDeployment, nowMs: number): Promise<Observed> {
  const namespace = md.metadata.namespace ?? '';
  const pipelineName = md.spec.model.fromPipeline;
  const pipeline = pipelineName === undefined ? undefined : deps.pipelines.get(namespace, pipelineName) as TrainingPipeline | undefined;
  const { store, tenancy } = deps;
  const desired: DesiredModel = store ? resolveDesiredModel(md, pipeline, store.bucket) : { kind: 'waiting', message: 'no object store' };
  const revisions = ownedRevisions(deps, md);
  const base: Observed = {
    md, nowMs, store, pipeline, tenancy, desired, revisions, services: ownedServices(deps, md),
    candidate: undefined, stableInWindow: undefined, stableLive: undefined,
  };
  // A deployment that is not accepted is not measured: nothing is fetched for a spec the plan will not act on.
  const metrics = metricSource(tenancy, md.spec.rollout.analysis.provider);
  if (metrics.kind === 'denied' || !isAccepted(reviewModelDeployment(md, pipeline, tenancy))) return base;
  const stableRevision = md.status?.stableRevision;
  const wanted = measurementsWanted(md, nowMs, stableRevision === undefined ? 0 : revisions.get(stableRevision)?.readyReplicas ?? 0);
  const source = { kind: metrics.kind, url: metrics.kind === 'prometheus' ? metrics.url : undefined };
  const [candidate, stableInWindow, stableLive] = await Promise.all(
    [wanted.candidate, wanted.stableWindow, wanted.stableLive].map((w) => measure(deps, md, nowMs, source, w)));
  return { ...base, revisions: await withPodFaults(deps, md, revisions), candidate, stableInWindow, stableLive };
}
