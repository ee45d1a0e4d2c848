// The model server on a model whose pipeline declares an event-time column and a row-id column of their own (not
// features), trained by the real trainer on the Seattle weather rows with both columns added: requests carry them on
// both APIs, the server never feeds them to the model and logs them in each prediction record as eventTime and rowId
// (read back from MinIO); an unreadable time or a hostile id is a 400 naming the row and the column, never a 5xx,
// and logs nothing. The drift window's row bound (PERENNIAL_SERVER_DRIFT_WINDOW_ROWS) caps the rows it reports.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { sharedCluster, uniqueName } from '../../localcluster/test-cluster.js';
import type { ClusterInfo } from '../../localcluster/cluster.js';
import { artifactKey, predictionsPrefix } from '../../src/shared/artifact-layout.js';
import { parseLogRecord, type PredictionRecord } from '../../src/shared/inference-log.js';
import { podEnv } from '../../src/shared/pod-contract.js';
import { parsePreprocessingSpec, type RawRow } from '../../src/shared/preprocessing.js';
import { parsePrometheusText, serverMetricNames } from '../../src/shared/server-metrics.js';
import type { MinioStore } from '../../src/storage/minio-store.js';
import { putText, runTrainer, storeFor, trainerEnv, weatherLines } from './trainer-harness.js';
import {
  postJson, quickTraining, serverEnv, startServer, waitReady, weatherDataPrefix, weatherInstances, weatherPipeline, weatherTrainerConfig, type RunningServer,
} from '../support/served-model.js';

const deployment = { namespace: 'ml', name: 'weather-et' };

/** The weather CSV with two columns of its own: event_time (the day at noon UTC) and row_id (`<location>-<line>`). */
function weatherWithIds(): string {
  const { header, rows } = weatherLines();
  const cols = header.split(',');
  const date = cols.indexOf('date');
  const location = cols.indexOf('location');
  const lines = rows.map((line, i) => {
    const cells = line.split(',');
    return `${line},${cells[date] ?? ''}T12:00:00Z,${cells[location] ?? ''}-${i}`;
  });
  return [`${header},event_time,row_id`, ...lines].join('\n') + '\n';
}

function v2Inputs(rows: readonly RawRow[], extra: readonly Record<string, unknown>[]): unknown {
  const col = (name: string, datatype: string): Record<string, unknown> => ({ name, datatype, shape: [rows.length], data: rows.map((r) => r[name]) });
  return {
    inputs: [
      col('precipitation', 'FP64'), col('temp_max', 'FP64'), col('temp_min', 'FP64'), col('wind', 'FP64'), col('date', 'BYTES'), col('location', 'BYTES'),
      ...extra,
    ],
  };
}

async function predictionRecords(store: MinioStore, bucket: string): Promise<PredictionRecord[]> {
  const out: PredictionRecord[] = [];
  for (const o of await store.list(bucket, predictionsPrefix(deployment))) {
    for (const line of (await store.getBuffer(bucket, o.key)).toString('utf8').split('\n')) {
      const r = line === '' ? undefined : parseLogRecord(JSON.parse(line));
      if (r?.kind === 'prediction') out.push(r);
    }
  }
  return out;
}

describe('model server: the event time and row id a request carries', () => {
  let info: ClusterInfo;
  let store: MinioStore;
  let server: RunningServer;
  const bucket = uniqueName('server-et');
  const rows = weatherInstances('Seattle').instances.filter((r) => String(r['date']).startsWith('2015')).slice(0, 120);
  /** Prediction id → what its record must say (undefined: no such field). */
  const expected = new Map<string, { eventTime: string | number | undefined; rowId: string | undefined }>();

  before(async () => {
    info = await sharedCluster();
    store = storeFor(info);
    await store.ensureBucket(bucket);
    await putText(store, bucket, `${weatherDataPrefix}all.csv`, weatherWithIds());
    const base = weatherTrainerConfig('v1', quickTraining);
    const config = { ...base, schema: { ...(base['schema'] as Record<string, unknown>), timestamp: 'event_time', rowId: 'row_id' } };
    const r = await runTrainer(trainerEnv(info, bucket, config));
    assert.equal(r.code, 0, `trainer: ${r.stdout.slice(-3000)}${r.stderr.slice(-2000)}`);
    server = await startServer(serverEnv(info, { bucket, version: 'v1', deployment: `${deployment.namespace}/${deployment.name}`, env: { [podEnv.serverDriftWindowRows]: '50' } }));
    await waitReady(server);
  });

  after(async () => {
    await server?.stop('SIGKILL');
    for (const o of await store.list(bucket, '')) await store.delete(bucket, o.key);
  });

  it('serves a model whose spec names both columns, neither of them a feature', async () => {
    const spec = parsePreprocessingSpec((await store.getBuffer(bucket, artifactKey(weatherPipeline, 'v1', 'preprocessing'))).toString('utf8'));
    assert.equal(spec.timestampColumn, 'event_time');
    assert.equal(spec.rowIdColumn, 'row_id');
    assert.deepEqual(spec.features.map((f) => f.name), ['precipitation', 'temp_max', 'temp_min', 'wind', 'date', 'location']);
  });

  it('v1: logs each instance\'s event time as sent and its id as text; an instance without them is logged without', async () => {
    const [a = {}, b = {}, c = {}] = rows;
    const sent = [
      { ...a, event_time: '2015-01-01T12:00:00Z', row_id: 'Seattle-1096' },
      { ...b, event_time: Date.UTC(2015, 0, 2, 12), row_id: 1097 },
      { ...c },
    ];
    const r = await postJson(`${server.url}/v1/models/weather:predict`, { instances: sent });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const plain = await postJson(`${server.url}/v1/models/weather:predict`, { instances: [a, b, c] });
    assert.deepEqual(r.body['predictions'], plain.body['predictions'], 'the columns are never fed to the model');
    const ids = r.body['prediction_ids'] as string[];
    expected.set(ids[0] ?? '', { eventTime: '2015-01-01T12:00:00Z', rowId: 'Seattle-1096' });
    expected.set(ids[1] ?? '', { eventTime: Date.UTC(2015, 0, 2, 12), rowId: '1097' });
    expected.set(ids[2] ?? '', { eventTime: undefined, rowId: undefined });
    for (const id of plain.body['prediction_ids'] as string[]) expected.set(id, { eventTime: undefined, rowId: undefined });
  });

  it('v2: inputs named like the columns (BYTES or numeric) with the batch\'s size', async () => {
    const batch = rows.slice(3, 103);
    const times = batch.map((r, i) => (i === 7 ? null : `${String(r['date'])}T12:00:00Z`));
    const r = await postJson(`${server.url}/v2/models/weather/infer`, v2Inputs(batch, [
      { name: 'event_time', datatype: 'BYTES', shape: [batch.length], data: times },
      { name: 'row_id', datatype: 'INT64', shape: [batch.length, 1], data: batch.map((_, i) => [5000 + i]) },
    ]));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const ids = ((r.body['outputs'] as { name: string; data: string[] }[]).find((o) => o.name === 'prediction_id')?.data) ?? [];
    assert.equal(ids.length, batch.length);
    ids.forEach((id, i) => expected.set(id, { eventTime: times[i] ?? undefined, rowId: String(5000 + i) }));
    const numeric = await postJson(`${server.url}/v2/models/weather/infer`, v2Inputs(batch.slice(0, 2), [
      { name: 'event_time', datatype: 'INT64', shape: [2], data: [1_420_113_600_000, null] },
    ]));
    assert.equal(numeric.status, 200, JSON.stringify(numeric.body));
    const [n0 = '', n1 = ''] = ((numeric.body['outputs'] as { name: string; data: string[] }[]).find((o) => o.name === 'prediction_id')?.data) ?? [];
    expected.set(n0, { eventTime: 1_420_113_600_000, rowId: undefined });
    expected.set(n1, { eventTime: undefined, rowId: undefined });
  });

  it('refuses an unreadable event time or a hostile row id with a 400 naming the row and the column, never a 5xx', async () => {
    const good = rows[0] ?? {};
    const table: { name: string; path: 'v1' | 'v2'; body: unknown; reason: RegExp }[] = [
      { name: 'words for a time', path: 'v1', body: { instances: [good, { ...good, event_time: 'last tuesday' }] }, reason: /^instances\[1\]\.event_time: "last tuesday" is not an event time/ },
      { name: 'a time past a Date', path: 'v1', body: { instances: [{ ...good, event_time: 1e300 }] }, reason: /^instances\[0\]\.event_time: 1e\+300 is not an event time/ },
      { name: 'a time as an object', path: 'v1', body: { instances: [{ ...good, event_time: { $date: 1 } }] }, reason: /^instances\[0\]\.event_time: expected an event time/ },
      { name: 'an id as an array', path: 'v1', body: { instances: [{ ...good, row_id: ['a'] }] }, reason: /^instances\[0\]\.row_id: expected a row id \(a string or a number\), got array/ },
      { name: 'a 100 kB id', path: 'v1', body: { instances: [{ ...good, row_id: 'x'.repeat(100_000) }] }, reason: /^instances\[0\]\.row_id: a string longer than 256 bytes/ },
      { name: 'v2 words for a time', path: 'v2', body: v2Inputs([good, good], [{ name: 'event_time', datatype: 'BYTES', shape: [2], data: ['2015-01-01', 'soon'] }]), reason: /^row 1: event_time: "soon" is not an event time/ },
      { name: 'v2 id as booleans', path: 'v2', body: v2Inputs([good], [{ name: 'row_id', datatype: 'BOOL', shape: [1], data: [true] }]), reason: /\(row_id\): datatype "BOOL" for this column, expected BYTES or a numeric type/ },
      { name: 'v2 id of another batch size', path: 'v2', body: v2Inputs([good], [{ name: 'row_id', datatype: 'BYTES', shape: [2], data: ['a', 'b'] }]), reason: /\(row_id\): 2 rows, but other inputs have 1/ },
    ];
    for (const t of table) {
      const url = t.path === 'v1' ? `${server.url}/v1/models/weather:predict` : `${server.url}/v2/models/weather/infer`;
      const r = await postJson(url, t.body);
      assert.equal(r.status, 400, `${t.name}: ${JSON.stringify(r.body)}`);
      assert.match(String(r.body['error']), t.reason, t.name);
      assert.ok(String(r.body['error']).length < 300, `${t.name}: a short reason`);
    }
    const metrics = parsePrometheusText(await (await fetch(`${server.url}/metrics`)).text());
    // Readiness answers 503 while the model loads, which is correct (waitReady polls it): only the answers to requests
    // count here, never the health route's.
    const faults = metrics.filter((s) => s.name === serverMetricNames.errors && /^5/.test(s.labels['code'] ?? '') && s.labels['route'] !== 'health' && s.value > 0);
    assert.deepEqual(faults, [], 'no 5xx');
  });

  it('keeps the drift window to the newest PERENNIAL_SERVER_DRIFT_WINDOW_ROWS rows', async () => {
    const metrics = parsePrometheusText(await (await fetch(`${server.url}/metrics`)).text());
    const windowRows = metrics.find((s) => s.name === serverMetricNames.driftWindowRows)?.value;
    assert.equal(windowRows, 50, `${expected.size} rows answered, the window holds the newest 50`);
  });

  it('logged every answered row once with its eventTime and rowId, and nothing of a refused request', async () => {
    let records: PredictionRecord[] = [];
    for (let i = 0; i < 100 && records.length < expected.size; i++) {
      records = await predictionRecords(store, bucket);
      if (records.length < expected.size) await sleep(200);
    }
    assert.equal(records.length, expected.size, 'one record per answered row; the refused requests logged none');
    for (const p of records) {
      const want = expected.get(p.id);
      assert.ok(want, `record ${p.id} belongs to an answered row`);
      assert.deepEqual([p.eventTime, p.rowId], [want.eventTime, want.rowId], p.id);
      assert.equal('eventTime' in p, want.eventTime !== undefined, 'absent, not undefined or null');
      assert.equal('rowId' in p, want.rowId !== undefined);
      assert.ok(!('event_time' in p.features) && !('row_id' in p.features), 'the features are the model\'s only');
      assert.ok(Date.parse(p.time) > Date.parse('2020-01-01'), 'time stays the prediction time');
    }
  });
});
