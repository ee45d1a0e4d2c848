// The pod's decisions with several serving processes (cluster-messages.ts) and the worker's side of the rows
// (cluster-worker.ts): rows answered by workers, sent as binned messages and delivered in the primary, leave the pod's
// windows exactly as the same rows added in one process would.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { profileFeature } from '../shared/drift.js';
import type { RawRow } from '../shared/preprocessing.js';
import { deliverAnsweredRows, podUnreadyReason, shareOf, type WorkerMessage, type WorkerState } from './cluster-messages.js';
import { PrimaryLink } from './cluster-worker.js';
import { ConfidenceWindow } from './confidence-window.js';
import { DriftWindow } from './drift-window.js';
import type { Prediction } from './model.js';
import { sumStatistics } from './oip/statistics.js';
import type { OipModelStatistics } from './oip/types.js';

describe('podUnreadyReason', () => {
  const ready = (slot: number): WorkerState => ({ slot, ready: true, reason: '' });
  const cases: [string, WorkerState[], number, string | undefined][] = [
    ['every slot ready', [ready(0), ready(1)], 2, undefined],
    ['one worker loading', [ready(0), { slot: 1, ready: false, reason: 'model not loaded yet' }], 2, 'worker 1 of 2: model not loaded yet'],
    ['a slot without a worker (being forked again)', [ready(1)], 2, 'worker 0 of 2 is starting'],
    ['none yet', [], 3, 'worker 0 of 3 is starting'],
    ['the first unready slot is named', [{ slot: 0, ready: false, reason: 'a' }, { slot: 1, ready: false, reason: 'b' }], 2, 'worker 0 of 2: a'],
  ];
  for (const [name, workers, slots, want] of cases) it(name, () => assert.equal(podUnreadyReason(workers, slots), want));
});

describe('shareOf', () => {
  const cases: [number, number, number][] = [
    [1024, 1, 1024], [1024, 2, 512], [1025, 2, 513], [0, 4, 0], [3, 4, 1], [256 << 20, 3, Math.ceil((256 << 20) / 3)],
  ];
  for (const [of, parts, want] of cases) it(`${of} over ${parts} → ${want}`, () => assert.equal(shareOf(of, parts), want));
});

describe('sumStatistics', () => {
  const st = (n: number, last: number): OipModelStatistics => {
    const d = { count: n, ns: n * 1000 };
    return { name: 'm', version: 'v1', lastInference: last, inferenceCount: n, executionCount: n - 1, inferenceStats: { success: d, fail: { count: 1, ns: 5 }, queue: { count: 0, ns: 0 }, computeInput: d, computeInfer: d, computeOutput: d } };
  };
  it('sums counts and durations and keeps the latest inference', () => {
    const s = sumStatistics([st(3, 100), st(5, 50)]);
    assert.equal(s.inferenceCount, 8);
    assert.equal(s.executionCount, 6);
    assert.equal(s.lastInference, 100);
    assert.deepEqual(s.inferenceStats.success, { count: 8, ns: 8000 });
    assert.deepEqual(s.inferenceStats.fail, { count: 2, ns: 10 });
  });
  it('one process\'s figures are the pod\'s', () => assert.deepEqual(sumStatistics([st(3, 1)]), st(3, 1)));
  it('refuses none', () => assert.throws(() => sumStatistics([]), RangeError));
});

describe('answered rows from workers to the pod\'s windows', () => {
  const ref: RawRow[] = Array.from({ length: 400 }, (_, i) => ({ x: i % 50, c: i % 3 === 0 ? 'a' : 'b' }));
  const features = [profileFeature('x', 'numeric', ref.map((r) => r['x'] ?? null)), profileFeature('c', 'categorical', ref.map((r) => r['c'] ?? null))];
  const shifted: RawRow[] = ref.map((r, i) => ({ x: Number(r['x']) + (i % 7) * 10, c: i % 5 === 0 ? 'z' : 'a' }));
  const prediction = (i: number): Prediction => ({ label: i % 2 === 0 ? 'sun' : 'rain', probabilities: [0.5 + (i % 5) / 10, 0.5 - (i % 5) / 10] });

  it('two workers\' rows, batched into messages, leave the drift window, its detector and the confidence window as one process would', async () => {
    const windowMs = 3_600_000;
    const direct = { drift: new DriftWindow(features, windowMs), confidence: new ConfidenceWindow(windowMs) };
    const pod = { drift: new DriftWindow(features, windowMs), confidence: new ConfidenceWindow(windowMs) };
    const sent: WorkerMessage[] = [];
    const links = [0, 1].map(() => new PrimaryLink({
      send: (m) => sent.push(m), own: { metrics: () => Promise.resolve([]), statistics: () => { throw new Error('not asked'); } }, shadowTrack: () => false, flushMs: 1,
    }));
    const windows = links.map((l) => ({ drift: l.driftWindow(features), confidence: l.confidenceWindow }));
    // Requests of 1–3 rows, alternating workers, several per millisecond, across two minutes.
    let at = 1_000;
    for (let i = 0, r = 0; r < shifted.length; i++) {
      const n = 1 + (i % 3);
      const rows = shifted.slice(r, r + n);
      const predictions = rows.map((_, k) => prediction(r + k));
      at += i % 4 === 0 ? 300 : 0;
      direct.drift.add(rows, at);
      direct.confidence.add(predictions, at);
      const w = windows[i % 2];
      w?.drift.add(rows, at);
      w?.confidence.add(predictions, at);
      r += n;
      if (i % 17 === 0) for (const l of links) l.flush();
    }
    for (const l of links) l.flush();
    // Delivered in the order the primary took them (each worker's in its own order).
    for (const m of sent) if (m.t === 'rows') deliverAnsweredRows(m, { drift: pod.drift, confidence: pod.confidence });
    const end = at + 1;
    const a = direct.drift.snapshot(end);
    const b = pod.drift.snapshot(end);
    assert.equal(b.rows, shifted.length);
    assert.deepEqual([...b.psi], [...a.psi], 'the window\'s counts are the same');
    assert.equal(b.sequential.rows, a.sequential.rows, 'the detector saw every row');
    assert.deepEqual(pod.confidence.snapshot(end), direct.confidence.snapshot(end));
    await Promise.resolve();
  });

  it('holds rows for the shadow book only on the shadow track', () => {
    const sent: WorkerMessage[] = [];
    let shadow = false;
    const link = new PrimaryLink({ send: (m) => sent.push(m), own: { metrics: () => Promise.resolve([]), statistics: () => { throw new Error('not asked'); } }, shadowTrack: () => shadow });
    link.shadowScoring.hold([{ x: 1 }], [prediction(0)], 5);
    shadow = true;
    link.shadowScoring.hold([{ x: 2 }], [prediction(1)], 6);
    link.flush();
    const held: unknown[] = [];
    for (const m of sent) if (m.t === 'rows') deliverAnsweredRows(m, { drift: undefined, confidence: new ConfidenceWindow(1000), shadowScoring: { hold: (rows, _p, atMs) => held.push([rows, atMs]) } });
    assert.deepEqual(held, [[[{ x: 2 }], 6]]);
    link.close();
  });

  it('answers the primary\'s tell with its own figures, and an ask fails after its timeout when the primary is silent', async () => {
    const sent: WorkerMessage[] = [];
    const own: OipModelStatistics = sumStatistics([{ name: 'm', version: 'v1', lastInference: 0, inferenceCount: 2, executionCount: 1, inferenceStats: { success: { count: 2, ns: 2 }, fail: { count: 0, ns: 0 }, queue: { count: 0, ns: 0 }, computeInput: { count: 2, ns: 1 }, computeInfer: { count: 2, ns: 1 }, computeOutput: { count: 2, ns: 0 } } }]);
    const link = new PrimaryLink({ send: (m) => sent.push(m), own: { metrics: () => Promise.resolve([]), statistics: () => own }, shadowTrack: () => false, askTimeoutMs: 20 });
    link.receive({ t: 'tell', id: 7, what: 'statistics' });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(sent.at(-1), { t: 'told', id: 7, value: own });
    await assert.rejects(link.podMetrics(), /did not come from the primary within 20 ms/);
    const asked = link.podStatistics();
    const ask = sent.at(-1);
    assert.ok(ask?.t === 'ask');
    link.receive({ t: 'answer', id: ask.id, value: own });
    assert.deepEqual(await asked, own);
    assert.equal(link.peersReady(), 'waiting for the other workers of the pod');
    link.receive({ t: 'pod-ready', reason: undefined });
    assert.equal(link.peersReady(), undefined);
    link.close();
  });
});
