// The Kafka sink against a real broker (KRaft, from Maven Central, started and stopped here): the real server
// process under traffic publishes every answered prediction and every accepted label as a CloudEvent keyed by the
// prediction id; the broker is restarted mid-traffic. Afterwards every answered prediction id is in the predictions
// topic, and nothing else; delivery is at least once, so the topic is read deduplicated by key (the repeats are
// counted and printed), and each key's prediction and label sit in the same partition.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { LocalCluster } from '../../localcluster/cluster.js';
import { cloudEventTypes, type InferenceCloudEvent } from '../../src/shared/cloudevents.js';
import { podEnv } from '../../src/shared/pod-contract.js';
import { parsePrometheusText, serverMetricNames } from '../../src/shared/server-metrics.js';
import { KafkaBroker } from '../support/kafka-broker.js';
import { storeFor } from './trainer-harness.js';
import {
  postFeedback, postJson, quickTraining, serverEnv, startServer, trainWeatherModel, waitReady, weatherInstances, type RunningServer,
} from '../support/served-model.js';

const topics = { predictions: 'perennial-predictions', feedback: 'perennial-feedback' };

async function metric(s: RunningServer, name: string, labels: Record<string, string> = {}): Promise<number> {
  const samples = parsePrometheusText(await (await fetch(`${s.url}/metrics`)).text());
  return samples.filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v)).reduce((a, x) => a + x.value, 0);
}

/** `workers` clients predicting 3 rows a request until `stop()`; the ids of every answered request. */
async function traffic(url: string, rows: readonly unknown[], workers: number, stop: () => boolean): Promise<{ ids: string[]; failed: number }> {
  const ids: string[] = [];
  let failed = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (!stop()) {
      const start = (next += 3) % (rows.length - 3);
      const r = await postJson(`${url}/v1/models/weather:predict`, { instances: rows.slice(start, start + 3) }).catch(() => undefined);
      if (r?.status === 200) ids.push(...(r.body['prediction_ids'] as string[]));
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  return { ids, failed };
}

interface Read {
  readonly key: string;
  readonly partition: number;
  readonly event: InferenceCloudEvent;
}

/** Every message of a topic, from the beginning, until `want` distinct keys are in (or the deadline). */
async function readTopic(kafka: Kafka, topic: string, want: number, timeoutMs = 60_000): Promise<Read[]> {
  const consumer = kafka.consumer({ groupId: `test-${topic}-${Date.now()}` });
  const read: Read[] = [];
  const keys = new Set<string>();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: ({ partition, message }) => {
      const key = message.key?.toString() ?? '';
      keys.add(key);
      read.push({ key, partition, event: JSON.parse(message.value?.toString() ?? 'null') as InferenceCloudEvent });
      return Promise.resolve();
    },
  });
  const until = Date.now() + timeoutMs;
  while (keys.size < want && Date.now() < until) await sleep(200);
  await sleep(1000); // anything still arriving past the wanted count (a stray event would show here)
  await consumer.disconnect();
  return read;
}

describe('model server: Kafka sink against a real broker, restarted under traffic', () => {
  let cluster: LocalCluster;
  let broker: KafkaBroker;
  let server: RunningServer;
  let kafka: Kafka;
  const bucket = 'kafka';
  const { instances, labels } = weatherInstances('Seattle');

  before(async () => {
    cluster = await LocalCluster.start({ name: 'server-kafka', controllerManager: false });
    broker = await KafkaBroker.start(3);
    kafka = new Kafka({ clientId: 'server-kafka-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: topics.predictions, numPartitions: 3 }, { topic: topics.feedback, numPartitions: 3 }] });
    await admin.disconnect();
    await trainWeatherModel(cluster.info, storeFor(cluster.info), bucket, 'v1', quickTraining);
    server = await startServer(serverEnv(cluster.info, {
      bucket, version: 'v1', env: {
        [podEnv.serverKafkaBrokers]: broker.bootstrap, [podEnv.serverKafkaPredictionsTopic]: topics.predictions, [podEnv.serverKafkaFeedbackTopic]: topics.feedback,
      },
    }));
    await waitReady(server);
  });

  after(async () => {
    await server?.stop('SIGKILL');
    await broker?.destroy();
    await cluster?.stop();
  });

  it('publishes every answered prediction and every label once by key, through a broker restart, without failing a request', async () => {
    let stop = false;
    const load = traffic(server.url, instances, 8, () => stop);
    await sleep(2000);
    await broker.stop();
    await sleep(2000);
    const bufferedDuringOutage = await metric(server, serverMetricNames.kafkaBuffered);
    await broker.restart();
    await sleep(2000);
    stop = true;
    const { ids, failed } = await load;
    assert.equal(failed, 0, 'no prediction waited for or failed with the broker');
    assert.ok(bufferedDuringOutage > 0, 'events were buffered while the broker was away');

    // Labels for every tenth answered prediction.
    const labelled = ids.filter((_, i) => i % 10 === 0);
    for (let i = 0; i < labelled.length; i += 500) {
      const sent = await postFeedback(server, { feedback: labelled.slice(i, i + 500).map((id, j) => ({ id, label: labels[(i + j) % labels.length] })) });
      assert.equal(sent.status, 200, JSON.stringify(sent.body));
    }

    for (let i = 0; i < 300 && (await metric(server, serverMetricNames.kafkaEvents, { stream: 'feedback', outcome: 'sent' })) < labelled.length; i++) await sleep(200);
    assert.equal(await metric(server, serverMetricNames.kafkaBuffered), 0, 'the buffer emptied once the broker was back');
    assert.equal(await metric(server, serverMetricNames.kafkaEvents, { outcome: 'dropped' }), 0);

    const predictions = await readTopic(kafka, topics.predictions, ids.length);
    const byKey = new Map<string, Read[]>();
    for (const r of predictions) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r]);
    const repeats = predictions.length - byKey.size;
    console.log(`# kafka: ${ids.length} predictions answered, ${bufferedDuringOutage} events buffered during the restart, ${predictions.length} messages read, ${repeats} repeats (at least once: deduplicated by key)`);
    assert.deepEqual(new Set(byKey.keys()), new Set(ids), 'every answered prediction id, and nothing else, is in the topic');
    for (const [key, reads] of byKey) {
      const e = reads[0]?.event;
      assert.equal(e?.specversion, '1.0');
      assert.equal(e?.type, cloudEventTypes.prediction);
      assert.equal(e?.id, key);
      assert.equal(e?.data.id, key);
      assert.equal(e?.data.kind, 'prediction');
      assert.equal(new Set(reads.map((r) => r.event.id)).size, 1, 'a repeat carries the same event id');
    }

    const feedback = await readTopic(kafka, topics.feedback, labelled.length);
    const feedbackKeys = new Set(feedback.map((r) => r.key));
    assert.deepEqual(feedbackKeys, new Set(labelled), 'every accepted label is in the feedback topic');
    for (const r of feedback) {
      assert.equal(r.event.type, cloudEventTypes.feedback);
      assert.equal(r.event.data.kind, 'feedback');
      assert.equal(r.partition, byKey.get(r.key)?.[0]?.partition, `label ${r.key} is in its prediction's partition`);
    }
  });

  it('stops after SIGTERM with its buffer sent', async () => {
    const r = await postJson(`${server.url}/v1/models/weather:predict`, { instances: instances.slice(0, 2) });
    assert.equal(r.status, 200);
    const ended = await server.stop('SIGTERM');
    assert.equal(ended.code, 0, server.output().slice(-2000));
    const ids = r.body['prediction_ids'] as string[];
    const read = await readTopic(kafka, topics.predictions, Number.MAX_SAFE_INTEGER, 5000);
    for (const id of ids) assert.ok(read.some((m) => m.key === id), `prediction ${id} published before the server exited`);
  });
});
