// A pod with two serving workers (PERENNIAL_SERVER_WORKERS=2), the real server bundle on a model the real trainer made
// from Seattle's weather: requests on fresh connections land on both workers; labels for either worker's ids are
// scored by the primary's one feedback listener; /metrics, the drift and confidence windows and the OIP statistics
// are the pod's (every worker's rows, whichever worker is asked); a worker killed mid-life makes the pod unready
// until it is forked again, while the other one answers; a burst of keep-alive connections that the kernel gave to
// one worker is spread over both within a second; SIGTERM drains every worker and each one's inference log reaches
// the store under its own file stem, every answered prediction once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { sharedCluster, uniqueName } from '../../localcluster/test-cluster.js';
import type { ClusterInfo } from '../../localcluster/cluster.js';
import { freePort } from '../../localcluster/net.js';
import { grpcLoad } from '../../bench/grpc-load.js';
import { grpcCall, oipStub } from '../../src/server/testing/oip-grpc-client.js';
import { predictionsPrefix } from '../../src/shared/artifact-layout.js';
import { podEnv } from '../../src/shared/pod-contract.js';
import { parsePrometheusText, serverMetricNames, type Sample } from '../../src/shared/server-metrics.js';
import type { MinioStore } from '../../src/storage/minio-store.js';
import { storeFor } from './trainer-harness.js';
import { postFeedback, serverEnv, startServer, trainWeatherModel, waitReady, weatherInstances, type RunningServer } from '../support/served-model.js';

/**
 * POSTs JSON through `agent` (a client's keep-alive pool), or with none on a connection of its own that closes after
 * the answer (accepted by whichever worker is free); 10 s at most.
 */
function postJson(url: string, body: unknown, agent: Agent | false = false): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const headers = agent === false ? { 'content-type': 'application/json', connection: 'close' } : { 'content-type': 'application/json' };
    const req = request(url, { method: 'POST', agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    // A request that got no answer fails the test here rather than at its timeout.
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer from ${url} in 10 s`)));
    req.end(JSON.stringify(body));
  });
}

/** Which worker's log (file stem w0, w1) holds each prediction id stored so far. */
async function workerOfIds(store: MinioStore, bucket: string): Promise<Map<string, string>> {
  const of = new Map<string, string>();
  for (const o of await store.list(bucket, predictionsPrefix({ namespace: 'ml', name: 'weather' }))) {
    const stem = /test-pod-(w\d)-/.exec(o.key)?.[1];
    if (stem === undefined) continue;
    for (const line of (await store.getBuffer(bucket, o.key)).toString('utf8').split('\n')) if (line !== '') of.set((JSON.parse(line) as { id: string }).id, stem);
  }
  return of;
}

async function getFresh(url: string): Promise<{ status: number; text: string }> {
  const r = await fetch(url, { headers: { connection: 'close' } });
  return { status: r.status, text: await r.text() };
}

const sum = (samples: readonly Sample[], name: string, labels: Readonly<Record<string, string>> = {}): number =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);

/** One gRPC call on a channel of its own (a connection of its own, accepted by either worker). */
async function grpcOnce(address: string, method: string, req: unknown): Promise<Record<string, unknown>> {
  const stub = oipStub(address);
  try {
    return await grpcCall(stub, method, req);
  } finally {
    stub.close();
  }
}

/** A row as ModelInfer's inputs: one tensor per feature, numbers FP64 and the rest BYTES. */
function grpcInputsOf(row: Readonly<Record<string, unknown>>): object[] {
  return Object.entries(row).map(([name, v]) => (typeof v === 'number'
    ? { name, datatype: 'FP64', shape: [1], contents: { fp64_contents: [v] } }
    : { name, datatype: 'BYTES', shape: [1], contents: { bytes_contents: [Buffer.from(String(v))] } }));
}

/** How many established connections to `port` the process `pid` holds (ss, iproute2). */
function establishedOn(pid: number, port: number): number {
  const out = execFileSync('ss', ['-tnpH', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(`pid=${pid},`)).length;
}

function workerPids(primary: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(primary)], { encoding: 'utf8' }).split('\n').filter((l) => l !== '').map(Number);
  } catch {
    return [];
  }
}

describe('model server with two workers in one pod', () => {
  let info: ClusterInfo;
  let store: MinioStore;
  let server: RunningServer;
  let feedbackUrl: string;
  let grpcAddress: string;
  const bucket = uniqueName('workers');
  const seattle = weatherInstances('Seattle');
  const rows = seattle.instances.slice(0, 120);
  const labels = seattle.labels.slice(0, 120);
  const answered: { id: string; label: string }[] = [];

  before(async () => {
    info = await sharedCluster();
    store = storeFor(info);
    await trainWeatherModel(info, store, bucket, 'v1');
    const feedbackPort = await freePort();
    const grpcPort = await freePort();
    grpcAddress = `127.0.0.1:${grpcPort}`;
    // No signing key: the primary makes one for the pod, so an id either worker signed verifies at the primary.
    const env = serverEnv(info, { bucket, version: 'v1', env: { [podEnv.serverWorkers]: '2', [podEnv.serverFeedbackPort]: String(feedbackPort), [podEnv.serverGrpcPort]: String(grpcPort) } });
    delete env[podEnv.serverSigningKey];
    server = await startServer(env);
    feedbackUrl = `http://127.0.0.1:${feedbackPort}`;
    await waitReady(server, 90_000);
  });

  after(async () => {
    await server.stop('SIGKILL');
    for (const pid of workerPids(server.child.pid ?? 0)) process.kill(pid, 'SIGKILL');
    for (const o of await store.list(bucket, '')) await store.delete(bucket, o.key);
  });

  it('answers on both workers, and the pod\'s figures count every worker\'s rows whichever worker is asked', async () => {
    assert.equal(workerPids(server.child.pid ?? 0).length, 2, 'two workers forked');
    for (let i = 0; i < rows.length; i += 4) {
      const batch = await Promise.all(rows.slice(i, i + 4).map((row) => postJson(`${server.url}/v1/models/weather:predict`, { instances: [row] })));
      batch.forEach((r, k) => {
        assert.equal(r.status, 200, JSON.stringify(r.body));
        answered.push({ id: (r.body['prediction_ids'] as string[])[0] as string, label: labels[i + k] as string });
      });
    }
    const v2 = await postJson(`${server.url}/v2/models/weather/infer`, { inputs: Object.keys(rows[0] ?? {}).map((name) => ({ name, datatype: typeof rows[0]?.[name] === 'number' ? 'FP64' : 'BYTES', shape: [1], data: [rows[0]?.[name]] })) });
    assert.equal(v2.status, 200, JSON.stringify(v2.body));
    // gRPC on both workers: six channels, six connections.
    const grpcInputs = grpcInputsOf(rows[0] ?? {});
    assert.deepEqual(await grpcOnce(grpcAddress, 'ServerReady', {}), { ready: true });
    const grpcAnswers = await Promise.all([1, 2, 3, 4, 5, 6].map(() => grpcOnce(grpcAddress, 'ModelInfer', { model_name: 'weather', inputs: grpcInputs })));
    for (const a of grpcAnswers) assert.equal(a['model_name'], 'weather');
    await sleep(500); // the workers' rows reach the primary every 100 ms
    const scrapes = await Promise.all([1, 2, 3, 4].map(async () => parsePrometheusText((await getFresh(`${server.url}/metrics`)).text)));
    for (const m of scrapes) {
      assert.equal(sum(m, serverMetricNames.requests, { route: 'v1_predict', code: '200' }), rows.length, 'every v1 request, both workers\' (from whichever answers the scrape)');
      assert.equal(sum(m, serverMetricNames.driftWindowRows), rows.length + 7, 'the pod\'s drift window holds both workers\' rows');
      assert.equal(sum(m, serverMetricNames.confidenceWindowRows), rows.length + 7, 'and its confidence window');
      assert.equal(sum(m, serverMetricNames.modelReady), 1, 'ready: the least of the processes\' gauges, not their sum');
    }
    const stats = await Promise.all([1, 2].map(async () => JSON.parse((await getFresh(`${server.url}/v2/models/weather/stats`)).text) as { model_stats: { inference_count: number }[] }));
    for (const s of stats) assert.equal(s.model_stats[0]?.inference_count, 7, 'the OIP statistics are the pod\'s (REST and gRPC, both workers)');
    const grpcStats = await grpcOnce(grpcAddress, 'ModelStatistics', { name: 'weather' }) as { model_stats: { inference_count: string | number }[] };
    assert.equal(Number(grpcStats.model_stats[0]?.inference_count), 7, 'over gRPC too');
  });

  it('scores labels for either worker\'s ids at the one feedback listener, each id once', async () => {
    const s = { ...server, feedbackUrl };
    const first = await postFeedback(s, { feedback: answered.map((a) => ({ id: a.id, label: a.label })) });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const again = await postFeedback(s, { feedback: answered.slice(0, 10).map((a) => ({ id: a.id, label: a.label })) });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    const m = parsePrometheusText((await getFresh(`${server.url}/metrics`)).text);
    const scored = sum(m, serverMetricNames.feedback, { outcome: 'correct' }) + sum(m, serverMetricNames.feedback, { outcome: 'incorrect' });
    assert.equal(scored, answered.length, 'every label scored: ids of both workers verify with the pod\'s key');
    assert.equal(sum(m, serverMetricNames.feedback, { outcome: 'duplicate' }), 10, 'a label sent twice counts once, whichever worker made the id');
  });

  it('spreads a burst of keep-alive connections over both workers within a second, whichever worker the kernel gave them to', async () => {
    // 32 clients of one pool connect at once: with both workers idle, the one that wakes first accepts most of them.
    // The connection age (2.5-5 s) would move them later; the connection share moves them at their next answers.
    const agent = new Agent({ keepAlive: true, maxSockets: 32 });
    let opened = 0;
    const connect = agent.createConnection.bind(agent);
    agent.createConnection = (...args: Parameters<Agent['createConnection']>) => {
      opened += 1;
      return connect(...args);
    };
    const url = `${server.url}/v1/models/weather:predict`;
    const late: string[] = [];
    const start = Date.now();
    await Promise.all(Array.from({ length: 32 }, async (_, client) => {
      while (Date.now() - start < 1500) {
        const r = await postJson(url, { instances: [rows[client % rows.length]] }, agent);
        assert.equal(r.status, 200, JSON.stringify(r.body));
        const id = (r.body['prediction_ids'] as string[])[0] as string;
        answered.push({ id, label: labels[client % rows.length] as string });
        if (Date.now() - start >= 1000) late.push(id);
      }
    }));
    agent.destroy();
    await sleep(1000); // each worker's log reaches the store every 200 ms here
    const of = await workerOfIds(store, bucket);
    const perWorker = { w0: late.filter((id) => of.get(id) === 'w0').length, w1: late.filter((id) => of.get(id) === 'w1').length };
    console.log(`# answers per worker after the first second: ${JSON.stringify(perWorker)}`);
    assert.equal(perWorker.w0 + perWorker.w1, late.length, 'every answer logged by one of the workers');
    assert.ok(Math.min(perWorker.w0, perWorker.w1) >= late.length / 4, `both workers answer the pool's requests: ${JSON.stringify(perWorker)}`);
    // Moving half of them takes a few dozen reconnections, not one per answer (a worker that read the pod's counts
    // while the burst was still arriving once closed a connection on nearly every answer: hundreds of reconnections).
    console.log(`# connections the pool opened: ${opened} for ${answered.length} answers`);
    assert.ok(opened <= 32 + 64, `${opened} connections opened by a pool of 32 in 1.5 s`);
  });

  it('spreads a gRPC client\'s channels over both workers within a second, whichever worker the kernel gave them to', async () => {
    // Eight channels opened at once landed 8 / 0, 7 / 1 and 6 / 2 on the two workers in three of six tries (one worker
    // busy, the other idle until the connections' age, 30 s); a worker over its share sends one GOAWAY per 100 ms.
    const port = Number(grpcAddress.split(':')[1]);
    for (let round = 0; round < 3; round++) {
      const stubs = Array.from({ length: 8 }, () => oipStub(grpcAddress, { 'grpc.use_local_subchannel_pool': 1 }));
      const until = Date.now() + 1500;
      await Promise.all(stubs.map(async (stub, client) => {
        const inputs = grpcInputsOf(rows[client % rows.length] ?? {});
        while (Date.now() < until) {
          // The answer's tensors come raw: a BYTES element is its length (4 bytes, little-endian) and its bytes.
          const a = await grpcCall(stub, 'ModelInfer', { model_name: 'weather', inputs }) as { outputs: { name: string }[]; raw_output_contents: Buffer[] };
          const raw = a.raw_output_contents[a.outputs.findIndex((o) => o.name === 'prediction_id')];
          const id = raw?.subarray(4, 4 + raw.readUInt32LE(0)).toString('utf8');
          assert.ok(id !== undefined, 'a prediction id answered');
          answered.push({ id, label: labels[client % rows.length] as string });
        }
      }));
      await sleep(200); // a channel sent GOAWAY closes once its last call is answered
      const held = workerPids(server.child.pid ?? 0).map((pid) => establishedOn(pid, port));
      for (const stub of stubs) stub.close();
      console.log(`# round ${round}: the channels' connections per worker ${held.join(' / ')}`);
      assert.equal(held.reduce((a, n) => a + n, 0), 8, `one connection per channel: ${held.join(' / ')}`);
      assert.ok(held.every((n) => n >= 3 && n <= 5), `each worker holds its share of the eight, give or take one: ${held.join(' / ')}`);
      await sleep(300);
    }
  });

  it('moves gRPC connections between the workers without refusing the calls a client that does not retry has started (ghz, grpc-go)', async () => {
    // A single GOAWAY refused the calls a client had already started on the connection: ghz saw 21-42 calls of ~30,000
    // fail "the connection is draining" in 4 s (7-42 in five runs). The first GOAWAY now refuses nothing and the second
    // follows a second later: 0-7 in five runs, what is left being the client's own race between picking a connection
    // and starting a call on it as it learns of a GOAWAY (grpc-go without retries; the same at every connection age).
    // Each move risks that race, most while the client is still starting its calls: with moves from its first 40 ms
    // on (both workers moving one, each counting the other's connections as none yet) ghz lost 0-14 calls per run of this
    // file; a connection is now moved only once it is 250 ms old: 0-1 in four runs. Three seconds in, the eight must be
    // spread: while a moved connection drained, it raised the share, and a cold `make test` saw 6 / 3 on the wire.
    const port = Number(grpcAddress.split(':')[1]);
    const inputs = grpcInputsOf(rows[0] ?? {});
    let held: number[] = [];
    const probe = setTimeout(() => (held = workerPids(server.child.pid ?? 0).map((pid) => establishedOn(pid, port))), 3000);
    const load = await grpcLoad({ port, modelName: 'weather', connections: 8, concurrency: 64, seconds: 4, request: { model_name: 'weather', inputs } });
    clearTimeout(probe);
    console.log(`# ghz: ${load.rps.toFixed(0)} calls/s, ${load.errors} failed; its connections per worker 3 s in: ${held.join(' / ')}`);
    assert.ok(load.rps > 0);
    assert.ok(load.errors <= 10, `${load.errors} calls failed: no more than the client's own race at a GOAWAY`);
    assert.ok(held.every((n) => n >= 3 && n <= 5), `each worker holds its share of ghz's eight connections, give or take one: ${held.join(' / ')}`);
  });

  it('goes unready while a killed worker is forked again, and answers on the other meanwhile', async () => {
    const [victim] = workerPids(server.child.pid ?? 0);
    assert.ok(victim !== undefined);
    process.kill(victim, 'SIGKILL');
    let sawUnready = false;
    let answeredMeanwhile = 0;
    const until = Date.now() + 60_000;
    let readyAgain = false;
    while (Date.now() < until && !readyAgain) {
      const r = await getFresh(`${server.url}/v2/health/ready`).catch(() => undefined);
      if (r?.status === 503) sawUnready = true;
      const p = await postJson(`${server.url}/v1/models/weather:predict`, { instances: [rows[0]] }).catch(() => undefined);
      if (p?.status === 200) {
        answeredMeanwhile += 1;
        answered.push({ id: (p.body['prediction_ids'] as string[])[0] as string, label: labels[0] as string });
      }
      readyAgain = sawUnready && r?.status === 200 && workerPids(server.child.pid ?? 0).length === 2;
      await sleep(50);
    }
    assert.ok(sawUnready, 'the pod reported unready while a worker was missing');
    assert.ok(readyAgain, `ready again with two workers: ${server.output().slice(-2000)}`);
    assert.ok(answeredMeanwhile > 0, 'requests were answered meanwhile');
    assert.match(server.output(), /a serving worker exited; forking it again/);
  });

  it('drains every worker on SIGTERM, each one\'s log under its own file stem, every answered prediction stored once', async () => {
    const { code } = await server.stop('SIGTERM');
    assert.equal(code, 0, server.output().slice(-3000));
    assert.deepEqual(workerPids(server.child.pid ?? 0), []);
    const ids = new Map<string, number>();
    const stems = new Map<string, number>();
    for (const o of await store.list(bucket, predictionsPrefix({ namespace: 'ml', name: 'weather' }))) {
      const stem = /test-pod-(w\d)-/.exec(o.key)?.[1];
      for (const line of (await store.getBuffer(bucket, o.key)).toString('utf8').split('\n')) {
        if (line === '') continue;
        if (stem !== undefined) stems.set(stem, (stems.get(stem) ?? 0) + 1);
        const id = (JSON.parse(line) as { id: string }).id;
        ids.set(id, (ids.get(id) ?? 0) + 1);
      }
    }
    console.log(`# predictions logged per worker: ${JSON.stringify(Object.fromEntries(stems))}`);
    assert.deepEqual([...stems.keys()].sort(), ['w0', 'w1'], 'both workers wrote their own log objects');
    for (const a of answered) assert.equal(ids.get(a.id), 1, `prediction ${a.id} logged once`);
  });
});
