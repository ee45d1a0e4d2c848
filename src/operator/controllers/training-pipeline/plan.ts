// The pure plan of one TrainingPipeline reconcile: from what was observed, the next status, the writes (Job to
// create or delete, versions to delete, finalizer), the events to emit after the status write, and when to look
// again.
//
// The run state machine (status.currentRun names the run in progress; its Job has the same name):
//
//   (no run) ──trigger fires──► Running ──Job Complete + manifest──► gates ──pass──► Blessed (champion moves)
//                                  │                                   └──fail──► Rejected (champion stays)
//                                  ├──Job Complete, no manifest──► Failed
//                                  ├──Job Failed + validation report──► InvalidData (not retried)
//                                  ├──Job Failed──► Failed (the Job's reason)
//                                  ├──its pod OOMKilled, or its image missing past imagePullTimeout──► Failed
//                                  │     (run-faults.ts; the Job is stopped); while the image is missing or the
//                                  │     pod unschedulable, the run and the pipeline say so
//                                  └──Replace: a trigger fires──► Failed ("replaced"), the new run starts
//
// A Job runs only for the current run: an active Job of any other run is stopped after the status write.
//
// The run number is claimed in status (runCount, currentRun, the run's entry) by the same status write that
// precedes the Job's creation, and the Job's name is derived from it. So after a crash at any point the next
// reconcile either re-creates the same Job (AlreadyExists is success) or finds it: never a second Job per run.
import { Annotation, ConditionType, Reason, finalizer as cleanupFinalizer } from '../../../api/conditions.js';
import type { RunOutcome, TrainingPipeline, TrainingPipelineStatus, TrainingRun } from '../../../api/training-pipeline.js';
import { pipelinePrefix } from '../../../shared/artifact-layout.js';
import type { EvaluationReport, MetricValues } from '../../../shared/evaluation-report.js';
import { type Condition, type ConditionInput, formatTime, setCondition } from '../../runtime/conditions.js';
import { controllerRef } from '../../runtime/resource.js';
import { trainingPipelines } from '../../resources.js';
import { acceptedCondition, isAccepted } from '../acceptance.js';
import type { PlannedEvent } from '../planned-event.js';
import { parseDuration } from '../../../api/duration.js';
import { championNote, followProduction } from './champion.js';
import { giveBackData, settleData } from './data-watermark.js';
import { judgeCandidate } from './gates.js';
import { buildTrainingJob, type TrainingJob } from './job.js';
import { runName, versionName } from './names.js';
import type { Observed, ObservedJob, RunResult } from './observed.js';
import { storedVersions, versionsToDelete } from './retention.js';
import { judgeRunPods, type RunFault } from './run-faults.js';
import { invalidDataMessage } from './invalid-data.js';
import { reviewTrainingPipeline } from './spec-checks.js';
import { buildTrainerConfig } from './trainer-config.js';
import { decideTriggers } from './triggers.js';

export interface TrainingPipelinePlan {
  readonly status: TrainingPipelineStatus;
  readonly events: readonly PlannedEvent[];
  /** Add or remove our finalizer (a metadata patch; the reconcile ends after it). */
  readonly finalizer?: 'add' | 'remove';
  /** Delete every object under the pipeline's prefix, then remove the finalizer. */
  readonly cleanup?: { readonly keys: readonly string[] };
  /** Stop a run's Job (concurrencyPolicy Replace). */
  readonly deleteJob?: { readonly name: string; readonly uid: string };
  /**
   * Active Jobs of runs that have ended (a run ended by what its pods say): deleted after the status write that
   * ends their run, so a failed write never leaves the current run without its Job.
   */
  readonly stopJobs: ReadonlyArray<{ readonly name: string; readonly uid: string }>;
  /** Create this Job after the status write (AlreadyExists is success). */
  readonly createJob?: TrainingJob;
  /** Versions to delete from the store after the status write (retention). */
  readonly deleteVersions: readonly string[];
  /** The runs that ended in this reconcile, as status records them (counted once the status is written). */
  readonly finishedRuns: readonly TrainingRun[];
  readonly requeueAfterMs: number | undefined;
}

type Status = TrainingPipelineStatus;

function finiteMetrics(m: MetricValues | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(m ?? {})) if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  return out;
}

function withRun(runs: readonly TrainingRun[] | undefined, run: TrainingRun, limit: number): TrainingRun[] {
  const rest = (runs ?? []).filter((r) => r.name !== run.name);
  return [run, ...rest].slice(0, limit);
}

interface Finish {
  readonly run: TrainingRun;
  readonly status: Partial<Status>;
  readonly event: PlannedEvent;
}

/** Who the champion is while a run ends: a candidate is judged against it; a pinned one does not move. */
interface ChampionNow {
  readonly version: string | undefined;
  readonly pinned: string | undefined;
}

/** The ended run: what its Job and the store say, judged by the gates. */
function finishRun(tp: TrainingPipeline, run: TrainingRun, job: ObservedJob, result: RunResult | undefined, nowMs: number, now: ChampionNow): Finish | undefined {
  const state = job.state;
  if (state.phase === 'Active' || result === undefined) return undefined; // the store has not answered yet
  const completionTime = state.completionTime ?? formatTime(nowMs);
  const ended = (outcome: RunOutcome, message: string, extra: Partial<TrainingRun> = {}): TrainingRun =>
    ({ ...run, ...extra, outcome, message, completionTime });
  const version = run.version ?? '';
  if (state.phase === 'Failed') {
    if (result.kind === 'invalidData') {
      const message = invalidDataMessage(result.issues, tp.metadata.name ?? '', tp.spec.validation.minRows);
      return { run: ended('InvalidData', message), status: {}, event: { type: 'Warning', reason: Reason.InvalidData, note: `Run ${run.name}: ${message}` } };
    }
    const message = `The training Job failed (${state.reason}): ${state.message}`;
    return { run: ended('Failed', message), status: {}, event: { type: 'Warning', reason: Reason.RunFailed, note: `Run ${run.name}: ${message}` } };
  }
  if (result.kind === 'noManifest') {
    const message = `The training Job succeeded but published no manifest (${result.key}): no manifest, no model.`;
    return { run: ended('Failed', message), status: {}, event: { type: 'Warning', reason: Reason.RunFailed, note: `Run ${run.name}: ${message}` } };
  }
  if (result.kind !== 'published') {
    const message = result.kind === 'unreadable' ? `The published version cannot be read: ${result.message}` : 'The training Job succeeded but its result is missing.';
    return { run: ended('Failed', message), status: {}, event: { type: 'Warning', reason: Reason.RunFailed, note: `Run ${run.name}: ${message}` } };
  }
  if (result.manifest.version !== version) {
    const message = `The manifest names version ${result.manifest.version}, the run published ${version}.`;
    return { run: ended('Failed', message), status: {}, event: { type: 'Warning', reason: Reason.RunFailed, note: `Run ${run.name}: ${message}` } };
  }
  const report: EvaluationReport = result.report;
  const champion = now.version;
  const judgement = judgeCandidate(tp.spec, report, champion);
  const extra: Partial<TrainingRun> = {
    metrics: finiteMetrics(report.candidate.metrics),
    ...(report.champion ? { championMetrics: finiteMetrics(report.champion.metrics) } : {}),
    gates: judgement.gates.map((g) => ({ name: g.name, passed: g.passed, message: g.message.slice(0, 1024) })),
  };
  if (judgement.blessed && now.pinned !== undefined) {
    const message = `${version} passed every gate; the champion stays ${now.pinned}, pinned by the ${Annotation.champion} annotation.`;
    return { run: ended('Blessed', message, extra), status: { latestVersion: version }, event: { type: 'Normal', reason: Reason.Blessed, note: `Run ${run.name}: ${message}` } };
  }
  if (judgement.blessed) {
    const message = `${version} is the new champion${champion ? ` (was ${champion})` : ''}.`;
    return {
      run: ended('Blessed', message, extra),
      status: { championVersion: version, championMetrics: finiteMetrics(report.candidate.metrics), latestVersion: version },
      event: { type: 'Normal', reason: Reason.Blessed, note: `Run ${run.name}: ${message}` },
    };
  }
  const failed = judgement.failed;
  const message = `${version} rejected by gate ${failed?.name ?? '?'}: ${failed?.message ?? ''}. The champion stays ${champion ?? '(none)'}.`;
  return {
    run: ended('Rejected', message, extra),
    status: { latestVersion: version },
    event: { type: 'Warning', reason: Reason.Rejected, note: `Run ${run.name}: ${message}` },
  };
}

/** The run ended by what its pods say (run-faults.ts), whatever its Job says yet. */
function faultFinish(run: TrainingRun, job: ObservedJob, fault: Extract<RunFault, { action: 'fail' }>, nowMs: number): Finish {
  const completionTime = job.state.phase === 'Active' ? formatTime(nowMs) : job.state.completionTime ?? formatTime(nowMs);
  return {
    run: { ...run, outcome: 'Failed', message: fault.message.slice(0, 4096), completionTime },
    status: {},
    event: { type: 'Warning', reason: fault.reason, note: `Run ${run.name}: ${fault.message}`.slice(0, 1024) },
  };
}

/** What a running run says about its pods: the problem while there is one, nothing once it has gone. */
function runningEntry(run: TrainingRun, problem: RunProblem | undefined): TrainingRun {
  if (problem) return { ...run, message: problem.message.slice(0, 4096) };
  const { message: _none, ...rest } = run;
  return rest;
}

type RunProblem = Extract<RunFault, { action: 'report' }>;

interface RunStep {
  readonly next: Status;
  readonly active: boolean;
  readonly problem: RunProblem | undefined;
  readonly recheckMs: number | undefined;
  readonly events: readonly PlannedEvent[];
  readonly finished: readonly TrainingRun[];
}

/** The current run, its Job in the cache: what its pods say, and once the Job has ended (or its pods end it), the verdict. */
function runWithJob(o: Observed, previous: Status, next: Status, run: TrainingRun, job: ObservedJob, pinned: string | undefined): RunStep {
  const tp = o.pipeline;
  const fault: RunFault = job.state.phase === 'Succeeded' || o.runPods === undefined
    ? { action: 'none' }
    : judgeRunPods({ pods: o.runPods, nowMs: o.nowMs, imagePullTimeoutMs: parseDuration(tp.spec.trainer.imagePullTimeout) });
  const finish = fault.action === 'fail'
    ? faultFinish(run, job, fault, o.nowMs)
    : finishRun(tp, run, job, o.result, o.nowMs, { version: next.championVersion, pinned });
  if (finish !== undefined) {
    const { currentRun: _ended, ...rest } = next;
    const ended: Status = { ...rest, ...finish.status, runs: withRun(previous.runs, finish.run, tp.spec.historyLimit) };
    return {
      next: finish.run.outcome === 'Failed' ? giveBackData(ended) : ended,
      active: false, problem: undefined, recheckMs: undefined, events: [finish.event], finished: [finish.run],
    };
  }
  const problem = fault.action === 'report' ? fault : undefined;
  // Said once as it begins (Progressing carries it meanwhile); a new reason is a new problem.
  const before = previous.conditions?.find((c) => c.type === ConditionType.Progressing)?.reason;
  return {
    next: { ...next, runs: withRun(previous.runs, runningEntry(run, problem), tp.spec.historyLimit) },
    active: true, problem,
    recheckMs: fault.action === 'report' || fault.action === 'wait' ? fault.recheckMs : undefined,
    events: problem && before !== problem.reason ? [{ type: 'Warning', reason: problem.reason, note: `Run ${run.name}: ${problem.message}`.slice(0, 1024) }] : [],
    finished: [],
  };
}

/** Active Jobs of any run but the current one (and the one a Replace deletes already). */
function jobsToStop(jobs: readonly ObservedJob[], current: string | undefined, replaced: string | undefined): Array<{ name: string; uid: string }> {
  return jobs.filter((j) => j.state.phase === 'Active' && j.name !== current && j.name !== replaced).map((j) => ({ name: j.name, uid: j.uid }));
}

/** The delay until the soonest of these wake-ups (absolute time, or a delay), or undefined when there is none. */
function soonest(nowMs: number, wakeAtMs: number | undefined, afterMs: number | undefined): number | undefined {
  const delays = [wakeAtMs === undefined ? undefined : wakeAtMs - nowMs, afterMs].filter((ms): ms is number => ms !== undefined);
  return delays.length === 0 ? undefined : Math.max(0, Math.min(...delays));
}

function conditionsFor(previous: Status, next: Status, generation: number, accepted: ConditionInput, nowMs: number, rejected: boolean, waiting: string | undefined, storeMissing: boolean, runProblem?: RunProblem, pinned?: string): Condition[] {
  let conditions = setCondition(previous.conditions as Condition[] | undefined, accepted, nowMs);
  const champion = next.championVersion;
  conditions = setCondition(conditions, rejected
    ? { type: ConditionType.Ready, status: 'False', reason: accepted.reason, message: accepted.message, observedGeneration: generation }
    : champion !== undefined
      ? { type: ConditionType.Ready, status: 'True', reason: Reason.ChampionServing, message: `${championNote(next, pinned) ?? ''}.`.slice(0, 4096), observedGeneration: generation }
      : { type: ConditionType.Ready, status: 'False', reason: Reason.NoChampionYet, message: 'No version has been blessed yet.', observedGeneration: generation },
  nowMs);
  const current = next.currentRun;
  const progressing: ConditionInput = rejected
    ? { type: ConditionType.Progressing, status: 'False', reason: accepted.reason, message: 'No run starts until the spec is fixed.', observedGeneration: generation }
    : current !== undefined && runProblem !== undefined
      ? { type: ConditionType.Progressing, status: 'True', reason: runProblem.reason, message: `Run ${current}: ${runProblem.message}`.slice(0, 4096), observedGeneration: generation }
    : current !== undefined
      ? { type: ConditionType.Progressing, status: 'True', reason: Reason.RunRunning, message: `Run ${current} is training.`, observedGeneration: generation }
      : storeMissing
        ? { type: ConditionType.Progressing, status: 'False', reason: Reason.StoreNotConfigured, message: 'The operator has no object store configured: runs cannot start.', observedGeneration: generation }
        : next.phase === 'Suspended'
          ? { type: ConditionType.Progressing, status: 'False', reason: Reason.Suspended, message: 'spec.suspend is true: no new run starts.', observedGeneration: generation }
          : { type: ConditionType.Progressing, status: 'False', reason: Reason.Idle, message: waiting ?? 'Waiting for a trigger.', observedGeneration: generation };
  conditions = setCondition(conditions, progressing, nowMs);
  const last = (next.runs ?? []).find((r) => r.outcome !== 'Running');
  const degraded: ConditionInput = last && (last.outcome === 'Failed' || last.outcome === 'InvalidData')
    ? { type: ConditionType.Degraded, status: 'True', reason: last.outcome === 'InvalidData' ? Reason.InvalidData : Reason.RunFailed, message: `Run ${last.name}: ${last.message ?? last.outcome}`.slice(0, 4096), observedGeneration: generation }
    : { type: ConditionType.Degraded, status: 'False', reason: last ? (last.outcome === 'Rejected' ? Reason.Rejected : Reason.Blessed) : Reason.Idle, message: last ? `The last run ended ${last.outcome}.` : 'No run has ended yet.', observedGeneration: generation };
  return setCondition(conditions, degraded, nowMs);
}

function deletionPlan(o: Observed): TrainingPipelinePlan {
  const tp = o.pipeline;
  const none = { status: tp.status ?? {}, events: [], stopJobs: [], deleteVersions: [], finishedRuns: [], requeueAfterMs: undefined };
  if (!(tp.metadata.finalizers ?? []).includes(cleanupFinalizer)) return none;
  if (tp.spec.retention.onDelete === 'Delete' && o.store !== undefined) return { ...none, cleanup: { keys: o.cleanupKeys ?? [] } };
  return { ...none, finalizer: 'remove' };
}

// The plan is a short chain of named steps over one draft: the champion production accepted (or a pin) → the run in progress (its Job, its pods, its verdict) →
// the triggers (a new run, replacing the current one under concurrencyPolicy Replace) → retention → the Jobs to
// stop → phase, message and conditions. Each step is a function below.
export function planTrainingPipeline(o: Observed): TrainingPipelinePlan {
  const tp = o.pipeline;
  if (tp.metadata.deletionTimestamp !== undefined) return deletionPlan(o);
  const generation = tp.metadata.generation ?? 0;
  const previous: Status = tp.status ?? {};
  const review = reviewTrainingPipeline(tp, o.tenancy);
  const accepted = acceptedCondition(review, generation);
  if (!isAccepted(review)) return rejectedPlan(o, previous, generation, accepted);
  const wantFinalizer = tp.spec.retention.onDelete === 'Delete';
  const hasFinalizer = (tp.metadata.finalizers ?? []).includes(cleanupFinalizer);
  if (wantFinalizer !== hasFinalizer && o.store !== undefined) {
    return { status: previous, events: [], finalizer: wantFinalizer ? 'add' : 'remove', stopJobs: [], deleteVersions: [], finishedRuns: [], requeueAfterMs: undefined };
  }

  const draft: Draft = { next: { ...previous, observedGeneration: generation }, events: [], finishedRuns: [] };
  if (o.store) draft.next.modelPrefix = `s3://${o.store.bucket}/${pipelinePrefix({ namespace: tp.metadata.namespace ?? '', name: tp.metadata.name ?? '' })}`;
  const pinned = followChampion(o, draft);
  const current = followCurrentRun(o, previous, draft, pinned);
  const decision = applyTriggers(o, draft, current);
  draft.next = settleData(draft.next);
  const deleteVersions = retention(o, draft);
  const stopJobs = jobsToStop(o.jobs, draft.next.currentRun, draft.deleteJob?.name); // step 4: one Job per current run
  summarise(o, previous, draft, current, decision.waiting, accepted, generation, pinned);
  const requeueAfterMs = o.store === undefined
    ? undefined
    : soonest(o.nowMs, decision.wakeAtMs, draft.next.currentRun === current.name ? current.recheckMs : undefined);
  return {
    status: draft.next, events: draft.events, stopJobs, deleteVersions, finishedRuns: draft.finishedRuns, requeueAfterMs,
    ...(draft.createJob ? { createJob: draft.createJob } : {}),
    ...(draft.deleteJob ? { deleteJob: draft.deleteJob } : {}),
  };
}

/**
 * Whether the plan starts a run (it claims a new run number) from a listing that was not made for this reconcile
 * (a kept one, or the watermark standing in after a restart: data-polls.ts). The run would record that listing as
 * its data watermark, older than the data it trains on, and what arrived since would count again as new data: the
 * reconciler lists the sources and plans again first.
 */
export function needsFreshListing(o: Observed, plan: TrainingPipelinePlan): boolean {
  return o.data?.kept === true && (plan.status.runCount ?? 0) > (o.pipeline.status?.runCount ?? 0);
}

/** What the steps of one plan build up. */
interface Draft {
  next: Status;
  readonly events: PlannedEvent[];
  readonly finishedRuns: TrainingRun[];
  createJob?: TrainingJob | undefined;
  deleteJob?: { readonly name: string; readonly uid: string } | undefined;
}

/** The run in progress when the reconcile began, and what following it found. */
interface CurrentRun {
  readonly name: string | undefined;
  readonly entry: TrainingRun | undefined;
  readonly job: ObservedJob | undefined;
  /** Its Job runs (or is about to be created): no other run may start unless it replaces this one. */
  readonly active: boolean;
  readonly problem: RunProblem | undefined;
  readonly recheckMs: number | undefined;
}

/** A spec the operator cannot act on: Failed with the reason, one Warning per generation, no requeue. */
function rejectedPlan(o: Observed, previous: Status, generation: number, accepted: ConditionInput): TrainingPipelinePlan {
  const status: Status = { ...previous, observedGeneration: generation, phase: 'Failed', message: accepted.message };
  const wasRejected = previous.conditions?.find((c) => c.type === ConditionType.Accepted)?.status === 'False' && previous.observedGeneration === generation;
  return {
    status: { ...status, conditions: conditionsFor(previous, status, generation, accepted, o.nowMs, true, undefined, false) },
    events: wasRejected ? [] : [{ type: 'Warning', reason: accepted.reason, note: accepted.message }],
    stopJobs: [],
    deleteVersions: [],
    finishedRuns: [],
    requeueAfterMs: undefined, // an invalid spec waits for the next edit
  };
}

/**
 * Step 0. The champion follows what production accepted (champion.ts): a version a following ModelDeployment rolled
 * back is demoted, the perennial.dev/champion annotation pins one. First, so that a run ending now is judged against,
 * and a run starting now warm-starts from, the champion as it is after this step. Returns the pinned version.
 */
function followChampion(o: Observed, draft: Draft): string | undefined {
  const step = followProduction({
    status: draft.next, pin: o.pipeline.metadata.annotations?.[Annotation.champion], followers: o.followers, versions: o.versions, nowMs: o.nowMs,
  });
  draft.next = step.status;
  draft.events.push(...step.events);
  return step.pinned;
}

/** Step 1. The run in progress: its Job, what its pods say, and when the Job has ended (or its pods end it), the verdict. */
function followCurrentRun(o: Observed, previous: Status, draft: Draft, pinned: string | undefined): CurrentRun {
  const name = previous.currentRun;
  const entry = name === undefined ? undefined : (previous.runs ?? []).find((r) => r.name === name);
  const job = name === undefined ? undefined : o.jobs.find((j) => j.name === name);
  if (name === undefined) return { name, entry, job, active: false, problem: undefined, recheckMs: undefined };
  if (entry === undefined) {
    const { currentRun: _lost, ...rest } = draft.next; // the run's entry fell out of history: nothing to wait for
    draft.next = rest;
    return { name, entry, job, active: false, problem: undefined, recheckMs: undefined };
  }
  if (job === undefined) {
    // Claimed in status but not (yet, or no longer in the cache) a Job: create it; AlreadyExists is success.
    if (o.store) draft.createJob = jobFor({ ...o, pipeline: { ...o.pipeline, status: draft.next } }, entry);
    return { name, entry, job, active: true, problem: undefined, recheckMs: undefined };
  }
  const step = runWithJob(o, previous, draft.next, entry, job, pinned);
  draft.next = step.next;
  draft.events.push(...step.events);
  draft.finishedRuns.push(...step.finished);
  return { name, entry, job, active: step.active, problem: step.problem, recheckMs: step.recheckMs };
}

/** Step 2. The triggers: their bookkeeping in status, and whether a new run starts now (replacing the current one). */
function applyTriggers(o: Observed, draft: Draft, current: CurrentRun): ReturnType<typeof decideTriggers> {
  const tp = o.pipeline;
  const decision = decideTriggers({
    // Without a store no run can start: the triggers then behave as if suspended and absorb nothing.
    spec: o.store ? tp.spec : { ...tp.spec, suspend: true }, status: draft.next, annotations: tp.metadata.annotations ?? {},
    createdMs: Date.parse(tp.metadata.creationTimestamp ?? '') || o.nowMs, nowMs: o.nowMs, runActive: current.active,
    deployments: o.deployments, following: o.following, data: o.data, dataPollMs: o.dataPollMs,
  });
  draft.next = {
    ...draft.next,
    ...optional('driftSince', decision.driftSince),
    ...optional('performanceSince', decision.performanceSince),
    ...optional('lastScheduleTime', decision.lastScheduleTime),
    ...optional('lastManualTrigger', decision.lastManualTrigger),
    ...optional('dataWatermark', decision.dataWatermark),
    ...optional('nextScheduleTime', decision.nextScheduleTime),
  };
  if (decision.driftSince === undefined) delete draft.next.driftSince;
  if (decision.performanceSince === undefined) delete draft.next.performanceSince;
  if (decision.nextScheduleTime === undefined) delete draft.next.nextScheduleTime;
  const first = decision.start[0];
  if (first === undefined || o.store === undefined) return decision;
  if (decision.replace && current.name !== undefined) replaceCurrentRun(o, draft, current);
  const n = (draft.next.runCount ?? 0) + 1;
  const name = runName(tp.metadata.name ?? '', n);
  const run: TrainingRun = {
    name, version: versionName(n), trigger: first.kind, reason: decision.start.map((f) => f.reason).join('; ').slice(0, 1024),
    startTime: formatTime(o.nowMs), outcome: 'Running',
  };
  draft.next = { ...draft.next, runCount: n, currentRun: name, lastTriggerTime: formatTime(o.nowMs), runs: withRun(draft.next.runs, run, tp.spec.historyLimit) };
  draft.createJob = jobFor({ ...o, pipeline: { ...tp, status: draft.next } }, run);
  draft.events.push({ type: 'Normal', reason: Reason.RunStarted, note: `Run ${name} started (${first.kind}): ${run.reason}`.slice(0, 1024) });
  return decision;
}

/** concurrencyPolicy Replace: the current run ends Failed ("replaced") and its Job is deleted after the status write. */
function replaceCurrentRun(o: Observed, draft: Draft, current: CurrentRun): void {
  const tp = o.pipeline;
  if (current.job) draft.deleteJob = { name: current.job.name, uid: current.job.uid };
  draft.createJob = undefined;
  if (current.entry === undefined) return;
  const replaced: TrainingRun = { ...current.entry, outcome: 'Failed', message: `Replaced by run ${runName(tp.metadata.name ?? '', (draft.next.runCount ?? 0) + 1)} (concurrencyPolicy Replace).`, completionTime: formatTime(o.nowMs) };
  draft.next = { ...draft.next, runs: withRun(draft.next.runs, replaced, tp.spec.historyLimit) };
  draft.events.push({ type: 'Normal', reason: Reason.RunReplaced, note: `Run ${current.entry.name} stopped: replaced by a new run.` });
  draft.finishedRuns.push(replaced);
}

/**
 * Step 3. Retention, once the champion is recorded: never the champion, a version a ModelDeployment uses, or the
 * running one. Then status.storedVersions says which versions exist (whenever the store was listed).
 */
function retention(o: Observed, draft: Draft): string[] {
  const next = draft.next;
  const running = (next.runs ?? []).find((r) => r.name === next.currentRun)?.version;
  const deleteVersions = versionsToPrune(o, next, running);
  if (o.versions !== undefined) draft.next = { ...next, storedVersions: storedVersions(o.versions, deleteVersions, running).slice(-2000) };
  const keepVersions = o.pipeline.spec.retention.keepVersions;
  if (deleteVersions.length > 0) draft.events.push({ type: 'Normal', reason: Reason.VersionsDeleted, note: `Deleting ${deleteVersions.join(', ')} (retention keeps ${keepVersions}).` });
  return deleteVersions;
}

function versionsToPrune(o: Observed, next: Status, running: string | undefined): string[] {
  if (o.versions === undefined || next.championVersion === undefined) return [];
  const keep = new Set<string>([next.championVersion, ...o.servedVersions]);
  if (running !== undefined) keep.add(running);
  return versionsToDelete(o.versions, o.pipeline.spec.retention.keepVersions, keep);
}

/** Step 5. Phase, message and conditions; what the current run's pods say, unless a Replace made another run current. */
function summarise(o: Observed, previous: Status, draft: Draft, current: CurrentRun, waiting: string | undefined, accepted: ConditionInput, generation: number, pinned: string | undefined): void {
  const next = draft.next;
  const problem = next.currentRun === current.name ? current.problem : undefined;
  const phase: Status['phase'] = next.currentRun !== undefined ? 'Running' : o.pipeline.spec.suspend ? 'Suspended' : 'Idle';
  const message = next.currentRun !== undefined
    ? problem ? `Run ${next.currentRun}: ${problem.message}`.slice(0, 4096) : `Run ${next.currentRun} is training.`
    : o.store === undefined ? 'The operator has no object store configured: runs cannot start.'
      : waiting ?? (next.championVersion !== undefined ? `${championNote(next, pinned) ?? ''}; waiting for a trigger.`.slice(0, 4096) : 'Waiting for a trigger.');
  const summarised: Status = { ...next, phase, message };
  draft.next = { ...summarised, conditions: conditionsFor(previous, summarised, generation, accepted, o.nowMs, false, waiting, o.store === undefined, problem, pinned) };
}

/**
 * The run ends Failed when the API server refuses its Job (422: the spec yields a Job that cannot exist, e.g. a
 * malformed nodeSelector key): retrying cannot help. Only the run changes here; planning again on the result
 * derives everything else (conditions, phase, message), so the next reconcile is a fixed point.
 */
/**
 * The status of an accepted pipeline while the object store cannot be used for it: StoreUnavailable (unreachable,
 * or it refuses: a missing bucket, wrong credentials; the reconcile then fails and is retried with backoff: an
 * outage delays work, it never decides a run) or CredentialsUnavailable (its credentials Secret cannot be read;
 * looked at again after a while; the user must act, so Degraded=True too). Progressing=False says why nothing moves.
 */
export function withStoreProblem(tp: TrainingPipeline, reason: typeof Reason.StoreUnavailable | typeof Reason.CredentialsUnavailable, message: string, nowMs: number): Status {
  const generation = tp.metadata.generation ?? 0;
  const previous: Status = tp.status ?? {};
  const accepted = acceptedCondition({ problems: [], denied: [] }, generation);
  let conditions = setCondition(previous.conditions as Condition[] | undefined, accepted, nowMs);
  conditions = setCondition(conditions, {
    type: ConditionType.Progressing, status: 'False', reason, message: message.slice(0, 4096), observedGeneration: generation,
  }, nowMs);
  if (reason === Reason.CredentialsUnavailable) {
    conditions = setCondition(conditions, {
      type: ConditionType.Degraded, status: 'True', reason, message: message.slice(0, 4096), observedGeneration: generation,
    }, nowMs);
  }
  return { ...previous, observedGeneration: generation, phase: previous.phase ?? 'Idle', conditions };
}

export function withJobRejected(status: Status, runName: string, message: string, nowMs: number): Status {
  const run = (status.runs ?? []).find((r) => r.name === runName);
  if (!run) return status;
  const failed: TrainingRun = { ...run, outcome: 'Failed', message: `The API server refused the training Job: ${message}`.slice(0, 4096), completionTime: formatTime(nowMs) };
  const { currentRun: _gone, ...rest } = status;
  return giveBackData({ ...rest, runs: withRun(status.runs, failed, status.runs?.length ?? 1) });
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

/** The Job of a run. The champion it is compared with is the one recorded when the Job is built. */
function jobFor(o: Observed, run: TrainingRun): TrainingJob | undefined {
  const tp = o.pipeline;
  const store = o.store;
  if (!store) return undefined;
  const namespace = tp.metadata.namespace ?? '';
  const pipeline = tp.metadata.name ?? '';
  const config = buildTrainerConfig(tp.spec, {
    namespace, pipeline, runId: run.name, version: run.version ?? '', championVersion: tp.status?.championVersion,
  });
  return buildTrainingJob({
    namespace, pipeline,
    owner: controllerRef(tp, trainingPipelines),
    runName: run.name, version: run.version ?? '', trainer: tp.spec.trainer, config,
    store: { ...store, bucket: tp.spec.storage?.bucket ?? store.bucket },
    credentialsSecret: tp.spec.storage?.credentialsSecret ?? store.credentialsSecret,
    ttlSecondsAfterFinished: o.jobTtlSeconds,
  });
}
