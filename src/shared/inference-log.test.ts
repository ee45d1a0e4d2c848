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
    assert.deepEqual(stats, {
      predictions: 3, feedback: 3, joined: 2, unmatchedFeedback: 1, duplicateFeedback: 0, duplicatePredictions: 0,
      eventTimeFromRequest: 0, eventTimeFromPredictionTime: 2, withRowId: 0,
    });
  });

  // The timestamp column holds the row's event time as the request carried it; the prediction time only stands in.
  const at = '2026-05-01T10:00:00Z';
  const withEvent = (over: Partial<PredictionRecord>, features: PredictionRecord['features'] = { x: 1 }): PredictionRecord => ({ ...p('1', at), features, ...over });
  const eventCases: { name: string; pred: PredictionRecord; ts?: string; rowId?: string; want: Record<string, unknown>; fromRequest: number; fromPrediction: number; withRowId: number }[] = [
    { name: 'ISO event time goes into the timestamp column', pred: withEvent({ eventTime: '2015-03-01' }), ts: 'ts', want: { x: 1, y: 'a', ts: '2015-03-01' }, fromRequest: 1, fromPrediction: 0, withRowId: 0 },
    { name: 'epoch-millisecond event time, as sent', pred: withEvent({ eventTime: 1_425_168_000_000 }), ts: 'ts', want: { x: 1, y: 'a', ts: 1_425_168_000_000 }, fromRequest: 1, fromPrediction: 0, withRowId: 0 },
    { name: 'no event time: the prediction time, counted', pred: withEvent({}), ts: 'ts', want: { x: 1, y: 'a', ts: at }, fromRequest: 0, fromPrediction: 1, withRowId: 0 },
    { name: 'unreadable event time: the prediction time, counted', pred: withEvent({ eventTime: 'yesterday-ish' }), ts: 'ts', want: { x: 1, y: 'a', ts: at }, fromRequest: 0, fromPrediction: 1, withRowId: 0 },
    { name: 'the timestamp is also a feature: the logged feature is the event time (records older than eventTime)', pred: withEvent({}, { x: 1, date: '2015-03-02' }), ts: 'date', want: { x: 1, date: '2015-03-02', y: 'a' }, fromRequest: 1, fromPrediction: 0, withRowId: 0 },
    { name: 'eventTime wins over an unreadable feature value', pred: withEvent({ eventTime: '2015-03-03' }, { x: 1, date: '??' }), ts: 'date', want: { x: 1, date: '2015-03-03', y: 'a' }, fromRequest: 1, fromPrediction: 0, withRowId: 0 },
    { name: 'the row id goes into the row-id column', pred: withEvent({ eventTime: '2015-03-01', rowId: 'r-17' }), ts: 'ts', rowId: 'id', want: { x: 1, y: 'a', ts: '2015-03-01', id: 'r-17' }, fromRequest: 1, fromPrediction: 0, withRowId: 1 },
    { name: 'a row id but no row-id column declared: not kept', pred: withEvent({ rowId: 'r-17' }), want: { x: 1, y: 'a' }, fromRequest: 0, fromPrediction: 0, withRowId: 0 },
    { name: 'a blank row id is no row id', pred: withEvent({ rowId: ' ' }), rowId: 'id', want: { x: 1, y: 'a' }, fromRequest: 0, fromPrediction: 0, withRowId: 0 },
  ];
  for (const c of eventCases) {
    it(c.name, () => {
      const { rows, joined, stats } = joinFeedback([c.pred], [f('1', 'a', '2026-05-02T00:00:00Z')], { labelColumn: 'y', timestampColumn: c.ts, rowIdColumn: c.rowId });
      assert.deepEqual(rows, [c.want]);
      assert.deepEqual([stats.eventTimeFromRequest, stats.eventTimeFromPredictionTime, stats.withRowId], [c.fromRequest, c.fromPrediction, c.withRowId]);
      assert.equal(joined[0]?.predictionTime, Date.parse(at), 'the prediction time is kept beside the row');
      assert.equal(joined[0]?.predictionId, '1');
    });
  }

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
