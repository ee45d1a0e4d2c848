// The operator's web dashboard in a real headless Chromium (Debian's chromium, driven by playwright-core), with
// data from a real loop on the local cluster: the operator in this process with the dashboard on, a
// TrainingPipeline whose runs train in trainer pods on the node (the second one compared with the champion the
// first blessed), and a ModelDeployment whose server pods take real predictions and labels while a canary of v2
// is analysed. Access goes through the API server: the admin token sees everything, alice's token sees 403 and
// nothing until a RoleBinding lets her get and list the resources in the namespace, a token the API server does
// not know gets 401. Screenshots are kept under .cache/test-artifacts/dashboard/ (their paths are printed).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { Annotation } from '../../src/api/conditions.js';
import { aDeployment } from '../../src/api/testing/builders.js';
import { loadConfig } from '../../src/operator/config.js';
import { startDashboard, type RunningDashboard } from '../../src/operator/dashboard/wiring.js';
import { HeadlessChromium } from '../support/chromium.js';
import { periodCsv } from '../support/dataset.js';
import { LoopStack } from '../support/loop-stack.js';
import { imageTags } from '../support/node-cluster.js';
import { quickTraining, trainWeatherModel, weatherInstances } from '../support/served-model.js';
import { Traffic } from '../support/traffic.js';
import { eventually } from '../support/eventually.js';
import { weather, weatherPeriods, weatherPipeline } from '../support/weather-loop.js';
import type { days } from '../support/weather-traffic.js';
import { renderChart } from './chart-tools.js';
import { storeFor } from './trainer-harness.js';

const namespace = 'ml'; // trainWeatherModel publishes ml/weather's versions
const bucket = 'perennial-dashboard';
const md = 'weather';
const tp = 'forecast';

describe('the web dashboard in headless Chromium, on a real loop', () => {
  let stack: LoopStack;
  let dashboard: RunningDashboard;
  let browser: HeadlessChromium;
  let base: string;
  const screenshots: string[] = [];

  const uri = (version: string): string => `s3://${bucket}/pipelines/${namespace}/weather/versions/${version}`;
  const admin = (): Record<string, string> => ({ Authorization: `Bearer ${stack.cluster.info.adminToken}` });

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'the local node needs root: run the tests as root');
    stack = await LoopStack.start({ name: 'dashboard', namespace, bucket, log: (l) => console.log(`# ${l}`) });
    if (!stack.manager) throw new Error('the operator runs in this process');
    dashboard = await startDashboard(stack.manager, { port: 0, host: '127.0.0.1' }, loadConfig(stack.operatorEnv()));
    base = `http://127.0.0.1:${dashboard.port}`;
    browser = await HeadlessChromium.launch('dashboard');

    // A pipeline whose runs train in trainer pods.
    for (const period of weatherPeriods('Seattle').slice(0, 2)) {
      await stack.minio.putObject(bucket, `data/${namespace}/forecast/${period}.csv`, Buffer.from(periodCsv(weather, period)));
    }
    // minInterval 1s: the second run below is triggered by hand minutes after the first (the default 10m holds it).
    const pipeline = weatherPipeline(tp, { minInterval: '1s' }, namespace) as { spec: { data: { sources: { prefix: string; format: string }[]; feedbackFrom?: string } } };
    pipeline.spec.data.sources = [{ prefix: `data/${namespace}/forecast/`, format: 'csv' }];
    delete pipeline.spec.data.feedbackFrom;
    await stack.create('trainingpipelines', pipeline);

    // A deployment rolling from v1 to v2 (both trained by the real trainer) through a weight, an analysis and a pause.
    const store = storeFor(stack.cluster.info);
    await trainWeatherModel(stack.cluster.info, store, bucket, 'v1', quickTraining);
    await trainWeatherModel(stack.cluster.info, store, bucket, 'v2', quickTraining);
    await stack.create('modeldeployments', aDeployment(md).inNamespace(namespace).servingUri(uri('v1'))
      .withServer({ image: imageTags.server, replicas: 2 })
      .withCanarySteps({ setWeight: 50 }, { analysis: { duration: '9s' } }, { pause: {} })
      .withAnalysis({ interval: '3s', minSamples: 10 })
      .edit((x) => { x.spec.liveMetrics = { minSamples: 50, maxWindow: '30s' }; }).build());
    await stack.untilMd(md, 'v1 to serve', (x) => x.status?.phase === 'Healthy', 300_000);
    const target = await stack.target(md);
    // Labelled traffic from now on (labels that arrive before the operator first measures a version are not in its
    // windows): several live measurements (accuracy, drift) for the plots, then the canary of v2 under the same
    // traffic until it waits at the pause, its analyses judged on real labels.
    // The served models were trained on rows with a location (served-model.ts), which days() leaves out.
    const { instances, labels } = weatherInstances('Seattle');
    const source = instances.map((instance, i) => ({ instance, label: labels[i] ?? '' })) as unknown as ReturnType<typeof days>;
    const traffic = new Traffic({ ...target, source, batch: 8, pauseMs: 50 });
    traffic.start();
    try {
      const measured = new Set<string>();
      let last: unknown;
      await eventually('three live measurements with accuracy', async () => {
        const live = (await stack.getMd(md)).status?.liveMetrics;
        last = live;
        if (live?.accuracy !== undefined && live.time !== undefined) measured.add(live.time);
        return measured.size >= 3;
      }, 240_000, 1000).catch((e: unknown) => {
        const c = traffic.counts;
        throw new Error(`${e instanceof Error ? e.message : String(e)}; last liveMetrics ${JSON.stringify(last)}; traffic ${c.requests} requests (${c.failed} failed), ${c.feedback} feedback posts (${c.feedbackFailed} failed): ${c.errors.slice(0, 5).join(' | ')}`);
      });
      await stack.patchMd(md, { spec: { model: { uri: uri('v2') } } });
      await stack.untilMd(md, 'the canary of v2 analysed and paused', (x) => x.status?.canaryVersion === 'v2' && x.status.phase === 'Paused'
        && (x.status.analysis ?? []).some((a) => a.verdict === 'Passed'), 300_000);
    } finally {
      await traffic.stop();
    }
    // The first run blessed, then a second one judged against it (its champion metrics).
    await stack.untilTp(tp, 'the first run to end', (x) => (x.status?.runs ?? []).some((r) => r.outcome !== 'Running') && x.status?.currentRun === undefined, 420_000);
    await stack.http.request('PATCH', `/apis/perennial.dev/v1alpha1/namespaces/${namespace}/trainingpipelines/${tp}`, {
      body: { metadata: { annotations: { [Annotation.trigger]: 'dashboard-test-2' } } }, contentType: 'application/merge-patch+json',
    });
    await stack.untilTp(tp, 'the second run to end', (x) => (x.status?.runs ?? []).length >= 2 && x.status?.currentRun === undefined
      && (x.status?.runs ?? []).every((r) => r.outcome !== 'Running'), 420_000);
  });

  after(async () => {
    console.log(`# dashboard screenshots:\n${screenshots.map((s) => `#   ${s}`).join('\n')}`);
    await browser?.close();
    await dashboard?.close();
    await stack?.stop();
  });

  it('the admin sees the namespace, the pipeline\'s runs and metrics, and the deployment\'s canary and plots, with no console error', async () => {
    const { page, errors } = await browser.newPage(admin());
    const index = await page.goto(`${base}/`);
    assert.equal(index?.status(), 200);
    assert.equal(await page.locator(`a[href="/ns/${namespace}"]`).count(), 1);
    screenshots.push(await browser.screenshot(page, 'index'));

    assert.equal((await page.goto(`${base}/ns/${namespace}`))?.status(), 200);
    await page.locator(`a[href="/ns/${namespace}/pipelines/${tp}"]`).click();
    assert.match(await page.locator('h1').innerText(), new RegExp(`TrainingPipeline ${namespace}/${tp}`));
    assert.equal(await page.locator('svg[aria-label="run timeline"] rect').count(), 2, 'one bar per run');
    const runs = await page.locator('table').nth(1).innerText();
    assert.match(runs, new RegExp(`${tp}-1\\s+v1\\s+Initial`));
    assert.match(runs, new RegExp(`${tp}-2\\s+v2\\s+Manual`));
    const versions = await page.locator('table').nth(2).innerText();
    assert.match(versions, /accuracy/);
    assert.match(versions, /^v2[^\n]*vs \d/m, 'run 2 compared with the champion on the same holdout');
    // Each stored version's metrics.json, read from the store with the pipeline's store access.
    const stored = await page.locator('table').nth(3).innerText();
    assert.match(stored, /^v2[^\n]*against v1/m);
    assert.match(stored, /^v1[^\n]*no champion then/m);
    screenshots.push(await browser.screenshot(page, 'pipeline'));

    await page.goto(`${base}/ns/${namespace}`);
    await page.locator(`a[href="/ns/${namespace}/deployments/${md}"]`).click();
    const canary = await page.locator('table').nth(1).innerText();
    assert.match(canary, /stable\s+v1\s+\S+\s+50%/);
    assert.match(canary, /candidate\s+v2\s+\S+\s+50%/);
    assert.match(await page.locator('.current').innerText(), /current/);
    const analyses = await page.locator('table').nth(3).innerText();
    assert.match(analyses, /v2\s+1\s+Passed/);
    assert.ok(await page.locator('svg[aria-label="Live accuracy over time"] polyline').count() >= 1);
    const drift = page.locator('svg[aria-label="Drift per feature (PSI) over time"]');
    assert.ok(await drift.locator('polyline').count() >= 2, 'one line per feature');
    assert.match(await drift.innerHTML(), />temp_max</);
    assert.ok(await page.locator('svg[aria-label="Candidate weight over time"] polyline').count() === 1);
    screenshots.push(await browser.screenshot(page, 'deployment'));
    assert.deepEqual(errors, []);
  });

  it('the JSON API behind the pages carries the objects and the history', async () => {
    const r = await fetch(`${base}/api/v1/ns/${namespace}/deployments/${md}`, { headers: admin() });
    assert.equal(r.status, 200);
    const body = await r.json() as { deployment: { status: { canaryVersion: string } }; history: { live: unknown[]; weights: { weight: number }[] } };
    assert.equal(body.deployment.status.canaryVersion, 'v2');
    assert.ok(body.history.live.length >= 2, `${body.history.live.length} live measurements kept`);
    assert.deepEqual(body.history.weights.map((w) => w.weight).slice(-1), [50]);
  });

  it('alice sees 403 and nothing until a RoleBinding lets her list the resources; then she logs in with the form', async () => {
    const alice = stack.cluster.info.unprivilegedToken;
    const { page, errors } = await browser.newPage({ Authorization: `Bearer ${alice}` });
    // Chromium logs each answer of 400 and above as a console error: here those are the point of the test.
    const unexpected = (list: readonly string[]): string[] => list.filter((e) => !/the server responded with a status of 403/.test(e));
    for (const path of ['/', `/ns/${namespace}`, `/ns/${namespace}/deployments/${md}`, `/ns/${namespace}/pipelines/${tp}`]) {
      const res = await page.goto(`${base}${path}`);
      assert.equal(res?.status(), 403, path);
      const text = await page.locator('body').innerText();
      assert.doesNotMatch(text, /v1|v2|forecast-1|Passed|accuracy/, `${path} shows nothing of the namespace`);
    }
    screenshots.push(await browser.screenshot(page, 'forbidden'));
    assert.equal((await fetch(`${base}/api/v1/ns/${namespace}/deployments/${md}`, { headers: { Authorization: `Bearer ${alice}` } })).status, 403);

    const rbac = stack.kc.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({ namespace, body: { metadata: { name: 'perennial-viewer' }, rules: [
      { apiGroups: ['perennial.dev'], resources: ['trainingpipelines', 'modeldeployments'], verbs: ['get', 'list'] }] } });
    await rbac.createNamespacedRoleBinding({ namespace, body: { metadata: { name: 'alice-views' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'perennial-viewer' }, subjects: [{ kind: 'User', name: 'alice', apiGroup: 'rbac.authorization.k8s.io' }] } });
    // The operator keeps an answer 30 s per user and namespace, so the earlier 403 may stand that long.
    await new Promise((r) => setTimeout(r, 31_000));
    // A fresh browser context, no header: the login form keeps the token in an HttpOnly cookie.
    const login = await browser.newPage();
    await login.page.goto(`${base}/login`);
    await login.page.fill('input[name="token"]', alice);
    await Promise.all([login.page.waitForURL(`${base}/`), login.page.click('button[type="submit"]')]);
    assert.equal(await login.page.locator(`a[href="/ns/${namespace}"]`).count(), 1);
    const cookies = await login.context.cookies();
    assert.ok(cookies.some((c) => c.name === 'perennial_token' && c.httpOnly && c.sameSite === 'Strict'));
    const res = await login.page.goto(`${base}/ns/${namespace}/deployments/${md}`);
    assert.equal(res?.status(), 200);
    assert.match(await login.page.locator('header').innerText(), /alice/);
    screenshots.push(await browser.screenshot(login.page, 'alice-deployment'));
    assert.deepEqual([...unexpected(errors), ...login.errors], []);
  });

  it('a token the API server does not know gets 401 and the login page; the dashboard refuses to change anything', async () => {
    const r = await fetch(`${base}/ns/${namespace}`, { headers: { Authorization: 'Bearer not-a-token' } });
    assert.equal(r.status, 401);
    assert.match(await r.text(), /did not accept this token/);
    assert.equal((await fetch(`${base}/api/v1/ns/${namespace}`)).status, 401);
    assert.equal((await fetch(`${base}/ns/${namespace}`, { method: 'DELETE', headers: admin() })).status, 405);
    assert.match((await fetch(`${base}/`, { headers: admin() })).headers.get('content-security-policy') ?? '', /default-src 'none'/);
  });

  it('the chart with dashboard.enabled: a Service, the container port, and only the two reviews granted', async () => {
    const { docs } = await renderChart(['--set', 'dashboard.enabled=true']);
    const role = docs.find((d) => d.kind === 'ClusterRole' && d.metadata.name === 'perennial-dashboard') as unknown as { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] } | undefined;
    assert.deepEqual(role?.rules.map((r) => `${r.apiGroups.join()}/${r.resources.join()}:${r.verbs.join()}`),
      ['authentication.k8s.io/tokenreviews:create', 'authorization.k8s.io/subjectaccessreviews:create']);
    assert.ok(docs.some((d) => d.kind === 'Service' && d.metadata.name === 'perennial-dashboard'));
    const off = await renderChart([]);
    assert.ok(!off.docs.some((d) => d.metadata.name === 'perennial-dashboard'), 'off by default');
  });
});
