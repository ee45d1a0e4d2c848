// The Kafka sink's sender thread (a worker_threads Worker started by kafka-sink.ts): the sender of kafka-sender.ts
// with the producer of kafka-wire-producer.ts (the Kafka protocol), talking to the sink over parentPort. Its own
// entry in the server bundle (scripts/bundle.mjs: dist/server/kafka-worker.js beside main.js).
import { parentPort, workerData } from 'node:worker_threads';
import type { SenderInit } from './kafka-sender-messages.js';
import { serveSender } from './kafka-sender.js';
import { wireProducer } from './kafka-wire-producer.js';

if (parentPort === null) throw new Error('kafka-worker.ts runs as the Kafka sink\'s worker thread only');
const init = workerData as SenderInit;
serveSender(parentPort, init, wireProducer(init.config, init.clientId));
