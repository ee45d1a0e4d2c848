// What `get` prints: one object as a tree, kubectl-argo-rollouts style. A deployment shows its revisions (stable,
// candidate, previous, aborted) with their weights and ready pods, then every analysis verdict the status keeps; a
// pipeline shows its runs with their triggers and outcomes, then the versions that exist. Pure functions of the
// object, so the output is table-tested; --watch prints it again whenever it changes.
import type { ModelDeployment } from '../api/model-deployment.js';
import type { TrainingPipeline } from '../api/training-pipeline.js';
import { readiness } from './format.js';
import { ConditionType } from '../api/conditions.js';

const none = '-';

/** Lines of a subtree: `├─ ` before each but the last, `└─ ` before the last, and the children indented under it. */
export interface Node {
  readonly text: string;
  readonly children?: readonly Node[];
}

export function renderTree(root: Node): string {
  const out = [root.text];
  const walk = (nodes: readonly Node[], indent: string): void => {
    nodes.forEach((n, i) => {
      const last = i === nodes.length - 1;
      out.push(`${indent}${last ? '└─ ' : '├─ '}${n.text}`);
      if (n.children && n.children.length > 0) walk(n.children, indent + (last ? '   ' : '│  '));
    });
  };
  walk(root.children ?? [], '');
  return out.join('\n') + '\n';
}

function numberText(v: number): string {
  return String(Number(v.toPrecision(4)));
}

function metricsText(metrics: Readonly<Record<string, number>> | undefined, keys?: readonly string[]): string {
  if (!metrics) return '';
  return Object.entries(metrics)
    .filter(([k]) => keys === undefined || keys.includes(k))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${numberText(v)}`).join(' ');
}

const join = (...parts: readonly (string | undefined)[]): string => parts.filter((p) => p !== undefined && p !== '').join('   ');

/** The figures an analysis line shows (the rest are in -o yaml). */
const analysisKeys = ['samples', 'labelledSamples', 'accuracy', 'stableAccuracy', 'rmse', 'stableRmse', 'errorRate', 'latencyP99Ms', 'maxDriftPsi', 'agreement'];

function stepText(step: number | undefined): string | undefined {
  if (step === undefined) return undefined;
  if (step === -1) return 'shadow';
  if (step === -2) return 'preview';
  return `step ${step}`;
}

/** The revisions serving or kept: stable, candidate, previous (for rollback), aborted. */
function revisionNodes(md: ModelDeployment): Node[] {
  const s = md.status;
  const revisions: Node[] = [];
  if (s?.stableVersion) {
    revisions.push({ text: join(`stable ${s.stableVersion}`, s.stableRevision, `${s.stableWeight ?? (s.canaryVersion ? 100 - (s.canaryWeight ?? 0) : 100)}%`, `${s.stableReadyReplicas ?? 0} ready`) });
  }
  if (s?.canaryVersion) {
    revisions.push({ text: join(`canary ${s.canaryVersion}`, s.canaryRevision, `${s.canaryWeight ?? 0}%`, `${s.canaryReadyReplicas ?? 0} ready`, stepText(s.currentStep), s.stepStartTime ? `since ${s.stepStartTime}` : undefined) });
  }
  if (s?.previousVersion) {
    revisions.push({ text: join(`previous ${s.previousVersion}`, s.previousRevision, `kept for rollback (spec.rollout.rollbackWindow ${md.spec.rollout?.rollbackWindow ?? '1h'} from ${s.promotedTime ?? '?'})`) });
  }
  if (s?.abortedVersion) {
    revisions.push({ text: join(`aborted ${s.abortedVersion}`, s.abortedMessage) });
  }
  return revisions;
}

function liveNode(live: NonNullable<ModelDeployment['status']>['liveMetrics']): Node | undefined {
  if (!live) return undefined;
  const figures: Record<string, number> = {};
  for (const key of ['accuracy', 'rmse', 'maxDriftPsi', 'requestRate'] as const) {
    const v = live[key];
    if (v !== undefined) figures[key] = v;
  }
  return { text: join(`live ${live.version ?? none}`, live.time, metricsText(figures)) };
}

export function deploymentTree(md: ModelDeployment): string {
  const s = md.status;
  const revisions = revisionNodes(md);
  const analyses: Node[] = (s?.analysis ?? []).map((a) => ({
    text: join(a.time, a.version, stepText(a.step), a.verdict, metricsText(a.measurements, analysisKeys)),
    children: a.message ? [{ text: a.message }] : [],
  }));
  const children: Node[] = [
    { text: revisions.length > 0 ? 'revisions' : 'revisions: none yet', children: revisions },
    { text: analyses.length > 0 ? 'analyses (newest first)' : 'analyses: none', children: analyses },
  ];
  const live = liveNode(s?.liveMetrics);
  if (live) children.push(live);
  if (s?.message) children.push({ text: `message: ${s.message}` });
  const header = join(`ModelDeployment ${md.metadata.namespace ?? ''}/${md.metadata.name ?? ''}`, s?.phase ?? 'no status yet',
    `Available=${readiness(md, ConditionType.Available)}`, md.spec.rollout?.paused ? 'paused by spec.rollout.paused' : undefined);
  return renderTree({ text: header, children });
}

/** The versions `versions` would list (status.storedVersions, else the published ones of the kept runs), newest first. */
function existingVersions(tp: TrainingPipeline): string[] {
  const s = tp.status;
  const names = s?.storedVersions !== undefined
    ? [...s.storedVersions]
    : (s?.runs ?? []).filter((r) => r.version !== undefined && (r.outcome === 'Blessed' || r.outcome === 'Rejected')).map((r) => r.version ?? '');
  if (s?.storedVersions === undefined && s?.championVersion && !names.includes(s.championVersion)) names.push(s.championVersion);
  const n = (v: string): number => Number(/^v(\d+)$/.exec(v)?.[1] ?? -1);
  return names.sort((a, b) => n(b) - n(a));
}

export function pipelineTree(tp: TrainingPipeline): string {
  const s = tp.status;
  const runs: Node[] = (s?.runs ?? []).map((r) => ({
    text: join(r.name, r.version, r.trigger, r.outcome, `started ${r.startTime}`, r.completionTime ? `ended ${r.completionTime}` : undefined),
    children: [
      ...(r.reason ? [{ text: `why: ${r.reason}` }] : []),
      ...(r.metrics ? [{ text: join(`metrics ${metricsText(r.metrics)}`, r.championMetrics ? `champion ${metricsText(r.championMetrics)}` : undefined) }] : []),
      ...(r.gates ?? []).map((g) => ({ text: join(`gate ${g.name}`, g.passed ? 'passed' : 'FAILED', g.message) })),
      ...(r.message && r.outcome !== 'Blessed' ? [{ text: r.message }] : []),
    ],
  }));
  const versions: Node[] = existingVersions(tp).map((v) => {
    const run = s?.runs?.find((r) => r.version === v);
    const demoted = s?.demotions?.find((d) => d.version === v);
    return { text: join(v, v === s?.championVersion ? 'champion' : undefined, run?.outcome, demoted ? `rolled back by ${demoted.deployment}` : undefined) };
  });
  const header = join(`TrainingPipeline ${tp.metadata.namespace ?? ''}/${tp.metadata.name ?? ''}`, s?.phase ?? 'no status yet',
    `champion ${s?.championVersion ?? none}`, `Ready=${readiness(tp, ConditionType.Ready)}`);
  return renderTree({
    text: header,
    children: [
      { text: runs.length > 0 ? 'runs (newest first)' : 'runs: none yet', children: runs },
      { text: versions.length > 0 ? `versions${s?.storedVersions === undefined ? ' (not checked against the store yet)' : ''}` : 'versions: none published yet', children: versions },
    ],
  });
}
