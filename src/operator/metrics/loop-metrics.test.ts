import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { aDeployment, aPipeline } from '../../api/testing/builders.js';
import type { CacheReader } from '../runtime/informer.js';
import type { KubeObject } from '../runtime/resource.js';
import { LoopMetrics, runSeconds } from './loop-metrics.js';
import { feedbackLoopSeconds, lineageLocation } from './feedback-latency.js';

/** A cache over a list the test changes (the informer's cache is what the gauges read at each scrape). */
function cacheOf(items: KubeObject[]): CacheReader<KubeObject> {
  return { get: (ns, name) => items.find((o) => o.metadata?.namespace === ns && o.metadata?.name === name), list: () => [...items], hasSynced: () => true };
}

describe('LoopMetrics: the exposition a Prometheus scrapes', () => {
  it('gauges follow the caches: a deleted object\'s series are gone at the next scrape', async () => {
    const registry = new Registry();
    const tps: KubeObject[] = [aPipeline('weather').inNamespace('ml').withStatus({ phase: 'Idle', championVersion: 'v2' }).build()];
    const mds: KubeObject[] = [aDeployment('weather').inNamespace('ml').withStatus({ phase: 'Progressing', stableVersion: 'v2', canaryVersion: 'v3', canaryWeight: 50, liveMetrics: { version: 'v2', accuracy: 0.8 } }).build()];
    new LoopMetrics(registry, { pipelines: cacheOf(tps), deployments: cacheOf(mds) });
    const before = await registry.metrics();
    assert.match(before, /perennial_training_pipeline_info\{namespace="ml",name="weather",phase="Idle",champion_version="v2",latest_version=""\} 1/);
    assert.match(before, /perennial_model_deployment_info\{namespace="ml",name="weather",phase="Progressing",stable_version="v2",canary_version="v3"\} 1/);
    assert.match(before, /perennial_model_deployment_canary_weight_percent\{namespace="ml",name="weather"\} 50/);
    assert.match(before, /perennial_model_deployment_live_accuracy\{namespace="ml",name="weather",version="v2"\} 0.8/);
    tps.length = 0;
    mds.length = 0;
    const after = await registry.metrics();
    assert.doesNotMatch(after, /name="weather"/);
  });

  it('one scrape reads the caches once for all ten gauges; the next scrape reads them again', async () => {
    const registry = new Registry();
    let lists = 0;
    const counted = (items: KubeObject[]): CacheReader<KubeObject> => ({ ...cacheOf(items), list: () => { lists++; return [...items]; } });
    const mds: KubeObject[] = [aDeployment('weather').inNamespace('ml').withStatus({ phase: 'Healthy', stableVersion: 'v1' }).build()];
    new LoopMetrics(registry, { pipelines: counted([]), deployments: counted(mds) });
    assert.match(await registry.metrics(), /stable_version="v1"/);
    assert.equal(lists, 2, 'the pipelines and the deployments listed once each');
    mds[0] = aDeployment('weather').inNamespace('ml').withStatus({ phase: 'Healthy', stableVersion: 'v2' }).build();
    assert.match(await registry.metrics(), /stable_version="v2"/, 'a later scrape sees the caches as they are then');
    assert.equal(lists, 4);
  });

  it('counters of runs, promotions, aborts and rollbacks by object, removed when it is deleted', async () => {
    const registry = new Registry();
    const m = new LoopMetrics(registry, { pipelines: cacheOf([]), deployments: cacheOf([]) });
    m.deploymentSeen('ml', 'weather');
    assert.match(await registry.metrics(), /perennial_model_deployment_rollout_aborts_total\{namespace="ml",name="weather"\} 0/, 'born at 0: the first abort is an increase');
    const tp = aPipeline('weather').inNamespace('ml').build();
    m.runFinished(tp, { outcome: 'Blessed', startTime: '2026-01-01T00:00:00Z', completionTime: '2026-01-01T00:02:00Z' });
    m.runFinished(tp, { outcome: 'InvalidData', startTime: '2026-01-01T01:00:00Z', completionTime: '2026-01-01T01:00:30Z' });
    const event = { time: '2026-01-01T00:00:00Z', kind: 'ModelDeployment', namespace: 'ml', name: 'weather', version: 'v3', reason: 'x', message: 'x' } as const;
    m.loopEvent({ ...event, type: 'rollout.promoted' });
    m.loopEvent({ ...event, type: 'rollout.aborted' });
    m.loopEvent({ ...event, type: 'rollout.aborted' });
    m.loopEvent({ ...event, type: 'rollout.rolledBack' });
    m.feedbackLoopLatency('ml', 'weather', 95);
    const text = await registry.metrics();
    assert.match(text, /perennial_training_pipeline_runs_total\{namespace="ml",name="weather",outcome="Blessed"\} 1/);
    assert.match(text, /perennial_training_pipeline_runs_total\{namespace="ml",name="weather",outcome="InvalidData"\} 1/);
    assert.match(text, /perennial_training_pipeline_run_duration_seconds_sum\{namespace="ml",name="weather",outcome="Blessed"\} 120/);
    assert.match(text, /perennial_model_deployment_promotions_total\{namespace="ml",name="weather"\} 1/);
    assert.match(text, /perennial_model_deployment_rollout_aborts_total\{namespace="ml",name="weather"\} 2/);
    assert.match(text, /perennial_model_deployment_rollbacks_total\{namespace="ml",name="weather"\} 1/);
    assert.match(text, /perennial_feedback_loop_latency_seconds_bucket\{le="120",namespace="ml",name="weather"\} 1/);
    assert.match(text, /perennial_feedback_loop_last_latency_seconds\{namespace="ml",name="weather"\} 95/);
    m.pipelineDeleted('ml', 'weather');
    m.deploymentDeleted('ml', 'weather');
    assert.doesNotMatch(await registry.metrics(), /name="weather"/);
  });
});

describe('runSeconds', () => {
  const table: Array<[string, { startTime?: string; completionTime?: string }, number | undefined]> = [
    ['start to end', { startTime: '2026-01-01T00:00:00Z', completionTime: '2026-01-01T00:01:30Z' }, 90],
    ['no end yet', { startTime: '2026-01-01T00:00:00Z' }, undefined],
    ['an end before the start (a clock that went back)', { startTime: '2026-01-01T00:01:00Z', completionTime: '2026-01-01T00:00:00Z' }, undefined],
  ];
  for (const [name, run, want] of table) it(name, () => assert.equal(runSeconds(run), want));
});

describe('feedback-loop latency: the newest label\'s arrival → the promotion', () => {
  const promoted = Date.parse('2026-01-01T01:00:00Z');
  const table: Array<[string, unknown, number | undefined]> = [
    ['the newest label the version trained on arrived 10 minutes before', { feedback: { fedBackRows: { rows: 5, labelTime: { from: '2026-01-01T00:00:00Z', to: '2026-01-01T00:50:00Z' } } } }, 600],
    ['trained without feedback: not measured', { rows: { train: 10 } }, undefined],
    ['fed-back rows without label times (an older trainer): not measured', { feedback: { fedBackRows: { rows: 5 } } }, undefined],
    ['an unreadable time', { feedback: { fedBackRows: { labelTime: { to: 'yesterday' } } } }, undefined],
    ['a label newer than the promotion (clocks apart): not measured', { feedback: { fedBackRows: { labelTime: { to: '2026-01-01T02:00:00Z' } } } }, undefined],
  ];
  for (const [name, lineage, want] of table) it(name, () => assert.equal(feedbackLoopSeconds(lineage, promoted), want));
  it('the lineage is next to the candidate\'s manifest', () => {
    const md = aDeployment('weather').inNamespace('ml').withStatus({ canaryVersion: 'v3', canaryURI: 's3://perennial/pipelines/ml/weather/versions/v3' }).build();
    assert.deepEqual(lineageLocation(md), { bucket: 'perennial', key: 'pipelines/ml/weather/versions/v3/lineage.json' });
    assert.equal(lineageLocation(aDeployment('x').build()), undefined);
  });
});
