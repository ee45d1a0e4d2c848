import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelDeployment } from '../../api/model-deployment.js';
import type { TrainingPipeline } from '../../api/training-pipeline.js';
import { requestToken } from './access.js';
import { LiveHistory } from './history.js';
import { escapeHtml } from './html.js';
import { deploymentPage, namespacePage, pipelinePage } from './pages.js';
import { MemoryStore } from '../../storage/memory-store.js';
import { report } from '../controllers/training-pipeline/fixtures.js';
import { VersionReports } from './reports.js';
import { route } from './server.js';
import { lineChart } from './svg.js';
import { dashboardConfig } from './wiring.js';

const t = '2026-11-01T10:00:00Z';
const evil = '<script>alert(1)</script>"\'&';
const md = (status: NonNullable<ModelDeployment['status']>, name = 'web'): ModelDeployment => ({
  apiVersion: 'perennial.dev/v1alpha1', kind: 'ModelDeployment', metadata: { name, namespace: 'ml' },
  spec: { model: { fromPipeline: 'churn' }, rollout: { canary: { steps: [{ setWeight: 10 }, { analysis: {} }, { pause: {} }] } } } as unknown as ModelDeployment['spec'], status,
});

describe('route', () => {
  const cases: [string, ReturnType<typeof route>][] = [
    ['/', { page: 'index' }],
    ['/ns/ml', { page: 'namespace', namespace: 'ml' }],
    ['/ns/ml/pipelines/churn', { page: 'pipeline', namespace: 'ml', name: 'churn' }],
    ['/ns/ml/deployments/web/', { page: 'deployment', namespace: 'ml', name: 'web' }],
    ['/ns/ml/secrets/x', undefined],
    ['/ns/ml/deployments/web/extra', undefined],
    ['/ns/%E0%A4%A', undefined],
    ['/other', undefined],
  ];
  for (const [path, want] of cases) it(path, () => assert.deepEqual(route(path), want));
});

describe('requestToken', () => {
  it('the Authorization header first, then the cookie; nothing else', () => {
    assert.equal(requestToken({ authorization: 'Bearer abc.def' }), 'abc.def');
    assert.equal(requestToken({ authorization: 'Basic xyz', cookie: 'a=b; perennial_token=tok%3D' }), 'tok=');
    assert.equal(requestToken({ cookie: 'perennial_token=' }), undefined);
    assert.equal(requestToken({}), undefined);
  });
});

describe('dashboardConfig', () => {
  it('off unless a port is set; a bad port is an error', () => {
    assert.equal(dashboardConfig({}), undefined);
    assert.deepEqual(dashboardConfig({ PERENNIAL_DASHBOARD_PORT: '8090', PERENNIAL_DASHBOARD_HOST: '10.0.0.5' }), { port: 8090, host: '10.0.0.5' });
    assert.throws(() => dashboardConfig({ PERENNIAL_DASHBOARD_PORT: 'http' }), /must be a port number/);
  });
});

describe('escaping: object names, messages and feature names are user data', () => {
  it('escapeHtml', () => assert.equal(escapeHtml(evil), '&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;'));

  it('no page or plot lets a tag through', () => {
    const history = new LiveHistory(() => Date.parse(t));
    const d = md({ stableVersion: evil, canaryVersion: 'v2', canaryWeight: 10, currentStep: 0, message: evil,
      analysis: [{ time: t, version: evil, verdict: 'Failed', message: evil }], liveMetrics: { time: t, version: 'v1', accuracy: 0.9, drift: { [evil]: 0.3 } } }, evil);
    history.observe(d);
    const tp: TrainingPipeline = { apiVersion: 'perennial.dev/v1alpha1', kind: 'TrainingPipeline', metadata: { name: evil, namespace: 'ml' }, spec: {} as TrainingPipeline['spec'],
      status: { championVersion: evil, runs: [{ name: evil, version: evil, trigger: 'Manual', reason: evil, startTime: t, outcome: 'Rejected', message: evil, metrics: { accuracy: 0.7 }, championMetrics: { accuracy: 0.8 } }] } };
    for (const html of [deploymentPage(d, history.of('ml', evil), evil), pipelinePage(tp, Date.parse(t), evil), namespacePage('ml', [tp], [d], evil)]) {
      assert.doesNotMatch(html, /<script/i);
      assert.doesNotMatch(html, /alert\(1\)<\/script>"/);
      assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    }
  });
});

describe('pages', () => {
  it('a pipeline: the candidate against the champion, better or worse by the metric\'s direction', () => {
    const tp: TrainingPipeline = { apiVersion: 'perennial.dev/v1alpha1', kind: 'TrainingPipeline', metadata: { name: 'churn', namespace: 'ml' }, spec: {} as TrainingPipeline['spec'],
      status: { championVersion: 'v2', runs: [
        { name: 'churn-3', version: 'v3', trigger: 'Drift', reason: 'PSI 0.3 on temp', startTime: t, completionTime: t, outcome: 'Rejected', metrics: { accuracy: 0.7, logLoss: 0.9 }, championMetrics: { accuracy: 0.8, logLoss: 0.5 } },
        { name: 'churn-2', version: 'v2', trigger: 'Initial', startTime: t, completionTime: t, outcome: 'Blessed', metrics: { accuracy: 0.8, logLoss: 0.5 } },
      ] } };
    const html = pipelinePage(tp, Date.parse(t), 'alice');
    assert.match(html, /0\.7 <span class="worse">vs 0\.8<\/span>/);
    assert.match(html, /0\.9 <span class="worse">vs 0\.5<\/span>/, 'a higher log loss is worse');
    assert.match(html, /v2 <b>\(champion\)<\/b>/);
    assert.match(html, /PSI 0\.3 on temp/);
    assert.match(html, /<svg role="img" aria-label="run timeline"/);
  });

  it('a deployment: weights, the current step, every analysis and the plots from the history', () => {
    let now = Date.parse(t);
    const history = new LiveHistory(() => now);
    history.observe(md({ stableVersion: 'v1', liveMetrics: { time: t, version: 'v1', accuracy: 0.9, drift: { temp: 0.1 } } }));
    now += 30_000;
    const d = md({ stableVersion: 'v1', canaryVersion: 'v2', canaryWeight: 10, currentStep: 1,
      analysis: [{ time: t, version: 'v2', step: 1, verdict: 'Passed', measurements: { accuracy: 0.91 }, message: 'accuracy ok' }],
      liveMetrics: { time: '2026-11-01T10:00:30Z', version: 'v1', accuracy: 0.88, drift: { temp: 0.2 } } });
    history.observe(d);
    const h = history.of('ml', 'web');
    assert.equal(h.live.length, 2);
    assert.deepEqual(h.weights.map((w) => w.weight), [0, 10]);
    const html = deploymentPage(d, h, 'alice');
    assert.match(html, /<td>candidate<\/td><td>v2<\/td><td>-<\/td><td>10%<\/td>/);
    assert.match(html, /<td>1<\/td><td>analysis<\/td><td><span class="current">/);
    assert.match(html, /<span class="Passed">Passed<\/span>/);
    assert.match(html, /aria-label="Live accuracy over time"/);
    assert.match(html, /aria-label="Drift per feature \(PSI\) over time"[^]*>temp<\/text>/);
  });

  it('the history is a bounded ring, and the same measurement is recorded once', () => {
    const history = new LiveHistory(() => 0, 3);
    for (let i = 0; i < 5; i++) {
      const d = md({ stableVersion: 'v1', liveMetrics: { time: `2026-11-01T10:00:0${i}Z`, version: 'v1', accuracy: i / 10 } });
      history.observe(d);
      history.observe(d);
    }
    assert.deepEqual(history.of('ml', 'web').live.map((p) => p.accuracy), [0.2, 0.3, 0.4]);
  });

  it('a plot without points says so', () => {
    assert.match(lineChart('x', []), /no measurements yet/);
  });
});

describe('VersionReports: each stored version\'s metrics.json, with the pipeline\'s own store access', () => {
  const tp = (edit: Partial<TrainingPipeline['spec']> = {}): TrainingPipeline => ({ apiVersion: 'perennial.dev/v1alpha1', kind: 'TrainingPipeline', metadata: { name: 'churn', namespace: 'ml' },
    spec: edit as TrainingPipeline['spec'], status: { storedVersions: ['v1', 'v2', 'v3'], championVersion: 'v2' } });
  const put = async (store: MemoryStore, bucket: string, version: string, body: string): Promise<void> => {
    await store.put(bucket, `pipelines/ml/churn/versions/${version}/metrics.json`, body);
  };

  it('reads the newest versions first, keeps what it read, and says what could not be read', async () => {
    const own = new MemoryStore();
    await put(own, 'perennial', 'v1', JSON.stringify(report({ accuracy: 0.8 })));
    await put(own, 'perennial', 'v2', JSON.stringify(report({ accuracy: 0.85 }, { version: 'v1', metrics: { accuracy: 0.8 } })));
    const reports = new VersionReports({ accepted: () => true, store: own, defaultBucket: 'perennial', storeForSecret: () => Promise.reject(new Error('no secret here')) });
    const got = await reports.of(tp());
    assert.deepEqual(got.map((r) => r.version), ['v3', 'v2', 'v1']);
    assert.match('error' in got[0]! ? got[0].error : '', /not found|NoSuchKey|v3/i);
    const html = pipelinePage(tp(), Date.parse(t), 'alice', got);
    assert.match(html, /v2 <b>\(champion\)<\/b><\/td><td>against v1<\/td><td>0\.85 <span class="better">vs 0\.8<\/span>/);
    assert.match(html, /<td>v1<\/td><td>no champion then<\/td>/);
  });

  it('uses the Secret\'s client and bucket for a pipeline with its own credentials, nothing for a refused spec', async () => {
    const tenant = new MemoryStore();
    await put(tenant, 'tenant-bucket', 'v3', JSON.stringify(report({ accuracy: 0.9 })));
    const asked: string[] = [];
    const reports = new VersionReports({ accepted: (x) => x.spec.storage?.bucket !== 'forbidden', store: new MemoryStore(), defaultBucket: 'perennial',
      storeForSecret: (namespace, secret) => { asked.push(`${namespace}/${secret}`); return Promise.resolve(tenant); } });
    const got = await reports.of(tp({ storage: { bucket: 'tenant-bucket', credentialsSecret: 'tenant-s3' } }));
    assert.deepEqual(asked, ['ml/tenant-s3']);
    assert.ok('report' in got[0]! && got[0].report.candidate.metrics.accuracy === 0.9);
    assert.deepEqual(await reports.of(tp({ storage: { bucket: 'forbidden' } })), []);
  });
});
