import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { inferenceLogVersion, type FeedbackRecord, type PredictionRecord } from '../shared/inference-log.js';
import { podEnv } from '../shared/pod-contract.js';
import { readServerConfig, type ServerConfigError } from './config.js';
import { KafkaSink, sendDelayMs, shouldCompact, type KafkaSinkConfig, type KafkaSinkOptions, type MessageProducer, type SendMoment } from './kafka-sink.js';

const config: KafkaSinkConfig = { brokers: ['b:9092'], predictionsTopic: 'preds', feedbackTopic: 'labels', tls: false, sasl: undefined, maxBufferedEvents: 3 };

function record(id: string): PredictionRecord {
  return { v: inferenceLogVersion, kind: 'prediction', id, time: '2026-01-01T00:00:00.000Z', modelVersion: 'v1', features: {}, prediction: 'x' };
}

interface Took {
  readonly topic: string;
  readonly key: string;
  readonly value: string;
}

/** An in-memory broker that is up or down; what it took, in order, and how many sends it took it in. */
function broker(): { up: boolean; took: Took[]; sends: number; producers: number; make: () => MessageProducer } {
  const b = {
    up: true, took: [] as Took[], sends: 0, producers: 0,
    make: (): MessageProducer => {
      b.producers++;
      return {
        connect: () => (b.up ? Promise.resolve() : Promise.reject(new Error('connection refused'))),
        send: (topics) => {
          if (!b.up) return Promise.reject(new Error('broker away'));
          b.sends++;
          for (const t of topics) for (const m of t.messages) b.took.push({ topic: t.topic, key: m.key.toString(), value: m.value.toString() });
          return Promise.resolve();
        },
        disconnect: () => Promise.resolve(),
      };
    },
  };
  return b;
}

function sink(b: ReturnType<typeof broker>, counts: Record<string, number>, more: Partial<KafkaSinkOptions> = {}): KafkaSink {
  return new KafkaSink({
    config, source: '/perennial/ml/weather', producer: b.make, backoff: { baseMs: 5, capMs: 10 },
    onSent: (s, n) => (counts[`sent:${s}`] = (counts[`sent:${s}`] ?? 0) + n),
    onDropped: (s, n) => (counts[`dropped:${s}`] = (counts[`dropped:${s}`] ?? 0) + n),
    ...more,
  });
}

function label(id: string): FeedbackRecord {
  return { v: inferenceLogVersion, kind: 'feedback', id, label: 'sun', time: '2026-01-01T00:01:00.000Z' };
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

  it('sends what arrives within the linger in one request, predictions and labels to their topics in order', async () => {
    const b = broker();
    const counts: Record<string, number> = {};
    const s = sink(b, counts, { config: { ...config, maxBufferedEvents: 100 }, lingerMs: 20 });
    for (const id of ['a', 'b', 'c']) s.publish(record(id));
    s.publish(label('a'));
    await until(() => b.took.length === 4);
    assert.equal(b.sends, 1, 'one produce request for the four');
    assert.deepEqual(b.took.map((m) => [m.topic, m.key]), [['preds', 'a'], ['preds', 'b'], ['preds', 'c'], ['labels', 'a']]);
    assert.equal((JSON.parse(b.took[3]?.value ?? '') as { id: string }).id, 'a/feedback');
    assert.deepEqual([counts['sent:predictions'], counts['sent:feedback']], [3, 1]);
  });

  it('sends a full batch without waiting out the linger, and the rest in batches of at most batchEvents', async () => {
    const b = broker();
    const s = sink(b, {}, { config: { ...config, maxBufferedEvents: 100 }, batchEvents: 2, lingerMs: 600_000 });
    for (const id of ['a', 'b', 'c', 'd']) s.publish(record(id));
    await until(() => b.took.length === 4);
    assert.equal(b.sends, 2);
    s.publish(record('e'));
    assert.deepEqual(await s.close(5000), { sent: true, left: 0 }, 'close() does not wait out the linger either');
    assert.deepEqual(b.took.map((m) => m.key), ['a', 'b', 'c', 'd', 'e']);
  });

  it('a long backlog sent after an outage arrives whole, in order, once (the buffer cut off as it goes)', async () => {
    const b = broker();
    b.up = false;
    const counts: Record<string, number> = {};
    const s = sink(b, counts, { config: { ...config, maxBufferedEvents: 10_000 }, batchEvents: 100 });
    const ids = Array.from({ length: 5000 }, (_, i) => `p${i}`);
    for (const id of ids) s.publish(record(id));
    await sleep(20);
    b.up = true;
    await until(() => b.took.length >= ids.length);
    assert.deepEqual(b.took.map((m) => m.key), ids);
    assert.equal(s.buffered, 0);
    assert.equal(counts['sent:predictions'], ids.length);
  });
});

describe('sendDelayMs: when the sender sends', () => {
  const base: SendMoment = { waiting: 10, batchEvents: 500, lingerMs: 10, sinceWindowMs: 0, flushing: false };
  const cases: Array<{ name: string; m: Partial<SendMoment>; want: number }> = [
    { name: 'a fresh window waits the linger out', m: {}, want: 10 },
    { name: 'part of the window gone: the rest', m: { sinceWindowMs: 4 }, want: 6 },
    { name: 'the window is over (a send took longer than the linger): at once', m: { sinceWindowMs: 25 }, want: 0 },
    { name: 'a full batch waiting: at once', m: { waiting: 500 }, want: 0 },
    { name: 'more than a batch waiting (a backlog): at once', m: { waiting: 20_000 }, want: 0 },
    { name: 'close() is flushing: at once', m: { flushing: true }, want: 0 },
    { name: 'no linger configured: at once', m: { lingerMs: 0 }, want: 0 },
    { name: 'nothing waiting: nothing to wait for', m: { waiting: 0 }, want: 0 },
  ];
  for (const c of cases) it(c.name, () => assert.equal(sendDelayMs({ ...base, ...c.m }), c.want));
});

describe('shouldCompact: when sent events are cut off the buffer', () => {
  const cases: Array<[head: number, length: number, want: boolean, why: string]> = [
    [0, 10, false, 'nothing sent'],
    [10, 10, true, 'everything sent: the array is emptied'],
    [500, 100_000, false, 'a batch sent off a long backlog: not moving 99,500 events for it'],
    [1024, 2048, true, 'many sent and half the array'],
    [50_000, 100_000, true, 'half of a long backlog sent'],
    [1023, 1500, false, 'under the minimum'],
  ];
  for (const [head, length, want, why] of cases) it(why, () => assert.equal(shouldCompact(head, length), want));
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
