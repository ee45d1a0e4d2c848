// Which version is the champion: the one production accepted. Pure, table-tested.
//
// A blessing makes a version champion (plan.ts, when its run ends). Then production has its say: a ModelDeployment
// following the pipeline rolls each new champion out and may abort it (a failed live gate, its pods not ready in
// time, an abort by request). A champion that a follower aborted, while that follower still serves another version
// as stable, is demoted: the champion becomes the version the follower serves as stable (or, when that is not one
// of this pipeline's versions in the store, the newest other blessed version). So the next run warm-starts from and
// is judged against what production serves, not against a version production refused. The demotion is recorded in
// status.demotions (with the deployment's abortedMessage) and told by a Warning event, once: the champion has moved.
//
// It is level-triggered: whenever the champion is a version a follower aborted, it is demoted. A follower that
// aborted a new server template of the version it serves (stable and aborted the same version) refused no model.
//
// A person pins the champion with the perennial.dev/champion annotation, naming a version in the store. While it
// is set the champion is that version: a rollback does not demote it and a blessing does not move it (the run still
// ends Blessed, saying so). Removed, the champion stays where it is until the next blessing or rollback; so setting
// and then removing it restores a version. An annotation naming no version in the store (or the run in progress's)
// is refused, with one Warning event per value, and the champion follows production as if it were not there.
import { Annotation, Reason } from '../../../api/conditions.js';
import type { Demotion, TrainingPipelineStatus, TrainingRun } from '../../../api/training-pipeline.js';
import { formatTime } from '../../runtime/conditions.js';
import type { PlannedEvent } from '../planned-event.js';

/** What a ModelDeployment following the pipeline says about the versions it serves and refused. */
export interface Follower {
  readonly name: string;
  readonly stableVersion: string | undefined;
  readonly abortedVersion: string | undefined;
  readonly abortedMessage: string | undefined;
}

export interface ChampionInput {
  readonly status: TrainingPipelineStatus;
  /** The perennial.dev/champion annotation's value (undefined or empty: none). */
  readonly pin: string | undefined;
  readonly followers: readonly Follower[];
  /** The versions in the store (undefined: not listed, then a follower's stable version is taken on trust). */
  readonly versions: readonly string[] | undefined;
  readonly nowMs: number;
}

export interface ChampionStep {
  readonly status: TrainingPipelineStatus;
  readonly events: readonly PlannedEvent[];
  /** The version the annotation pins (in force), or undefined. */
  readonly pinned: string | undefined;
}

type Status = TrainingPipelineStatus;

/** The holdout metrics a kept run recorded for this version, or undefined. */
function metricsOf(runs: readonly TrainingRun[] | undefined, version: string): Record<string, number> | undefined {
  return (runs ?? []).find((r) => r.version === version && r.metrics !== undefined)?.metrics;
}

/** The status with another champion: its metrics from the run that published it, or none (never another version's). */
function withChampion(status: Status, version: string): Status {
  const { championMetrics: _old, ...rest } = status;
  const metrics = metricsOf(status.runs, version);
  return { ...rest, championVersion: version, ...(metrics ? { championMetrics: metrics } : {}) };
}

function runningVersion(status: Status): string | undefined {
  return (status.runs ?? []).find((r) => r.name === status.currentRun)?.version;
}

/** The pin in force, or why the annotation is refused. */
function readPin(input: ChampionInput): { pinned: string | undefined; refused: string | undefined } {
  const pin = input.pin;
  if (pin === undefined || pin === '') return { pinned: undefined, refused: undefined };
  if (input.versions === undefined || !input.versions.includes(pin) || pin === runningVersion(input.status)) {
    return { pinned: undefined, refused: `Annotation ${Annotation.champion}=${pin} ignored: ${pin} is not a version in the store${pin === runningVersion(input.status) ? ' yet (its run is in progress)' : ''}.` };
  }
  return { pinned: pin, refused: undefined };
}

/** The follower that rolled the champion back, if any. */
export function rollbackOf(champion: string | undefined, followers: readonly Follower[]): Follower | undefined {
  if (champion === undefined) return undefined;
  return [...followers].sort((a, b) => a.name.localeCompare(b.name))
    .find((f) => f.abortedVersion === champion && f.stableVersion !== champion);
}

/** What the champion goes back to: the follower's stable version, else the newest other blessed version in the store. */
export function demotionTarget(status: Status, follower: Follower, versions: readonly string[] | undefined): string | undefined {
  const champion = status.championVersion;
  const exists = (v: string): boolean => versions === undefined || versions.includes(v);
  const stable = follower.stableVersion;
  if (stable !== undefined && stable !== champion && exists(stable)) return stable;
  return (status.runs ?? []).find((r) => r.outcome === 'Blessed' && r.version !== undefined && r.version !== champion && exists(r.version))?.version;
}

function demote(input: ChampionInput, status: Status): { status: Status; events: PlannedEvent[] } {
  const champion = status.championVersion;
  const follower = rollbackOf(champion, input.followers);
  if (champion === undefined || follower === undefined) return { status, events: [] };
  const to = demotionTarget(status, follower, input.versions);
  if (to === undefined) return { status, events: [] }; // nothing to go back to: the champion stays
  const why = follower.abortedMessage ?? 'aborted';
  const demotion: Demotion = { version: champion, to, deployment: follower.name, time: formatTime(input.nowMs), reason: why.slice(0, 2048) };
  const note = `Champion ${champion} demoted to ${to}: ModelDeployment ${follower.name} rolled it back (${why}). Runs now start from and are judged against ${to}.`;
  return {
    status: { ...withChampion(status, to), demotions: [demotion, ...(status.demotions ?? [])].slice(0, 10) },
    events: [{ type: 'Warning', reason: Reason.ChampionDemoted, note: note.slice(0, 1024) }],
  };
}

export function followProduction(input: ChampionInput): ChampionStep {
  const { pinned, refused } = readPin(input);
  const { lastChampionPin: lastPin, ...rest } = input.status;
  const status: Status = input.pin === undefined || input.pin === '' ? rest : { ...rest, lastChampionPin: input.pin };
  const events: PlannedEvent[] = [];
  if (refused !== undefined && input.pin !== lastPin) events.push({ type: 'Warning', reason: Reason.ChampionPinRefused, note: refused });
  if (pinned !== undefined) {
    if (status.championVersion === pinned) return { status, events, pinned };
    const was = status.championVersion;
    events.push({ type: 'Normal', reason: Reason.ChampionPinned, note: `Champion set to ${pinned} by annotation ${Annotation.champion}${was ? ` (was ${was})` : ''}; pinned while the annotation is set.` });
    return { status: withChampion(status, pinned), events, pinned };
  }
  const demoted = demote(input, status);
  return { status: demoted.status, events: [...events, ...demoted.events], pinned: undefined };
}

/** What status says about the champion: pinned, demoted to, or simply which. */
export function championNote(status: Status, pinned: string | undefined): string | undefined {
  const champion = status.championVersion;
  if (champion === undefined) return undefined;
  if (pinned === champion) return `Champion ${champion}, pinned by the ${Annotation.champion} annotation`;
  const last = status.demotions?.[0];
  if (last && last.to === champion) return `Champion ${champion}: ${last.version} was demoted, ModelDeployment ${last.deployment} rolled it back (${last.reason})`;
  return `Champion ${champion}`;
}
