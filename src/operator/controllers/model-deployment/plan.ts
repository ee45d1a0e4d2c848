// The pure plan of one ModelDeployment reconcile: from what was observed (observed.ts), the server Deployments and
// Services to have, the route to write, the next status, the events to emit after it is written, and when to look
// again. No I/O here; the reconciler applies it.
//
// The revisions a deployment keeps: the stable one; a candidate while a rollout runs; the previous stable one for
// rollbackWindow after a promotion (dropped when a new rollout starts). Any other Deployment it owns is deleted.
// The rollout itself is canary-steps.ts (state diagram there); the traffic split is the router's.
import { isDeepStrictEqual } from 'node:util';
import { ConditionType, Reason, Annotation } from '../../../api/conditions.js';
import type { AnalysisRecord, DeploymentPhase, LiveMetrics, ModelDeployment, ModelDeploymentStatus } from '../../../api/model-deployment.js';
import { type Condition, type ConditionInput, formatTime, setCondition } from '../../runtime/conditions.js';
import type { KubeObject, OwnerReference } from '../../runtime/resource.js';
import { modelDeployments } from '../../resources.js';
import { controllerRef } from '../../runtime/resource.js';
import { acceptedCondition, isAccepted } from '../acceptance.js';
import type { PlannedEvent } from '../training-pipeline/plan.js';
import { parseDuration } from '../../../api/duration.js';
import { analysisDue, decideStep, rolloutSteps, weightAt, windowOf, type Command, type RolloutStep } from './canary-steps.js';
import { judge, type AnalysisVerdict } from './gates.js';
import { servedRequests, type Measurement } from './metrics/provider.js';
import { followedOf, parseVersionUri, servedModelRef, type Followed } from './desired-model.js';
import { feedbackSecretName, hashOfRevision, revisionHash, revisionName, serverTemplate, serviceNames } from './names.js';
import type { Observed, MeasureResult } from './observed.js';
import { routeHash } from './routers/gateway-api.js';
import type { RoutePlan, TrafficPhase, TrafficRouter } from './routers/router.js';
import { buildServerDeployment, buildService, modelRefText, storeText, type ModelRef, type ServerDeployment, type ServiceObject } from './server-deployment.js';
import { reviewModelDeployment } from './spec-checks.js';

export interface ModelDeploymentPlan {
  readonly status: ModelDeploymentStatus;
  readonly events: readonly PlannedEvent[];
  /** Deployments to have: created when missing, else only spec.replicas is patched (a revision's pods never change). */
  readonly deployments: readonly ServerDeployment[];
  /** Existing Deployments whose replicas change (the previous revision, kept for rollbackWindow). */
  readonly scale: ReadonlyArray<{ readonly name: string; readonly replicas: number }>;
  readonly deleteDeployments: ReadonlyArray<{ readonly name: string; readonly uid: string }>;
  /** Services to have: created when missing, else their selector is patched when it differs. */
  readonly services: readonly ServiceObject[];
  /** The HTTPRoute to write (only when its hash differs from status.routeHash). */
  readonly route: KubeObject | undefined;
  /**
   * The feedback Secret to create with fresh random values, once (status.feedbackSecret records it); never when the
   * spec names its own Secret. AlreadyExists is success: an existing Secret is never read or overwritten.
   */
  readonly feedbackSecret?: { readonly name: string; readonly namespace: string; readonly owner: OwnerReference } | undefined;
  readonly requeueAfterMs: number | undefined;
}

export const maxAnalysisRecords = 20;

/** What to measure before planning: the candidate and stable over the current window, stable for liveMetrics. */
export interface MeasurementRequest {
  readonly candidate: { readonly hash: string; readonly version: string; readonly windowStartMs: number } | undefined;
  readonly stableWindow: { readonly hash: string; readonly version: string; readonly windowStartMs: number } | undefined;
  readonly stableLive: { readonly hash: string; readonly version: string; readonly windowStartMs: number } | undefined;
}

function timeMs(t: string | undefined): number | undefined {
  if (t === undefined) return undefined;
  const ms = Date.parse(t);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * Pure: which measurements this reconcile needs, from the status as it stands and the ready pods of the stable
 * revision (its Deployment's readyReplicas in the cache). liveMetrics is measured only while a stable pod is ready:
 * with none, nothing serves the version, and the measurement would only find that out again (the pods provider by
 * listing pods: one API call per deployment per interval, for nothing).
 */
export function measurementsWanted(md: ModelDeployment, nowMs: number, stableReadyReplicas: number): MeasurementRequest {
  const st = md.status ?? {};
  const name = md.metadata.name ?? '';
  const intervalMs = safeDuration(md.spec.rollout.analysis.interval, 30_000);
  const stable = st.stableRevision !== undefined && st.stableVersion !== undefined
    ? { hash: hashOfRevision(name, st.stableRevision), version: st.stableVersion } : undefined;
  let candidate: MeasurementRequest['candidate'];
  let stableWindow: MeasurementRequest['stableWindow'];
  if (st.canaryRevision !== undefined && st.canaryVersion !== undefined && st.currentStep !== undefined) {
    const steps = safeSteps(md);
    const start = timeMs(st.stepStartTime) ?? nowMs;
    if (windowOf(steps[st.currentStep]) !== undefined) {
      candidate = { hash: hashOfRevision(name, st.canaryRevision), version: st.canaryVersion, windowStartMs: start };
      if (stable) stableWindow = { ...stable, windowStartMs: start };
    }
  }
  const lastLive = timeMs(st.liveMetrics?.time);
  const stableLive = stable && stableReadyReplicas > 0 && (lastLive === undefined || nowMs - lastLive >= intervalMs)
    ? { ...stable, windowStartMs: nowMs - intervalMs } : undefined;
  return { candidate, stableWindow, stableLive };
}

function safeDuration(text: string | undefined, fallback: number): number {
  try {
    return text === undefined ? fallback : parseDuration(text);
  } catch {
    return fallback;
  }
}

function safeSteps(md: ModelDeployment): RolloutStep[] {
  try {
    return rolloutSteps(md.spec.rollout);
  } catch {
    return [];
  }
}

interface Revision {
  readonly name: string;
  readonly hash: string;
  readonly version: string;
  readonly uri: string;
  readonly model: ModelRef;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/** Promote, retry: a new value of the annotation or of the spec field acts once. */
function commands(md: ModelDeployment): { promote: Command; retry: boolean; abort: boolean; consumed: Partial<ModelDeploymentStatus> } {
  const st = md.status ?? {};
  const ann = md.metadata.annotations ?? {};
  const annPromote = ann[Annotation.promote];
  const specPromote = md.spec.rollout.promote;
  const annRetry = ann[Annotation.retry];
  const specRetry = md.spec.rollout.retry;
  const annAbort = ann[Annotation.abort];
  const kind = (v: string): Command => (v.startsWith('full') ? 'promoteFull' : 'promoteStep');
  let promote: Command = 'none';
  if (annPromote !== undefined && annPromote !== st.lastPromote) promote = kind(annPromote);
  if (specPromote !== undefined && specPromote !== st.lastSpecPromote && promote !== 'promoteFull') promote = kind(specPromote);
  return {
    promote,
    retry: (annRetry !== undefined && annRetry !== st.lastRetry) || (specRetry !== undefined && specRetry !== st.lastSpecRetry),
    abort: md.spec.rollout.abort || (annAbort !== undefined && annAbort !== st.lastAbort),
    consumed: {
      ...(annPromote === undefined ? {} : { lastPromote: annPromote }),
      ...(specPromote === undefined ? {} : { lastSpecPromote: specPromote }),
      ...(annRetry === undefined ? {} : { lastRetry: annRetry }),
      ...(specRetry === undefined ? {} : { lastSpecRetry: specRetry }),
      ...(annAbort === undefined ? {} : { lastAbort: annAbort }),
    },
  };
}

function revisionFromStatus(md: ModelDeployment, revision: string | undefined, version: string | undefined, uri: string | undefined, followed: Followed | undefined, defaultBucket: string): Revision | undefined {
  if (revision === undefined || version === undefined || uri === undefined) return undefined;
  const ref = parseVersionUri(uri);
  if (!ref) return undefined;
  const model = servedModelRef(ref, md.metadata.namespace ?? '', followed, defaultBucket);
  return { name: revision, hash: hashOfRevision(md.metadata.name ?? '', revision), version, uri, model };
}

function measured(r: MeasureResult | undefined): { m: Measurement | undefined; reason: string | undefined } {
  if (!r) return { m: undefined, reason: 'not measured' };
  return r.ok ? { m: r.m, reason: undefined } : { m: undefined, reason: r.reason };
}

export function planModelDeployment(o: Observed, router: TrafficRouter): ModelDeploymentPlan {
  const { md, nowMs } = o;
  const name = md.metadata.name ?? '';
  const namespace = md.metadata.namespace ?? '';
  const generation = md.metadata.generation ?? 0;
  const prev = md.status ?? {};
  const spec = md.spec;
  const events: PlannedEvent[] = [];
  const review = reviewModelDeployment(md, o.pipeline, o.tenancy);
  const accepted = acceptedCondition(review, generation);
  let conditions: Condition[] = setCondition(prev.conditions as Condition[] | undefined, accepted, nowMs);
  const cond = (input: Omit<ConditionInput, 'observedGeneration'>): void => {
    conditions = setCondition(conditions, { ...input, observedGeneration: generation }, nowMs);
  };
  const keepAll = (status: ModelDeploymentStatus, requeueAfterMs?: number): ModelDeploymentPlan => ({
    status, events, deployments: [], scale: [], deleteDeployments: [], services: [], route: undefined, requeueAfterMs,
  });

  if (!isAccepted(review)) {
    const wasRejected = prev.conditions?.find((c) => c.type === ConditionType.Accepted)?.status === 'False' && prev.observedGeneration === generation;
    if (!wasRejected) events.push({ type: 'Warning', reason: accepted.reason, note: accepted.message });
    return keepAll({ ...prev, observedGeneration: generation, phase: 'Degraded', conditions, message: accepted.message });
  }
  const store = o.store;
  if (!store) {
    const message = 'The operator runs without an object store: server pods could not load a model.';
    cond({ type: ConditionType.Available, status: 'False', reason: Reason.WaitingForModel, message });
    return keepAll({ ...prev, observedGeneration: generation, phase: prev.stableRevision ? prev.phase ?? 'Pending' : 'Pending', conditions, message });
  }

  const owner: OwnerReference = controllerRef(md, modelDeployments);
  const total = spec.server.replicas;
  const intervalMs = parseDuration(spec.rollout.analysis.interval);
  const rollbackWindowMs = parseDuration(spec.rollout.rollbackWindow);
  const steps = rolloutSteps(spec.rollout);
  const cmd = commands(md);
  const status: Writable<ModelDeploymentStatus> = { ...prev, ...cmd.consumed, observedGeneration: generation };
  const template = serverTemplate(spec);
  const revisionOf = (model: ModelRef, uri: string): Revision => {
    const hash = revisionHash(model.version, modelRefText(model) + storeText(model), template);
    return { name: revisionName(name, hash), hash, version: model.version, uri, model };
  };
  const ready = (r: Revision | undefined): number => (r ? o.revisions.get(r.name)?.readyReplicas ?? 0 : 0);
  const replicasOf = (r: Revision | undefined): number => (r ? o.revisions.get(r.name)?.replicas ?? 0 : 0);
  const requeues: number[] = [];

  const followed = followedOf(md, o.pipeline);
  let stable = revisionFromStatus(md, prev.stableRevision, prev.stableVersion, prev.stableURI, followed, store.bucket);
  let canary = revisionFromStatus(md, prev.canaryRevision, prev.canaryVersion, prev.canaryURI, followed, store.bucket);
  // The previous revision's Deployment exists already (it is never re-created): its name and version are enough.
  let previous: Pick<Revision, 'name' | 'version'> | undefined = prev.previousRevision !== undefined && prev.previousVersion !== undefined
    ? { name: prev.previousRevision, version: prev.previousVersion }
    : undefined;
  const desired = o.desired.kind === 'ready' ? revisionOf(o.desired.model, o.desired.uri) : undefined;
  let message = '';
  let pausedReason: string | undefined;
  let phase: DeploymentPhase = 'Healthy';
  const promotedMs = timeMs(prev.promotedTime);

  const clearCanary = (): void => {
    canary = undefined;
    delete status.canaryRevision;
    delete status.canaryVersion;
    delete status.canaryURI;
    delete status.currentStep;
    delete status.stepStartTime;
    delete status.inconclusiveCount;
    status.canaryWeight = 0;
    status.stableWeight = 100;
  };
  const record = (v: AnalysisVerdict, step: number, version: string): void => {
    const rec: AnalysisRecord = { time: formatTime(nowMs), version, step, verdict: v.verdict, measurements: { ...v.measurements }, message: v.message.slice(0, 2048) };
    status.analysis = [rec, ...(prev.analysis ?? [])].slice(0, maxAnalysisRecords);
  };
  const abort = (why: string): void => {
    if (!canary) return;
    status.abortedVersion = canary.version;
    status.abortedRevision = canary.name;
    events.push({ type: 'Warning', reason: Reason.RolloutAborted, note: `Rollout of ${canary.version} aborted: ${why}. All traffic is back on ${stable?.version ?? 'the stable version'}.` });
    message = `Rollout of ${canary.version} aborted: ${why}.`;
    clearCanary();
  };

  // 1. No stable version yet: the first one is served directly (there is nothing to compare a canary against).
  if (!stable) {
    if (!desired) {
      const msg = o.desired.kind === 'waiting' ? o.desired.message : 'waiting for a model';
      cond({ type: ConditionType.Available, status: 'False', reason: Reason.WaitingForModel, message: msg });
      cond({ type: ConditionType.Progressing, status: 'False', reason: Reason.WaitingForModel, message: msg });
      // No timer: what it waits for (the pipeline, its first champion) enqueues it through the pipeline watch.
      return keepAll({ ...status, phase: 'Pending', conditions, message: msg });
    }
    stable = desired;
    status.stableRevision = desired.name;
    status.stableVersion = desired.version;
    status.stableURI = desired.uri;
    status.promotedTime = formatTime(nowMs);
    events.push({ type: 'Normal', reason: Reason.RolloutProgressing, note: `Serving ${desired.version} (${desired.name}).` });
  }

  // 2. Decide what the candidate is.
  if (desired && desired.name === stable.name) {
    if (canary) {
      events.push({ type: 'Normal', reason: Reason.RolloutAborted, note: `Rollout of ${canary.version} dropped: ${stable.version} is wanted again.` });
      clearCanary();
    }
  } else if (desired && previous && desired.name === previous.name && promotedMs !== undefined && nowMs < promotedMs + rollbackWindowMs) {
    // Back to the previous version within the rollback window: it is still running, switch at once.
    events.push({ type: 'Normal', reason: Reason.RolledBack, note: `Rolled back from ${stable.version} to ${previous.version}.` });
    const from = stable;
    stable = desired;
    previous = from;
    status.stableRevision = stable.name;
    status.stableVersion = stable.version;
    status.stableURI = desired.uri;
    status.previousRevision = from.name;
    status.previousVersion = from.version;
    status.promotedTime = formatTime(nowMs);
    clearCanary();
  } else if (desired && desired.name === prev.abortedRevision && !cmd.retry) {
    if (canary) clearCanary();
    message = `${desired.version} was aborted and is not retried until a newer version or a retry.`;
  } else if (desired && (!canary || canary.name !== desired.name)) {
    if (canary) events.push({ type: 'Normal', reason: Reason.RolloutAborted, note: `Rollout of ${canary.version} superseded by ${desired.version}.` });
    if (desired.name === prev.abortedRevision) {
      delete status.abortedRevision;
      delete status.abortedVersion;
    }
    canary = desired;
    status.canaryRevision = desired.name;
    status.canaryVersion = desired.version;
    status.canaryURI = desired.uri;
    status.currentStep = 0;
    status.stepStartTime = formatTime(nowMs);
    status.inconclusiveCount = 0;
    // A new rollout ends the rollback window: the stable version is the one to return to now.
    previous = undefined;
    delete status.previousRevision;
    delete status.previousVersion;
    events.push({ type: 'Normal', reason: Reason.RolloutProgressing, note: `Rollout of ${desired.version} started (stable ${stable.version}).` });
  } else if (canary && cmd.retry && (status.inconclusiveCount ?? 0) > 0) {
    status.inconclusiveCount = 0;
    status.stepStartTime = formatTime(nowMs);
  }
  if (cmd.retry && canary === undefined && desired?.name !== prev.abortedRevision) {
    delete status.abortedRevision;
    delete status.abortedVersion;
  }

  // 3. Run the candidate's current step.
  let route: RoutePlan | undefined;
  const routeFor = (index: number, forPromotion: boolean): RoutePlan => {
    const step = steps[index];
    const phaseOf: TrafficPhase = !canary ? 'stable' : step?.kind === 'shadow' ? 'shadow' : step?.kind === 'preview' ? 'preview' : 'canary';
    const plan = router.plan({
      namespace, md: name, owner, port: spec.server.port, total, phase: phaseOf,
      weight: forPromotion ? 100 : weightAt(steps, index),
      mirrorPercent: step?.kind === 'shadow' ? step.percent : 0,
      previewReplicas: spec.rollout.blueGreen?.previewReplicas ?? total,
      stable: { hash: stable?.hash ?? '', ready: ready(stable), replicas: replicasOf(stable) },
      canary: canary ? { hash: canary.hash, ready: ready(canary) } : undefined,
    });
    return forPromotion && phaseOf !== 'canary' ? { ...plan, replicas: { stable: total, canary: total }, reached: ready(canary) >= total } : plan;
  };
  if (canary && cmd.abort) abort(spec.rollout.abort ? 'spec.rollout.abort is set' : `the ${Annotation.abort} annotation`);
  if (canary) {
    let index = Math.min(status.currentStep ?? 0, steps.length);
    const start = timeMs(status.stepStartTime) ?? nowMs;
    route = routeFor(index, false);
    const step = steps[index];
    let verdict: AnalysisVerdict | undefined;
    if (step && analysisDue(step, start, nowMs) && cmd.promote === 'none' && !spec.rollout.paused) {
      const c = measured(o.candidate);
      const s = measured(o.stableInWindow);
      verdict = judge({
        gates: spec.rollout.analysis.gates, minSamples: spec.rollout.analysis.minSamples, candidate: c.m, stable: s.m,
        shadow: step.kind === 'shadow' ? { minAgreement: step.minAgreement } : undefined,
        ...(c.reason === undefined ? {} : { noValuesReason: c.reason }),
      });
      if ((status.inconclusiveCount ?? 0) < spec.rollout.analysis.inconclusiveLimit) record(verdict, index, canary.version);
    }
    const d = decideStep({
      steps, index, stepStartMs: start, nowMs, intervalMs, reached: route.reached, command: cmd.promote, paused: spec.rollout.paused,
      verdict: verdict?.verdict, inconclusiveCount: status.inconclusiveCount ?? 0, inconclusiveLimit: spec.rollout.analysis.inconclusiveLimit,
    });
    message = d.message;
    switch (d.action) {
      case 'wait':
        if (d.requeueMs !== undefined) requeues.push(d.requeueMs);
        pausedReason = d.paused;
        if (d.paused === 'PausedAtStep' || d.paused === 'InconclusiveAnalysis') {
          if (prev.phase !== 'Paused') events.push({ type: 'Normal', reason: d.paused, note: d.message });
        }
        break;
      case 'advance':
        index += 1;
        status.currentStep = index;
        status.stepStartTime = formatTime(nowMs);
        status.inconclusiveCount = 0;
        events.push({ type: 'Normal', reason: Reason.RolloutProgressing, note: d.message });
        route = routeFor(Math.min(index, steps.length), false);
        requeues.push(1000);
        break;
      case 'restartWindow':
        status.stepStartTime = formatTime(nowMs);
        status.inconclusiveCount = (status.inconclusiveCount ?? 0) + 1;
        events.push({ type: 'Normal', reason: Reason.InconclusiveAnalysis, note: `${d.message}: ${verdict?.message ?? ''}` });
        requeues.push(intervalMs);
        break;
      case 'abort':
        abort(`${d.message}: ${verdict?.message ?? ''}`);
        break;
      case 'promote':
        status.currentStep = steps.length;
        break;
    }
    // Promotion: the candidate first gets every pod ready, then becomes stable in one switch.
    if (canary && (status.currentStep ?? 0) >= steps.length) {
      route = routeFor(steps.length, true);
      if (ready(canary) >= total) {
        events.push({ type: 'Normal', reason: Reason.RolloutComplete, note: `${canary.version} promoted to stable (was ${stable.version}).` });
        previous = stable;
        status.previousRevision = stable.name;
        status.previousVersion = stable.version;
        stable = canary;
        status.stableRevision = canary.name;
        status.stableVersion = canary.version;
        status.stableURI = canary.uri;
        status.promotedTime = formatTime(nowMs);
        message = `${canary.version} promoted.`;
        clearCanary();
      } else {
        message = `Promoting ${canary.version}: waiting for all ${total} of its pods (${ready(canary)} ready).`;
        requeues.push(intervalMs);
      }
    }
  }
  if (!canary) route = routeFor(0, false);
  if (!route) route = routeFor(0, false);

  // 4. The rollback window.
  const promoted = timeMs(status.promotedTime);
  if (previous && promoted !== undefined) {
    const ends = promoted + rollbackWindowMs;
    if (nowMs >= ends) {
      previous = undefined;
      delete status.previousRevision;
      delete status.previousVersion;
    } else {
      requeues.push(ends - nowMs);
    }
  }

  // 5. Children: the revisions to keep, with their replicas; Services; the route.
  const deployments: ServerDeployment[] = [];
  const revisionDeployment = (r: Revision, replicas: number): ServerDeployment => buildServerDeployment({
    namespace, md: name, owner, hash: r.hash, model: r.model, server: spec.server, store, replicas,
  });
  deployments.push(revisionDeployment(stable, route.replicas.stable));
  if (canary) deployments.push(revisionDeployment(canary, route.replicas.canary));
  const keep = new Set([stable.name, canary?.name, previous?.name].filter((n): n is string => n !== undefined));
  const deleteDeployments = [...o.revisions.values()].filter((r) => !keep.has(r.name)).map((r) => ({ name: r.name, uid: r.uid }));
  // The previous revision keeps its pods (an instant rollback needs them ready); it is never re-created.
  const scale = previous && o.revisions.has(previous.name) && (o.revisions.get(previous.name)?.replicas ?? 0) !== total
    ? [{ name: previous.name, replicas: total }]
    : [];
  const services = [
    buildService({ namespace, md: name, name: serviceNames.stable(name), owner, port: spec.server.port, revisionHash: route.stableServiceRevision }),
    buildService({ namespace, md: name, name: serviceNames.canary(name), owner, port: spec.server.port, revisionHash: canary?.hash ?? stable.hash }),
    ...(spec.rollout.strategy === 'BlueGreen'
      ? [buildService({ namespace, md: name, name: serviceNames.preview(name), owner, port: spec.server.port, revisionHash: canary?.hash ?? stable.hash })]
      : []),
    buildService({ namespace, md: name, name: serviceNames.feedback(name), owner, port: spec.server.feedback.port, revisionHash: undefined, portName: 'feedback' }),
  ];
  const secretName = feedbackSecretName(name, spec.server);
  const feedbackSecret = spec.server.feedback.secretName === undefined && prev.feedbackSecret !== secretName ? { name: secretName, namespace, owner } : undefined;
  if (feedbackSecret) status.feedbackSecret = secretName;
  let routeToWrite: KubeObject | undefined;
  if (route.route) {
    const hash = routeHash(route.route);
    if (hash !== prev.routeHash) routeToWrite = route.route;
    status.routeHash = hash;
  } else {
    delete status.routeHash;
  }

  // 6. Status: weights, readiness, live metrics, conditions, phase.
  status.canaryWeight = canary ? route.weight : 0;
  status.stableWeight = 100 - status.canaryWeight;
  status.stableReadyReplicas = ready(stable);
  if (canary) status.canaryReadyReplicas = ready(canary);
  else delete status.canaryReadyReplicas;
  const live = liveMetricsOf(o, stable.version, intervalMs);
  // A measurement equal to the last one but for its time is not written: an idle deployment (no traffic, a settled
  // drift window) must cost no write per interval (at 1,000 deployments that was 2,000 writes a minute for nothing).
  // liveMetrics.time is therefore when these values were first measured.
  if (live) status.liveMetrics = sameMeasurement(prev.liveMetrics, live) ? prev.liveMetrics : live;
  // liveMetrics every interval while a stable pod serves; with none there is nothing to measure, and the first pod's
  // readiness (a status change of its Deployment) enqueues this deployment anyway.
  if (stable.name === status.stableRevision && ready(stable) > 0) requeues.push(intervalMs);

  const stableReady = ready(stable);
  const aborted = status.abortedRevision !== undefined && desired?.name === status.abortedRevision;
  if (stableReady >= 1) {
    cond({ type: ConditionType.Available, status: 'True', reason: Reason.ReplicasReady, message: `${stableReady}/${total} pods of ${stable.version} ready.` });
  } else {
    cond({ type: ConditionType.Available, status: 'False', reason: Reason.ReplicasUnavailable, message: `No ready pod of ${stable.version} yet.` });
  }
  if (canary) {
    cond({ type: ConditionType.Progressing, status: 'True', reason: Reason.RolloutProgressing, message: message || `Rolling out ${canary.version}.` });
  } else {
    cond({ type: ConditionType.Progressing, status: 'False', reason: Reason.RolloutComplete, message: `${stable.version} is stable.` });
  }
  if (aborted) {
    cond({ type: ConditionType.Degraded, status: 'True', reason: Reason.RolloutAborted, message: `${status.abortedVersion ?? ''} was aborted and rolled back; ${stable.version} serves. Retry with the ${Annotation.retry} annotation or spec.rollout.retry.` });
  } else {
    cond({ type: ConditionType.Degraded, status: 'False', reason: canary ? Reason.RolloutProgressing : Reason.RolloutComplete, message: 'Nothing needs attention.' });
  }
  if (pausedReason) cond({ type: ConditionType.Paused, status: 'True', reason: pausedReason, message });
  else cond({ type: ConditionType.Paused, status: 'False', reason: canary ? Reason.RolloutProgressing : Reason.RolloutComplete, message: 'Not paused.' });

  if (aborted) phase = 'Degraded';
  else if (pausedReason) phase = 'Paused';
  // Pending until a pod of the first stable version is ready; read from the previous phase as well as from the
  // previous stable revision, so the status written by the reconcile that chose the first version is a fixed point.
  else if (canary || stableReady < 1) phase = stableReady < 1 && (!prev.stableRevision || prev.phase === 'Pending') ? 'Pending' : 'Progressing';
  else phase = stableReady >= total ? 'Healthy' : 'Progressing';
  status.phase = phase;
  status.conditions = conditions;
  status.message = (message || (canary ? `Rolling out ${canary.version}.` : `${stable.version} serves ${stableReady}/${total} pods ready.`)).slice(0, 4096);

  return {
    status,
    events,
    deployments,
    scale,
    deleteDeployments,
    services,
    route: routeToWrite,
    feedbackSecret,
    requeueAfterMs: requeues.length === 0 ? undefined : Math.max(1, Math.min(...requeues)),
  };
}

/** Whether two live measurements differ only in their time. */
export function sameMeasurement(a: LiveMetrics | undefined, b: LiveMetrics): a is LiveMetrics {
  if (a === undefined) return false;
  const { time: _ta, ...restA } = a;
  const { time: _tb, ...restB } = b;
  return isDeepStrictEqual(restA, restB);
}

function liveMetricsOf(o: Observed, version: string, intervalMs: number): LiveMetrics | undefined {
  const r = o.stableLive;
  if (!r?.ok) return undefined;
  const m = r.m;
  const psis = Object.entries(m.drift);
  const seconds = intervalMs / 1000;
  const out: Writable<LiveMetrics> = { time: formatTime(o.nowMs), version, requestRate: Math.round((m.requests / seconds) * 1000) / 1000 };
  const served = servedRequests(m);
  if (served > 0) out.errorRate = m.errors / served;
  if (m.latencyP99Ms !== undefined) out.latencyP99Ms = m.latencyP99Ms;
  if (m.labelled > 0) out.accuracy = m.correct / m.labelled;
  out.labelledSamples = m.labelled;
  if (psis.length > 0) {
    out.drift = Object.fromEntries(psis);
    out.maxDriftPsi = Math.max(...psis.map((e) => e[1]));
  }
  out.driftSamples = m.driftRows;
  return out;
}
