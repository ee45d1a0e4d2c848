// What every step of one ModelDeployment plan reads: the observation and what follows from it once (durations,
// steps, commands, the desired revision, the revisions named in status). Pure; built after the spec was accepted
// and with an object store, so its durations parse.
import type { ModelDeployment, ModelDeploymentSpec, ModelDeploymentStatus } from '../../../api/model-deployment.js';
import { parseDuration } from '../../../api/duration.js';
import { type Condition, type ConditionInput, setCondition } from '../../runtime/conditions.js';
import { controllerRef, type OwnerReference } from '../../runtime/resource.js';
import { modelDeployments } from '../../resources.js';
import type { StoreSettings } from '../../store-settings.js';
import { rolloutSteps, type RolloutStep } from './canary-steps.js';
import { readCommands, type Commands } from './commands.js';
import { followedOf, parseVersionUri, servedModelRef, withLogBucket, type Followed } from './desired-model.js';
import { liveSettingsOf, type LiveSettings } from './live-window.js';
import { hashOfRevision, revisionHash, revisionName, serverTemplate } from './names.js';
import type { Observed } from './observed.js';
import type { Revision, Start } from './rollout-state.js';
import type { TrafficRouter } from './routers/router.js';
import { modelRefText, storeText, type ModelRef } from './server-deployment.js';

export interface PlanContext {
  readonly observed: Observed;
  readonly md: ModelDeployment;
  readonly nowMs: number;
  readonly name: string;
  readonly namespace: string;
  readonly generation: number;
  /** The status as read (what this reconcile starts from). */
  readonly prev: ModelDeploymentStatus;
  readonly spec: ModelDeploymentSpec;
  readonly owner: OwnerReference;
  readonly store: StoreSettings;
  readonly router: TrafficRouter;
  /** spec.server.replicas */
  readonly total: number;
  readonly intervalMs: number;
  /** spec.rollout.analysis.maxWindow, when set (canary-steps.ts maxWindowOf gives each step's). */
  readonly analysisMaxWindowMs: number | undefined;
  /** spec.liveMetrics with its defaults (live-metrics.ts). */
  readonly live: LiveSettings;
  readonly rollbackWindowMs: number;
  /** spec.rollout.progressDeadline: how long a revision's pods may take to become ready. */
  readonly progressDeadlineMs: number;
  readonly steps: readonly RolloutStep[];
  readonly commands: Commands;
  /** The revision of the model the deployment should serve, when it is known. */
  readonly desired: Revision | undefined;
  /** The conditions as read, with Accepted set. */
  readonly conditions: readonly Condition[];
}

export function timeMs(t: string | undefined): number | undefined {
  if (t === undefined) return undefined;
  const ms = Date.parse(t);
  return Number.isFinite(ms) ? ms : undefined;
}

export function planContext(o: Observed, store: StoreSettings, router: TrafficRouter, accepted: ConditionInput): PlanContext {
  const { md, nowMs } = o;
  const spec = md.spec;
  const prev = md.status ?? {};
  const name = md.metadata.name ?? '';
  const template = serverTemplate(spec);
  const revisionOf = (resolved: ModelRef, uri: string): Revision => {
    const model = withLogBucket(resolved, md.metadata.namespace ?? '', o.tenancy);
    const hash = revisionHash(model.version, modelRefText(model) + storeText(model), template);
    return { name: revisionName(name, hash), hash, version: model.version, uri, model };
  };
  return {
    observed: o, md, nowMs, name, namespace: md.metadata.namespace ?? '', generation: md.metadata.generation ?? 0, prev, spec,
    owner: controllerRef(md, modelDeployments), store, router,
    total: spec.server.replicas,
    intervalMs: parseDuration(spec.rollout.analysis.interval),
    analysisMaxWindowMs: spec.rollout.analysis.maxWindow === undefined ? undefined : parseDuration(spec.rollout.analysis.maxWindow),
    live: liveSettingsOf(spec),
    rollbackWindowMs: parseDuration(spec.rollout.rollbackWindow),
    progressDeadlineMs: parseDuration(spec.rollout.progressDeadline),
    steps: rolloutSteps(spec.rollout),
    commands: readCommands(md),
    desired: o.desired.kind === 'ready' ? revisionOf(o.desired.model, o.desired.uri) : undefined,
    conditions: setCondition(prev.conditions as Condition[] | undefined, accepted, nowMs),
  };
}

/** Ready pods of a revision's Deployment, as the cache has it. */
export function readyOf(ctx: PlanContext, r: { readonly name: string } | undefined): number {
  return r ? ctx.observed.revisions.get(r.name)?.readyReplicas ?? 0 : 0;
}

/** spec.replicas of a revision's Deployment as last written. */
export function replicasOf(ctx: PlanContext, r: { readonly name: string } | undefined): number {
  return r ? ctx.observed.revisions.get(r.name)?.replicas ?? 0 : 0;
}

function revisionFromStatus(ctx: PlanContext, revision: string | undefined, version: string | undefined, uri: string | undefined, followed: Followed | undefined): Revision | undefined {
  if (revision === undefined || version === undefined || uri === undefined) return undefined;
  const ref = parseVersionUri(uri);
  if (!ref) return undefined;
  const model = withLogBucket(servedModelRef(ref, ctx.namespace, followed, ctx.store.bucket), ctx.namespace, ctx.observed.tenancy);
  return { name: revision, hash: hashOfRevision(ctx.name, revision), version, uri, model };
}

/** The revisions status names, the commands consumed: where every plan starts. */
export function startOf(ctx: PlanContext): Start {
  const { prev } = ctx;
  const followed = followedOf(ctx.md, ctx.observed.pipeline);
  return {
    status: { ...prev, ...ctx.commands.consumed, observedGeneration: ctx.generation },
    stable: revisionFromStatus(ctx, prev.stableRevision, prev.stableVersion, prev.stableURI, followed),
    canary: revisionFromStatus(ctx, prev.canaryRevision, prev.canaryVersion, prev.canaryURI, followed),
    previous: prev.previousRevision !== undefined && prev.previousVersion !== undefined
      ? { name: prev.previousRevision, version: prev.previousVersion } : undefined,
    events: [], requeues: [], message: '', pausedReason: undefined,
  };
}
