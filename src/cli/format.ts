// What the commands print: kubectl-style tables (upper-case headers, columns padded to the widest cell, three
// spaces apart). Pure functions of the objects read, so the output is table-tested.
import { ConditionType } from '../api/conditions.js';
import type { ModelDeployment } from '../api/model-deployment.js';
import type { TrainingPipeline, TrainingRun } from '../api/training-pipeline.js';

const none = '-';

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('   ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

interface Conditioned {
  readonly metadata: { readonly generation?: number | undefined };
  readonly status?: { readonly observedGeneration?: number | undefined; readonly conditions?: readonly { readonly type: string; readonly status: string; readonly reason?: string | undefined }[] | undefined } | undefined;
}

/** The READY column: the condition's status and reason, or why it cannot be trusted yet. */
export function readiness(obj: Conditioned, type: string): string {
  const status = obj.status;
  if (!status) return 'Unknown (no status yet)';
  if (obj.metadata.generation !== undefined && (status.observedGeneration ?? 0) < obj.metadata.generation) {
    return 'Unknown (spec change not yet observed)';
  }
  const invalid = status.conditions?.find((c) => c.type === ConditionType.Accepted && c.status === 'False');
  if (invalid) return `False (${invalid.reason ?? 'NotAccepted'})`;
  const c = status.conditions?.find((x) => x.type === type);
  if (!c) return 'Unknown';
  return c.reason ? `${c.status} (${c.reason})` : c.status;
}

function pipelineRow(tp: TrainingPipeline): string[] {
  const s = tp.status;
  return ['TrainingPipeline', tp.metadata.name ?? '', s?.phase ?? none, s?.championVersion ?? none,
    s?.currentRun ? `run ${s.currentRun}` : none, readiness(tp, ConditionType.Ready)];
}

function deploymentRow(md: ModelDeployment): string[] {
  const s = md.status;
  const canary = s?.canaryVersion
    ? `canary ${s.canaryVersion} at ${s.canaryWeight ?? 0}%${s.currentStep === undefined ? '' : ` (step ${s.currentStep})`}`
    : none;
  return ['ModelDeployment', md.metadata.name ?? '', s?.phase ?? none, s?.stableVersion ?? none, canary,
    readiness(md, ConditionType.Available)];
}

/** `status`: one line per pipeline and deployment, sorted by namespace, kind, name. */
export function statusTable(pipelines: readonly TrainingPipeline[], deployments: readonly ModelDeployment[], withNamespace: boolean): string {
  if (pipelines.length === 0 && deployments.length === 0) return 'No TrainingPipelines or ModelDeployments found.\n';
  const rows = [
    ...pipelines.map((tp) => [tp.metadata.namespace ?? '', ...pipelineRow(tp)]),
    ...deployments.map((md) => [md.metadata.namespace ?? '', ...deploymentRow(md)]),
  ].sort((a, b) => a.join('\u0000').localeCompare(b.join('\u0000')));
  const header = ['NAMESPACE', 'KIND', 'NAME', 'PHASE', 'MODEL', 'IN PROGRESS', 'READY'];
  return withNamespace ? table(header, rows) : table(header.slice(1), rows.map((r) => r.slice(1)));
}

function metricsText(metrics: Readonly<Record<string, number>> | undefined): string {
  if (!metrics) return none;
  const entries = Object.entries(metrics).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? none : entries.map(([k, v]) => `${k}=${Number(v.toPrecision(4))}`).join(' ');
}

function gatesText(run: TrainingRun): string {
  const failed = (run.gates ?? []).filter((g) => !g.passed).map((g) => g.name);
  if (!run.gates || run.gates.length === 0) return none;
  return failed.length === 0 ? 'all passed' : `failed: ${failed.join(', ')}`;
}

/** `runs`: the pipeline's latest runs, newest first as status keeps them. */
export function runsTable(tp: TrainingPipeline): string {
  const runs = tp.status?.runs ?? [];
  if (runs.length === 0) return `TrainingPipeline ${tp.metadata.name ?? ''} has no runs yet.\n`;
  return table(['RUN', 'VERSION', 'TRIGGER', 'OUTCOME', 'STARTED', 'COMPLETED', 'GATES', 'METRICS'],
    runs.map((r) => [r.name, r.version ?? none, r.trigger, r.outcome, r.startTime, r.completionTime ?? none, gatesText(r), metricsText(r.metrics)]));
}

/** The number of a v<n> version name, for newest-first order (other names last). */
function versionNumber(v: string): number {
  const m = /^v(\d+)$/.exec(v);
  return m ? Number(m[1]) : -1;
}

/** What became of a version: its run's outcome, and whether production rolled it back as champion. */
function outcomeText(tp: TrainingPipeline, version: string, run: TrainingRun | undefined): string {
  const s = tp.status;
  const outcome = run?.outcome ?? (version === s?.championVersion ? 'Blessed' : none);
  const demoted = s?.demotions?.find((d) => d.version === version);
  return demoted ? `${outcome}, rolled back by ${demoted.deployment}` : outcome;
}

/**
 * `versions`: the versions that exist, newest first, marking the champion. The operator lists the store and writes
 * what is there after retention (status.storedVersions): a version whose run failed or refused its data published
 * nothing, and one retention deleted is gone. Until it has listed (an operator from before it did), the versions
 * the kept runs published (Blessed or Rejected) are shown, saying the store was not checked.
 */
export function versionsTable(tp: TrainingPipeline): string {
  const s = tp.status;
  const runs = s?.runs ?? [];
  const stored = s?.storedVersions;
  const names = stored !== undefined
    ? [...stored]
    : runs.filter((r) => r.version !== undefined && (r.outcome === 'Blessed' || r.outcome === 'Rejected')).map((r) => r.version ?? '');
  // The champion may be older than the runs status still lists.
  if (stored === undefined && s?.championVersion && !names.includes(s.championVersion)) names.push(s.championVersion);
  names.sort((a, b) => versionNumber(b) - versionNumber(a));
  const rows = names.map((v) => {
    const run = runs.find((r) => r.version === v);
    const metrics = run?.metrics ?? (v === s?.championVersion ? s.championMetrics : undefined);
    return [v, v === s?.championVersion ? 'yes' : '', outcomeText(tp, v, run), run?.name ?? none, run?.completionTime ?? none, metricsText(metrics)];
  });
  if (rows.length === 0) return `TrainingPipeline ${tp.metadata.name ?? ''} has published no versions yet.\n`;
  const unchecked = stored === undefined ? '(not checked against the store yet: retention may have deleted some)\n' : '';
  const out = table(['VERSION', 'CHAMPION', 'OUTCOME', 'RUN', 'PUBLISHED', 'METRICS'], rows) + unchecked;
  return s?.modelPrefix ? `${out}Stored under ${s.modelPrefix}\n` : out;
}

interface WithConditions {
  readonly kind: string;
  readonly metadata: { readonly name?: string | undefined; readonly namespace?: string | undefined; readonly generation?: number | undefined };
  readonly status?: { readonly observedGeneration?: number | undefined; readonly conditions?: readonly { readonly type: string; readonly status: string; readonly reason?: string | undefined; readonly message?: string | undefined; readonly lastTransitionTime?: string | undefined }[] | undefined } | undefined;
}

/** `status KIND/NAME`: the object's conditions, one per line, and whether the status is of the current spec. */
export function conditionsTable(obj: WithConditions): string {
  const s = obj.status;
  const name = `${obj.kind} ${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`;
  if (!s) return `${name} has no status yet.\n`;
  const stale = obj.metadata.generation !== undefined && (s.observedGeneration ?? 0) < obj.metadata.generation
    ? ` (describes generation ${s.observedGeneration ?? 0}; the spec is at ${obj.metadata.generation})` : '';
  const rows = (s.conditions ?? []).map((c) => [c.type, c.status, c.reason ?? none, c.lastTransitionTime ?? none, c.message ?? '']);
  return `${name}${stale}\n` + (rows.length === 0 ? 'No conditions yet.\n' : table(['TYPE', 'STATUS', 'REASON', 'SINCE', 'MESSAGE'], rows));
}
