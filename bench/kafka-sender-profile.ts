// Where the Kafka sink's sender thread spends its CPU per event, without a broker: the stages the thread runs for a
// batch of events, each timed alone (process CPU time over many batches), at the batch sizes the server bench sees
// (about 10 ms of traffic: 100-200 events) and larger. Stages:
//   envelope   the CloudEvent's JSON around the record's (cloudEventWriter) and the key's and value's Buffers, as
//              kafka-sender.ts's encode() made them for kafkajs
//   kafkajs    kafkajs's own encoding of one produce request v3 (its RecordBatch v2 and records encoders, CRC-32C) from
//              those messages: what its producer runs per send before the socket, without its partitioning, request
//              queue and response decoding
//   ours       the envelope and the produce path of kafka-wire-producer.ts (planSend: partitions) and
//              kafka-produce-request.ts: the whole produce request, from the queued strings
// Run: npx tsx bench/kafka-sender-profile.ts   (light: one thread, a few seconds; add --cpu-prof for a V8 profile)
import { createRequire } from 'node:module';
import { cloudEventWriter } from '../src/shared/cloudevents.js';
import type { PredictionRecord } from '../src/shared/inference-log.js';
import { keyPartition } from '../src/server/kafka-partitioner.js';
import { encodeProduceRequest } from '../src/server/kafka-produce-request.js';
import { planSend } from '../src/server/kafka-wire-producer.js';

const require = createRequire(import.meta.url);
// kafkajs's request encoder, as its producer calls it (CommonJS, no types).
const produceV3 = require('kafkajs/src/protocol/requests/produce/v3/request.js') as (o: unknown) => { encode(): Promise<{ buffer: Buffer }> };
const Long = require('kafkajs/src/utils/long.js') as { fromNumber(n: number): unknown };

const record = (i: number): PredictionRecord => ({
  v: 1, kind: 'prediction', id: `0193a6f0-7c1e-7000-8000-${String(i).padStart(12, '0')}`, time: new Date(1_780_000_000_000 + i).toISOString(),
  modelVersion: 'v1', track: 'stable',
  features: { date: '2015-06-12', precipitation: 0, temp_max: 22.8, temp_min: 12.2, wind: 3.1, month: 6, season: 'summer', weekday: 5, humid: 0.61, pressure: 1016.2 },
  prediction: 'sun', probabilities: [0.012, 0.031, 0.004, 0.118, 0.835],
});

const event = cloudEventWriter('/perennial/ml/kafka-on');
const partitions = 3;

interface Queued { ids: string[]; times: string[]; data: string[] }
function queued(n: number): Queued {
  const rs = Array.from({ length: n }, (_, i) => record(i));
  return { ids: rs.map((r) => r.id), times: rs.map((r) => r.time), data: rs.map((r) => JSON.stringify(r)) };
}

function envelope(q: Queued): Array<{ key: Buffer; value: Buffer }> {
  return q.ids.map((id, i) => ({ key: Buffer.from(id), value: Buffer.from(event('prediction', id, q.times[i] ?? '', q.data[i] ?? 'null')) }));
}

async function kafkajs(messages: Array<{ key: Buffer; value: Buffer }>): Promise<number> {
  const byPartition = new Map<number, Array<{ key: Buffer; value: Buffer }>>();
  for (const m of messages) {
    const p = keyPartition(m.key, partitions);
    byPartition.set(p, [...(byPartition.get(p) ?? []), m]);
  }
  const req = produceV3({
    acks: -1, timeout: 30000, producerId: Long.fromNumber(1000), producerEpoch: 0,
    topicData: [{ topic: 'predictions', partitions: [...byPartition].map(([partition, ms]) => ({ partition, firstSequence: 0, messages: ms })) }],
  });
  return (await req.encode()).buffer.length;
}

function ours(q: Queued): number {
  const messages = q.ids.map((id, i) => ({ key: id, value: event('prediction', id, q.times[i] ?? '', q.data[i] ?? 'null') }));
  const plan = planSend([{ topic: 'predictions', messages }], new Map([['predictions', Array.from({ length: partitions }, () => 1)]]), new Map());
  return plan.reduce((n, { batches }) => n + encodeProduceRequest({ correlationId: 1, clientId: 'bench', acks: -1, timeoutMs: 30000, producerId: 1000n, producerEpoch: 0, timestampMs: Date.now(), batches }).length, 0);
}

async function cpuPerEvent(name: string, batch: number, f: () => unknown): Promise<string> {
  const events = 200_000;
  const runs = Math.ceil(events / batch);
  for (let i = 0; i < Math.min(runs, 50); i++) await f(); // warm-up
  const t0 = process.cpuUsage();
  for (let i = 0; i < runs; i++) await f();
  const t = process.cpuUsage(t0);
  return `${name} ${((t.user + t.system) / (runs * batch)).toFixed(2)} µs`;
}

console.log(`CPU per event in the sender thread's stages (node ${process.version}; one ${Buffer.byteLength(event('prediction', record(0).id, record(0).time, JSON.stringify(record(0))))}-byte CloudEvent per event, ${partitions} partitions)`);
for (const batch of [20, 120, 500]) {
  const q = queued(batch);
  const messages = envelope(q);
  const out = [
    await cpuPerEvent('envelope', batch, () => envelope(q)),
    await cpuPerEvent('kafkajs encoding', batch, () => kafkajs(messages)),
    await cpuPerEvent('envelope + kafkajs', batch, () => kafkajs(envelope(q))),
    await cpuPerEvent('ours (all of it)', batch, () => ours(q)),
  ];
  console.log(`batches of ${batch}: ${out.join('; ')}`);
}
