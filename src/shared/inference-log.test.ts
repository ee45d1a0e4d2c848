import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { joinFeedback, parseLogRecord, type FeedbackRecord, type PredictionRecord } from './inference-log.js';

const p = (id: string, time: string, version = 'v1', x = 1): PredictionRecord => ({ v: 1, kind: 'prediction', id, time, modelVersion: version, features: { x }, prediction: 'a' });
const f = (id: string, label: string, time: string): FeedbackRecord => ({ v: 1, kind: 'feedback', id, label, time });

describe('feedback join', () => {
  it('joins labels to predictions by id, in prediction-time order', () => {
    const { rows, stats } = joinFeedback(
      [p('2', '2024-01-02T00:00:00Z', 'v1', 2), p('1', '2024-01-01T00:00:00Z', 'v1', 1), p('3', '2024-01-03T00:00:00Z')],
      [f('1', 'yes', '2024-02-01T00:00:00Z'), f('2', 'no', '2024-02-01T00:00:00Z'), f('9', 'no', '2024-02-01T00:00:00Z')],
      { labelColumn: 'y', timestampColumn: 'ts' },
    );
    assert.deepEqual(rows, [{ x: 1, y: 'yes', ts: '2024-01-01T00:00:00Z' }, { x: 2, y: 'no', ts: '2024-01-02T00:00:00Z' }]);
    assert.deepEqual(stats, { predictions: 3, feedback: 3, joined: 2, unmatchedFeedback: 1, duplicateFeedback: 0, duplicatePredictions: 0 });
  });

  const cases: { name: string; preds: PredictionRecord[]; fb: FeedbackRecord[]; version?: string; want: string[]; dup?: [number, number] }[] = [
    { name: 'first label wins, whatever order the logs are read in', preds: [p('1', '2024-01-01T00:00:00Z')], fb: [f('1', 'late', '2024-03-01T00:00:00Z'), f('1', 'early', '2024-02-01T00:00:00Z')], want: ['early'], dup: [1, 0] },
    { name: 'first label wins on a tie of times: the first read', preds: [p('1', '2024-01-01T00:00:00Z')], fb: [f('1', 'a', '2024-02-01T00:00:00Z'), f('1', 'b', '2024-02-01T00:00:00Z')], want: ['a'], dup: [1, 0] },
    { name: 'a repeated prediction counts once', preds: [p('1', '2024-01-01T00:00:00Z'), p('1', '2024-01-01T00:00:00Z')], fb: [f('1', 'a', '2024-02-01T00:00:00Z')], want: ['a'], dup: [0, 1] },
    { name: 'other model versions are ignored', preds: [p('1', '2024-01-01T00:00:00Z', 'v1'), p('2', '2024-01-01T00:00:00Z', 'v2')], fb: [f('1', 'a', '2024-02-01T00:00:00Z'), f('2', 'b', '2024-02-01T00:00:00Z')], version: 'v2', want: ['b'] },
    { name: 'no labels, no rows', preds: [p('1', '2024-01-01T00:00:00Z')], fb: [], want: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { rows, stats } = joinFeedback(c.preds, c.fb, { labelColumn: 'y', modelVersion: c.version });
      assert.deepEqual(rows.map((r) => r['y']), c.want);
      if (c.dup) assert.deepEqual([stats.duplicateFeedback, stats.duplicatePredictions], c.dup);
    });
  }

  it('parses only well-formed version-1 records', () => {
    assert.equal(parseLogRecord(p('1', 't'))?.kind, 'prediction');
    assert.equal(parseLogRecord(f('1', 'a', 't'))?.kind, 'feedback');
    assert.equal(parseLogRecord({ ...p('1', 't'), v: 2 }), undefined);
    assert.equal(parseLogRecord({ v: 1, kind: 'prediction', id: '1', time: 't' }), undefined);
    assert.equal(parseLogRecord({ v: 1, kind: 'feedback', id: '1', time: 't', label: {} }), undefined);
    assert.equal(parseLogRecord('nope'), undefined);
  });
});
