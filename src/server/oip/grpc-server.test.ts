// The gRPC transport over a real @grpc/grpc-js client and server on loopback, in front of a small in-memory
// OipService (the real service with the real model is test/integration/server-oip-grpc.test.ts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { credentials, loadPackageDefinition, Client, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { setTimeout as sleep } from 'node:timers/promises';
import { createConnection, createServer, type Server as TcpServer, type Socket } from 'node:net';
import { ConnectionShare } from '../connection-balance.js';
import type { PodConnections } from '../cluster-messages.js';
import { grpcCodeOf, grpcServerOptions, OipGrpcServer, type GrpcEdgeLimits } from './grpc-server.js';
import { healthProtoFile, protoOptions, protoPath } from './grpc-proto.js';
import { grpcCall as call, oipStub, type GrpcStub as Stub } from '../testing/oip-grpc-client.js';
import { OipError, type OipInferRequest, type OipInferResponse, type OipService } from './types.js';

class FakeService implements OipService {
  ready = true;
  requests: OipInferRequest[] = [];
  delayMs = 0;
  serverLive(): boolean { return true; }
  serverReady(): boolean { return this.ready; }
  serverMetadata(): ReturnType<OipService['serverMetadata']> { return { name: 'perennial-server', version: 'test', extensions: ['statistics'] }; }
  modelReady(name: string): boolean {
    if (name !== 'weather') throw new OipError(404, `model ${name} is not served here`);
    return this.ready;
  }
  modelMetadata(name: string): ReturnType<OipService['modelMetadata']> {
    this.modelReady(name);
    return { name, versions: ['v1'], platform: 'perennial', inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1] }] };
  }
  async infer(r: OipInferRequest): Promise<OipInferResponse> {
    this.requests.push(r);
    if (this.delayMs > 0) await sleep(this.delayMs);
    if (r.inputs[0]?.name !== 'x') throw new OipError(400, `input ${r.inputs[0]?.name ?? ''} is not one of the model's`);
    if (r.inputs[0].datatype === 'BOOL') throw new Error('a bug');
    const data = r.inputs[0].data as number[];
    return { modelName: 'weather', modelVersion: 'v1', id: r.id, outputs: [{ name: 'y', datatype: 'FP32', shape: [1], data: [data.reduce((a, b) => a + b, 0)] }] };
  }
  repositoryIndex(): ReturnType<OipService['repositoryIndex']> {
    return [{ name: 'weather', version: 'v1', state: this.ready ? 'READY' : 'UNAVAILABLE', reason: this.ready ? '' : 'loading' }];
  }
  async statistics(): ReturnType<OipService['statistics']> {
    const d = { count: 3, ns: 1500.4 };
    return await Promise.resolve([{ name: 'weather', version: 'v1', lastInference: 1_700_000_000_000, inferenceCount: 3, executionCount: 2, inferenceStats: { success: d, fail: d, queue: d, computeInput: d, computeInfer: d, computeOutput: d } }]);
  }
}

const noBounds: GrpcEdgeLimits = { maxConnections: 0, maxConcurrentStreams: 0, maxConnectionAgeMs: 0, maxConnectionIdleMs: 0 };

function inferenceStub(address: string): Stub {
  // A channel of its own (grpc-js shares connections between clients of one address otherwise).
  return oipStub(address, { 'grpc.use_local_subchannel_pool': 1 });
}

const oneRow = { model_name: 'weather', inputs: [{ name: 'x', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } }] };

/** A TCP relay in front of a port that counts the connections made through it, those that closed, and those the server side closed. */
async function countingRelay(port: number): Promise<{ address: string; opened: () => number; closed: () => number; closedByServer: () => number; close: () => void }> {
  let opened = 0;
  let closed = 0;
  let closedByServer = 0;
  const sockets = new Set<Socket>();
  const relay: TcpServer = createServer((client) => {
    opened += 1;
    const upstream = createConnection(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    upstream.on('end', () => { closedByServer += 1; });
    let ended = false;
    const done = (): void => {
      if (!ended) closed += 1;
      ended = true;
      client.destroy();
      upstream.destroy();
    };
    client.on('error', done).on('close', done);
    upstream.on('error', done).on('close', done);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const address = relay.address();
  return {
    address: `127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`,
    opened: () => opened,
    closed: () => closed,
    closedByServer: () => closedByServer,
    close: () => {
      for (const s of sockets) s.destroy();
      relay.close();
    },
  };
}

/** Resolves true when the server closes the socket within `ms` (having sent nothing we wait for), false if it stays open. */
function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}


async function refusedWith(p: Promise<unknown>, code: status, details: RegExp): Promise<void> {
  await assert.rejects(p, (e: ServiceError) => {
    assert.equal(e.code, code, `${e.code}: ${e.details}`);
    assert.match(e.details, details);
    return true;
  });
}

describe('OipGrpcServer', () => {
  const service = new FakeService();
  const observed: [string, number][] = [];
  const internal: string[] = [];
  let server: OipGrpcServer;
  let stub: Stub;
  let health: Stub;
  let raw: Client;
  let track = 'stable';

  before(async () => {
    server = await OipGrpcServer.start({
      service, host: '127.0.0.1', port: 0, maxMessageBytes: 4096, track: () => track, limits: noBounds,
      observe: (route, code) => observed.push([route, code]),
      onInternalError: (method) => internal.push(method),
    });
    const address = `127.0.0.1:${server.port}`;
    const hc = loadPackageDefinition(loadSync(protoPath(healthProtoFile), protoOptions)) as unknown as { grpc: { health: { v1: { Health: new (a: string, c: unknown) => Stub } } } };
    stub = oipStub(address);
    health = new hc.grpc.health.v1.Health(address, credentials.createInsecure());
    raw = new Client(address, credentials.createInsecure());
  });
  after(() => {
    stub.close();
    health.close();
    raw.close();
    server.close();
  });

  it('answers liveness, readiness, metadata, the repository index and statistics', async () => {
    assert.deepEqual(await call(stub, 'ServerLive', {}), { live: true });
    assert.deepEqual(await call(stub, 'ServerReady', {}), { ready: true });
    assert.deepEqual(await call(stub, 'ModelReady', { name: 'weather' }), { ready: true });
    assert.deepEqual(await call(stub, 'ServerMetadata', {}), { name: 'perennial-server', version: 'test', extensions: ['statistics'] });
    const meta = await call(stub, 'ModelMetadata', { name: 'weather' });
    assert.deepEqual(meta['inputs'], [{ name: 'x', datatype: 'FP32', shape: ['-1', '2'] }]);
    assert.deepEqual(await call(stub, 'RepositoryIndex', { ready: true }), { models: [{ name: 'weather', version: 'v1', state: 'READY', reason: '' }] });
    const stats = (await call(stub, 'ModelStatistics', {}))['model_stats'] as Record<string, unknown>[];
    assert.equal(stats[0]!['inference_count'], '3');
    assert.deepEqual((stats[0]!['inference_stats'] as Record<string, unknown>)['success'], { count: '3', ns: '1500' });
  });

  it('infers with typed and raw contents, echoing the id, answering raw', async () => {
    const typed = await call(stub, 'ModelInfer', { model_name: 'weather', id: 'r1', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], contents: { fp32_contents: [1.5, 2] } }] });
    assert.equal(typed['id'], 'r1');
    assert.equal((typed['raw_output_contents'] as Buffer[])[0]!.readFloatLE(0), 3.5);
    const b = Buffer.alloc(8);
    b.writeFloatLE(1, 0);
    b.writeFloatLE(2, 4);
    const rawAnswer = await call(stub, 'ModelInfer', { model_name: 'weather', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2] }], raw_input_contents: [b] });
    assert.equal((rawAnswer['raw_output_contents'] as Buffer[])[0]!.readFloatLE(0), 3);
    assert.equal(service.requests.at(-1)!.mirror, true);
    assert.deepEqual(observed.filter(([r]) => r === 'v2_infer').slice(-2), [['v2_infer', 200], ['v2_infer', 200]]);
  });

  it('mirrors a call unless this pod is the shadow or the call is itself a mirror', async () => {
    const req = { model_name: 'weather', inputs: [{ name: 'x', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } }] };
    const mirrored = async (metadata?: Metadata): Promise<boolean> => {
      const infer = (stub as unknown as Record<string, (...args: unknown[]) => void>)['ModelInfer']!;
      await new Promise((resolve, reject) => infer.call(stub, req, metadata ?? new Metadata(), (e: ServiceError | null) => (e ? reject(e) : resolve(null))));
      return service.requests.at(-1)!.mirror;
    };
    assert.equal(await mirrored(), true);
    const m = new Metadata();
    m.set('x-perennial-shadow', '1');
    assert.equal(await mirrored(m), false, 'a mirror is not mirrored again');
    track = 'shadow';
    assert.equal(await mirrored(), false, 'a shadow never mirrors');
    track = 'stable';
  });

  it('answers malformed tensors, unknown models and bad bytes INVALID_ARGUMENT / NOT_FOUND with a reason, and bugs INTERNAL without one', async () => {
    await refusedWith(call(stub, 'ModelInfer', { model_name: 'weather', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], contents: { fp32_contents: [1] } }] }), status.INVALID_ARGUMENT, /holds 2 elements, 1 were sent/);
    await refusedWith(call(stub, 'ModelInfer', { model_name: 'weather', inputs: [{ name: 'x', datatype: 'FP8', shape: [1], contents: {} }] }), status.INVALID_ARGUMENT, /unknown datatype "FP8"/);
    await refusedWith(call(stub, 'ModelInfer', { model_name: 'weather', inputs: [{ name: 'z', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } }] }), status.INVALID_ARGUMENT, /input z is not one of the model's/);
    await refusedWith(call(stub, 'ModelReady', { name: 'other' }), status.NOT_FOUND, /model other is not served here/);
    await refusedWith(call(stub, 'ModelInfer', { model_name: 'weather', inputs: [{ name: 'x', datatype: 'BOOL', shape: [1], contents: { bool_contents: [true] } }] }), status.INTERNAL, /^internal error$/);
    assert.deepEqual(internal, ['ModelInfer']);
    // Bytes that are no protobuf message: a field 5 of wire type 2 whose length runs past the end.
    const garbage = new Promise((resolve, reject) => raw.makeUnaryRequest('/inference.GRPCInferenceService/ModelInfer', (x: Buffer) => x, (x: Buffer) => x, Buffer.from([0x2a, 0x7f, 0x01]), (e, r) => (e ? reject(e) : resolve(r))));
    await refusedWith(garbage, status.INVALID_ARGUMENT, /does not parse as protobuf/);
    assert.deepEqual(observed.filter(([r]) => r === 'v2_infer').slice(-5).map(([, c]) => c), [400, 400, 400, 500, 400]);
    assert.deepEqual(await call(stub, 'ServerLive', {}), { live: true });
  });

  it('refuses a message over the body limit RESOURCE_EXHAUSTED', async () => {
    await refusedWith(call(stub, 'ModelInfer', { model_name: 'weather', inputs: [{ name: 'x', datatype: 'FP64', shape: [1, 1000], contents: { fp64_contents: new Array<number>(1000).fill(1) } }] }), status.RESOURCE_EXHAUSTED, /./);
  });

  it('answers DEADLINE_EXCEEDED past the client deadline and counts it as 408', async () => {
    service.delayMs = 300;
    try {
      await refusedWith(call(stub, 'ModelInfer', { model_name: 'weather', inputs: [{ name: 'x', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } }] }, 50), status.DEADLINE_EXCEEDED, /./);
      await sleep(400);
      assert.deepEqual(observed.at(-1), ['v2_infer', 408]);
    } finally {
      service.delayMs = 0;
    }
  });

  it('leaves the methods it does not serve UNIMPLEMENTED', async () => {
    const stream = new Promise((resolve, reject) => raw.makeUnaryRequest('/inference.GRPCInferenceService/ModelConfig', (x: Buffer) => x, (x: Buffer) => x, Buffer.alloc(0), (e, r) => (e ? reject(e) : resolve(r))));
    await refusedWith(stream, status.UNIMPLEMENTED, /./);
  });

  it('health: SERVING while ready, NOT_SERVING once the model is away or the server leaves, NOT_FOUND for another service', async () => {
    assert.deepEqual(await call(health, 'Check', { service: '' }), { status: 'SERVING' });
    assert.deepEqual(await call(health, 'Check', { service: 'inference.GRPCInferenceService' }), { status: 'SERVING' });
    await refusedWith(call(health, 'Check', { service: 'other' }), status.NOT_FOUND, /unknown service "other"/);
    service.ready = false;
    assert.deepEqual(await call(health, 'Check', { service: '' }), { status: 'NOT_SERVING' });
    service.ready = true;
    server.leave();
    assert.deepEqual(await call(health, 'Check', { service: '' }), { status: 'NOT_SERVING' });
    assert.deepEqual(await call(stub, 'ServerReady', {}), { ready: false });
  });
});

describe('the gRPC listener\'s bounds', () => {
  const started: { server: OipGrpcServer; stop: () => void }[] = [];
  async function serve(limits: Partial<GrpcEdgeLimits>, service = new FakeService(), share?: ConnectionShare): Promise<OipGrpcServer> {
    const server = await OipGrpcServer.start({ service, host: '127.0.0.1', port: 0, maxMessageBytes: 4096, track: () => 'stable', limits: { ...noBounds, ...limits }, observe: () => undefined, share });
    started.push({ server, stop: () => server.close() });
    return server;
  }
  after(() => {
    for (const s of started) s.stop();
  });

  it('closes connections past maxConnections at once, and takes new ones when others have gone', async () => {
    const server = await serve({ maxConnections: 2 });
    const held = [createConnection(server.port, '127.0.0.1'), createConnection(server.port, '127.0.0.1')];
    await Promise.all(held.map((s) => new Promise((resolve) => s.once('connect', resolve))));
    const third = createConnection(server.port, '127.0.0.1');
    assert.equal(await closedWithin(third, 2000), true, 'the third connection is closed by the server');
    assert.equal(await closedWithin(held[0]!, 300), false, 'the first two stay open');
    for (const s of held) s.destroy();
    await sleep(100);
    const stub = inferenceStub(`127.0.0.1:${server.port}`);
    try {
      assert.deepEqual((await call(stub, 'ModelInfer', oneRow))['model_name'], 'weather');
    } finally {
      stub.close();
    }
  });

  it('ends a connection at its maximum age: the client reconnects and no call fails', async () => {
    const server = await serve({ maxConnectionAgeMs: 300 });
    const relay = await countingRelay(server.port);
    const stub = inferenceStub(relay.address);
    try {
      const until = Date.now() + 1500;
      let calls = 0;
      while (Date.now() < until) {
        await call(stub, 'ModelInfer', oneRow);
        calls += 1;
        await sleep(10);
      }
      assert.ok(calls > 20, `${calls} calls`);
      assert.ok(relay.opened() >= 3, `${relay.opened()} connections over 1.5 s with a 0.3 s age`);
    } finally {
      stub.close();
      relay.close();
    }
  });

  it('in a worker over its share of the pod\'s connections, sends one connection carrying a call GOAWAY per gap; no call fails', async () => {
    // Four channels on this worker and none on the other of two: a share of two. The others' count never changes here
    // (the reconnections come back to this listener), so it goes on moving one per gap until the pod says it is alone.
    let pod: PodConnections = { others: 0, workers: 2 };
    const share = new ConnectionShare(() => pod, 100, 0);
    const server = await serve({}, new FakeService(), share);
    const relay = await countingRelay(server.port);
    // Without the client's transparent retries: a call the server refused as the connection went away would fail.
    const stubs = [1, 2, 3, 4].map(() => oipStub(relay.address, { 'grpc.use_local_subchannel_pool': 1, 'grpc.enable_retries': 0 }));
    const callFor = async (ms: number): Promise<number> => {
      const until = Date.now() + ms;
      let calls = 0;
      await Promise.all(stubs.map(async (stub) => {
        while (Date.now() < until) {
          // Two calls at once on each connection: one may be on its way while the server says the connection goes.
          const answers = await Promise.all([call(stub, 'ModelInfer', oneRow), call(stub, 'ModelInfer', oneRow)]);
          for (const a of answers) assert.equal(a['model_name'], 'weather');
          calls += 2;
        }
      }));
      return calls;
    };
    try {
      const started = Date.now();
      const calls = await callFor(1000);
      const elapsed = Date.now() - started;
      await sleep(1300); // a moved connection closes a second after its first GOAWAY, its calls answered
      const moved = relay.closed();
      console.log(`# ${calls} calls in ${elapsed} ms, ${moved} connections moved`);
      assert.ok(calls > 40, `${calls} calls, all answered`);
      assert.ok(moved >= 2, `${moved} connections sent GOAWAY and closed (by the client once told, or by the server): those over the share`);
      assert.ok(moved <= Math.floor(elapsed / 100) + 1, `${moved} connections moved in ${elapsed} ms: at most one per 100 ms`);
      assert.ok(relay.opened() - 4 <= moved, `${relay.opened()} connections opened: each moved channel reconnected at most once`);
      assert.equal(share.connections, relay.opened() - moved, 'the share counts the live connections');
      pod = { others: 0, workers: 1 };
      await callFor(500);
      await sleep(100);
      assert.equal(relay.closed(), moved, 'alone in the pod: nothing more moves');
    } finally {
      for (const stub of stubs) stub.close();
      relay.close();
    }
  });

  it('closes a connection idle past maxConnectionIdleMs; the next call reconnects', async () => {
    const server = await serve({ maxConnectionIdleMs: 300 });
    const relay = await countingRelay(server.port);
    const stub = inferenceStub(relay.address);
    try {
      await call(stub, 'ModelInfer', oneRow);
      await sleep(1000);
      assert.equal(relay.closedByServer(), 1, 'the idle connection was closed by the server');
      await call(stub, 'ModelInfer', oneRow);
      assert.equal(relay.opened(), 2);
    } finally {
      stub.close();
      relay.close();
    }
  });

  it('runs at most maxConcurrentStreams calls of one connection at once; the others wait their turn', async () => {
    const service = new FakeService();
    service.delayMs = 100;
    let running = 0;
    let most = 0;
    const infer = service.infer.bind(service);
    service.infer = async (r) => {
      running += 1;
      most = Math.max(most, running);
      try {
        return await infer(r);
      } finally {
        running -= 1;
      }
    };
    const server = await serve({ maxConcurrentStreams: 2 }, service);
    const stub = inferenceStub(`127.0.0.1:${server.port}`);
    try {
      const answers = await Promise.all(Array.from({ length: 6 }, () => call(stub, 'ModelInfer', oneRow)));
      assert.equal(answers.length, 6);
      assert.equal(most, 2);
    } finally {
      stub.close();
    }
  });

  it('passes the bounds to grpc-js, leaving out those switched off', () => {
    assert.deepEqual(grpcServerOptions(4096, { maxConnections: 5, maxConcurrentStreams: 100, maxConnectionAgeMs: 30_000, maxConnectionIdleMs: 0 }), {
      'grpc.max_receive_message_length': 4096, 'grpc.max_send_message_length': -1, 'grpc.max_concurrent_streams': 100,
      'grpc.max_connection_age_ms': 30_000, 'grpc.max_connection_age_grace_ms': 10_000,
    });
    assert.deepEqual(grpcServerOptions(1024, noBounds), { 'grpc.max_receive_message_length': 1024, 'grpc.max_send_message_length': -1 });
  });
});

describe('grpcCodeOf', () => {
  const cases: [number, status][] = [[400, status.INVALID_ARGUMENT], [422, status.INVALID_ARGUMENT], [404, status.NOT_FOUND], [408, status.DEADLINE_EXCEEDED], [413, status.RESOURCE_EXHAUSTED], [503, status.UNAVAILABLE], [500, status.INTERNAL], [418, status.INTERNAL]];
  for (const [http, code] of cases) it(`${http} → ${status[code]}`, () => assert.equal(grpcCodeOf(http), code));
});
