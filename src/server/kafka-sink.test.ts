import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { inferenceLogVersion, type PredictionRecord } from '../shared/inference-log.js';
import { podEnv } from '../shared/pod-contract.js';
import { readServerConfig, type ServerConfigError } from './config.js';
import { KafkaSink, type KafkaMessage, type KafkaSinkConfig, type MessageProducer } from './kafka-sink.js';

const config: KafkaSinkConfig = { brokers: ['b:9092'], predictionsTopic: 'preds', feedbackTopic: 'labels', tls: false, sasl: undefined, maxBufferedEvents: 3 };

function record(id: string): PredictionRecord {
  return { v: inferenceLogVersion, kind: 'prediction', id, time: '2026-01-01T00:00:00.000Z', modelVersion: 'v1', features: {}, prediction: 'x' };
}

/** An in-memory broker that is up or down; what it took, in order. */
function broker(): { up: boolean; took: KafkaMessage[]; producers: number; make: () => MessageProducer } {
  const b = {
    up: true, took: [] as KafkaMessage[], producers: 0,
    make: (): MessageProducer => {
      b.producers++;
      return {
        connect: () => (b.up ? Promise.resolve() : Promise.reject(new Error('connection refused'))),
        send: (m) => (b.up ? (b.took.push(...m), Promise.resolve()) : Promise.reject(new Error('broker away'))),
        disconnect: () => Promise.resolve(),
      };
    },
  };
  return b;
}

function sink(b: ReturnType<typeof broker>, counts: Record<string, number>): KafkaSink {
  return new KafkaSink({
    config, source: '/perennial/ml/weather', producer: b.make, backoff: { baseMs: 5, capMs: 10 },
    onSent: (s, n) => (counts[`sent:${s}`] = (counts[`sent:${s}`] ?? 0) + n),
    onDropped: (s, n) => (counts[`dropped:${s}`] = (counts[`dropped:${s}`] ?? 0) + n),
  });
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await sleep(5);
  assert.ok(cond(), 'condition not reached');
}

describe('KafkaSink', () => {
  it('sends each record as a CloudEvent keyed by its prediction id, in order', async () => {
    const b = broker();
    const counts: Record<string, number> = {};
    const s = sink(b, counts);
    for (const id of ['a', 'b']) s.publish(record(id));
    await until(() => b.took.length === 2);
    assert.deepEqual(b.took.map((m) => [m.topic, m.key, (JSON.parse(m.value) as { id: string }).id]), [['preds', 'a', 'a'], ['preds', 'b', 'b']]);
    assert.equal(counts['sent:predictions'], 2);
    assert.equal(s.buffered, 0);
  });

  it('keeps events while the broker is away, drops (and counts) beyond the buffer, and sends the rest when it is back', async () => {
    const b = broker();
    b.up = false;
    const counts: Record<string, number> = {};
    const s = sink(b, counts);
    for (const id of ['a', 'b', 'c', 'd', 'e']) s.publish(record(id));
    assert.equal(s.buffered, 3, 'publish never waits; the buffer holds three');
    assert.equal(counts['dropped:predictions'], 2);
    await sleep(50);
    assert.ok(b.producers > 1, 'a failed send rebuilds the producer');
    b.up = true;
    await until(() => b.took.length === 3);
    assert.deepEqual(b.took.map((m) => m.key), ['a', 'b', 'c']);
    assert.equal(counts['sent:predictions'], 3);
  });

  it('close() sends what it can until the deadline and counts the rest as dropped', async () => {
    const b = broker();
    b.up = false;
    const counts: Record<string, number> = {};
    const s = sink(b, counts);
    s.publish(record('a'));
    const closed = await s.close(30);
    assert.deepEqual(closed, { sent: false, left: 1 });
    assert.equal(counts['dropped:predictions'], 1);
    s.publish(record('b'));
    assert.equal(s.buffered, 0, 'a closed sink takes nothing');
  });
});

describe('the Kafka sink\'s configuration (pod contract)', () => {
  const base = {
    [podEnv.serverModel]: 'ml/weather@v3', [podEnv.serverDeployment]: 'ml/weather-prod', [podEnv.storeEndpoint]: 'minio',
    [podEnv.storeBucket]: 'models', [podEnv.accessKeyId]: 'k', [podEnv.secretAccessKey]: 's',
  };
  it('is off without brokers', () => assert.equal(readServerConfig(base).kafka, undefined));
  it('reads brokers, topics, SASL from the Secret\'s keys and the buffer bound', () => {
    const c = readServerConfig({
      ...base, [podEnv.serverKafkaBrokers]: 'k-0:9092, k-1:9092', [podEnv.serverKafkaPredictionsTopic]: 'p', [podEnv.serverKafkaFeedbackTopic]: 'f',
      [podEnv.serverKafkaUsername]: 'u', [podEnv.serverKafkaPassword]: 'pw', [podEnv.serverKafkaSaslMechanism]: 'plain', [podEnv.serverKafkaMaxBufferedEvents]: '10',
    });
    assert.deepEqual(c.kafka, { brokers: ['k-0:9092', 'k-1:9092'], predictionsTopic: 'p', feedbackTopic: 'f', tls: false, sasl: { mechanism: 'plain', username: 'u', password: 'pw' }, maxBufferedEvents: 10 });
  });
  it('refuses a broker without a port, missing topics and a username without password, never quoting the password', () => {
    assert.throws(() => readServerConfig({ ...base, [podEnv.serverKafkaBrokers]: 'kafka', [podEnv.serverKafkaUsername]: 'u' }), (e: unknown) => {
      const problems = (e as ServerConfigError).problems.join('\n');
      assert.match(problems, /"kafka" is not host:port/);
      assert.match(problems, /PERENNIAL_SERVER_KAFKA_PREDICTIONS_TOPIC is not set/);
      assert.match(problems, /PERENNIAL_SERVER_KAFKA_PASSWORD must be set/);
      return true;
    });
  });
});
