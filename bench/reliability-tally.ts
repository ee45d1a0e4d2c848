// The counts of the reliability benchmark, as pure functions of what was observed at the end of a scenario: the
// pipeline's status, every training Job ever seen, the versions published in the store, and the inference logs.
// Every count must be zero.
import type { TrainingPipelineStatus } from '../src/api/training-pipeline.js';

/** A training Job seen by the benchmark's own watch, once per uid. */
export interface SeenJob {
  readonly uid: string;
  readonly name: string;
  /** The perennial.dev/run label ('' when absent). */
  readonly run: string;
  readonly createdAt: string;
}

export interface RunTally {
  /** Human-readable reasons, one per lost run. */
  readonly lost: string[];
  /** Runs that ended Failed (a fault turned into a failed run instead of a retry). */
  readonly failed: string[];
  /** Jobs beyond the first of each run. */
  readonly duplicateJobs: number;
  readonly duplicateJobNotes: string[];
}

/**
 * Lost runs: a run still Running (it never reached an outcome), a run number claimed (runCount) with no entry in
 * status.runs, a Job whose run is not in status.runs, a version published in the store with no run.
 */
export function tallyRuns(pipeline: string, historyLimit: number, status: TrainingPipelineStatus, jobs: readonly SeenJob[], publishedVersions: readonly string[]): RunTally {
  const runs = status.runs ?? [];
  const byName = new Map(runs.map((r) => [r.name, r]));
  const lost: string[] = [];
  for (const r of runs) if (r.outcome === 'Running') lost.push(`${r.name} (${r.version ?? '?'}) never reached an outcome`);
  // status.runs keeps the newest historyLimit runs; older ones leave it legitimately.
  const claimed = status.runCount ?? 0;
  for (let n = Math.max(1, claimed - historyLimit + 1); n <= claimed; n++) {
    const name = `${pipeline}-${n}`;
    if (!byName.has(name)) lost.push(`${name} claimed (runCount ${claimed}) but missing from status.runs`);
  }
  for (const run of new Set(jobs.map((j) => j.run))) {
    if (!byName.has(run)) lost.push(`Job(s) of run ${run || '(no run label)'} with no entry in status.runs`);
  }
  const versions = new Set(runs.map((r) => r.version));
  for (const v of publishedVersions) if (!versions.has(v)) lost.push(`version ${v} published in the store with no run`);
  const failed = runs.filter((r) => r.outcome === 'Failed').map((r) => `${r.name}: ${r.message ?? ''}`);
  const perRun = new Map<string, SeenJob[]>();
  for (const j of jobs) perRun.set(j.run, [...(perRun.get(j.run) ?? []), j]);
  let duplicateJobs = 0;
  const duplicateJobNotes: string[] = [];
  for (const [run, js] of perRun) {
    if (js.length < 2) continue;
    duplicateJobs += js.length - 1;
    duplicateJobNotes.push(`run ${run}: ${js.length} Jobs (${js.map((j) => `${j.name} uid ${j.uid.slice(0, 8)} created ${j.createdAt}`).join(', ')})`);
  }
  return { lost, failed, duplicateJobs, duplicateJobNotes };
}

export interface LogTally {
  /** Answered ids absent from the store. */
  readonly missing: number;
  /** Extra copies of ids that are in the store more than once. */
  readonly duplicates: number;
  /** Ids in the store that the client never saw answered (a request that timed out after the server logged it). */
  readonly unanswered: number;
  readonly firstMissing: string[];
}

/** Every answered id must be in the log exactly once. */
export function tallyLog(answered: readonly string[], logged: readonly string[]): LogTally {
  const counts = new Map<string, number>();
  for (const id of logged) counts.set(id, (counts.get(id) ?? 0) + 1);
  const want = new Set(answered);
  const missingIds = [...want].filter((id) => !counts.has(id));
  let duplicates = 0;
  let unanswered = 0;
  for (const [id, n] of counts) {
    duplicates += n - 1;
    if (!want.has(id)) unanswered++;
  }
  // The client saw one id twice: the server handed out a duplicate id, which the log cannot tell apart.
  duplicates += answered.length - want.size;
  return { missing: missingIds.length, duplicates, unanswered, firstMissing: missingIds.slice(0, 5) };
}
