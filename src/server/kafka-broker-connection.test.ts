import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { BrokerConnection, FrameReader, parseAddress } from './kafka-broker-connection.js';
import { apiKeys, Reader, Writer } from './kafka-protocol.js';

describe('parseAddress', () => {
  const cases: Array<[string, { host: string; port: number } | RegExp]> = [
    ['kafka-0.kafka.svc:9092', { host: 'kafka-0.kafka.svc', port: 9092 }],
    ['127.0.0.1:1', { host: '127.0.0.1', port: 1 }],
    ['[::1]:9093', { host: '::1', port: 9093 }],
    [' broker:19092 ', { host: 'broker', port: 19092 }],
    ['broker', /not a host:port/],
    ['broker:', /not a host:port/],
  ];
  for (const [address, want] of cases) {
    it(address, () => (want instanceof RegExp ? assert.throws(() => parseAddress(address), want) : assert.deepEqual(parseAddress(address), want)));
  }
});

describe('FrameReader: size-prefixed frames from a byte stream', () => {
  const frame = (body: string): Buffer => Buffer.concat([new Writer().int32(body.length).done(), Buffer.from(body)]);
  const stream = Buffer.concat([frame('first'), frame(''), frame('a third one')]);
  const cases: Array<[string, number[]]> = [['all at once', [stream.length]], ['byte by byte', Array.from({ length: stream.length }, () => 1)], ['split inside a size and a body', [2, 7, 3, 20]]];
  for (const [name, cuts] of cases) {
    it(name, () => {
      const r = new FrameReader();
      const got: string[] = [];
      let at = 0;
      for (const n of cuts) {
        got.push(...r.push(stream.subarray(at, Math.min(stream.length, at + n))).map((f) => f.toString()));
        at += n;
      }
      if (at < stream.length) got.push(...r.push(stream.subarray(at)).map((f) => f.toString()));
      assert.deepEqual(got, ['first', '', 'a third one']);
    });
  }
});

/** A broker on loopback: answers ApiVersions as a 3.9 broker, then does what `then` says with each other request. */
async function fakeBroker(then: 'answer' | 'silence' | 'hang up'): Promise<{ port: number; close: () => void }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    const frames = new FrameReader();
    s.on('data', (chunk: Buffer) => {
      for (const f of frames.push(chunk)) {
        const r = new Reader(f);
        const [key, , id] = [r.int16(), r.int16(), r.int32()];
        let body: Buffer;
        if (key === apiKeys.apiVersions) {
          const ranges: Array<[number, number, number]> = [[0, 3, 11], [3, 0, 12], [17, 0, 1], [18, 0, 4], [22, 0, 5], [36, 0, 2]];
          body = new Writer().int16(0).array(ranges, (w, [k, a, b]) => w.int16(k).int16(a).int16(b)).int32(0).done();
        } else if (then === 'silence') continue;
        else if (then === 'hang up') {
          s.destroy();
          return;
        } else body = new Writer().int32(0).int16(0).int64(99n).int16(4).done(); // an InitProducerId answer
        const out = new Writer().int32(4 + body.length).int32(id).done();
        s.write(Buffer.concat([out, body]));
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, close: () => { for (const s of sockets) s.destroy(); server.close(); } };
}

describe('BrokerConnection against a broker on loopback', () => {
  const options = (port: number) => ({ host: '127.0.0.1', port, tls: false, sasl: undefined, clientId: 'test', connectTimeoutMs: 1000, requestTimeoutMs: 300 });

  it('checks the versions, then answers requests by correlation id', async () => {
    const b = await fakeBroker('answer');
    const c = await BrokerConnection.open(options(b.port));
    try {
      assert.equal(c.version(apiKeys.produce), 7);
      const answers = await Promise.all([c.request(apiKeys.initProducerId, Buffer.alloc(0)), c.request(apiKeys.initProducerId, Buffer.alloc(0))]);
      assert.deepEqual(answers.map((a) => new Reader(a.subarray(6)).int64()), [99n, 99n]);
    } finally {
      c.close();
      b.close();
    }
  });

  it('a broker that does not answer in time fails the request and the connection', async () => {
    const b = await fakeBroker('silence');
    const c = await BrokerConnection.open(options(b.port));
    try {
      await assert.rejects(c.request(apiKeys.initProducerId, Buffer.alloc(0)), /did not answer within 300 ms/);
      await assert.rejects(c.request(apiKeys.initProducerId, Buffer.alloc(0)), /did not answer within 300 ms/, 'and every later request');
    } finally {
      c.close();
      b.close();
    }
  });

  it('a broker that hangs up fails the waiting request', async () => {
    const b = await fakeBroker('hang up');
    const c = await BrokerConnection.open(options(b.port));
    try {
      await assert.rejects(c.request(apiKeys.initProducerId, Buffer.alloc(0)), /closed/);
    } finally {
      c.close();
      b.close();
    }
  });

  it('nothing listening: the open fails', async () => {
    const b = await fakeBroker('answer');
    b.close();
    await assert.rejects(BrokerConnection.open(options(b.port)), /ECONNREFUSED/);
  });
});
