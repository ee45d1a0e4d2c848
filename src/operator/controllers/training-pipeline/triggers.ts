// Which trigger starts a run, and when to look again. Pure: everything it needs was observed before.
//
// Each trigger is a small function that says whether it fires now (with a sentence saying why) and when it could
// next change its mind (a wake-up time for the requeue). Then, in order:
//   suspended                    → nothing starts (drift/performance timers keep running)
//   nothing fires                → wait for the earliest wake-up
//   minInterval not over         → wait until it is
//   a run is active, Forbid      → wait for it to end (its Job's events wake us)
//   a run is active, Replace     → stop it and start anew
//   otherwise                    → start a run
// When a run starts it absorbs every trigger that fired (the newest due schedule, the annotation value, the data
// seen, the drift/performance timers), so one cause never starts two runs back to back. The data it takes is
// given back if it ends without training on it (data-watermark.ts): new data is counted from the data the last run
// that trained took, so a run of another trigger that failed loses no rows.
//
// Schedule: only the latest scheduled time at or before now is considered, and only within startingDeadline, so
// after downtime one missed time gives one catch-up run, never a storm. The first run of a pipeline without a
// champion is an Initial run (it would otherwise wait up to a week for the first model).
import { CronExpressionParser } from 'cron-parser';
import { Annotation } from '../../../api/conditions.js';
import type { LiveMetrics, ModelDeploymentStatus } from '../../../api/model-deployment.js';
import { defaultFalseAlarmRate, detectionThreshold } from '../../../shared/drift-sequential.js';
import { tpDurationBounds, type TrainingPipelineSpec, type TrainingPipelineStatus, type TriggerKind } from '../../../api/training-pipeline.js';
import { formatTime } from '../../runtime/conditions.js';
import { parseDuration } from '../../../api/duration.js';
import { liveLowerIsBetter } from '../../../shared/metric-names.js';

/** What observe saw of the data sources (only when a newData trigger is set and a store is configured). */
export interface DataListing {
  readonly objects: number;
  readonly digest: string;
  /** Newest last-modified time under the sources, ms (undefined when there are no objects). */
  readonly newestMs: number | undefined;
  /** Objects modified after the watermark's newestObjectTime. */
  readonly newObjects: number;
  /** Rows in those objects (data lines; a CSV header is not a row). */
  readonly newRows: number;
  /** When the sources are listed again (data-polls.ts: jittered, or when a deferred poll gets its token). */
  readonly nextPollAtMs?: number;
  /**
   * Not listed for this reconcile: a listing kept from an earlier one, or the data watermark standing in for the
   * first listing after a restart (data-polls.ts). A run does not start from it (plan.ts needsFreshListing).
   */
  readonly kept?: boolean;
}

export interface TriggerInput {
  readonly spec: TrainingPipelineSpec;
  readonly status: TrainingPipelineStatus;
  readonly annotations: Readonly<Record<string, string>>;
  readonly createdMs: number;
  readonly nowMs: number;
  readonly runActive: boolean;
  /** Status of the ModelDeployments the drift/performance triggers name (absent: not found). */
  readonly deployments: Readonly<Record<string, ModelDeploymentStatus | undefined>>;
  /** Which of them follow this pipeline (they roll each new champion out on their own); none when absent. */
  readonly following?: readonly string[];
  readonly data: DataListing | undefined;
  /**
   * How often the operator lists the store for new data (there is no watch on a bucket): its setting
   * (PERENNIAL_DATA_POLL_SECONDS), for pipelines whose newData trigger sets no pollInterval.
   */
  readonly dataPollMs: number;
}

/** How often this pipeline's sources are listed for new data: its newData.pollInterval, else the operator's setting. */
export function dataPollIntervalMs(spec: TrainingPipelineSpec, operatorPollMs: number): number {
  const own = spec.triggers.newData?.pollInterval;
  if (own === undefined) return operatorPollMs;
  // The CRD refuses less than 10s and what is no duration; spec-checks refuses objects stored before the rule. Never
  // polled faster either way.
  let parsed: number;
  try {
    parsed = parseDuration(own);
  } catch {
    return operatorPollMs;
  }
  return parsed >= minPollMs ? parsed : operatorPollMs;
}

const minPollMs = parseDuration(tpDurationBounds.pollInterval.min);

export interface Fired {
  readonly kind: TriggerKind;
  readonly reason: string;
}

export interface TriggerDecision {
  /** Start a run now, for these reasons (first = the run's trigger). Empty: no run starts. */
  readonly start: readonly Fired[];
  /** Stop the active run first (concurrencyPolicy Replace). */
  readonly replace: boolean;
  /** Fired but waiting: why (for the message), or undefined. */
  readonly waiting: string | undefined;
  /** The status fields the triggers keep (updated when a run starts). */
  readonly driftSince: string | undefined;
  readonly performanceSince: string | undefined;
  readonly lastScheduleTime: string | undefined;
  readonly lastManualTrigger: string | undefined;
  readonly dataWatermark: TrainingPipelineStatus['dataWatermark'];
  readonly nextScheduleTime: string | undefined;
  /** When to reconcile again at the latest (ms since the epoch), if anything is time-based. */
  readonly wakeAtMs: number | undefined;
}

interface Signal {
  readonly fired: Fired | undefined;
  readonly wakeAtMs?: number | undefined;
}

const order: readonly TriggerKind[] = ['Manual', 'Initial', 'Schedule', 'Drift', 'Performance', 'NewData'];

function ms(time: string | undefined): number | undefined {
  if (time === undefined) return undefined;
  const t = Date.parse(time);
  return Number.isNaN(t) ? undefined : t;
}

function cron(spec: NonNullable<TrainingPipelineSpec['triggers']['schedule']>, fromMs: number) {
  return CronExpressionParser.parse(spec.cron, { currentDate: new Date(fromMs), ...(spec.timeZone ? { tz: spec.timeZone } : {}) });
}

type Schedule = NonNullable<TrainingPipelineSpec['triggers']['schedule']>;

/**
 * The answer of scheduleTimes per schedule, reused while now stays in [latest, next): no scheduled time lies in
 * between, so the answer cannot differ. Why: with a time zone, cron-parser works through luxon and one evaluation
 * costs milliseconds; every pipeline with a newData trigger is reconciled each data poll, and this was most of an
 * idle operator's CPU (bench/operator-scale.ts). Bounded: cleared when it holds too many schedules.
 */
const scheduleMemo = new Map<string, { readonly latest: number; readonly next: number }>();
const scheduleMemoMax = 10_000;

/** The latest scheduled time at or before now, and the next one after now. */
export function scheduleTimes(spec: Schedule, nowMs: number): { latest: number | undefined; next: number | undefined } {
  const key = `${spec.cron}\u0000${spec.timeZone ?? ''}`;
  const known = scheduleMemo.get(key);
  if (known && known.latest <= nowMs && nowMs < known.next) return { latest: known.latest, next: known.next };
  const times = computeScheduleTimes(spec, nowMs);
  if (times.latest !== undefined && times.next !== undefined) {
    if (scheduleMemo.size >= scheduleMemoMax) scheduleMemo.clear();
    scheduleMemo.set(key, { latest: times.latest, next: times.next });
  }
  return times;
}

/** scheduleTimes without the memo (exported for its test). */
export function computeScheduleTimes(spec: Schedule, nowMs: number): { latest: number | undefined; next: number | undefined } {
  let latest: number | undefined;
  let next: number | undefined;
  try {
    latest = cron(spec, nowMs + 1).prev().getTime();
  } catch {
    latest = undefined; // no earlier match (cron-parser gives up after a bounded search)
  }
  try {
    next = cron(spec, nowMs).next().getTime();
  } catch {
    next = undefined;
  }
  return { latest, next };
}

function scheduleSignal(input: TriggerInput): Signal & { due: number | undefined; next: number | undefined } {
  const schedule = input.spec.triggers.schedule;
  if (!schedule) return { fired: undefined, due: undefined, next: undefined };
  const { latest, next } = scheduleTimes(schedule, input.nowMs);
  const anchor = ms(input.status.lastScheduleTime) ?? input.createdMs;
  const deadline = parseDuration(schedule.startingDeadline);
  if (latest !== undefined && latest > anchor && input.nowMs - latest <= deadline) {
    return { fired: { kind: 'Schedule', reason: `scheduled for ${formatTime(latest)} (${schedule.cron}${schedule.timeZone ? ` ${schedule.timeZone}` : ''})` }, due: latest, next, wakeAtMs: next };
  }
  return { fired: undefined, due: undefined, next, wakeAtMs: next };
}

function manualSignal(input: TriggerInput): Signal {
  const value = input.annotations[Annotation.trigger];
  if (value === undefined || value === '' || value === input.status.lastManualTrigger) return { fired: undefined };
  return { fired: { kind: 'Manual', reason: `annotation ${Annotation.trigger}=${value}` } };
}

function initialSignal(input: TriggerInput): Signal {
  if ((input.status.runCount ?? 0) > 0 || input.status.championVersion !== undefined) return { fired: undefined };
  return { fired: { kind: 'Initial', reason: 'no champion yet: the first run' } };
}

/** A condition that must hold for a while: when it was first seen, and whether it has held long enough. */
function held(kind: TriggerKind, holds: boolean, what: string, since: string | undefined, forText: string, nowMs: number): Signal & { since: string | undefined } {
  if (!holds) return { fired: undefined, since: undefined };
  const sinceMs = ms(since) ?? nowMs;
  const endMs = sinceMs + parseDuration(forText);
  const sinceText = formatTime(sinceMs);
  if (nowMs >= endMs) return { fired: { kind, reason: `${what} since ${sinceText} (for ${forText})` }, since: sinceText };
  return { fired: undefined, since: sinceText, wakeAtMs: endMs };
}

/**
 * Whether the deployment's live metrics are stale for this pipeline: measured on a version the deployment is moving
 * away from. Then drift or poor accuracy is old news — the retrain it calls for has happened — and a second run
 * would only replace the new champion before it is judged. Stale means: measured on a version other than the stable
 * one (promoted since; the next measurement counts), or on a version older than the champion while the deployment
 * canaries the champion or, following this pipeline, is about to. Found twice: by bench/reliability (faults
 * stretched a canary past minInterval and a further retrain replaced it) and by the controller's integration test
 * (the measurement that started a run, still there when the run ended, started the next one at once). The signals
 * count again once the champion is measured, or once the deployment aborted the champion (it did not help).
 */
function staleForChampion(input: TriggerInput, deployment: string): boolean {
  const st = input.deployments[deployment];
  const measured = st?.liveMetrics?.version;
  if (st === undefined || measured === undefined) return false;
  if (st.stableVersion !== undefined && measured !== st.stableVersion) return true;
  const champion = input.status.championVersion;
  if (champion === undefined || measured === champion || st.abortedVersion === champion) return false;
  return st.canaryVersion === champion || (input.following ?? []).includes(deployment);
}

/**
 * What the servers' sequential detector says for a Sequential drift trigger: the feature with the most evidence, and
 * whether it reached ln(features / falseAlarmRate) (drift-sequential.ts). Undefined without evidence in liveMetrics.
 */
export function sequentialReading(live: LiveMetrics | undefined, falseAlarmRate: number): { feature: string; evidence: number; threshold: number; detected: boolean } | undefined {
  const entries = Object.entries(live?.driftEvidence ?? {}).filter((e) => Number.isFinite(e[1]));
  if (entries.length === 0) return undefined;
  const [feature, evidence] = entries.reduce((a, b) => (b[1] > a[1] ? b : a));
  const threshold = detectionThreshold(entries.length, falseAlarmRate);
  return { feature, evidence, threshold, detected: evidence >= threshold };
}

/**
 * Drift: PSI above psiThreshold (both detectors) or, with detector Sequential (the default), the servers' sequential
 * detector at its threshold, for `for`. The detector's evidence is a peak that does not fall back, so `for` after a
 * detection filters nothing: it is the time post-change rows get to reach the store before the retrain, whose drift
 * reference is its newest rows (bench/loop-latency: retrained 3 s after the shift, v2's reference was mostly
 * pre-shift rows and the new traffic drifted against it at once). The PSI is the magnitude the reason reports.
 */
function driftSignal(input: TriggerInput): Signal & { since: string | undefined } {
  const t = input.spec.triggers.drift;
  if (!t) return { fired: undefined, since: undefined };
  const live = input.deployments[t.deployment]?.liveMetrics;
  const stale = staleForChampion(input, t.deployment);
  const psi = live?.maxDriftPsi ?? (live?.drift ? Math.max(...Object.values(live.drift)) : undefined);
  const psiText = `drift PSI ${psi?.toFixed(3) ?? '?'}`;
  const rate = t.falseAlarmRate ?? defaultFalseAlarmRate;
  const seq = (t.detector ?? 'Sequential') === 'Sequential' ? sequentialReading(live, rate) : undefined;
  if (seq?.detected && !stale) {
    const what = `drift detected on ${seq.feature} (evidence ${seq.evidence.toFixed(1)} ≥ ${seq.threshold.toFixed(1)} nats, false-alarm rate ${rate}/row; ${psiText}) on ModelDeployment ${t.deployment}`;
    return held('Drift', true, what, input.status.driftSince, t.for, input.nowMs);
  }
  const holds = psi !== undefined && Number.isFinite(psi) && psi > t.psiThreshold && !stale;
  return held('Drift', holds, `${psiText} > ${t.psiThreshold} on ModelDeployment ${t.deployment}`, input.status.driftSince, t.for, input.nowMs);
}

/**
 * What the watched deployment's live metric says of the performance trigger's condition:
 *   wrong    at least minSamples samples, the metric on the wrong side of the threshold
 *   right    at least minSamples samples, the metric on the right side; or no live metrics at all (the deployment is
 *            gone, or its stable version changed and the previous version's figures were dropped), or stale ones
 *            (staleForChampion)
 *   unknown  live metrics of the version, but no quality figure or fewer than minSamples samples behind it: batch
 *            traffic between batches, a quiet night. It says nothing either way, so it neither starts nor stops the
 *            `for` timer; otherwise `for` could never outlast the gap between two batches.
 * The samples are labels (labelledSamples), except for estimatedAccuracy, which needs none: its samples are the
 * predictions behind it (estimatedSamples), so it can fire while labels are late or never come.
 */
export function performanceReading(input: TriggerInput): { reading: 'wrong' | 'right' | 'unknown'; value: number | undefined } {
  const t = input.spec.triggers.performance;
  const live = t && input.deployments[t.deployment]?.liveMetrics;
  if (!t || !live || staleForChampion(input, t.deployment)) return { reading: 'right', value: undefined };
  const value = live[t.metric];
  const samples = t.metric === 'estimatedAccuracy' ? live.estimatedSamples : live.labelledSamples;
  if (value === undefined || !Number.isFinite(value) || (samples ?? 0) < t.minSamples) return { reading: 'unknown', value };
  // Lower is better for log loss and RMSE: they are bad above the threshold, the accuracies below it.
  const worse = liveLowerIsBetter(t.metric) ? value > t.threshold : value < t.threshold;
  return { reading: worse ? 'wrong' : 'right', value };
}

function performanceSignal(input: TriggerInput): Signal & { since: string | undefined } {
  const t = input.spec.triggers.performance;
  if (!t) return { fired: undefined, since: undefined };
  const { reading, value } = performanceReading(input);
  if (reading === 'unknown') return { fired: undefined, since: input.status.performanceSince };
  const side = liveLowerIsBetter(t.metric) ? '>' : '<';
  return held('Performance', reading === 'wrong', `live ${t.metric} ${value?.toFixed(4) ?? '?'} ${side} ${t.threshold} on ModelDeployment ${t.deployment}`, input.status.performanceSince, t.for, input.nowMs);
}

function newDataSignal(input: TriggerInput): Signal {
  const t = input.spec.triggers.newData;
  if (!t || !input.data) return { fired: undefined };
  const wakeAtMs = input.data.nextPollAtMs ?? input.nowMs + dataPollIntervalMs(input.spec, input.dataPollMs);
  if (input.status.dataWatermark === undefined) return { fired: undefined, wakeAtMs }; // a baseline is recorded first
  const d = input.data;
  const byObjects = t.minObjects !== undefined && d.newObjects >= t.minObjects;
  const byRows = t.minRows !== undefined && d.newRows >= t.minRows;
  if (!byObjects && !byRows) return { fired: undefined, wakeAtMs };
  return { fired: { kind: 'NewData', reason: `${d.newObjects} new object(s) with ${d.newRows} row(s) under the sources` }, wakeAtMs };
}

function watermarkOf(data: DataListing): NonNullable<TrainingPipelineStatus['dataWatermark']> {
  // Full precision (the store's own), not metav1's whole seconds: an object written later in the same second
  // as the newest one seen must still count as new.
  return { objects: data.objects, digest: data.digest, ...(data.newestMs === undefined ? {} : { newestObjectTime: new Date(data.newestMs).toISOString() }) };
}

function earliest(...times: readonly (number | undefined)[]): number | undefined {
  const defined = times.filter((t): t is number => t !== undefined);
  return defined.length === 0 ? undefined : Math.min(...defined);
}

export function decideTriggers(input: TriggerInput): TriggerDecision {
  const { spec, status, nowMs } = input;
  const schedule = scheduleSignal(input);
  const drift = driftSignal(input);
  const performance = performanceSignal(input);
  const signals: Signal[] = [manualSignal(input), initialSignal(input), schedule, drift, performance, newDataSignal(input)];
  const fired = signals.map((s) => s.fired).filter((f): f is Fired => f !== undefined)
    .sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
  const nextScheduleTime = schedule.next === undefined ? undefined : formatTime(schedule.next);
  // Without a run the trigger state only moves forward where it must: the timers, and a first data baseline.
  const idle: TriggerDecision = {
    start: [],
    replace: false,
    waiting: undefined,
    driftSince: drift.since,
    performanceSince: performance.since,
    lastScheduleTime: status.lastScheduleTime,
    lastManualTrigger: status.lastManualTrigger,
    dataWatermark: status.dataWatermark ?? (input.data ? watermarkOf(input.data) : undefined),
    nextScheduleTime,
    wakeAtMs: earliest(...signals.map((s) => s.wakeAtMs)),
  };
  if (spec.suspend || fired.length === 0) return idle;
  const lastStart = ms(status.lastTriggerTime);
  const minIntervalEnd = lastStart === undefined ? undefined : lastStart + parseDuration(spec.triggers.minInterval);
  if (minIntervalEnd !== undefined && nowMs < minIntervalEnd) {
    return { ...idle, waiting: `${fired.map((f) => f.kind).join(', ')} waiting for minInterval ${spec.triggers.minInterval} (until ${formatTime(minIntervalEnd)})`, wakeAtMs: earliest(idle.wakeAtMs, minIntervalEnd) };
  }
  if (input.runActive && spec.triggers.concurrencyPolicy === 'Forbid') {
    return { ...idle, waiting: `${fired.map((f) => f.kind).join(', ')} waiting for the current run to end (concurrencyPolicy Forbid)` };
  }
  const manual = input.annotations[Annotation.trigger];
  return {
    start: fired,
    replace: input.runActive,
    waiting: undefined,
    driftSince: undefined,
    performanceSince: undefined,
    lastScheduleTime: schedule.due !== undefined ? formatTime(schedule.due) : status.lastScheduleTime,
    lastManualTrigger: manual !== undefined && manual !== '' ? manual : status.lastManualTrigger,
    dataWatermark: input.data ? watermarkOf(input.data) : status.dataWatermark,
    nextScheduleTime,
    // No poll wake-up: the run's status write brings the next reconcile, which lists again (the watermark moved) and
    // says when to poll. A wake-up set here stood beside that one and reconciled every pipeline once more for
    // nothing a poll interval after each run started (bench/operator-scale: a third of the steady reconciles).
    wakeAtMs: schedule.next,
  };
}
