// The whole loop on the real weather data (issue 9, part 2), with real processes and HTTP only:
//   the local cluster (kube-apiserver, kube-controller-manager, MinIO) + a real node (kubelet, containerd,
//   kube-proxy, CoreDNS) running the trainer and server images built from their Dockerfiles as pods + the operator
//   installed by helm (two replicas of its image, one leading).
//   1. A TrainingPipeline trains v1 on Seattle; a ModelDeployment following it serves v1.
//   2. Traffic to the ModelDeployment's Service ClusterIP (kube-proxy balances it over the ready pods), with the
//      true label of every answered prediction sent to its feedback Service's ClusterIP with the Secret's token.
//   3. New York arrives: traffic switches to New York days and New York CSV objects land under the data prefix.
//      Drift and/or falling live accuracy fire the pipeline's trigger; the run trains on the fed-back data too;
//      v2 is evaluated against v1 on the same holdout, blessed, canaried through the live gates and promoted;
//      live accuracy on New York traffic recovers.
//   4. A deliberately bad candidate (one epoch from scratch at a tiny learning rate, the gates relaxed so it is
//      blessed) is canaried and rolled back automatically, the stable revision untouched.
//   Not one request fails during any of it.
// The operator's tools are used on the same loop, as an operator of the platform would (issue 21): the chart's
// web dashboard (on) in a real headless Chromium, the chart's alert rules and the dashboards' queries in a real
// Prometheus scraping the operator pods and the server pods, the namespace's webhook notifications received by a
// real HTTP server on the host, the kubectl perennial plugin (status --for, get, -o json), Argo CD's suspend and
// resume actions run by the real Lua on the live pipeline, and an HPA asked for by the ModelDeployment, read by
// kube-controller-manager's HPA controller through the scale subresource while the canary runs.
// The milestones print as `# <seconds since start> <what>` lines; the screenshots' paths too.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { AutoscalingV2Api } from '@kubernetes/client-node';
import { repoRoot } from '../../localcluster/cluster.js';
import { runAction, runDiscovery } from '../../argocd/actions.js';
import { PatchType } from '../../src/operator/runtime/kube-http.js';
import type { ModelDeployment } from '../../src/api/model-deployment.js';
import type { TrainingPipeline, TrainingRun } from '../../src/api/training-pipeline.js';
import { eventually } from '../support/eventually.js';
import { buildBundles } from '../support/bundles.js';
import { HeadlessChromium } from '../support/chromium.js';
import { LiveMetricsLog, LoopStack, loopBucket, PodStartLog } from '../support/loop-stack.js';
import { operatorLogs, operatorRelease } from '../support/operator-chart.js';
import { Prometheus, type RuleGroup } from '../support/prometheus.js';
import { Traffic } from '../support/traffic.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import { days } from '../support/weather-traffic.js';
import { badCandidatePatch, loopDeployment, loopTriggers, weather, weatherDataPrefix, weatherPeriods, weatherPipeline } from '../support/weather-loop.js';
import { dashboardQueries, renderChart } from '../integration/chart-tools.js';

/** The kubectl perennial plugin as users run it (the bundle npm install -g installs); its exit code and output. */
async function kubectlPerennial(kubeconfig: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(repoRoot, 'dist/kubectl-perennial/main.js'), '--kubeconfig', kubeconfig, ...args],
      { env: { ...process.env, KUBECTL_PERENNIAL_POLL_MS: '500' }, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (e: unknown) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : 1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

/**
 * The JSON merge patch from one object to another (RFC 7386), as Argo CD computes it between the live object and
 * what an action returned: changed and added keys with their new values, removed keys as null, arrays whole.
 */
function mergePatch(from: unknown, to: unknown): unknown {
  const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
  if (!isObject(from) || !isObject(to)) return to;
  const patch: Record<string, unknown> = {};
  // Lua has one table type: an empty array comes back as an empty object, which is no change.
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b) || (['[]', '{}'].includes(JSON.stringify(a)) && ['[]', '{}'].includes(JSON.stringify(b)));
  for (const [k, v] of Object.entries(to)) {
    if (same(from[k], v)) continue;
    patch[k] = mergePatch(from[k], v);
  }
  for (const k of Object.keys(from)) if (!(k in to)) patch[k] = null;
  return patch;
}

/** The argocd/ customization of a kind: its actions' scripts. */
const argoAction = (kind: string, action: string): string => join(repoRoot, 'argocd', 'resource_customizations', 'perennial.dev', kind, 'actions', action, 'action.lua');
const argoDiscovery = (kind: string): string => join(repoRoot, 'argocd', 'resource_customizations', 'perennial.dev', kind, 'actions', 'discovery.lua');

const namespace = 'loop';
const name = 'weather';
const started = Date.now();
const milestone = (what: string): void => console.log(`# ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s  ${what}`);

describe('closed loop on the weather data (train → serve → drift → retrain → canary → promote → bad candidate rolled back)', () => {
  let stack: LoopStack;
  let traffic: Traffic | undefined;
  let live: LiveMetricsLog | undefined;
  let podStarts: PodStartLog | undefined;
  let hook: WebhookReceiver | undefined;
  let prometheus: Prometheus | undefined;
  let browser: HeadlessChromium | undefined;
  const screenshots: string[] = [];
  const hookToken = 'E2EHOOKSECRET';
  const untilTp = (what: string, ok: (tp: TrainingPipeline) => boolean) => stack.untilTp(name, what, ok);
  const untilMd = (what: string, ok: (md: ModelDeployment) => boolean) => stack.untilMd(name, what, ok);
  const runOf = (tp: TrainingPipeline, version: string): TrainingRun | undefined => tp.status?.runs?.find((r) => r.version === version);

  before(async () => {
    buildBundles(['kubectl-perennial']);
    // The namespace's webhook: a real HTTP server on the host, which pods reach at the node network's host address.
    hook = await startWebhookReceiver(0, '0.0.0.0');
    // The operator as users run it: installed by helm, two replicas of its image on the node, one leading; with the
    // web dashboard and the Grafana dashboards' ConfigMaps on, and the webhook's port among its egress ports.
    stack = await LoopStack.start({
      name: 'e2e-closed-loop', namespace, operator: 'helm', data: { dataset: weather, periods: weatherPeriods('Seattle') }, log: (l) => milestone(l),
      chartValues: {
        dashboard: { enabled: true }, grafana: { dashboards: { enabled: true } },
        networkPolicy: { egressPorts: [443, 6443, 53, 80, 9000, 9090, hook.port] },
      },
    });
    milestone('cluster, node and the helm-installed operator up; Seattle 2012–2015 in the store');
    podStarts = new PodStartLog(stack);
    podStarts.start();
    const hostIP = stack.cluster.info.node?.hostIP ?? '127.0.0.1';
    await stack.core.createNamespacedSecret({ namespace, body: {
      metadata: { name: 'perennial-notifications' }, stringData: { url: `http://${hostIP}:${hook.port}/loop?token=${hookToken}`, format: 'json' },
    } });
    // A real Prometheus scraping both operator pods and every ready server pod, evaluating the chart's alert rules.
    const { docs } = await renderChart(['--set', 'prometheusRule.enabled=true', '--set', 'prometheusRule.operatorJob=perennial-operator']);
    const rules = (docs.find((d) => d.kind === 'PrometheusRule')?.['spec'] as { groups: RuleGroup[] } | undefined)?.groups;
    assert.ok(rules, 'the chart renders a PrometheusRule');
    prometheus = await Prometheus.start({
      rules,
      targets: async () => {
        const pods = await stack.core.listNamespacedPod({ namespace: operatorRelease.namespace, labelSelector: 'app.kubernetes.io/component=operator' });
        const operators = pods.items.filter((p) => p.status?.podIP && p.status.phase === 'Running').map((p) => `${p.status?.podIP ?? ''}:8081`);
        return [
          { targets: operators, labels: { job: 'perennial-operator' } },
          { targets: await stack.endpoints(name).catch(() => []), labels: { job: 'perennial-server', namespace } },
        ];
      },
    });
    browser = await HeadlessChromium.launch('e2e-closed-loop');
  });

  after(async () => {
    if (screenshots.length > 0) console.log(`# dashboard screenshots:\n${screenshots.map((x) => `#   ${x}`).join('\n')}`);
    await browser?.close();
    prometheus?.stop();
    hook?.close();
    await traffic?.stop();
    await live?.stop();
    await podStarts?.stop();
    if (stack !== undefined && podStarts !== undefined) {
      const f = (k: 'trainer' | 'server'): string => { const p = podStarts?.percentiles(k); return `${k} p50 ${String(p?.p50)} s, p99 ${String(p?.p99)} s over ${String(p?.pods)} pods`; };
      milestone(`pod start (creation to container running): ${f('trainer')}; ${f('server')}`);
    }
    // The operator's log goes with the cluster: keep it with the others.
    if (stack !== undefined) {
      const logs = await operatorLogs(stack.cluster).catch((e: unknown) => `no operator logs: ${String(e)}`);
      writeFileSync(join(stack.cluster.logDir, 'operator.log'), logs);
      milestone(`operator log: ${join(stack.cluster.logDir, 'operator.log')}`);
    }
    await stack?.stop();
  });

  /**
   * After the loop went through a promotion (v2) and a rollback (v3): what an operator of the platform sees and does
   * with Perennial's tools, each on the real loop.
   */
  async function operatorTools(v2: string, v3: string): Promise<void> {
    const kubeconfig = stack.cluster.info.kubeconfigPath;
    const prom = prometheus;
    assert.ok(prom && hook && browser);

    // kubectl perennial: the deployment's tree (revisions, weights, analyses) and the objects as JSON.
    const tree = await kubectlPerennial(kubeconfig, ['get', 'md/weather', '-n', namespace]);
    assert.equal(tree.code, 0, tree.stderr);
    assert.match(tree.stdout, new RegExp(`${v3}[^\n]*Failed`), tree.stdout);
    assert.match(tree.stdout, new RegExp(`stable[^\n]*${v2}`), tree.stdout);
    const asJson = await kubectlPerennial(kubeconfig, ['get', 'md/weather', '-n', namespace, '-o', 'json']);
    assert.equal((JSON.parse(asJson.stdout) as ModelDeployment).status?.abortedVersion, v3);
    const table = await kubectlPerennial(kubeconfig, ['status', '-n', namespace]);
    assert.match(table.stdout, /weather/);
    console.log(`# kubectl perennial get md/weather:\n${tree.stdout.split('\n').map((l) => `#   ${l}`).join('\n')}`);

    // The HPA the deployment asked for, read by kube-controller-manager's HPA controller through the scale
    // subresource (no metrics source here, so it holds the total within its bounds).
    const hpa = await eventually('the HPA controller to read the deployment\'s scale', async () => {
      const h = await stack.kc.makeApiClient(AutoscalingV2Api).readNamespacedHorizontalPodAutoscaler({ namespace, name });
      return h.status?.currentReplicas === 2 && h.status.conditions?.some((c) => c.type === 'AbleToScale' && c.status === 'True') ? h : undefined;
    }, 120_000);
    assert.deepEqual({ ...hpa.spec?.scaleTargetRef }, { apiVersion: 'perennial.dev/v1alpha1', kind: 'ModelDeployment', name });
    milestone(`HPA ${name}: ${hpa.spec?.minReplicas ?? '?'}-${hpa.spec?.maxReplicas} replicas of ModelDeployment ${name}, ${hpa.status?.currentReplicas ?? '?'} now`);

    // Prometheus: the alert rules evaluated on the loop, the loop's series, the feedback-loop latency of v2.
    const aborted = await eventually('the PerennialRolloutAborted alert to fire', async () =>
      (await prom.alerts()).find((a) => a.labels['alertname'] === 'PerennialRolloutAborted' && a.labels['name'] === name && a.state === 'firing'), 90_000);
    assert.equal(aborted.labels['namespace'], namespace);
    const firing = (await prom.alerts()).filter((a) => a.state === 'firing').map((a) => a.labels['alertname']);
    assert.deepEqual(firing.filter((a) => a !== 'PerennialRolloutAborted' && a !== 'PerennialDriftSustained'), [], 'no other alert fires on a healthy loop');
    const sel = `namespace="${namespace}",name="${name}"`;
    assert.equal(await prom.value(`max(perennial_model_deployment_info{${sel},stable_version="${v2}"})`), 1);
    assert.equal(await prom.value(`max(max_over_time(perennial_model_deployment_canary_weight_percent{${sel}}[1h]))`), 50);
    assert.ok((await prom.value(`sum(perennial_training_pipeline_runs_total{${sel},outcome="Blessed"})`) ?? 0) >= 3);
    assert.ok((await prom.value(`sum(perennial_model_deployment_promotions_total{${sel}})`) ?? 0) >= 1);
    const latency = await prom.value(`max(perennial_feedback_loop_last_latency_seconds{${sel}})`);
    assert.ok(latency !== undefined && latency > 0, 'the feedback-loop latency of v2, trained on fed-back labels');
    assert.ok((await prom.value(`sum(rate(perennial_server_requests_total{namespace="${namespace}"}[5m]))`) ?? 0) > 0, 'the servers\' series');
    milestone(`Prometheus: PerennialRolloutAborted firing; feedback-loop latency of ${v2} (label arrival to serving 100%) ${latency.toFixed(0)} s`);
    // Every Grafana dashboard query returns data from this loop (the error counters only have series once a
    // reconcile or a request failed, and none does here; no regression model here).
    const noDataHere = [/perennial_model_deployment_live_rmse/, /perennial_reconcile_errors_total/, /perennial_server_request_errors_total/];
    const empty: string[] = [];
    for (const q of dashboardQueries()) {
      if (noDataHere.some((r) => r.test(q.expr))) continue;
      if ((await prom.query(q.expr)).length === 0) empty.push(`${q.panel}: ${q.expr}`);
    }
    assert.deepEqual(empty, [], 'dashboard queries without data');
    const configMaps = await stack.core.listNamespacedConfigMap({ namespace: operatorRelease.namespace, labelSelector: 'grafana_dashboard=1' });
    assert.ok(configMaps.items.length >= 1, 'the dashboards\' ConfigMaps for Grafana\'s sidecar');

    // The namespace's webhook: each moment of the loop once, and no secret part of its URL in the operator's log.
    const moments = (): string[] => hook?.accepted.filter((b) => b['name'] === name).map((b) => `${String(b['type']).replace('dev.perennial.', '')} ${String(b['version'])}`) ?? [];
    const want = ['run.blessed v1', `run.blessed ${v2}`, `run.blessed ${v3}`, `rollout.promoted ${v2}`, `rollout.aborted ${v3}`];
    await eventually('the loop\'s moments at the webhook', () => want.every((w) => moments().includes(w)), 60_000)
      .catch(() => assert.fail(`webhook got: ${moments().join(', ')}`));
    const ids = hook.accepted.map((b) => b['id']);
    assert.equal(new Set(ids).size, ids.length, 'each notification once');
    assert.ok(hook.paths.every((p) => p === `/loop?token=${hookToken}`));
    assert.doesNotMatch(await operatorLogs(stack.cluster), new RegExp(hookToken), 'the webhook URL\'s secret is in no log');
    milestone(`webhook: ${moments().join(', ')}`);

    // The web dashboard served by the leading operator pod, in a real Chromium, with the admin's token.
    const leader = await stack.operatorLeader();
    const leaderPod = leader === undefined ? undefined : await stack.core.readNamespacedPod({ namespace: operatorRelease.namespace, name: leader });
    const base = `http://${leaderPod?.status?.podIP ?? '?'}:8090`;
    const { page, errors } = await browser.newPage({ Authorization: `Bearer ${stack.cluster.info.adminToken}` });
    assert.equal((await page.goto(`${base}/ns/${namespace}/pipelines/${name}`))?.status(), 200);
    assert.match(await page.locator('h1').innerText(), new RegExp(`TrainingPipeline ${namespace}/${name}`));
    assert.ok(await page.locator('svg[aria-label="run timeline"] rect').count() >= 3, 'one bar per run');
    assert.match(await page.locator('body').innerText(), new RegExp(`${v2}[^\n]*(Drift|Performance)`));
    screenshots.push(await browser.screenshot(page, 'pipeline'));
    assert.equal((await page.goto(`${base}/ns/${namespace}/deployments/${name}`))?.status(), 200);
    const text = await page.locator('body').innerText();
    assert.match(text, new RegExp(`${v3}\\s+\\d+\\s+Failed`), 'the failed analysis of the bad candidate');
    assert.match(text, new RegExp(`${v2}\\s+\\d+\\s+Passed`));
    assert.ok(await page.locator('svg[aria-label="Live accuracy over time"] polyline').count() >= 1);
    assert.ok(await page.locator('svg[aria-label="Drift per feature (PSI) over time"] polyline').count() >= 2);
    screenshots.push(await browser.screenshot(page, 'deployment'));
    assert.deepEqual(errors, [], 'no console error');
    milestone(`web dashboard at ${base}: pipeline and deployment pages rendered in Chromium`);

    // Argo CD's actions, run by the real Lua on the live pipeline and applied as Argo CD applies them (the object
    // it returns, as a merge patch of the difference): suspend, then resume.
    const applyAction = async (action: string): Promise<TrainingPipeline> => {
      const live = await stack.getTp(name);
      const offered = await runDiscovery(argoDiscovery('TrainingPipeline'), live);
      assert.ok(offered.some((a) => a.name === action && !a.disabled), `${action} offered: ${JSON.stringify(offered)}`);
      const next = await runAction(argoAction('TrainingPipeline', action), live);
      await stack.http.request('PATCH', `/apis/perennial.dev/v1alpha1/namespaces/${namespace}/trainingpipelines/${name}`, {
        contentType: PatchType.merge, body: mergePatch(live, next),
      });
      return stack.getTp(name);
    };
    assert.equal((await applyAction('suspend')).spec.suspend, true);
    await untilTp('the pipeline suspended', (x) => x.status?.phase === 'Suspended');
    assert.notEqual((await applyAction('resume')).spec.suspend, true);
    await untilTp('the pipeline resumed', (x) => x.status?.phase !== 'Suspended');
    milestone('Argo CD actions suspend and resume applied to the pipeline');
  }

  it('closes the loop with no failed request', async () => {
    await stack.create('trainingpipelines', weatherPipeline(name, loopTriggers(name), stack.namespace));
    // The servers' replicas are the HPA's to set (2 to 4 on CPU): the canary's split follows the total it sets.
    const deployment = loopDeployment(name) as { spec: { server: Record<string, unknown> } };
    deployment.spec.server['autoscaling'] = { minReplicas: 2, maxReplicas: 4, targetCPUUtilization: 80 };
    await stack.create('modeldeployments', deployment);
    milestone('TrainingPipeline and ModelDeployment applied');

    // 1. v1 trained on Seattle, blessed, served.
    let tp = await untilTp('v1 blessed', (x) => x.status?.championVersion === 'v1');
    const v1Run = runOf(tp, 'v1');
    assert.equal(v1Run?.trigger, 'Initial');
    assert.equal(v1Run?.outcome, 'Blessed');
    milestone(`v1 blessed (holdout accuracy ${v1Run?.metrics?.['accuracy']?.toFixed(3) ?? '?'})`);
    // Waited for as a CI job would: kubectl perennial status --for, exit 0 once the condition holds.
    const kubeconfig = stack.cluster.info.kubeconfigPath;
    const available = await kubectlPerennial(kubeconfig, ['status', 'md/weather', '-n', namespace, '--for', 'condition=Available', '--timeout', '5m']);
    assert.equal(available.code, 0, `kubectl perennial status --for condition=Available: ${available.stdout}${available.stderr}`);
    let md = await untilMd('v1 served', (x) => x.status?.stableVersion === 'v1' && x.status.stableReadyReplicas === 2 && x.status.phase === 'Healthy');
    milestone(`v1 serving on 2 pods (kubectl perennial status --for condition=Available: exit 0, ${available.stdout.trim().split('\n').pop() ?? ''})`);
    // The EndpointSlice controller follows pod readiness on its own schedule: a moment after the Deployment's status.
    await eventually('two ready endpoints in the stable Service', async () => ((await stack.endpoints(name)).length === 2 ? true : undefined), 30_000);

    // 2. Seattle traffic with feedback: live accuracy of v1 where it was trained.
    // Requests and labels go to the Services' ClusterIPs, balanced by kube-proxy, as an in-cluster client sends them.
    const services = await stack.viaServices(name);
    traffic = new Traffic({ endpoints: services.endpoints, feedback: services.feedback, model: name, source: days('Seattle') });
    traffic.start();
    live = new LiveMetricsLog(stack, name);
    live.start();
    const liveLog = live;
    const counts = traffic.counts;
    const liveSince = (version: string, fromMs: number, minSamples: number) => untilMd(`live metrics of ${version} after ${new Date(fromMs).toISOString()}`, (x) => {
      const m = x.status?.liveMetrics;
      return m?.version === version && Date.parse(m.time ?? '') > fromMs && (m.labelledSamples ?? 0) >= minSamples && m.accuracy !== undefined;
    });
    md = await liveSince('v1', Date.now() + 3000, 30);
    const seattle = md.status?.liveMetrics;
    milestone(`v1 live on Seattle: accuracy ${seattle?.accuracy?.toFixed(3) ?? '?'}, max PSI ${seattle?.maxDriftPsi?.toFixed(3) ?? '?'} (${seattle?.labelledSamples ?? 0} labelled)`);
    assert.ok((seattle?.accuracy ?? 0) > 0.6, `v1 on Seattle: ${JSON.stringify(seattle)}`);
    assert.equal((await stack.getTp(name)).status?.runs?.length, 1, 'no trigger fires on the data v1 was trained for');

    // 3. New York arrives: the days sent switch, and New York objects land under the data prefix.
    traffic.source = days('New York');
    await stack.upload(weather, weatherPeriods('New York'));
    const nySwitch = Date.now();
    milestone('New York traffic and New York CSV objects start flowing');
    md = await liveSince('v1', nySwitch + 4000, 30);
    const v1Ny = md.status?.liveMetrics;
    milestone(`v1 live on New York: accuracy ${v1Ny?.accuracy?.toFixed(3) ?? '?'}, max PSI ${v1Ny?.maxDriftPsi?.toFixed(3) ?? '?'}`);

    tp = await untilTp('a drift or performance run', (x) => (x.status?.runs ?? []).some((r) => r.trigger === 'Drift' || r.trigger === 'Performance'));
    const retrainSeen = Date.now();
    const v1NyMean = liveLog.accuracy('v1', nySwitch + 4000, retrainSeen);
    const v2Run = tp.status?.runs?.[0];
    const v2 = v2Run?.version ?? '';
    assert.ok(v2Run && (v2Run.trigger === 'Drift' || v2Run.trigger === 'Performance'), JSON.stringify(v2Run));
    milestone(`retrain ${v2Run.name} started by ${v2Run.trigger}: ${v2Run.reason ?? ''}`);

    tp = await untilTp(`${v2} to finish`, (x) => runOf(x, v2)?.outcome !== 'Running');
    const v2Done = runOf(tp, v2);
    assert.equal(v2Done?.outcome, 'Blessed', JSON.stringify(v2Done));
    assert.equal(tp.status?.championVersion, v2);
    assert.ok(v2Done.championMetrics?.['accuracy'] !== undefined, `evaluated against v1 on the same holdout: ${JSON.stringify(v2Done)}`);
    assert.ok((v2Done.metrics?.['accuracy'] ?? 0) >= (v2Done.championMetrics['accuracy'] ?? 1) - 0.03, JSON.stringify(v2Done));
    milestone(`${v2} blessed: holdout accuracy ${v2Done.metrics?.['accuracy']?.toFixed(3) ?? '?'} vs champion v1 ${v2Done.championMetrics['accuracy']?.toFixed(3) ?? '?'}`);
    // It trained on the fed-back data and on the New York objects (lineage, written by the trainer).
    const lineage = JSON.parse(await (await stack.minio.getObject(loopBucket, `pipelines/${namespace}/${name}/versions/${v2}/lineage.json`)).toArray().then((c) => Buffer.concat(c as Buffer[]).toString('utf8'))) as {
      feedback?: { joined: number }; sources: { key: string }[];
    };
    assert.ok((lineage.feedback?.joined ?? 0) > 0, `feedback rows joined: ${JSON.stringify(lineage.feedback)}`);
    assert.ok(lineage.sources.some((s) => s.key.includes('/feedback/')), 'the feedback log objects are in the lineage');
    assert.ok(lineage.sources.some((s) => s.key.startsWith(`${weatherDataPrefix(stack.namespace)}new-york-`)), 'the New York objects are in the lineage');
    milestone(`${v2} lineage: ${lineage.feedback?.joined ?? 0} fed-back rows joined`);

    md = await untilMd(`${v2} canary`, (x) => x.status?.canaryVersion === v2);
    milestone(`${v2} canary at ${md.status?.canaryWeight ?? 0}%`);
    md = await untilMd(`${v2} promoted`, (x) => x.status?.stableVersion === v2 && x.status.canaryVersion === undefined && x.status.phase === 'Healthy');
    const passed = md.status?.analysis?.filter((a) => a.version === v2 && a.verdict === 'Passed') ?? [];
    assert.ok(passed.length > 0, JSON.stringify(md.status?.analysis));
    milestone(`${v2} promoted through the gates (${passed.length} passed analyses)`);
    const v2Revision = md.status?.stableRevision;

    const promoted = Date.now();
    const v2NyMean = await eventually(`5 live windows of ${v2}`, () => {
      const m = liveLog.accuracy(v2, promoted + 3000);
      return m.windows >= 5 ? m : undefined;
    }, 60_000, 500);
    const fmt = (m: { accuracy: number; samples: number; windows: number }): string => `${m.accuracy.toFixed(3)} (${m.samples} labelled over ${m.windows} windows)`;
    milestone(`live accuracy on New York: ${v2} ${fmt(v2NyMean)}, v1 ${fmt(v1NyMean)}`);
    // The bound is v1's live accuracy on the New York traffic, measured in this run over every analysis window from
    // the switch to the retrain (0.82 over 19 windows, ~5000 labels, when this test was written; v2 then measured
    // 0.86 over 5 windows): the retrained model must do better on the new data than the one it replaced. A fixed
    // number would not do: v1 is not poor on New York (sun and rain follow precipitation there too, and single
    // windows swing by ±0.05 with the days they cover); it is the drift (PSI 0.3–1.0) that fires the retrain.
    assert.ok(v1NyMean.windows >= 3, `v1 measured on New York: ${fmt(v1NyMean)}`);
    assert.ok(v2NyMean.accuracy > v1NyMean.accuracy, `live accuracy recovers: ${v2} ${fmt(v2NyMean)} vs v1 ${fmt(v1NyMean)}`);
    // And the loop settles: New York traffic no longer drifts against the model retrained for it (its reference
    // profile is the run's most recent data, the fed-back New York requests), so the trigger would not fire again.
    const v1Drift = liveLog.drift('v1', nySwitch + 4000, retrainSeen);
    const v2Drift = liveLog.drift(v2, promoted + 3000);
    milestone(`max feature PSI on New York: ${v2} mean ${v2Drift.mean.toFixed(3)} (max ${v2Drift.max.toFixed(3)}, ${v2Drift.windows} windows), v1 mean ${v1Drift.mean.toFixed(3)}`);
    assert.ok(v2Drift.windows >= 3 && v2Drift.mean < 0.25 && v2Drift.mean < v1Drift.mean / 2, `drift settles: ${JSON.stringify({ v1Drift, v2Drift })}`);

    // 4. A deliberately bad candidate: one epoch from scratch at a tiny learning rate, the gates relaxed so it is
    // blessed; the drift/performance triggers removed so this manual run is the only one.
    await stack.http.request('PATCH', `/apis/perennial.dev/v1alpha1/namespaces/${namespace}/trainingpipelines/${name}`, {
      contentType: PatchType.merge, body: badCandidatePatch('bad-candidate'),
    });
    milestone('bad candidate requested (manual trigger)');
    tp = await untilTp('the bad candidate blessed', (x) => (x.status?.runs ?? []).some((r) => r.trigger === 'Manual' && r.outcome === 'Blessed'));
    const bad = (tp.status?.runs ?? []).find((r) => r.trigger === 'Manual');
    const v3 = bad?.version ?? '';
    milestone(`${v3} blessed with holdout accuracy ${bad?.metrics?.['accuracy']?.toFixed(3) ?? '?'} (gates relaxed)`);
    md = await untilMd(`${v3} canary`, (x) => x.status?.canaryVersion === v3);
    milestone(`${v3} canary at ${md.status?.canaryWeight ?? 0}%`);
    md = await untilMd(`${v3} rolled back`, (x) => x.status?.abortedVersion === v3);
    const failed = md.status?.analysis?.find((a) => a.version === v3 && a.verdict === 'Failed');
    milestone(`${v3} rolled back: ${failed?.message ?? ''}`);
    assert.ok(failed, JSON.stringify(md.status?.analysis));
    assert.match(failed.message ?? '', /accuracy/);
    assert.equal(md.status?.stableVersion, v2);
    assert.equal(md.status?.stableRevision, v2Revision, 'stable untouched');
    assert.equal(md.status?.canaryVersion, undefined);
    await eventually(`only ${v2} endpoints`, async () => {
      const eps = await stack.endpoints(name);
      const pods = await stack.serverPods(name);
      return eps.length === 2 && pods.length === 2 && pods.every((p) => p.version === v2);
    });
    milestone(`back to ${v2} on 2 pods`);
    // The champion follows production: the rolled-back v3 is demoted, the next run starts from v2.
    tp = await untilTp(`champion back to ${v2}`, (x) => x.status?.championVersion === v2);
    const demotion = tp.status?.demotions?.find((d) => d.version === v3);
    assert.ok(demotion, JSON.stringify(tp.status?.demotions));
    assert.equal(demotion.to, v2);
    assert.equal(demotion.deployment, name);
    milestone(`champion back to ${v2}: ${v3} demoted`);
    await operatorTools(v2, v3);

    await traffic.stop();
    milestone(`traffic: ${counts.requests} requests, ${counts.failed} failed; ${counts.feedback} feedback posts, ${counts.feedbackFailed} failed`);
    assert.deepEqual(counts.errors.slice(0, 10), []);
    assert.equal(counts.failed, 0);
    assert.equal(counts.feedbackFailed, 0);
    assert.ok(counts.requests > 500, `${counts.requests} requests`);
  });
});
