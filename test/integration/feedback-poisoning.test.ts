// Forged labels never reach a published model or live metrics, end to end with the real programs: the real trainer
// publishes a Seattle model to MinIO, the real model server (its bundle) serves it, an attacker and an honest label
// sender post labels, and the real trainer retrains on what the server logged.
// The attacker tries: labels without the token, made-up prediction ids, edited ids, ids of another deployment, 25
// invented classes on real ids, a second label to flip a first one, and — past the server, as if an old server had
// logged it — a forged class written straight into the feedback log. Only the honest labels move live accuracy and
// become training rows; the retrained model knows only the uploaded classes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { sharedCluster, uniqueName } from '../../localcluster/test-cluster.js';
import type { ClusterInfo } from '../../localcluster/cluster.js';
import { feedbackPrefix, predictionsPrefix, versionPrefix } from '../../src/shared/artifact-layout.js';
import { inferenceLogVersion } from '../../src/shared/inference-log.js';
import { newNonce, signPredictionId } from '../../src/shared/prediction-id.js';
import { liveAccuracy, parsePrometheusText, serverMetricNames, type Sample } from '../../src/shared/server-metrics.js';
import type { MinioStore } from '../../src/storage/minio-store.js';
import {
  postFeedback, postJson, serverEnv, startServer, testSigningKey, trainWeatherModel, waitReady, weatherDataPrefix, weatherInstances, weatherPipeline, weatherTrainerConfig,
  type RunningServer,
} from '../support/served-model.js';
import { readJsonObject, runTrainer, storeFor, trainerEnv } from './trainer-harness.js';

const deployment = { namespace: 'ml', name: 'weather-trust' };

async function scrape(s: RunningServer): Promise<Sample[]> {
  return parsePrometheusText(await (await fetch(`${s.url}/metrics`)).text());
}

describe('feedback poisoning (real trainer, real server, MinIO)', () => {
  let info: ClusterInfo;
  let store: MinioStore;
  let server: RunningServer;
  const bucket = uniqueName('poison');
  const seattle = weatherInstances('Seattle');
  // The traffic is Seattle's 2015 days dated four years on: live traffic is the future of the uploaded history. The
  // 2015 rows themselves are uploaded (the newest, the holdout), and a fed-back copy of an uploaded row is dropped as
  // a duplicate before the admission rules this test is about (docs/loop-semantics.md).
  const rows2015 = seattle.instances.filter((r) => String(r['date']).startsWith('2015')).map((r) => ({ ...r, date: String(r['date']).replace(/^2015/, '2019') }));
  const labels2015 = seattle.labels.filter((_, i) => String(seattle.instances[i]?.['date']).startsWith('2015'));
  const honest = { labelled: 0, correct: 0 };
  let attackIds: string[] = [];

  before(async () => {
    info = await sharedCluster();
    store = storeFor(info);
    await trainWeatherModel(info, store, bucket, 'v1');
    server = await startServer(serverEnv(info, { bucket, version: 'v1', deployment: `${deployment.namespace}/${deployment.name}` }));
    await waitReady(server);
  });
  after(async () => {
    await server.stop('SIGKILL');
  });

  const predict = async (from: number, n: number): Promise<{ ids: string[]; predicted: string[] }> => {
    const r = await postJson(`${server.url}/v1/models/weather:predict`, { instances: rows2015.slice(from, from + n) });
    assert.equal(r.status, 200);
    return { ids: r.body['prediction_ids'] as string[], predicted: r.body['predictions'] as string[] };
  };

  it('refuses every forged label, and takes the honest ones', async () => {
    const { ids, predicted } = await predict(0, 200);
    attackIds = ids.slice(100, 125);
    const forgedClasses = Array.from({ length: 25 }, (_, i) => `class-${i}`);

    const noToken = await postJson(`${server.feedbackUrl ?? ''}/v1/feedback`, { feedback: attackIds.map((id, i) => ({ id, label: forgedClasses[i] })) });
    assert.equal(noToken.status, 401);
    const madeUp = await postFeedback(server, { feedback: [...forgedClasses.map(() => ({ id: randomUUID(), label: 'sun' })), { id: 'p1.e30.AAAA', label: 'sun' }] });
    assert.equal(madeUp.status, 422, JSON.stringify(madeUp.body));
    const otherDeployment = signPredictionId(Buffer.from(testSigningKey), 'ml/another-deployment', { nonce: newNonce(), version: 'v1', track: 'stable', timeMs: Date.now(), prediction: 'sun' });
    const [v = '', payload = '', sig = ''] = (ids[0] ?? '').split('.');
    const edited = `${v}.${Buffer.from(JSON.stringify(['x', 'v1', 'stable', Date.now(), 'rain'])).toString('base64url')}.${sig}`;
    assert.ok(payload !== '');
    for (const id of [otherDeployment, edited]) assert.equal((await postFeedback(server, { id, label: 'sun' })).status, 422, id);
    const inventedClasses = await postFeedback(server, { feedback: attackIds.map((id, i) => ({ id, label: forgedClasses[i] })) });
    assert.equal(inventedClasses.status, 422);
    assert.equal((inventedClasses.body['rejected'] as unknown[]).length, 25);
    assert.equal(liveAccuracy(await scrape(server), 'v1'), undefined, 'no forged label moved live accuracy');

    // The honest sender labels the first 100 predictions with the truth; the attacker then tries to flip them.
    const truth = labels2015.slice(0, 100);
    const ok = await postFeedback(server, { feedback: ids.slice(0, 100).map((id, i) => ({ id, label: truth[i] })) });
    assert.equal(ok.body['accepted'], 100, JSON.stringify(ok.body));
    honest.labelled = 100;
    honest.correct = truth.filter((t, i) => t === predicted[i]).length;
    const flip = await postFeedback(server, { feedback: ids.slice(0, 100).map((id, i) => ({ id, label: truth[i] === 'sun' ? 'rain' : 'sun' })) });
    assert.equal(flip.status, 200);
    assert.equal((flip.body['duplicate'] as unknown[]).length, 100, 'every second label is a duplicate');

    const samples = await scrape(server);
    assert.equal(liveAccuracy(samples, 'v1'), honest.correct / honest.labelled, 'live accuracy is the honest labels\' alone');
    const fb = (o: string): number => samples.find((s) => s.name === serverMetricNames.feedback && s.labels['outcome'] === o && s.labels['model_version'] === 'v1')?.value ?? 0;
    assert.equal(fb('correct') + fb('incorrect'), 100);
    assert.ok(fb('rejected') >= 25 + 26 + 2, `rejected counted: ${fb('rejected')}`);
    assert.equal(fb('duplicate'), 100);
  });

  it('the retrained model learns from the honest labels only and knows only the uploaded classes', async () => {
    const stopped = await server.stop('SIGTERM');
    assert.equal(stopped.code, 0, 'the logs are flushed on the way out');
    // Past the server: a forged class written straight into the feedback log for a real prediction (an old server,
    // or anyone with write access to the bucket). The trainer drops it by the same rule.
    const stray = { v: inferenceLogVersion, kind: 'feedback', id: attackIds[0], label: 'class-0', time: new Date().toISOString() };
    await store.put(bucket, `${feedbackPrefix(deployment)}2026-12-04/stray.jsonl`, `${JSON.stringify(stray)}\n`, { contentType: 'application/x-ndjson' });

    const config = weatherTrainerConfig('v2', {
      runId: 'run-v2',
      data: {
        sources: [{ prefix: weatherDataPrefix, format: 'csv' }], where: { column: 'location', in: ['Seattle'] },
        feedback: { predictionsPrefix: predictionsPrefix(deployment), feedbackPrefix: feedbackPrefix(deployment), maxShare: 0.5 },
      },
    });
    const r = await runTrainer(trainerEnv(info, bucket, config));
    assert.equal(r.code, 0, r.stdout.slice(-3000) + r.stderr.slice(-2000));
    const prefix = versionPrefix(weatherPipeline, 'v2');
    const spec = await readJsonObject<{ label: { classes: string[] } }>(store, bucket, `${prefix}preprocessing.json`);
    const uploaded = [...new Set(seattle.labels)].sort();
    assert.deepEqual(spec.label.classes, uploaded, 'no invented class became an output');
    const lineage = await readJsonObject<{ feedback: { joined: number; admission: { fedBack: number; rejectedLabels: number; admitted: number } } }>(store, bucket, `${prefix}lineage.json`);
    assert.equal(lineage.feedback.joined, 101, 'the 100 honest labels and the stray one joined their predictions');
    assert.deepEqual(lineage.feedback.admission, { fedBack: 101, rejectedLabels: 1, capped: 0, admitted: 100 });
  });
});
