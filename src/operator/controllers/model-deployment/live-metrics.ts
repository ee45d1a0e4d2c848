// status.liveMetrics: what the stable version's pods measured over the last analysis interval (the
// TrainingPipeline's drift and performance triggers read it). Measured every interval while a stable pod is ready;
// a measurement equal to the last one but for its time is not written. Pure, table-tested.
import { isDeepStrictEqual } from 'node:util';
import type { LiveMetrics } from '../../../api/model-deployment.js';
import { formatTime } from '../../runtime/conditions.js';
import { servedRequests } from './metrics/provider.js';
import type { MeasureResult } from './observed.js';
import { readyOf, type PlanContext } from './plan-context.js';
import type { Draft } from './rollout-state.js';

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/** Whether two live measurements differ only in their time. */
export function sameMeasurement(a: LiveMetrics | undefined, b: LiveMetrics): a is LiveMetrics {
  if (a === undefined) return false;
  const { time: _ta, ...restA } = a;
  const { time: _tb, ...restB } = b;
  return isDeepStrictEqual(restA, restB);
}

/** The live metrics of `version` from a measurement over the last interval; undefined without one. */
export function liveMetricsOf(r: MeasureResult | undefined, version: string, intervalMs: number, nowMs: number): LiveMetrics | undefined {
  if (!r?.ok) return undefined;
  const m = r.m;
  const psis = Object.entries(m.drift);
  const seconds = intervalMs / 1000;
  const out: Writable<LiveMetrics> = { time: formatTime(nowMs), version, requestRate: Math.round((m.requests / seconds) * 1000) / 1000 };
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

export function withLiveMetrics(ctx: PlanContext, d: Draft): Draft {
  const live = liveMetricsOf(ctx.observed.stableLive, d.stable.version, ctx.intervalMs, ctx.nowMs);
  // An idle deployment (no traffic, a settled drift window) must cost no write per interval (at 1,000 deployments
  // that was 2,000 writes a minute for nothing): liveMetrics.time is when these values were first measured.
  const previous = ctx.prev.liveMetrics;
  const status = live ? { ...d.status, liveMetrics: sameMeasurement(previous, live) ? previous : live } : d.status;
  // Measured again every interval while a stable pod serves; with none there is nothing to measure, and the first
  // pod's readiness (a status change of its Deployment) enqueues this deployment anyway.
  const serving = d.stable.name === status.stableRevision && readyOf(ctx, d.stable) > 0;
  return { ...d, status, requeues: serving ? [...d.requeues, ctx.intervalMs] : d.requeues };
}
