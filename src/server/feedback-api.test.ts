// The feedback API over real HTTP, next to the inference API that signs the ids: only a token holder can label, only
// ids this deployment signed can be labelled, only labels the model can take are taken, once; every refusal counted.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, transports } from 'winston';
import { parsePrometheusText } from '../shared/server-metrics.js';
import { newNonce, signPredictionId, verifyPredictionId } from '../shared/prediction-id.js';
import { MemoryStore } from '../storage/memory-store.js';
import { ServerApp } from './app.js';
import { DriftWindow } from './drift-window.js';
import { FeedbackApi } from './feedback-api.js';
import { LabelledIds } from './labelled-ids.js';
import { LogWriter } from './log-writer.js';
import { ServerMetrics } from './metrics.js';
import { tinyModel } from './testing/tiny-model.js';

const token = 'feedback-token-0123456789';
const key = Buffer.from('signing-key-0123456789');
const deployment = 'ml/weather';
const log = createLogger({ silent: true, transports: [new transports.Console()] });

interface Stack {
  readonly app: ServerApp;
  readonly metrics: ServerMetrics;
  readonly predictUrl: string;
  readonly inferenceBase: string;
  readonly feedbackUrl: string;
  readonly feedbackLog: LogWriter;
  clock: number;
  /** The pod is told to stop (SIGTERM): the feedback API's leave(). */
  leave(): void;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function stack(version: string, task: 'classification' | 'regression', store: MemoryStore, dir: string): Promise<Stack> {
  const metrics = new ServerMetrics({ namespace: 'ml', deployment: 'weather', version }, () => undefined, () => ({}), () => task);
  const writer = (prefix: string): LogWriter => new LogWriter({
    store, bucket: 'b', prefix: `${prefix}/${version}`, spillDir: join(dir, version, prefix), fileStem: version, batchRecords: 1000, flushMs: 60_000, maxMemoryRecords: 10_000, now: () => new Date(),
  });
  const predictionLog = writer('predictions');
  const feedbackLog = writer('feedback');
  const s: { clock: number } = { clock: Date.parse('2026-12-04T10:00:00Z') };
  const now = (): Date => new Date(s.clock);
  const app = new ServerApp({
    modelName: 'weather', version, track: 'stable', codeVersion: 'test', maxInstances: 100, maxBodyBytes: 1 << 20, bodyTimeoutMs: 10_000, maxStringBytes: 256,
    batch: { maxSize: 8, maxWaitMs: 0, maxQueueRows: 100 }, metrics, predictionLog, deployment, signingKey: key, shadow: undefined, log, now,
  });
  app.setModel(tinyModel(task, task === 'regression' ? { min: 0, max: 100 } : undefined), new DriftWindow([], 60_000));
  const api = new FeedbackApi({
    deployment, signingKey: key, tokens: ['old-token-0123456789', token], maxItems: 100, maxBodyBytes: 1 << 20, bodyTimeoutMs: 500, maxLabelAgeMs: 3_600_000,
    label: () => app.label, labelled: new LabelledIds(3_600_000, 1000), feedbackLog, metrics, log, now,
  });
  const inference = createServer((req, res) => app.handle(req, res));
  const feedback = createServer((req, res) => api.handle(req, res));
  const inferenceBase = await listen(inference);
  const feedbackBase = await listen(feedback);
  return Object.assign(s, {
    app, metrics, feedbackLog, inferenceBase,
    predictUrl: `${inferenceBase}/v1/models/weather:predict`,
    feedbackUrl: `${feedbackBase}/v1/feedback`,
    leave: () => api.leave(),
    async close(): Promise<void> {
      for (const srv of [inference, feedback]) {
        srv.closeAllConnections();
        await new Promise<void>((resolve) => srv.close(() => resolve()));
      }
      await Promise.all([predictionLog.close(100), feedbackLog.close(100)]);
    },
  });
}

async function predict(s: Stack, n: number): Promise<string[]> {
  const r = await fetch(s.predictUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: Array.from({ length: n }, (_, i) => ({ x: i })) }) });
  assert.equal(r.status, 200);
  return ((await r.json()) as { prediction_ids: string[] }).prediction_ids;
}

async function label(s: Stack, body: unknown, auth: string | null = `Bearer ${token}`): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const r = await fetch(s.feedbackUrl, {
    method: 'POST', headers: { 'content-type': 'application/json', ...(auth === null ? {} : { authorization: auth }) }, body: JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown>, headers: r.headers };
}

async function counts(s: Stack): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const x of parsePrometheusText(await s.metrics.registry.metrics())) {
    if (x.name !== 'perennial_server_feedback_total') continue;
    out[`${x.labels['outcome'] ?? ''}@${x.labels['model_version'] ?? ''}`] = x.value;
  }
  return out;
}

describe('feedback API', () => {
  const dir = mkdtempSync(join(tmpdir(), 'perennial-feedback-'));
  const store = new MemoryStore();
  let v1: Stack;
  let v2: Stack;
  let reg: Stack;
  before(async () => {
    v1 = await stack('v1', 'classification', store, dir);
    v2 = await stack('v2', 'classification', store, dir);
    reg = await stack('r1', 'regression', store, mkdtempSync(join(tmpdir(), 'perennial-feedback-r-')));
  });
  after(async () => {
    await Promise.all([v1.close(), v2.close(), reg.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers signed ids that carry the version and the prediction', async () => {
    const [id = ''] = await predict(v1, 1);
    const v = verifyPredictionId(key, deployment, id);
    assert.ok(v.ok);
    if (v.ok) assert.deepEqual({ version: v.claim.version, prediction: v.claim.prediction, track: v.claim.track }, { version: 'v1', prediction: 'sun', track: 'stable' });
  });

  it('refuses requests without the token (401, nothing read, counted) and takes either rotation token', async () => {
    const [id = ''] = await predict(v1, 1);
    for (const auth of [null, 'Bearer wrong-token-0123456789', `Basic ${token}`, `Bearer ${token} extra`, 'Bearer ']) {
      const r = await label(v1, { id, label: 'sun' }, auth);
      assert.equal(r.status, 401, `${String(auth)}: ${JSON.stringify(r.body)}`);
      assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
    }
    assert.equal((await counts(v1))['unauthorized@v1'], 5);
    assert.equal((await label(v1, { id, label: 'sun' }, 'Bearer old-token-0123456789')).status, 200);
  });

  it('keeps taking labels while the pod leaves, closing each connection so the sender moves to a pod that stays', async () => {
    const s = await stack('v9', 'classification', store, mkdtempSync(join(tmpdir(), 'perennial-feedback-leave-')));
    try {
      const [a = '', b = ''] = await predict(s, 2);
      const before = await label(s, { id: a, label: 'sun' });
      assert.equal(before.status, 200);
      assert.notEqual(before.headers.get('connection'), 'close', 'kept alive while the pod stays');
      s.leave();
      const leaving = await label(s, { id: b, label: 'sun' });
      assert.equal(leaving.status, 200, 'the label is taken while the pod leaves');
      assert.equal(leaving.headers.get('connection'), 'close');
      const c = await counts(s);
      assert.equal((c['correct@v9'] ?? 0) + (c['incorrect@v9'] ?? 0), 2, JSON.stringify(c));
    } finally {
      await s.close();
    }
  });

  it('refuses ids the deployment did not sign, with 422 and the reason', async () => {
    const [real = ''] = await predict(v1, 1);
    const other = signPredictionId(Buffer.from('another-deployments-key'), deployment, { nonce: newNonce(), version: 'v1', track: 'stable', timeMs: v1.clock, prediction: 'sun' });
    const otherDeployment = signPredictionId(key, 'ml/other', { nonce: newNonce(), version: 'v1', track: 'stable', timeMs: v1.clock, prediction: 'sun' });
    const [v, payload = '', sig = ''] = real.split('.');
    const edited = `${v ?? ''}.${payload.slice(0, -2)}AA.${sig}`;
    for (const id of ['2b1f0c1e-5a7e-4c8e-9a55-3f1e2d4c5b6a', other, otherDeployment, edited]) {
      const r = await label(v1, { id, label: 'rain' });
      assert.equal(r.status, 422, id);
      assert.match(String(r.body['error']), /not a prediction id/);
    }
  });

  it('refuses labels the model cannot take, and predictions older than the age limit', async () => {
    const [a = '', b = ''] = await predict(v1, 2);
    const r = await label(v1, { id: a, label: 'x'.repeat(25) });
    assert.equal(r.status, 422);
    assert.match(String(r.body['error']), /not a class of the model \(rain, sun\)/);
    assert.equal((await label(v1, { id: a, label: 3 })).status, 422);
    v1.clock += 3_600_001;
    const old = await label(v1, { id: b, label: 'rain' });
    assert.equal(old.status, 422);
    assert.match(String(old.body['error']), /older than the feedback age limit/);
  });

  it('takes the first label of an id only (409 for a second one), and reports each item of a list', async () => {
    const [a = '', b = '', c = ''] = await predict(v1, 3);
    assert.deepEqual((await label(v1, { id: a, label: 'rain' })).body, { accepted: 1, duplicate: [], rejected: [] });
    const again = await label(v1, { id: a, label: 'sun' });
    assert.equal(again.status, 409);
    const list = await label(v1, { feedback: [{ id: b, label: 'sun' }, { id: a, label: 'sun' }, { id: 'forged', label: 'sun' }, { id: c, label: 'snow' }, { label: 'sun' }] });
    assert.equal(list.status, 200);
    assert.equal(list.body['accepted'], 1);
    assert.deepEqual(list.body['duplicate'], [a]);
    assert.deepEqual((list.body['rejected'] as Array<{ index: number }>).map((x) => x.index), [2, 3, 4]);
    const none = await label(v1, { feedback: [{ id: 'forged', label: 'sun' }] });
    assert.equal(none.status, 422, 'a list with nothing taken');
  });

  it('counts one label per prediction, however its id is respelled (other base64 low bits, padding)', async () => {
    const [a = ''] = await predict(v1, 1);
    const before = await counts(v1);
    assert.equal((await label(v1, { id: a, label: 'rain' })).status, 200);
    // The same MAC bytes in another spelling: a lenient base64 decoder takes it, the replica's duplicate check keys by text.
    const lastBits = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const respelled = `${a.slice(0, -1)}${lastBits[(lastBits.indexOf(a.slice(-1)) + 1) % 64] ?? ''}`;
    for (const id of [respelled, `${a}=`]) assert.equal((await label(v1, { id, label: 'rain' })).status, 422, id);
    const after = await counts(v1);
    assert.equal((after['correct@v1'] ?? 0) + (after['incorrect@v1'] ?? 0) - (before['correct@v1'] ?? 0) - (before['incorrect@v1'] ?? 0), 1);
  });

  it('scores a label under the version that made the prediction, whichever replica receives it', async () => {
    v2.clock = v1.clock;
    const ids = await predict(v2, 4);
    const before = await counts(v1);
    const r = await label(v1, { feedback: ids.map((id, i) => ({ id, label: i === 0 ? 'rain' : 'sun' })) });
    assert.equal(r.body['accepted'], 4);
    const after = await counts(v1);
    assert.equal((after['correct@v2'] ?? 0) - (before['correct@v2'] ?? 0), 3);
    assert.equal((after['incorrect@v2'] ?? 0) - (before['incorrect@v2'] ?? 0), 1);
  });

  it('checks regression labels against the declared range and scores squared errors', async () => {
    const [a = '', b = ''] = await predict(reg, 2);
    assert.equal((await label(reg, { id: a, label: 1e300 })).status, 422);
    assert.equal((await label(reg, { id: a, label: 'NaN' })).status, 422);
    assert.equal((await label(reg, { id: a, label: 7 })).status, 200);
    assert.equal((await label(reg, { id: b, label: '3' })).status, 200);
    const samples = parsePrometheusText(await reg.metrics.registry.metrics());
    const sq = samples.find((x) => x.name === 'perennial_server_feedback_squared_error_sum' && x.labels['model_version'] === 'r1');
    assert.ok(sq && Math.abs(sq.value - 8) < 1e-3, `squared error ${String(sq?.value)} (predicted 5, labels 7 and 3)`);
  });

  it('answers sloppy and hostile requests with a 4xx: content type, target, slow body, method', async () => {
    const [id = ''] = await predict(v1, 1);
    const post = (headers: Record<string, string>, body: string) => fetch(v1.feedbackUrl, { method: 'POST', headers: { authorization: `Bearer ${token}`, ...headers }, body });
    assert.equal((await post({ 'content-type': 'text/plain' }, JSON.stringify({ id, label: 'sun' }))).status, 415);
    assert.equal((await post({ 'content-type': 'application/json' }, '{"id": ')).status, 400);
    assert.equal((await fetch(v1.feedbackUrl, { headers: { authorization: `Bearer ${token}` } })).status, 405);
    assert.equal((await fetch(v1.feedbackUrl.replace('/v1/feedback', '/v1/feedback%zz'), { method: 'POST' })).status, 404);
    // Headers sent, the body never finished: 408 within the body timeout, and the connection is closed.
    const { host, port } = new URL(v1.feedbackUrl);
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(Number(port), host.split(':')[0] ?? '127.0.0.1', () => {
        socket.write(`POST /v1/feedback HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${token}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"id"`);
      });
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString()));
      socket.on('close', () => resolve(text));
    });
    assert.match(answer, /^HTTP\/1\.1 408/);
    assert.equal((await label(v1, { id, label: 'sun' })).status, 200, 'still serving');
  });

  it('logs only the labels it took, and refuses feedback on the inference port', async () => {
    const onInference = await fetch(`${v1.inferenceBase}/v1/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(onInference.status, 404);
    await v1.feedbackLog.close(1000);
    const logged = (await Promise.all((await store.list('b', 'feedback/v1')).map(async (o) => (await store.getBuffer('b', o.key)).toString('utf8'))))
      .join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { id: string; label: string });
    const c = await counts(v1);
    const taken = (c['correct@v1'] ?? 0) + (c['incorrect@v1'] ?? 0) + (c['correct@v2'] ?? 0) + (c['incorrect@v2'] ?? 0);
    assert.equal(logged.length, taken, 'one record per label taken');
    for (const r of logged) assert.ok(verifyPredictionId(key, deployment, r.id).ok);
    assert.ok((c['rejected@v1'] ?? 0) >= 5 && (c['duplicate@v1'] ?? 0) >= 2, JSON.stringify(c));
  });
});
