// The server under real traffic while its object store goes away, and while it is told to stop. Brings its own
// cluster (it stops MinIO). During the outage predictions go on, log batches spill to disk, and after MinIO is back
// every logged prediction is in the store exactly once. Then SIGTERM under load: every request the server
// accepted is answered and logged once; the rest are refused (503 or a refused connection), none is lost.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalCluster } from '../../localcluster/cluster.js';
import { predictionsPrefix } from '../../src/shared/artifact-layout.js';
import { parseLogRecord } from '../../src/shared/inference-log.js';
import { parsePrometheusText, serverMetricNames } from '../../src/shared/server-metrics.js';
import type { MinioStore } from '../../src/storage/minio-store.js';
import { storeFor } from './trainer-harness.js';
import { serverEnv, startServer, trainWeatherModel, waitReady, weatherInstances, type RunningServer } from '../support/served-model.js';

type Outcome = { status: number; ids: string[] } | { error: string };

/** One request on its own connection (no keep-alive), so a refused connection is told apart from a lost answer. */
function predict(url: string, instances: unknown[]): Promise<Outcome> {
  const body = JSON.stringify({ instances });
  return new Promise((resolve) => {
    const req = request(`${url}/v1/models/weather:predict`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        const parsed = JSON.parse(text) as { prediction_ids?: string[] };
        resolve({ status: res.statusCode ?? 0, ids: parsed.prediction_ids ?? [] });
      });
      res.on('error', (e: NodeJS.ErrnoException) => resolve({ error: `response ${e.code ?? e.message}` }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    req.end(body);
  });
}

/** `workers` clients in a loop until `stop()` says so; every outcome is kept. */
function traffic(url: string, rows: readonly unknown[], workers: number, stop: () => boolean): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (!stop()) {
      const start = (next += 5) % (rows.length - 5);
      const o = await predict(url, rows.slice(start, start + 5));
      outcomes.push(o);
      if ('error' in o && (o.error === 'ECONNREFUSED')) break;
    }
  };
  return Promise.all(Array.from({ length: workers }, worker)).then(() => outcomes);
}

async function storedIds(store: MinioStore, bucket: string): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  for (const o of await store.list(bucket, predictionsPrefix({ namespace: 'ml', name: 'weather' }))) {
    for (const line of (await store.getBuffer(bucket, o.key)).toString('utf8').split('\n')) {
      if (line === '') continue;
      const r = parseLogRecord(JSON.parse(line));
      assert.equal(r?.kind, 'prediction', line);
      if (r) seen.set(r.id, (seen.get(r.id) ?? 0) + 1);
    }
  }
  return seen;
}

async function metric(s: RunningServer, name: string, labels: Record<string, string> = {}): Promise<number> {
  const samples = parsePrometheusText(await (await fetch(`${s.url}/metrics`)).text());
  return samples.filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v)).reduce((a, x) => a + x.value, 0);
}

describe('model server: object-store outage and SIGTERM under load', () => {
  let cluster: LocalCluster;
  let store: MinioStore;
  let server: RunningServer;
  const bucket = 'outage';
  const rows = weatherInstances('Seattle').instances;
  const answered: string[] = [];

  before(async () => {
    cluster = await LocalCluster.start({ name: 'server-outage', controllerManager: false });
    store = storeFor(cluster.info);
    await trainWeatherModel(cluster.info, store, bucket, 'v1');
    server = await startServer(serverEnv(cluster.info, { bucket, version: 'v1', env: { PERENNIAL_SERVER_LOG_BATCH_RECORDS: '50', PERENNIAL_SERVER_LOG_FLUSH_MS: '100' } }));
    await waitReady(server);
  });

  after(async () => {
    await server.stop('SIGKILL');
    await cluster.stop();
  });

  it('keeps serving through a MinIO outage, spills, and stores every logged prediction exactly once afterwards', async () => {
    let stop = false;
    const load = traffic(server.url, rows, 4, () => stop);
    await sleep(1000);
    await cluster.stopMinio();
    await sleep(3000);
    const spilledDuringOutage = await metric(server, serverMetricNames.logRecords, { outcome: 'spilled' });
    await cluster.startMinio();
    await sleep(1000);
    stop = true;
    const outcomes = await load;
    for (const o of outcomes) {
      assert.ok(!('error' in o), `a request failed: ${JSON.stringify(o)}`);
      assert.equal(o.status, 200);
      answered.push(...o.ids);
    }
    console.log(`# outage: ${outcomes.length} requests, ${answered.length} predictions, ${spilledDuringOutage} records spilled while MinIO was down`);
    assert.ok(spilledDuringOutage > 0, 'log batches went to disk during the outage');
    for (let i = 0; i < 300 && (await metric(server, serverMetricNames.logPending)) > 0; i++) await sleep(200);
    assert.equal(await metric(server, serverMetricNames.logPending), 0, 'everything reached the store once MinIO was back');
    const seen = await storedIds(store, bucket);
    for (const id of answered) assert.equal(seen.get(id), 1, `prediction ${id}`);
    assert.equal(seen.size, answered.length, 'nothing logged that was not answered');
  });

  it('on SIGTERM under load answers every accepted request, refuses the rest, and flushes the log', async () => {
    let stop = false;
    const load = traffic(server.url, rows, 8, () => stop);
    await sleep(1500);
    server.child.kill('SIGTERM');
    const ended = await server.exited;
    stop = true;
    const outcomes = await load;
    assert.equal(ended.code, 0, server.output().slice(-2000));
    const ok = outcomes.filter((o): o is { status: number; ids: string[] } => !('error' in o) && o.status === 200);
    const refused = outcomes.filter((o) => ('error' in o && ['ECONNREFUSED', 'ECONNRESET', 'EPIPE'].includes(o.error)) || (!('error' in o) && o.status === 503));
    const other = outcomes.filter((o) => !ok.includes(o as never) && !refused.includes(o));
    console.log(`# SIGTERM under load: ${outcomes.length} requests, ${ok.length} answered, ${refused.length} refused, ${other.length} other`);
    assert.deepEqual(other, []);
    assert.ok(ok.length > 0);
    const seen = await storedIds(store, bucket);
    const now = ok.flatMap((o) => o.ids);
    for (const id of [...answered, ...now]) assert.equal(seen.get(id), 1, `prediction ${id}`);
    assert.equal(seen.size, answered.length + now.length, 'every logged prediction was answered: no accepted request lost its answer');
  });
});
