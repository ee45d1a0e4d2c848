// The dashboard's pages: pure functions of the objects (and the deployment's history), so the HTML is
// table-tested and the server only reads, checks access and writes. Read-only: no page changes anything.
import type { ModelDeployment } from '../../api/model-deployment.js';
import type { TrainingPipeline, TrainingRun } from '../../api/training-pipeline.js';
import { lowerIsBetter, type MetricName } from '../../shared/metric-names.js';
import type { DeploymentHistory } from './history.js';
import type { VersionReport } from './reports.js';
import { escapeHtml, link, page, seg, table } from './html.js';
import { lineChart, runTimeline, type Series } from './svg.js';

const none = '-';
const num = (v: number | undefined): string => (v === undefined ? none : String(Number(v.toPrecision(4))));
const cls = (c: string, text: string): string => `<span class="${escapeHtml(c)}">${escapeHtml(text)}</span>`;

type Conditioned = { readonly status?: { readonly conditions?: readonly { readonly type: string; readonly status: string; readonly reason?: string | undefined; readonly message?: string | undefined }[] | undefined } | undefined };

function conditions(obj: Conditioned): string {
  const rows = (obj.status?.conditions ?? []).map((c) => [escapeHtml(c.type), cls(c.status, c.status), escapeHtml(c.reason ?? none), escapeHtml(c.message ?? '')]);
  return table(['Condition', 'Status', 'Reason', 'Message'], rows, [0, 1, 2, 3]);
}

export interface NamespaceSummary {
  readonly name: string;
  readonly pipelines: number;
  readonly deployments: number;
}

export function indexPage(namespaces: readonly NamespaceSummary[], user: string): string {
  const rows = namespaces.map((n) => [link(`/ns/${seg(n.name)}`, n.name), String(n.pipelines), String(n.deployments)]);
  const body = namespaces.length === 0
    ? '<p class="empty">No namespace you may read holds TrainingPipelines or ModelDeployments.</p>'
    : table(['Namespace', 'TrainingPipelines', 'ModelDeployments'], rows, [0]);
  return page('Namespaces', body, user);
}

export function namespacePage(namespace: string, pipelines: readonly TrainingPipeline[], deployments: readonly ModelDeployment[], user: string): string {
  const tpRows = pipelines.map((tp) => [link(`/ns/${seg(namespace)}/pipelines/${seg(tp.metadata.name ?? '')}`, tp.metadata.name ?? ''),
    escapeHtml(tp.status?.phase ?? none), escapeHtml(tp.status?.championVersion ?? none), escapeHtml(tp.status?.currentRun ?? none)]);
  const mdRows = deployments.map((md) => [link(`/ns/${seg(namespace)}/deployments/${seg(md.metadata.name ?? '')}`, md.metadata.name ?? ''),
    escapeHtml(md.status?.phase ?? none), escapeHtml(md.status?.stableVersion ?? none),
    escapeHtml(md.status?.canaryVersion ? `${md.status.canaryVersion} at ${md.status.canaryWeight ?? 0}%` : none)]);
  return page(`Namespace ${namespace}`, '<h2>TrainingPipelines</h2>' + table(['Name', 'Phase', 'Champion', 'Run in progress'], tpRows, [0, 1, 2, 3])
    + '<h2>ModelDeployments</h2>' + table(['Name', 'Phase', 'Stable', 'Candidate'], mdRows, [0, 1, 2, 3]), user);
}

/** A candidate's metric against the champion's on the same holdout, marked better or worse. */
function versus(metric: string, mine: number | undefined, champion: number | undefined): string {
  if (mine === undefined) return none;
  if (champion === undefined) return escapeHtml(num(mine));
  const lower = lowerIsBetter.has(metric as MetricName);
  const better = lower ? mine < champion : mine > champion;
  const same = mine === champion;
  return `${escapeHtml(num(mine))} <span class="${same ? '' : better ? 'better' : 'worse'}">vs ${escapeHtml(num(champion))}</span>`;
}

function metricColumns(runs: readonly TrainingRun[]): string[] {
  return [...new Set(runs.flatMap((r) => Object.keys(r.metrics ?? {})))].sort();
}

/** The stored versions' metrics.json: each version's holdout metrics against the champion it was compared with. */
function reportsTable(reports: readonly VersionReport[], champion: string | undefined): string {
  if (reports.length === 0) return '';
  const metrics = [...new Set(reports.flatMap((r) => ('report' in r ? Object.keys(r.report.candidate.metrics) : [])))].sort();
  const rows = reports.map((r) => {
    const name = escapeHtml(r.version) + (r.version === champion ? ' <b>(champion)</b>' : '');
    if (!('report' in r)) return [name, `<span class="worse">${escapeHtml(r.error)}</span>`, ...metrics.map(() => ''), '', ''];
    const rep = r.report;
    return [name, escapeHtml(rep.champion ? `against ${rep.champion.version}` : 'no champion then'),
      ...metrics.map((m) => versus(m, rep.candidate.metrics[m as MetricName], rep.champion?.metrics[m as MetricName])),
      escapeHtml(`${rep.holdout.rows} rows (${rep.holdout.kind}), ${rep.candidate.slices.length} slices`),
      escapeHtml(rep.gatesPassed ? 'passed' : `failed: ${rep.gates.filter((g) => g.status === 'fail').map((g) => g.gate).join(', ')}`)];
  });
  return '<h3>Versions in the store (their metrics.json)</h3>'
    + table(['Version', 'Compared', ...metrics, 'Holdout', 'Trainer\'s gates'], rows, rows[0]?.map((_, i) => i) ?? []);
}

export function pipelinePage(tp: TrainingPipeline, now: number, user: string, reports: readonly VersionReport[] = []): string {
  const s = tp.status;
  const runs = s?.runs ?? [];
  const ns = tp.metadata.namespace ?? '';
  const timeline = runTimeline(runs.map((r) => ({ name: r.name, trigger: r.trigger, outcome: r.outcome, start: Date.parse(r.startTime),
    end: r.completionTime ? Date.parse(r.completionTime) : undefined })), now);
  const runRows = runs.map((r) => [escapeHtml(r.name), escapeHtml(r.version ?? none), escapeHtml(r.trigger), escapeHtml(r.reason ?? ''),
    cls(r.outcome, r.outcome), escapeHtml(r.startTime), escapeHtml(r.completionTime ?? none), escapeHtml(r.message ?? '')]);
  const metrics = metricColumns(runs);
  const versionRows = runs.filter((r) => r.metrics !== undefined).map((r) => [
    escapeHtml(r.version ?? none) + (r.version !== undefined && r.version === s?.championVersion ? ' <b>(champion)</b>' : ''), cls(r.outcome, r.outcome),
    ...metrics.map((m) => versus(m, r.metrics?.[m], r.championMetrics?.[m])),
    escapeHtml((r.gates ?? []).map((g) => `${g.name} ${g.passed ? 'passed' : 'FAILED'}`).join(', ') || none)]);
  const champion = s?.championVersion
    ? `<p>Champion <b>${escapeHtml(s.championVersion)}</b>: ${escapeHtml(Object.entries(s.championMetrics ?? {}).map(([k, v]) => `${k} ${num(v)}`).join(', ') || 'no metrics recorded')}.</p>`
    : '<p class="empty">No champion yet.</p>';
  const stored = s?.storedVersions ? `<p>Versions in the store: ${escapeHtml(s.storedVersions.join(', ') || 'none')}${s.modelPrefix ? ` (under ${escapeHtml(s.modelPrefix)})` : ''}.</p>` : '';
  const body = `<p>${link(`/ns/${seg(ns)}`, `namespace ${ns}`)} · phase ${escapeHtml(s?.phase ?? 'no status yet')}</p>${conditions(tp)}`
    + `<h2>Run timeline</h2>${timeline}`
    + `<h2>Runs and trigger reasons</h2>${table(['Run', 'Version', 'Trigger', 'Why', 'Outcome', 'Started', 'Ended', 'Message'], runRows, [0, 1, 2, 3, 4, 5, 6, 7])}`
    + `<h2>Offline metrics against the champion</h2>${champion}${stored}`
    + `<p>Each candidate's holdout metrics, then the champion's on the same holdout (green: better, red: worse).</p>`
    + table(['Version', 'Outcome', ...metrics, 'Gates'], versionRows, [0, 1, ...metrics.map((_, i) => i + 2), metrics.length + 2])
    + reportsTable(reports, s?.championVersion);
  return page(`TrainingPipeline ${ns}/${tp.metadata.name ?? ''}`, body, user);
}

/** The canary steps with the current one marked. */
function stepsTable(md: ModelDeployment): string {
  const steps = md.spec.rollout?.canary?.steps ?? [];
  const current = md.status?.canaryVersion ? md.status.currentStep : undefined;
  const rows = steps.map((st, i) => {
    const what = st.setWeight !== undefined ? `setWeight ${st.setWeight}%` : st.pause ? `pause ${st.pause.duration ?? 'until promoted'}` : st.analysis ? 'analysis' : '?';
    const mark = i === current ? '<span class="current">◀ current</span>' : '';
    return [String(i), escapeHtml(what), mark];
  });
  return table(['Step', 'What', ''], rows, [2]);
}

function liveCharts(history: DeploymentHistory): string {
  const t = (time: string): number => Date.parse(time);
  const quality: Series[] = [];
  for (const key of ['accuracy', 'estimatedAccuracy', 'rmse'] as const) {
    const points = history.live.filter((p) => p[key] !== undefined).map((p) => ({ t: t(p.time), v: p[key] ?? 0 }));
    if (points.length > 0) quality.push({ name: key, points });
  }
  const features = [...new Set(history.live.flatMap((p) => Object.keys(p.drift)))].sort();
  const drift: Series[] = features.map((f) => ({ name: f, points: history.live.filter((p) => p.drift[f] !== undefined).map((p) => ({ t: t(p.time), v: p.drift[f] ?? 0 })) }));
  // The weight holds until the next change: drawn on to the latest measurement.
  const weightPoints = history.weights.map((p) => ({ t: t(p.time), v: p.weight }));
  const lastWeight = weightPoints.at(-1);
  const lastLive = history.live.at(-1);
  if (lastWeight && lastLive && t(lastLive.time) > lastWeight.t) weightPoints.push({ t: t(lastLive.time), v: lastWeight.v });
  const weights: Series[] = [{ name: 'candidate %', points: weightPoints }];
  return lineChart('Live accuracy over time', quality)
    + lineChart('Drift per feature (PSI) over time', drift, { yMin: 0 })
    + lineChart('Candidate weight over time', weights, { step: true, yMin: 0, yMax: 100 });
}

export function deploymentPage(md: ModelDeployment, history: DeploymentHistory, user: string): string {
  const s = md.status;
  const ns = md.metadata.namespace ?? '';
  const revisions = [
    ['stable', s?.stableVersion, s?.stableRevision, s?.stableWeight ?? (s?.canaryVersion ? 100 - (s.canaryWeight ?? 0) : 100), s?.stableReadyReplicas],
    ...(s?.canaryVersion ? [['candidate', s.canaryVersion, s.canaryRevision, s.canaryWeight ?? 0, s.canaryReadyReplicas]] : []),
  ].filter((r) => r[1] !== undefined).map((r) => [String(r[0]), String(r[1]), String(r[2] ?? none), `${String(r[3])}%`, String(r[4] ?? 0)]);
  const analyses = (s?.analysis ?? []).map((a) => [escapeHtml(a.time), escapeHtml(a.version), escapeHtml(String(a.step ?? none)), cls(a.verdict, a.verdict),
    escapeHtml(Object.entries(a.measurements ?? {}).sort(([x], [y]) => x.localeCompare(y)).map(([k, v]) => `${k}=${num(v)}`).join(' ')), escapeHtml(a.message ?? '')]);
  const extra = [
    s?.previousVersion ? `<p>Previous version <b>${escapeHtml(s.previousVersion)}</b> kept for rollback since ${escapeHtml(s.promotedTime ?? '?')}.</p>` : '',
    s?.abortedVersion ? `<p>Aborted <b>${escapeHtml(s.abortedVersion)}</b>: ${escapeHtml(s.abortedMessage ?? '')}</p>` : '',
    s?.message ? `<p>${escapeHtml(s.message)}</p>` : '',
  ].join('');
  const body = `<p>${link(`/ns/${seg(ns)}`, `namespace ${ns}`)} · phase ${escapeHtml(s?.phase ?? 'no status yet')}${md.spec.model.fromPipeline ? ` · follows ${link(`/ns/${seg(ns)}/pipelines/${seg(md.spec.model.fromPipeline)}`, md.spec.model.fromPipeline)}` : ''}</p>`
    + conditions(md) + extra
    + `<h2>Canary progress</h2>${table(['Revision', 'Version', 'Deployment', 'Weight', 'Ready pods'], revisions)}${stepsTable(md)}`
    + `<h2>Analyses (newest first)</h2>${table(['Time', 'Version', 'Step', 'Verdict', 'Measurements', 'Message'], analyses, [0, 1, 2, 3, 4, 5])}`
    + `<h2>Live metrics</h2><p>Kept by the operator in memory since it started, up to the last ${String(360)} measurements.</p>${liveCharts(history)}`;
  return page(`ModelDeployment ${ns}/${md.metadata.name ?? ''}`, body, user);
}

export function loginPage(message: string | undefined): string {
  const note = message ? `<p class="worse">${escapeHtml(message)}</p>` : '';
  return page('Log in', `${note}<p>Paste a Kubernetes bearer token (e.g. <code>kubectl create token &lt;service-account&gt;</code>). The dashboard shows the namespaces where it may get and list TrainingPipelines and ModelDeployments.</p>`
    + '<form method="post" action="/login"><input type="password" name="token" size="60" autocomplete="off" required> <button type="submit">Log in</button></form>', undefined);
}

export function errorPage(title: string, message: string, user: string | undefined): string {
  return page(title, `<p>${escapeHtml(message)}</p>`, user);
}
