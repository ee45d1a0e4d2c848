import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { MessageChannel, type Worker } from 'node:worker_threads';
import { inferenceCloudEvent } from '../shared/cloudevents.js';
import { inferenceLogVersion, type FeedbackRecord, type PredictionRecord } from '../shared/inference-log.js';
import { podEnv } from '../shared/pod-contract.js';
import { readServerConfig, type ServerConfigError } from './config.js';
import type { SenderInit } from './kafka-sender-messages.js';
import { KafkaSink, kafkaSinkMetrics, postWhen, senderEntry, startWorker, type KafkaSinkConfig, type KafkaSinkOptions, type PostMoment } from './kafka-sink.js';
import type { BrokerAnswer, BrokerRequest, TestSenderData } from './kafka-test-sender.js';

const config: KafkaSinkConfig = { brokers: ['b:9092'], predictionsTopic: 'preds', feedbackTopic: 'labels', tls: false, sasl: undefined, maxBufferedEvents: 3 };
const source = '/perennial/ml/weather';

function record(id: string): PredictionRecord {
  return { v: inferenceLogVersion, kind: 'prediction', id, time: '2026-01-01T00:00:00.000Z', modelVersion: 'v1', features: { wind: 3 }, prediction: 'x', probabilities: [0.25, 0.75] };
}

function label(id: string): FeedbackRecord {
  return { v: inferenceLogVersion, kind: 'feedback', id, label: 'sun', time: '2026-01-01T00:01:00.000Z' };
}

interface Took {
  readonly topic: string;
  readonly key: string;
  readonly value: string;
}

/**
 * An in-memory broker that is up or down, answering the real sender in a real worker thread (kafka-test-sender.ts)
 * over a MessagePort of its own: what it took, in order, in how many sends, how many producers and threads were
 * made. `crashOnSend` makes the thread throw on its next send, as a bug in it would.
 */
function broker() {
  const b = {
    up: true, took: [] as Took[], sends: 0, producers: 0, threads: 0, crashOnSend: false,
    start: (init: SenderInit): Worker => {
      b.threads++;
      const { port1, port2 } = new MessageChannel();
      port1.unref();
      port1.on('message', (r: BrokerRequest) => {
        const answer = (a: BrokerAnswer): void => port1.postMessage(a);
        if (r.op === 'new') b.producers++;
        if (r.op === 'new' || r.op === 'disconnect') return answer({ n: r.n, ok: true });
        if (r.op === 'send' && b.crashOnSend) {
          b.crashOnSend = false;
          return answer({ n: r.n, crash: true });
        }
        if (!b.up) return answer({ n: r.n, error: r.op === 'connect' ? 'connection refused' : 'broker away' });
        if (r.op === 'send') {
          b.sends++;
          for (const t of r.topics) for (const m of t.messages) b.took.push({ topic: t.topic, ...m });
        }
        return answer({ n: r.n, ok: true });
      });
      const data: TestSenderData = { ...init, broker: port2 };
      return startWorker(new URL('./kafka-test-sender.ts', import.meta.url), { workerData: data, transferList: [port2] });
    },
  };
  return b;
}

type Counts = Record<string, number>;

function sink(b: ReturnType<typeof broker>, counts: Counts, more: Partial<KafkaSinkOptions> = {}): KafkaSink {
  const add = (k: string, n: number): void => {
    counts[k] = (counts[k] ?? 0) + n;
  };
  return new KafkaSink({
    config, source, clientId: 'test', startSender: b.start, backoff: { baseMs: 5, capMs: 10 }, restartBackoff: { baseMs: 5, capMs: 10 },
    onSent: (s, n) => add(`sent:${s}`, n),
    onDropped: (s, n) => add(`dropped:${s}`, n),
    onError: () => add('errors', 1),
    onRecovered: () => add('recovered', 1),
    onSenderExit: () => add('exits', 1),
    ...more,
  });
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; !cond() && Date.now() < end;) await sleep(5);
  assert.ok(cond(), 'condition not reached');
}

describe('KafkaSink (the sender in a worker thread)', () => {
  it('sends each record as a CloudEvent keyed by its prediction id, in order', async () => {
    const b = broker();
    const counts: Counts = {};
    const s = sink(b, counts);
    for (const id of ['a', 'b']) s.publish(record(id));
    await until(() => b.took.length === 2);
    assert.deepEqual(b.took.map((m) => [m.topic, m.key]), [['preds', 'a'], ['preds', 'b']]);
    assert.equal(b.took[1]?.value, JSON.stringify(inferenceCloudEvent(source, record('b'))), 'the value is the CloudEvent of the record');
    await until(() => counts['sent:predictions'] === 2);
    assert.equal(s.buffered, 0);
    await s.close(1000);
  });

  it('takes the record\'s JSON as the caller made it (the inference log\'s line), without making it again', async () => {
    const b = broker();
    const counts: Counts = {};
    const s = sink(b, counts);
    const r = record('a');
    s.publish(r, JSON.stringify({ ...r, prediction: 'as logged' }));
    await until(() => b.took.length === 1);
    assert.equal(b.took[0]?.value, JSON.stringify({ ...inferenceCloudEvent(source, r), data: { ...r, prediction: 'as logged' } }));
    await s.close(1000);
  });

  it('keeps events while the broker is away, drops (and counts) beyond the buffer, and sends the rest when it is back', async () => {
    const b = broker();
    b.up = false;
    const counts: Counts = {};
    const s = sink(b, counts);
    for (const id of ['a', 'b', 'c', 'd', 'e']) s.publish(record(id));
    assert.equal(s.buffered, 3, 'publish never waits; the buffer holds three');
    assert.equal(counts['dropped:predictions'], 2);
    await until(() => b.producers > 1 && counts['errors'] === 1);
    assert.equal(s.buffered, 3, 'what the sender holds counts against the bound');
    s.publish(record('f'));
    assert.equal(counts['dropped:predictions'], 3, 'events with the sender and unacknowledged bound the buffer too');
    b.up = true;
    await until(() => b.took.length === 3 && counts['sent:predictions'] === 3);
    assert.deepEqual(b.took.map((m) => m.key), ['a', 'b', 'c']);
    assert.equal(counts['recovered'], 1, 'the recovery is told once');
    assert.equal(counts['errors'], 1, 'the outage is told once');
    assert.equal(s.buffered, 0);
    await s.close(1000);
  });

  it('close() sends what it can until the deadline and counts the rest as dropped', async () => {
    const b = broker();
    b.up = false;
    const counts: Counts = {};
    const s = sink(b, counts);
    s.publish(record('a'));
    const closed = await s.close(300);
    assert.deepEqual(closed, { sent: false, left: 1 });
    assert.equal(counts['dropped:predictions'], 1);
    s.publish(record('b'));
    assert.equal(s.buffered, 0, 'a closed sink takes nothing');
    assert.equal(counts['exits'], undefined, 'the thread ended by close() is not a crash');
    assert.deepEqual(await s.close(300), { sent: true, left: 0 }, 'a second close() has nothing left to count');
    assert.equal(b.threads, 1, 'and starts no thread');
  });

  it('close() sends what is buffered, whatever the linger', async () => {
    const b = broker();
    const counts: Counts = {};
    const s = sink(b, counts, { config: { ...config, maxBufferedEvents: 100 }, lingerMs: 600_000 });
    for (const id of ['a', 'b', 'c']) s.publish(record(id));
    assert.deepEqual(await s.close(5000), { sent: true, left: 0 });
    assert.deepEqual(b.took.map((m) => m.key), ['a', 'b', 'c']);
    assert.equal(counts['sent:predictions'], 3);
  });

  it('sends what arrives within the linger in one request, predictions and labels to their topics in order', async () => {
    const b = broker();
    const counts: Counts = {};
    const s = sink(b, counts, { config: { ...config, maxBufferedEvents: 100 }, lingerMs: 50 });
    await sleep(500); // the thread started: the linger, not its start, gathers the batch
    for (const id of ['a', 'b', 'c']) s.publish(record(id));
    s.publish(label('a'));
    await until(() => b.took.length === 4 && counts['sent:feedback'] === 1);
    assert.equal(b.sends, 1, 'one produce request for the four');
    assert.deepEqual(b.took.map((m) => [m.topic, m.key]), [['preds', 'a'], ['preds', 'b'], ['preds', 'c'], ['labels', 'a']]);
    assert.equal(b.took[3]?.value, JSON.stringify(inferenceCloudEvent(source, label('a'))));
    assert.deepEqual([counts['sent:predictions'], counts['sent:feedback']], [3, 1]);
    await s.close(1000);
  });

  it('posts and sends a full batch without waiting out the linger, the rest in batches of at most batchEvents', async () => {
    const b = broker();
    const s = sink(b, {}, { config: { ...config, maxBufferedEvents: 100 }, batchEvents: 2, lingerMs: 600_000 });
    for (const id of ['a', 'b', 'c', 'd']) s.publish(record(id));
    await until(() => b.took.length === 4);
    assert.ok(b.sends >= 2, `batches of at most two (${b.sends} sends)`);
    s.publish(record('e'));
    assert.deepEqual(await s.close(5000), { sent: true, left: 0 }, 'close() does not wait out the linger either');
    assert.deepEqual(b.took.map((m) => m.key), ['a', 'b', 'c', 'd', 'e']);
  });

  it('a long backlog sent after an outage arrives whole, in order, once', async () => {
    const b = broker();
    b.up = false;
    const counts: Counts = {};
    const s = sink(b, counts, { config: { ...config, maxBufferedEvents: 10_000 }, batchEvents: 100 });
    const ids = Array.from({ length: 5000 }, (_, i) => `p${i}`);
    for (const id of ids) s.publish(record(id));
    await until(() => counts['errors'] === 1);
    b.up = true;
    await until(() => counts['sent:predictions'] === ids.length);
    assert.deepEqual(b.took.map((m) => m.key), ids);
    assert.equal(s.buffered, 0);
    await s.close(1000);
  });

  it('a sender thread that crashes is noticed, what it held counted as dropped, and started again; predictions go on', async () => {
    const b = broker();
    b.crashOnSend = true;
    const counts: Counts = {};
    const exits: string[] = [];
    const s = sink(b, counts, { config: { ...config, maxBufferedEvents: 100 }, onSenderExit: (m, e) => exits.push(`${m}: ${String(e)}`) });
    s.publish(record('a'));
    s.publish(label('a'));
    await until(() => exits.length === 1);
    assert.match(exits[0] ?? '', /the Kafka sender thread stopped \(exit code 1\); the 2 events it held are counted as dropped.*the test crashed the sender thread/);
    assert.deepEqual([counts['dropped:predictions'], counts['dropped:feedback'], s.buffered], [1, 1, 0]);
    s.publish(record('b')); // while the thread is down or starting: gathered, not lost
    await until(() => b.threads === 2 && b.took.length === 1);
    s.publish(record('c'));
    await until(() => counts['sent:predictions'] === 2);
    assert.deepEqual(b.took.map((m) => m.key), ['b', 'c']);
    assert.deepEqual(await s.close(1000), { sent: true, left: 0 });
  });

  it('a sender thread that cannot start is tried again with backoff, and the buffer stays bounded meanwhile', async () => {
    let starts = 0;
    const counts: Counts = {};
    const s = new KafkaSink({
      config, source, clientId: 'test', restartBackoff: { baseMs: 20, capMs: 40 },
      startSender: (init) => {
        starts++;
        return startWorker(new URL('./kafka-no-such-sender.ts', import.meta.url), { workerData: init });
      },
      onDropped: (st, n) => (counts[`dropped:${st}`] = (counts[`dropped:${st}`] ?? 0) + n),
      onSenderExit: () => (counts['exits'] = (counts['exits'] ?? 0) + 1),
    });
    for (const id of ['a', 'b', 'c', 'd']) s.publish(record(id));
    await until(() => (counts['exits'] ?? 0) >= 3);
    assert.ok(starts >= 3, `started again (${starts} starts)`);
    assert.equal(s.buffered, 3, 'nothing is posted to a thread that never said it runs: the events wait, bounded');
    assert.equal(counts['dropped:predictions'], 1);
    const closed = await s.close(200);
    assert.deepEqual(closed, { sent: false, left: 3 });
    assert.equal(counts['dropped:predictions'], 4);
  });
});

describe('kafkaSinkMetrics', () => {
  it('exposes events by outcome, the buffer, and the sender thread\'s exits', async () => {
    const registry = new Registry();
    const m = kafkaSinkMetrics(registry, () => 7);
    m.events.inc({ stream: 'predictions', outcome: 'sent' }, 3);
    m.senderExits.inc();
    const text = await registry.metrics();
    assert.match(text, /^perennial_server_kafka_events_total\{stream="predictions",outcome="sent"\} 3$/m);
    assert.match(text, /^perennial_server_kafka_buffered_events 7$/m);
    assert.match(text, /^perennial_server_kafka_sender_exits_total 1$/m);
  });
});

describe('postWhen: when the gathered events go to the sender thread', () => {
  const base: PostMoment = { gathered: 10, batchEvents: 500, closing: false, senderUp: true };
  const cases: Array<{ name: string; m: Partial<PostMoment>; want: ReturnType<typeof postWhen> }> = [
    { name: 'a batch still filling: after the linger', m: {}, want: 'linger' },
    { name: 'a full batch: at once', m: { gathered: 500 }, want: 'now' },
    { name: 'more than a batch (gathered while the thread was down): at once', m: { gathered: 20_000 }, want: 'now' },
    { name: 'close() is waiting: at once', m: { closing: true }, want: 'now' },
    { name: 'no sender thread (exited, restarting): held, even when full', m: { senderUp: false, gathered: 500 }, want: 'hold' },
    { name: 'no sender thread while closing: held', m: { senderUp: false, closing: true }, want: 'hold' },
  ];
  for (const c of cases) it(c.name, () => assert.equal(postWhen({ ...base, ...c.m }), c.want));
});

describe('senderEntry: where the sender thread\'s code is', () => {
  const cases: Array<[moduleUrl: string, want: string, why: string]> = [
    ['file:///app/main.js', 'file:///app/kafka-worker.js', 'in the image: the bundle\'s kafka-worker.js beside main.js'],
    ['file:///work/dist/server/main.js', 'file:///work/dist/server/kafka-worker.js', 'a bundle built for tests'],
    ['file:///work/src/server/kafka-sink.ts', 'file:///work/src/server/kafka-worker.ts', 'from source (tsx): the .ts entry'],
  ];
  for (const [moduleUrl, want, why] of cases) it(why, () => assert.equal(senderEntry(moduleUrl).href, want));
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
