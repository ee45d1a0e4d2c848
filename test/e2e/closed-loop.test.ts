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
// The milestones print as `# <seconds since start> <what>` lines.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PatchType } from '../../src/operator/runtime/kube-http.js';
import type { ModelDeployment } from '../../src/api/model-deployment.js';
import type { TrainingPipeline, TrainingRun } from '../../src/api/training-pipeline.js';
import { eventually } from '../support/eventually.js';
import { LiveMetricsLog, LoopStack, loopBucket, PodStartLog } from '../support/loop-stack.js';
import { operatorLogs } from '../support/operator-chart.js';
import { Traffic } from '../support/traffic.js';
import { days } from '../support/weather-traffic.js';
import { badCandidatePatch, loopDeployment, loopTriggers, weather, weatherDataPrefix, weatherPeriods, weatherPipeline } from '../support/weather-loop.js';

const namespace = 'loop';
const name = 'weather';
const started = Date.now();
const milestone = (what: string): void => console.log(`# ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s  ${what}`);

describe('closed loop on the weather data (train → serve → drift → retrain → canary → promote → bad candidate rolled back)', () => {
  let stack: LoopStack;
  let traffic: Traffic | undefined;
  let live: LiveMetricsLog | undefined;
  let podStarts: PodStartLog | undefined;
  const untilTp = (what: string, ok: (tp: TrainingPipeline) => boolean) => stack.untilTp(name, what, ok);
  const untilMd = (what: string, ok: (md: ModelDeployment) => boolean) => stack.untilMd(name, what, ok);
  const runOf = (tp: TrainingPipeline, version: string): TrainingRun | undefined => tp.status?.runs?.find((r) => r.version === version);

  before(async () => {
    // The operator as users run it: installed by helm, two replicas of its image on the node, one leading.
    stack = await LoopStack.start({ name: 'e2e-closed-loop', namespace, operator: 'helm', data: { dataset: weather, periods: weatherPeriods('Seattle') }, log: (l) => milestone(l) });
    milestone('cluster, node and the helm-installed operator up; Seattle 2012–2015 in the store');
    podStarts = new PodStartLog(stack);
    podStarts.start();
  });

  after(async () => {
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

  it('closes the loop with no failed request', async () => {
    await stack.create('trainingpipelines', weatherPipeline(name, loopTriggers(name), stack.namespace));
    await stack.create('modeldeployments', loopDeployment(name));
    milestone('TrainingPipeline and ModelDeployment applied');

    // 1. v1 trained on Seattle, blessed, served.
    let tp = await untilTp('v1 blessed', (x) => x.status?.championVersion === 'v1');
    const v1Run = runOf(tp, 'v1');
    assert.equal(v1Run?.trigger, 'Initial');
    assert.equal(v1Run?.outcome, 'Blessed');
    milestone(`v1 blessed (holdout accuracy ${v1Run?.metrics?.['accuracy']?.toFixed(3) ?? '?'})`);
    let md = await untilMd('v1 served', (x) => x.status?.stableVersion === 'v1' && x.status.stableReadyReplicas === 2 && x.status.phase === 'Healthy');
    milestone('v1 serving on 2 pods');
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

    await traffic.stop();
    milestone(`traffic: ${counts.requests} requests, ${counts.failed} failed; ${counts.feedback} feedback posts, ${counts.feedbackFailed} failed`);
    assert.deepEqual(counts.errors.slice(0, 10), []);
    assert.equal(counts.failed, 0);
    assert.equal(counts.feedbackFailed, 0);
    assert.ok(counts.requests > 500, `${counts.requests} requests`);
  });
});
