// The sender thread of the Kafka sink's unit tests (kafka-sink.test.ts): the real sender (kafka-sender.ts) in a
// real worker thread, with a producer that asks the test's in-memory broker over the MessagePort `broker` of its
// workerData. The broker answers each request: ok, an error (it is away), or crash (this thread throws, uncaught,
// as a bug would make it). Not part of the server bundle.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { MessageProducer, TopicMessages } from './kafka-producer.js';
import type { SenderInit } from './kafka-sender-messages.js';
import { serveSender } from './kafka-sender.js';

/** What the test's broker is asked (the messages as text). */
export type BrokerAsk =
  | { readonly op: 'new' | 'connect' | 'disconnect' }
  | { readonly op: 'send'; readonly topics: ReadonlyArray<{ readonly topic: string; readonly messages: ReadonlyArray<{ readonly key: string; readonly value: string }> }> };

export type BrokerRequest = BrokerAsk & { readonly n: number };

export type BrokerAnswer = { readonly n: number } & ({ readonly ok: true } | { readonly error: string } | { readonly crash: true });

export type TestSenderData = SenderInit & { readonly broker: MessagePort };

function remoteProducer(broker: MessagePort): () => MessageProducer {
  let next = 0;
  const waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  broker.on('message', (a: BrokerAnswer) => {
    const w = waiting.get(a.n);
    waiting.delete(a.n);
    if ('crash' in a) {
      setImmediate(() => {
        throw new Error('the test crashed the sender thread');
      });
    } else if ('error' in a) w?.reject(new Error(a.error));
    else w?.resolve();
  });
  const ask = (req: BrokerAsk): Promise<void> =>
    new Promise((resolve, reject) => {
      const n = next++;
      waiting.set(n, { resolve, reject });
      broker.postMessage({ n, ...req });
    });
  const text = (topics: readonly TopicMessages[]) => topics.map((t) => ({ topic: t.topic, messages: t.messages.map((m) => ({ key: m.key, value: m.value })) }));
  return () => {
    void ask({ op: 'new' });
    return {
      connect: () => ask({ op: 'connect' }),
      send: (topics) => ask({ op: 'send', topics: text(topics) }),
      disconnect: () => ask({ op: 'disconnect' }),
    };
  };
}

if (parentPort === null) throw new Error('kafka-test-sender.ts runs as a worker thread only');
const data = workerData as TestSenderData;
serveSender(parentPort, data, remoteProducer(data.broker));
