// What the Kafka broker's CPU per event is made of, and how it depends on the size of the produce requests: the sink's
// producer (kafka-wire-producer.ts) in this process sends the server bench's CloudEvents at a fixed rate to a real
// broker (KRaft, test/support/kafka-broker.ts), one send at a time as the sender thread does, each send what `linger`
// ms of traffic gathered; the broker's CPU per event is read from /proc per thread and grouped by the threads' names
// (request handlers, network, GC, JIT compilers, ...), beside this process's CPU per event (the producer's).
// The server bench (bench/server-kafka.ts) measures the whole; this tells the broker's part apart.
// Run (heavy: a broker; under flock /tmp/perennial-heavy.lock here):
//   npx tsx bench/kafka-broker-cost.ts        (BENCH_RATE=12000 events/s, BENCH_SECONDS=15 per setting, BENCH_LINGERS=10,50,200,
//   BENCH_WARMUP=30 s at linger 10 first)
import { readdirSync, readFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import { cloudEventWriter } from '../src/shared/cloudevents.js';
import type { PredictionRecord } from '../src/shared/inference-log.js';
import { wireProducer } from '../src/server/kafka-wire-producer.js';
import { KafkaBroker } from '../test/support/kafka-broker.js';
import { cpuByThreadGroup, cpuSeconds } from './proc-cpu.js';

const rate = Number(process.env['BENCH_RATE'] ?? 12_000);
const seconds = Number(process.env['BENCH_SECONDS'] ?? 15);
const lingers = (process.env['BENCH_LINGERS'] ?? '10,50,200').split(',').map(Number);
const warmup = Number(process.env['BENCH_WARMUP'] ?? 30);

function brokerPid(dir: string): number {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (cmd.includes('kafka.Kafka') && cmd.includes(dir)) return Number(d);
    } catch { /* ended meanwhile */ }
  }
  throw new Error('the broker\'s process was not found');
}

const event = cloudEventWriter('/perennial/ml/kafka-on');
const record = (i: number): PredictionRecord => ({
  v: 1, kind: 'prediction', id: `0193a6f0-7c1e-7000-8000-${String(i).padStart(12, '0')}`, time: new Date(1_780_000_000_000 + i).toISOString(),
  modelVersion: 'v1', track: 'stable',
  features: { date: '2015-06-12', precipitation: 0, temp_max: 22.8, temp_min: 12.2, wind: 3.1, month: 6, season: 'summer', weekday: 5, humid: 0.61, pressure: 1016.2 },
  prediction: 'sun', probabilities: [0.012, 0.031, 0.004, 0.118, 0.835],
});

const broker = await KafkaBroker.start(3);
try {
  const admin = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: 'predictions', numPartitions: 3 }, { topic: 'feedback', numPartitions: 3 }] });
  await admin.disconnect();
  const pid = brokerPid(broker.dir);
  const producer = wireProducer({ brokers: [broker.bootstrap], predictionsTopic: 'predictions', feedbackTopic: 'feedback', tls: false, sasl: undefined, maxBufferedEvents: 1e6 }, 'bench')();
  await producer.connect();
  let next = 0;
  /** Sends at `rate` for `s` seconds, each send what `linger` ms gathered (more when a send took longer); the events sent. */
  const run = async (linger: number, s: number): Promise<{ events: number; sends: number }> => {
    const start = performance.now();
    let due = 0;
    let events = 0;
    let sends = 0;
    while (performance.now() - start < s * 1000) {
      await sleep(linger);
      const owed = Math.floor(((performance.now() - start) / 1000) * rate) - due;
      if (owed <= 0) continue;
      const messages = Array.from({ length: owed }, () => {
        const r = record(next++);
        return { key: r.id, value: event('prediction', r.id, r.time, JSON.stringify(r)) };
      });
      await producer.send([{ topic: 'predictions', messages }]);
      due += owed;
      events += owed;
      sends++;
    }
    return { events, sends };
  };
  await run(10, warmup); // the broker's JIT and ours warm up: a fresh JVM compiles for tens of seconds
  console.log(`\nKafka broker CPU per event by thread group, and the producer's (this process), at ${rate} events/s of ${Buffer.byteLength(event('prediction', record(0).id, record(0).time, JSON.stringify(record(0))))}-byte CloudEvents, 3 partitions, ${seconds} s per setting after ${warmup} s of warm-up`);
  for (const linger of lingers) {
    const [b0, own0, total0] = [cpuByThreadGroup(pid), process.cpuUsage(), cpuSeconds(`/proc/${pid}/stat`)];
    const { events, sends } = await run(linger, seconds);
    const [b1, own1, total1] = [cpuByThreadGroup(pid), process.cpuUsage(own0), cpuSeconds(`/proc/${pid}/stat`)];
    const groups = [...b1].map(([name, s]) => [name, ((s - (b0.get(name) ?? 0)) / events) * 1e6] as const).filter(([, us]) => us >= 0.05).sort((a, b) => b[1] - a[1]);
    console.log(`linger ${linger} ms: ${sends} sends of ${(events / sends).toFixed(0)} events; broker ${(((total1 - total0) / events) * 1e6).toFixed(2)} µs/event (${groups.map(([n, us]) => `${n} ${us.toFixed(2)}`).join(', ')}); producer ${((own1.user + own1.system) / events).toFixed(2)} µs/event`);
  }
  await producer.disconnect();
} finally {
  await broker.destroy();
}
