// The chart's dashboards and alerts against the real tools and a real loop:
//   - the PrometheusRule, rendered by helm, checked by promtool and unit-tested by it (fixtures/alerts.promtool.yaml:
//     each alert firing on the series that should fire it, silent on the others);
//   - the dashboards checked against a JSON Schema of Grafana's dashboard model (fixtures/grafana-dashboard.schema.json;
//     Grafana itself is in none of the registries here);
//   - a loop on the local cluster (the operator in this process, the server pods on the real node, a TrainingPipeline
//     whose run trains in a trainer pod) scraped by a real Prometheus (the operator's /metrics and every server pod's),
//     going through an aborted rollout, a retry promoted to stable and a rollback, with traffic and labels; then every
//     PromQL expression of the dashboards returns data from it and every alert's expression runs, the rollout-aborted
//     alert's with a result. The same loop's notifications reach two real HTTP receivers: the install-time webhook
//     (Slack format, its URL with a secret path, failing twice before it accepts) and the namespace's (JSON, from the
//     Secret perennial-notifications): each loop moment exactly once at each, and no secret part of a URL in the logs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import Ajv2020 from 'ajv/dist/2020.js';
import { dump } from 'js-yaml';
import winston from 'winston';
import { repoRoot } from '../../localcluster/cluster.js';
import { freePort } from '../../localcluster/net.js';
import { Annotation } from '../../src/api/conditions.js';
import { aDeployment } from '../../src/api/testing/builders.js';
import { eventually } from '../support/eventually.js';
import { LoopStack } from '../support/loop-stack.js';
import { Prometheus } from '../support/prometheus.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import { imageTags } from '../support/node-cluster.js';
import { periodCsv } from '../support/dataset.js';
import { quickTraining, trainWeatherModel } from '../support/served-model.js';
import { sendBatch } from '../support/traffic.js';
import { weather, weatherPeriods, weatherPipeline } from '../support/weather-loop.js';
import { days } from '../support/weather-traffic.js';
import { dashboardQueries, dashboards, renderChart } from './chart-tools.js';
import { storeFor } from './trainer-harness.js';

const run = promisify(execFile);
const fixtures = join(repoRoot, 'test', 'integration', 'fixtures');

interface RuleGroup {
  readonly rules: { readonly alert: string; readonly expr: string }[];
}

/** The PrometheusRule's groups as the chart renders them with the default values. */
async function renderedRules(): Promise<RuleGroup[]> {
  const { docs } = await renderChart(['--set', 'prometheusRule.enabled=true']);
  const rule = docs.find((d) => d.kind === 'PrometheusRule');
  assert.ok(rule, 'the chart renders a PrometheusRule');
  return (rule['spec'] as { groups: RuleGroup[] }).groups;
}

describe('the chart\'s alerts and dashboards, checked by promtool and a JSON Schema', () => {
  it('the rendered rules pass promtool check rules and promtool\'s unit tests of every alert', async () => {
    const groups = await renderedRules();
    const dir = mkdtempSync(join(tmpdir(), 'perennial-rules-'));
    writeFileSync(join(dir, 'rules.yaml'), dump({ groups }));
    copyFileSync(join(fixtures, 'alerts.promtool.yaml'), join(dir, 'alerts.promtool.yaml'));
    const checked = await run('promtool', ['check', 'rules', 'rules.yaml'], { cwd: dir });
    assert.match(checked.stdout, /SUCCESS: 8 rules found/);
    const tested = await run('promtool', ['test', 'rules', 'alerts.promtool.yaml'], { cwd: dir }).catch((e: { stdout?: string; stderr?: string }) => {
      throw new Error(`promtool test rules failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    });
    assert.match(tested.stdout, /SUCCESS/);
    // Every alert has its test: a new alert without one fails here.
    const testedAlerts = new Set([...readFileSync(join(fixtures, 'alerts.promtool.yaml'), 'utf8').matchAll(/alertname: (\w+)/g)].map((m) => m[1]));
    assert.deepEqual(groups.flatMap((g) => g.rules.map((r) => r.alert)).filter((a) => !testedAlerts.has(a)), []);
  });

  it('each dashboard matches Grafana\'s dashboard model and renders into a ConfigMap with the sidecar label', async () => {
    const schema = JSON.parse(readFileSync(join(fixtures, 'grafana-dashboard.schema.json'), 'utf8')) as object;
    const validate = new Ajv2020.default({ allErrors: true, strict: false }).compile(schema);
    const { docs } = await renderChart(['--set', 'grafana.dashboards.enabled=true']);
    for (const { file, json } of dashboards()) {
      assert.ok(validate(json), `${file}: ${JSON.stringify(validate.errors, null, 1)}`);
      const ids = json.panels.map((p) => (p as unknown as { id: number }).id);
      assert.equal(new Set(ids).size, ids.length, `${file}: panel ids are unique`);
      const cm = docs.find((d) => d.kind === 'ConfigMap' && (d['data'] as Record<string, string> | undefined)?.[file] !== undefined);
      assert.ok(cm, `${file} is in a ConfigMap`);
      assert.equal(cm.metadata.labels?.['grafana_dashboard'], '1');
      assert.deepEqual(JSON.parse((cm['data'] as Record<string, string>)[file] ?? ''), json, 'the ConfigMap holds the file as it is');
    }
    const off = await renderChart([]);
    assert.equal(off.docs.filter((d) => d.kind === 'ConfigMap' && d.metadata.labels?.['grafana_dashboard'] === '1').length, 0, 'off by default');
    assert.equal(off.docs.filter((d) => d.kind === 'PrometheusRule').length, 0, 'off by default');
  });
});

const namespace = 'ml';
const bucket = 'perennial-dashboards';
const md = 'weather';
const secretPath = '/services/T0SECRET/B0SECRET/xoxSECRETTOKEN';

describe('dashboards and alerts on a real loop scraped by a real Prometheus; its notifications', () => {
  let stack: LoopStack;
  let installHook: WebhookReceiver;
  let namespaceHook: WebhookReceiver;
  let prometheus: Prometheus | undefined;
  const logs: string[] = [];

  const uri = (version: string): string => `s3://${bucket}/pipelines/${namespace}/weather/versions/${version}`;
  const query = (expr: string): Promise<unknown[]> => {
    if (!prometheus) throw new Error('Prometheus did not start');
    return prometheus.query(expr);
  };

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'the local node needs root: run the tests as root');
    installHook = await startWebhookReceiver(2);
    namespaceHook = await startWebhookReceiver(0);
    const metricsPort = await freePort();
    stack = await LoopStack.start({
      name: 'dashboards-promql', namespace, bucket, log: (l) => console.log(`# ${l}`),
      operatorEnv: {
        PERENNIAL_HEALTH_HOST: '127.0.0.1', PERENNIAL_HEALTH_PORT: String(metricsPort), PERENNIAL_LOG_LEVEL: 'info',
        PERENNIAL_NOTIFICATIONS_URL: installHook.url(secretPath), PERENNIAL_NOTIFICATIONS_FORMAT: 'slack',
      },
    });
    // The operator's log, as a log collector would keep it.
    const stream = new PassThrough();
    stream.on('data', (c: Buffer) => logs.push(c.toString('utf8')));
    stack.manager?.logger.add(new winston.transports.Stream({ stream }));
    await stack.core.createNamespacedSecret({ namespace, body: {
      metadata: { name: 'perennial-notifications' }, stringData: { url: namespaceHook.url('/hook?token=NSSECRET'), format: 'json' },
    } });
    // A real Prometheus scraping the operator and every server pod (file_sd, rewritten as pods come and go).
    prometheus = await Prometheus.start({
      targets: async () => [
        { targets: [`127.0.0.1:${metricsPort}`], labels: { job: 'perennial-metrics' } },
        { targets: await stack.endpoints(md).catch(() => []), labels: { job: 'perennial-server', namespace } },
      ],
    });
    await eventually('Prometheus to scrape the operator', async () => (await query('up{job="perennial-metrics"} == 1').catch(() => [])).length > 0, 60_000);
  });

  after(async () => {
    prometheus?.stop();
    installHook?.close();
    namespaceHook?.close();
    await stack?.stop();
  });

  it('a loop goes through a training run, an aborted rollout, a promotion and a rollback', async () => {
    // A TrainingPipeline whose first run trains in a trainer pod (its outcome and duration are series).
    for (const period of weatherPeriods('Seattle').slice(0, 2)) await stack.minio.putObject(bucket, `data/${namespace}/forecast/${period}.csv`, Buffer.from(periodCsv(weather, period)));
    const tp = weatherPipeline('forecast', {}, namespace) as { spec: { data: { sources: { prefix: string }[]; feedbackFrom?: string } } };
    tp.spec.data.sources = [{ prefix: `data/${namespace}/forecast/`, format: 'csv' } as { prefix: string }];
    delete tp.spec.data.feedbackFrom;
    await stack.create('trainingpipelines', tp);
    // Two versions to roll between, trained by the real trainer.
    await trainWeatherModel(stack.cluster.info, storeFor(stack.cluster.info), bucket, 'v1', quickTraining);
    await trainWeatherModel(stack.cluster.info, storeFor(stack.cluster.info), bucket, 'v2', quickTraining);
    await stack.create('modeldeployments', aDeployment(md).inNamespace(namespace).servingUri(uri('v1'))
      .withServer({ image: imageTags.server, replicas: 2 }).withCanarySteps({ setWeight: 50 }, { pause: {} })
      .withAnalysis({ interval: '3s', minSamples: 10 }).edit((x) => {
        x.spec.liveMetrics = { minSamples: 50, maxWindow: '30s' };
      }).build());
    await stack.untilMd(md, 'v1 to serve', (x) => x.status?.phase === 'Healthy');
    // Traffic with labels: live accuracy, drift and the servers' per-version series.
    // The served models (trainWeatherModel) take the location as a feature too.
    const seattle = days('Seattle').map((x) => ({ ...x, instance: { ...x.instance, location: 'Seattle' } }));
    // Straight to the ready pods (their EndpointSlices), as Prometheus scrapes them.
    const target = { endpoints: () => stack.endpoints(md), feedback: stack.feedbackTarget(md), model: md };
    let tried: Awaited<ReturnType<typeof sendBatch>> | undefined;
    await eventually('the pods to answer predictions', async () => {
      tried = await sendBatch(target, seattle.slice(0, 10));
      return tried.predicted > 0;
    }, 120_000).catch((e: unknown) => assert.fail(`${String(e)}: ${JSON.stringify({ endpoints: tried === undefined ? [] : undefined, counts: tried?.counts.errors.slice(0, 5), failed: tried?.counts.failed })}`));
    const batch = await sendBatch(target, seattle.slice(10, 400));
    const { requests, failed, feedback, feedbackFailed, errors } = batch.counts;
    assert.ok(batch.labelled > 100, JSON.stringify({ predicted: batch.predicted, labelled: batch.labelled, requests, failed, feedback, feedbackFailed, errors: errors.slice(0, 5) }));
    await stack.untilMd(md, 'live accuracy from the labels', (x) => (x.status?.liveMetrics?.labelledSamples ?? 0) > 0 && x.status?.liveMetrics?.accuracy !== undefined);

    await stack.patchMd(md, { spec: { model: { uri: uri('v2') } } });
    await stack.untilMd(md, 'the canary of v2 paused', (x) => x.status?.canaryVersion === 'v2' && x.status.phase === 'Paused');
    await sendBatch(target, seattle.slice(400, 600));
    await stack.patchMd(md, { metadata: { annotations: { [Annotation.abort]: 'stop-1' } } });
    await stack.untilMd(md, 'v2 aborted', (x) => x.status?.abortedVersion === 'v2' && x.status.canaryVersion === undefined);
    await stack.patchMd(md, { metadata: { annotations: { [Annotation.retry]: 'again-1' } } });
    await stack.untilMd(md, 'the canary of v2 again', (x) => x.status?.canaryVersion === 'v2' && x.status.phase === 'Paused');
    await stack.patchMd(md, { metadata: { annotations: { [Annotation.promote]: 'full' } } });
    await stack.untilMd(md, 'v2 promoted', (x) => x.status?.stableVersion === 'v2' && x.status.canaryVersion === undefined);
    await stack.patchMd(md, { spec: { model: { uri: uri('v1') } } });
    await stack.untilMd(md, 'rolled back to v1', (x) => x.status?.stableVersion === 'v1' && x.status.previousVersion === 'v2');
    await sendBatch(target, seattle.slice(600, 800));
    // A request each pod refuses (415: the body is not declared JSON): the servers' error series.
    for (const ep of await stack.endpoints(md)) {
      const r = await fetch(`http://${ep}/v1/models/${md}:predict`, { method: 'POST', body: new TextEncoder().encode('{"instances": [') });
      assert.equal(r.status, 415);
    }
    await stack.untilTp('forecast', 'the first run to end', (x) => (x.status?.runs ?? []).some((r) => r.outcome !== 'Running'), 300_000);
  });

  it('each loop moment reaches both webhooks exactly once, the failing one after its retries', async () => {
    const want = ['rollout.aborted v2', 'rollout.promoted v2', 'rollout.rolledBack v1'];
    const text = (v: unknown): string => (typeof v === 'string' ? v : '');
    const moments = (bodies: Record<string, unknown>[]): string[] => bodies
      .filter((b) => b['name'] === md || text(b['text']).includes(`${namespace}/${md} `))
      .map((b) => (b['type'] === undefined ? text(b['text']) : `${text(b['type']).replace('dev.perennial.', '')} ${text(b['version'])}`));
    await eventually('the namespace webhook to have the three moments', () => moments(namespaceHook.accepted).length >= 3, 60_000);
    assert.deepEqual(moments(namespaceHook.accepted).sort(), want);
    const rolledBack = namespaceHook.accepted.find((b) => b['type'] === 'dev.perennial.rollout.rolledBack') ?? {};
    assert.deepEqual([rolledBack['specversion'], rolledBack['source'], rolledBack['namespace'], rolledBack['reason']], ['1.0', `perennial.dev/modeldeployments/${namespace}/${md}`, namespace, 'RolledBack']);
    assert.equal(rolledBack['message'], 'Rolled back from v2 to v1.');
    // The install-time webhook (Slack text) failed the first two deliveries: they were retried, each moment kept once.
    await eventually('the install webhook to have the three moments', () => moments(installHook.accepted).length >= 3, 120_000);
    const texts = moments(installHook.accepted);
    assert.equal(texts.length, 3, texts.join('\n'));
    assert.ok(texts.some((t) => t.startsWith(`ModelDeployment ${namespace}/${md} promoted a new version to stable (v2)`)), texts.join('\n'));
    assert.ok(texts.some((t) => t.startsWith(`ModelDeployment ${namespace}/${md} aborted a rollout (v2)`)));
    assert.ok(texts.some((t) => t.startsWith(`ModelDeployment ${namespace}/${md} rolled back (v1)`)));
    const ids = namespaceHook.accepted.map((b) => b['id']);
    assert.equal(new Set(ids).size, ids.length, 'one id per notification');
    const log = logs.join('');
    assert.match(log, /notification retried/);
    assert.match(log, /notification delivered/);
    assert.doesNotMatch(log, /SECRET|xox|token=/, 'no secret part of a webhook URL in the log');
    assert.ok((await query('perennial_notifications_total{result="retried"} >= 2')).length > 0);
  });

  it('every dashboard query returns data from the loop, and every alert expression runs on it', async () => {
    // Not in this loop: a version trained on fed-back labels (the feedback-loop latency), a regression model (RMSE)
    // and a failed reconcile (the error counter has a series once a reconcile has failed).
    const noDataHere = [/perennial_feedback_loop_/, /perennial_model_deployment_live_rmse/, /perennial_reconcile_errors_total/];
    const empty: string[] = [];
    await eventually('every dashboard query to return data', async () => {
      empty.length = 0;
      for (const q of dashboardQueries()) {
        if (noDataHere.some((r) => r.test(q.expr))) continue;
        if ((await query(q.expr)).length === 0) empty.push(`${q.panel}: ${q.expr}`);
      }
      return empty.length === 0;
    }, 120_000).catch(() => assert.fail(`queries without data:\n${empty.join('\n')}`));
    const groups = await renderedRules();
    for (const rule of groups.flatMap((g) => g.rules)) {
      const result = await query(rule.expr);
      if (rule.alert === 'PerennialRolloutAborted') assert.ok(result.length > 0, 'the abort of v2 fires the alert');
      // Every series the rule reads exists in this loop (a rule on a misspelt name would never fire).
      for (const name of new Set(rule.expr.match(/perennial_[a-z_]+/g) ?? [])) {
        if (noDataHere.some((r) => r.test(name))) continue;
        assert.ok((await query(`count(${name})`)).length > 0 || (await query(`count({__name__=~"${name}(_bucket|_sum|_count)?"})`)).length > 0, `${rule.alert}: ${name} has series`);
      }
    }
  });
});
