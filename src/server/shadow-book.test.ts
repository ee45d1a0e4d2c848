import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FeedbackRecord, PredictionRecord } from '../shared/inference-log.js';
import { defaultShadowBookOptions, rowFingerprint, ShadowBook, type BookEvent } from './shadow-book.js';

const t0 = Date.parse('2026-12-04T12:00:00Z');
const row = (x: number): Record<string, number | string> => ({ temp: x, city: 'Seattle' });
const cls = (label: string, p = [0.8, 0.2]) => ({ label, probabilities: p });
const served = (id: string, r: Record<string, number | string>, prediction: string | number, atMs = t0, extra: Partial<PredictionRecord> = {}): PredictionRecord => ({
  v: 1, kind: 'prediction', id, time: new Date(atMs).toISOString(), modelVersion: 'v1', track: 'stable', features: r, prediction, ...extra,
});
const label = (id: string, l: string | number): FeedbackRecord => ({ v: 1, kind: 'feedback', id, label: l, time: new Date(t0).toISOString() });
const book = (over: Partial<typeof defaultShadowBookOptions> = {}) => new ShadowBook({ ...defaultShadowBookOptions, version: 'v2', ...over });

describe('ShadowBook: pairing mirrored rows with the serving version\'s answers', () => {
  it('fingerprints a row by its values, whatever the key order', () => {
    assert.equal(rowFingerprint({ a: 1, b: 'x' }), rowFingerprint({ b: 'x', a: 1 }));
    assert.notEqual(rowFingerprint({ a: 1, b: 'x' }), rowFingerprint({ a: 2, b: 'x' }));
    assert.notEqual(rowFingerprint({ a: 1 }), rowFingerprint({ a: '1' }));
  });

  it('compares per request, then scores a label for the paired id with the shadow\'s own prediction', () => {
    const b = book();
    b.hold([row(1), row(2)], [cls('rain'), cls('sun', [0.1, 0.9])], t0 + 5);
    assert.deepEqual(b.prediction(served('a', row(1), 'rain')), [{ kind: 'compared', agree: true }]);
    assert.deepEqual(b.prediction(served('b', row(2), 'rain')), [{ kind: 'compared', agree: false }]);
    assert.deepEqual(b.feedback(label('b', 'sun'), t0), [{ kind: 'label', scored: { prediction: 'sun', probabilities: [0.1, 0.9] }, label: 'sun' }]);
    assert.deepEqual(b.feedback(label('b', 'sun'), t0), [], 'a second label for the id scores nothing (it waits, and expires)');
    assert.deepEqual(b.size(), { held: 0, paired: 1, pending: 1 });
  });

  it('a label read before its prediction record waits for it', () => {
    const b = book();
    b.hold([row(1)], [cls('rain')], t0);
    assert.deepEqual(b.feedback(label('a', 'rain'), t0), []);
    const events: BookEvent[] = b.prediction(served('a', row(1), 'sun'));
    assert.deepEqual(events, [{ kind: 'compared', agree: false }, { kind: 'label', scored: { prediction: 'rain', probabilities: [0.8, 0.2] }, label: 'rain' }]);
    assert.deepEqual(b.size(), { held: 0, paired: 0, pending: 0 });
  });

  const skipped: Array<[string, PredictionRecord]> = [
    ['a row the shadow never answered', served('a', row(9), 'rain')],
    ['the same row answered outside the pairing window', served('a', row(1), 'rain', t0 + 61_000)],
    ['a record of the shadow\'s own version', served('a', row(1), 'rain', t0, { modelVersion: 'v2' })],
    ['a record of another shadow', served('a', row(1), 'rain', t0, { track: 'shadow' })],
  ];
  for (const [name, r] of skipped) {
    it(`pairs nothing for ${name}`, () => {
      const b = book();
      b.hold([row(1)], [cls('rain')], t0);
      assert.deepEqual(b.prediction(r), []);
      assert.equal(b.size().held, 1);
    });
  }

  it('regression agrees within the relative tolerance', () => {
    const b = book({ tolerance: 0.05 });
    b.hold([row(1), row(2)], [{ value: 100 }, { value: 100 }], t0);
    assert.deepEqual(b.prediction(served('a', row(1), 104)), [{ kind: 'compared', agree: true }]);
    assert.deepEqual(b.prediction(served('b', row(2), 94)), [{ kind: 'compared', agree: false }]);
    assert.deepEqual(b.feedback(label('a', 101), t0), [{ kind: 'label', scored: { prediction: 100 }, label: 101 }]);
  });

  it('a repeated row pairs with each held answer once', () => {
    const b = book();
    b.hold([row(1), row(1)], [cls('rain'), cls('rain')], t0);
    assert.equal(b.prediction(served('a', row(1), 'rain')).length, 1);
    assert.equal(b.prediction(served('b', row(1), 'rain')).length, 1);
    assert.equal(b.prediction(served('c', row(1), 'rain')).length, 0);
  });

  it('stays within its bounds and forgets what is older than holdMs', () => {
    const b = book({ maxHeld: 3, maxPaired: 2, maxPending: 2, holdMs: 1000 });
    b.hold([1, 2, 3, 4, 5].map(row), [1, 2, 3, 4, 5].map(() => cls('rain')), t0);
    assert.equal(b.size().held, 3);
    assert.deepEqual(b.prediction(served('x', row(1), 'rain')), [], 'the oldest answers went first');
    for (const [i, x] of [3, 4, 5].entries()) b.prediction(served(`p${i}`, row(x), 'rain'));
    for (const id of ['q1', 'q2', 'q3']) b.feedback(label(id, 'rain'), t0);
    assert.deepEqual(b.size(), { held: 0, paired: 2, pending: 2 });
    b.hold([row(7)], [cls('rain')], t0 + 500);
    b.expire(t0 + 1200);
    assert.deepEqual(b.size(), { held: 1, paired: 0, pending: 0 });
  });
});
