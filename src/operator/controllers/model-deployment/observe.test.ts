import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import winston from 'winston';
import type { CacheReader } from '../../runtime/informer.js';
import { matches, parseSelector } from '../../runtime/label-selector.js';
import type { Logger } from '../../runtime/log.js';
import type { KubeObject } from '../../runtime/resource.js';
import { deployment, healthy, revisionName, serving, store, t0, tenancy } from './fixtures.js';
import { emptyMeasurement, NoValuesError, ProviderError, type MetricProvider } from './metrics/provider.js';
import { measurementLogLevel, measurementProblem, observe, type ObserveDeps } from './observe.js';

describe('measurementProblem: what the analysis records may say about a failed measurement', () => {
  const table: Array<[string, unknown, 'pods' | 'prometheus', string]> = [
    ['no values, in the operator\'s words', new NoValuesError('no ready pods of the revision'), 'pods', 'NoValuesError: no ready pods of the revision'],
    ['the pods provider about the deployment\'s own pods', new ProviderError('no pod answered /metrics (2 failed)'), 'pods', 'ProviderError: no pod answered /metrics (2 failed)'],
    ['a Prometheus answer is never repeated', new ProviderError('Prometheus answered 500: {"secret":"of another tenant"}'), 'prometheus',
      'ProviderError: the Prometheus metric provider could not be asked (details in the operator\'s log)'],
    ['nor anything unexpected', new TypeError('Cannot read x of {"a":1}'), 'pods', 'TypeError: the pods metric provider could not be asked (details in the operator\'s log)'],
  ];
  for (const [name, e, source, want] of table) it(name, () => assert.equal(measurementProblem(e, source), want));
});

describe('measurementLogLevel: how loud a failed measurement is', () => {
  const table: Array<[string, unknown, 'debug' | 'warn' | 'error']> = [
    ['no values yet is normal (a new revision, no traffic)', new NoValuesError('no ready pods of the revision'), 'debug'],
    ['a provider that could not be asked needs looking at', new ProviderError('Prometheus unreachable: ECONNREFUSED'), 'warn'],
    ['anything else is a bug of ours', new TypeError('x is undefined'), 'error'],
  ];
  for (const [name, e, want] of table) it(name, () => assert.equal(measurementLogLevel(e), want));
});

function cacheOf(objects: readonly KubeObject[]): CacheReader<KubeObject> {
  return {
    hasSynced: () => true,
    get: (namespace, name) => objects.find((o) => o.metadata?.namespace === namespace && o.metadata.name === name),
    list: (namespace, selector) => objects.filter((o) => o.metadata?.namespace === namespace && (selector === undefined || matches(parseSelector(selector), o.metadata?.labels))),
  };
}

function recordingLogger(): { logger: Logger; lines: Array<{ level: string; message: string; reason?: string }> } {
  const lines: Array<{ level: string; message: string; reason?: string }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as { level: string; message: string });
      done();
    },
  });
  return { logger: winston.createLogger({ level: 'debug', format: winston.format.json(), transports: [new winston.transports.Stream({ stream })] }), lines };
}

describe('observe', () => {
  const v1 = revisionName('v1');
  const owned = { uid: 'md-uid', controller: true, apiVersion: 'perennial.dev/v1alpha1', kind: 'ModelDeployment', name: 'weather' };
  const serverDeployment = (name: string, ownerUid: string): KubeObject => ({
    metadata: { name, namespace: 'ml', uid: `uid-${name}`, labels: { 'perennial.dev/deployment': 'weather' }, ownerReferences: [{ ...owned, uid: ownerUid }] },
    spec: { replicas: 2 }, status: { readyReplicas: 2 },
  } as KubeObject);

  function deps(provider: MetricProvider, extra: Partial<ObserveDeps> = {}): ObserveDeps & { lines: Array<{ level: string; message: string; reason?: string }> } {
    const { logger, lines } = recordingLogger();
    return {
      pipelines: cacheOf([{ metadata: { name: 'weather', namespace: 'ml' }, status: { championVersion: 'v1' } } as KubeObject]),
      serverDeployments: cacheOf([serverDeployment(v1, 'md-uid'), serverDeployment('weather-someone-elses', 'other-uid')]),
      services: cacheOf([]), readPods: () => Promise.resolve([]), store, metricProvider: () => provider, tenancy, logger, lines, ...extra,
    };
  }

  it('reads the Deployments the deployment controls, the model to serve, and measures the stable version', async () => {
    const d = deps({ measure: () => Promise.resolve(healthy) });
    const o = await observe(d, deployment().withStatus(serving('v1')).build(), t0);
    assert.deepEqual([...o.revisions.keys()], [v1], 'not a Deployment with its labels that another object controls');
    assert.equal(o.desired.kind === 'ready' && o.desired.model.version, 'v1');
    assert.deepEqual(o.stableLive, { ok: true, m: healthy });
  });

  it('a provider error is Inconclusive, logged at warn with its reason; no values only at debug', async () => {
    const failing = deps({ measure: () => Promise.reject(new ProviderError('Prometheus unreachable: ECONNREFUSED')) });
    const o = await observe(failing, deployment().withStatus(serving('v1')).build(), t0);
    assert.deepEqual(o.stableLive, { ok: false, reason: 'ProviderError: Prometheus unreachable: ECONNREFUSED' });
    assert.deepEqual(failing.lines.map((l) => [l.level, l.message, l.reason]), [['warn', 'no measurement', 'ProviderError: Prometheus unreachable: ECONNREFUSED']]);
    const empty = deps({ measure: () => Promise.reject(new NoValuesError('no ready pods of the revision')) });
    await observe(empty, deployment().withStatus(serving('v1')).build(), t0);
    assert.deepEqual(empty.lines.map((l) => l.level), ['debug']);
  });

  it('a deployment it may not act on is not measured', async () => {
    let asked = 0;
    const d = deps({ measure: () => { asked++; return Promise.resolve(emptyMeasurement); } });
    const o = await observe(d, deployment().withImage('docker.io/someone/server:1').withStatus(serving('v1')).build(), t0);
    assert.equal(asked, 0);
    assert.equal(o.stableLive, undefined);
  });
});
