// What the plan steps' table tests start from: a deployment (the shared builders), an observation of it, and the
// plan context built from both. Kept beside the tests that use them; nothing in the operator imports this.
import { aDeployment } from '../../../api/testing/builders.js';
import type { ModelDeployment, ModelDeploymentStatus } from '../../../api/model-deployment.js';
import { acceptedCondition } from '../acceptance.js';
import type { TenancyPolicy } from '../tenancy.js';
import { emptyMeasurement, type Measurement } from './metrics/provider.js';
import type { Observed, ObservedRevision } from './observed.js';
import { planContext, startOf, type PlanContext } from './plan-context.js';
import type { Draft } from './rollout-state.js';
import { ReplicasRouter } from './routers/replicas.js';
import type { TrafficRouter } from './routers/router.js';

export const t0 = Date.UTC(2026, 10, 21, 10, 0, 0);
export const at = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

export const store = { endPoint: 'minio.perennial-system.svc', port: 9000, useSSL: false, region: 'us-east-1', bucket: 'perennial', credentialsSecret: 'perennial-s3' };
export const tenancy: TenancyPolicy = {
  defaultBucket: 'perennial', storeGrants: [], trainerImages: [], serverImages: ['perennial-server'],
  prometheusURL: 'http://prometheus.monitoring:9090', prometheusAllowedURLs: [],
};

/** The deployment the tables start from: `weather` in `ml`, following pipeline `weather`, 2 pods, setWeight 50 then a 1m analysis. */
export const deployment = (): ReturnType<typeof aDeployment> => aDeployment('weather').withMetadata({ uid: 'md-uid', generation: 1 });

export const uriOf = (version: string): string => `s3://perennial/pipelines/ml/weather/versions/${version}/`;

/** An observation of the deployment whose desired model is `version` of pipeline weather (undefined: waiting). */
export function observedOf(md: ModelDeployment, version: string | undefined, edit: Partial<Observed> = {}): Observed {
  return {
    md, nowMs: t0, store, pipeline: undefined, tenancy,
    desired: version === undefined
      ? { kind: 'waiting', message: 'TrainingPipeline weather has no champion yet' }
      : { kind: 'ready', model: { namespace: 'ml', pipeline: 'weather', version, bucket: undefined }, uri: uriOf(version) },
    revisions: new Map(), services: new Map(), candidate: undefined, stableInWindow: undefined, stableLive: undefined,
    ...edit,
  };
}

export function contextOf(o: Observed, router: TrafficRouter = new ReplicasRouter()): PlanContext {
  return planContext(o, store, router, acceptedCondition({ problems: [], denied: [] }, o.md.metadata.generation ?? 0));
}

/** The context of desired `version` and the draft a plan has when it reaches its steps (status as written before). */
export function draftOf(ctx: PlanContext): Draft {
  const start = startOf(ctx);
  if (!start.stable) throw new Error('the fixture needs a stable revision in status');
  return { ...start, stable: start.stable };
}

/** The revision name the plan gives `version` of pipeline weather with the fixture's deployment. */
export function revisionName(version: string, md: ModelDeployment = deployment().build()): string {
  const ctx = contextOf(observedOf(md, version));
  if (!ctx.desired) throw new Error('no desired revision');
  return ctx.desired.name;
}

/** Status serving `version` as stable (written by an earlier reconcile). */
export function serving(version: string, extra: ModelDeploymentStatus = {}): ModelDeploymentStatus {
  return { observedGeneration: 1, phase: 'Healthy', stableRevision: revisionName(version), stableVersion: version, stableURI: uriOf(version), promotedTime: at(t0 - 3_600_000), ...extra };
}

/** Status rolling `candidate` out at `step` over stable `version`. */
export function rolling(version: string, candidate: string, step: number, extra: ModelDeploymentStatus = {}): ModelDeploymentStatus {
  return {
    ...serving(version), phase: 'Progressing',
    canaryRevision: revisionName(candidate), canaryVersion: candidate, canaryURI: uriOf(candidate), currentStep: step, stepStartTime: at(t0 - 60_000), inconclusiveCount: 0,
    ...extra,
  };
}

/** Deployments of the revisions as the cache has them: name → [replicas, ready]. */
export function revisions(entries: Record<string, [number, number]>): Map<string, ObservedRevision> {
  return new Map(Object.entries(entries).map(([name, [replicas, readyReplicas]]) => [name, { name, uid: `uid-${name}`, replicas, readyReplicas }]));
}

export const healthy: Measurement = { ...emptyMeasurement, requests: 500, errors: 0, latencyP99Ms: 4 };
