// The Kafka sink's sender thread's CPU per event, in process, without a Java broker: the real sink (kafka-sink.ts)
// and its real sender thread (kafka-worker.ts: kafka-sender.ts and kafka-wire-producer.ts) publishing the server
// bench's records at a fixed rate to a stand-in broker on loopback in this process's main thread, which answers
// ApiVersions, Metadata (two topics of 3 partitions, itself the leader), InitProducerId and every Produce with
// success. Per setting of the sink's linger: the sender thread's CPU per event (from /proc, its user and system
// time: the kernel's share of writing the requests to the socket included), and the main thread's (the sink's
// publish plus the stand-in broker). With --cpu-prof each thread writes a V8 profile.
// Run (light: one process, about a core for BENCH_SECONDS per setting): npx tsx bench/kafka-sender-thread.ts
//   BENCH_RATE=12000 events/s, BENCH_SECONDS=15, BENCH_LINGERS=10,50
import { readdirSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PredictionRecord } from '../src/shared/inference-log.js';
import { FrameReader } from '../src/server/kafka-broker-connection.js';
import { apiKeys, Reader, Writer } from '../src/server/kafka-protocol.js';
import { KafkaSink } from '../src/server/kafka-sink.js';

const rate = Number(process.env['BENCH_RATE'] ?? 12_000);
const seconds = Number(process.env['BENCH_SECONDS'] ?? 15);
const lingers = (process.env['BENCH_LINGERS'] ?? '10,50').split(',').map(Number);

/** The stand-in broker's answer to one request (the body after the correlation id). */
function answer(key: number, r: Reader, port: number): Buffer {
  if (key === apiKeys.apiVersions) {
    const ranges: Array<[number, number, number]> = [[0, 3, 11], [3, 0, 12], [17, 0, 1], [18, 0, 4], [22, 0, 5], [36, 0, 2]];
    return new Writer().int16(0).array(ranges, (w, [k, a, b]) => w.int16(k).int16(a).int16(b)).int32(0).done();
  }
  if (key === apiKeys.metadata) {
    const partitions = (w: Writer) => w.array([0, 1, 2], (x, p) => x.int16(0).int32(p).int32(1).int32(0).array([1], (y, n) => y.int32(n)).array([1], (y, n) => y.int32(n)).array([], () => undefined));
    return new Writer().int32(0).array([1], (w) => w.int32(1).string('127.0.0.1').int32(port).string(null)).string('c').int32(1)
      .array(['predictions', 'feedback'], (w, t) => partitions(w.int16(0).string(t).bool(false))).done();
  }
  if (key === apiKeys.initProducerId) return new Writer().int32(0).int16(0).int64(1000n).int16(0).done();
  // Produce: every partition acknowledged.
  r.string();
  r.int16();
  r.int32();
  const topics = r.array((t) => ({ topic: t.string() ?? '', partitions: t.array((p) => { const partition = p.int32(); p.bytes(); return partition; }) }));
  return new Writer().array(topics, (w, t) => w.string(t.topic).array(t.partitions, (x, p) => x.int32(p).int16(0).int64(0n).int64(-1n).int64(0n))).int32(0).done();
}

const server = createServer((s) => {
  const frames = new FrameReader();
  s.on('data', (chunk: Buffer) => {
    for (const f of frames.push(chunk)) {
      const r = new Reader(f);
      const key = r.int16();
      r.int16();
      const id = r.int32();
      r.string(); // client id
      const body = answer(key, r, (server.address() as AddressInfo).port);
      s.write(Buffer.concat([new Writer().int32(4 + body.length).int32(id).done(), body]));
    }
  });
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const port = (server.address() as AddressInfo).port;

function threadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const f = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      out.set(tid, (Number(f[11]) + Number(f[12])) / 100);
    } catch { /* ended meanwhile */ }
  }
  return out;
}

const record = (i: number): PredictionRecord => ({
  v: 1, kind: 'prediction', id: `0193a6f0-7c1e-7000-8000-${String(i).padStart(12, '0')}`, time: new Date(1_780_000_000_000 + i).toISOString(),
  modelVersion: 'v1', track: 'stable',
  features: { date: '2015-06-12', precipitation: 0, temp_max: 22.8, temp_min: 12.2, wind: 3.1, month: 6, season: 'summer', weekday: 5, humid: 0.61, pressure: 1016.2 },
  prediction: 'sun', probabilities: [0.012, 0.031, 0.004, 0.118, 0.835],
});

console.log(`\nThe Kafka sink's sender thread, ${rate} events/s to a stand-in broker in process, ${seconds} s per setting (node ${process.version})`);
let next = 0;
for (const lingerMs of lingers) {
  let sent = 0;
  const sink = new KafkaSink({
    config: { brokers: [`127.0.0.1:${port}`], predictionsTopic: 'predictions', feedbackTopic: 'feedback', tls: false, sasl: undefined, maxBufferedEvents: 1e6 },
    source: '/perennial/ml/kafka-on', clientId: 'bench', lingerMs, onSent: (_, n) => (sent += n),
  });
  const publish = async (s: number): Promise<number> => {
    const start = performance.now();
    let due = 0;
    while (performance.now() - start < s * 1000) {
      await sleep(1);
      const owed = Math.floor(((performance.now() - start) / 1000) * rate) - due;
      for (let i = 0; i < owed; i++) {
        const r = record(next++);
        sink.publish(r, JSON.stringify(r));
      }
      due += Math.max(0, owed);
    }
    return due;
  };
  await publish(5); // the thread starts, connects and warms up
  const before = threadCpu();
  const sent0 = sent;
  const events = await publish(seconds);
  const after = threadCpu();
  const main = String(process.pid);
  const deltas = [...after].map(([tid, s]) => [tid, s - (before.get(tid) ?? 0)] as const);
  const sender = deltas.filter(([tid]) => tid !== main).sort((a, b) => b[1] - a[1])[0];
  const mainDelta = deltas.find(([tid]) => tid === main)?.[1] ?? NaN;
  console.log(`linger ${lingerMs} ms: ${events} events published, ${sent - sent0} acknowledged; sender thread ${(((sender?.[1] ?? NaN) / events) * 1e6).toFixed(2)} µs/event, main thread (publish, records, stand-in broker) ${((mainDelta / events) * 1e6).toFixed(2)} µs/event`);
  await sink.close(5000);
}
server.close();
