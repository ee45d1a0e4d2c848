import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cloudEventSource, inferenceCloudEvent, inferenceCloudEventJson } from './cloudevents.js';
import { inferenceLogVersion, parseLogRecord, type FeedbackRecord, type PredictionRecord } from './inference-log.js';

const prediction: PredictionRecord = {
  v: inferenceLogVersion, kind: 'prediction', id: 'p1', time: '2026-01-01T00:00:00.000Z', modelVersion: 'v1', track: 'stable',
  features: { wind: 3 }, prediction: 'rain', probabilities: [0.2, 0.8],
};
const feedback: FeedbackRecord = { v: inferenceLogVersion, kind: 'feedback', id: 'p1', label: 'sun', time: '2026-01-01T00:01:00.000Z' };

describe('inferenceCloudEvent', () => {
  const source = cloudEventSource({ namespace: 'ml', name: 'weather' });
  const cases: Array<{ name: string; record: PredictionRecord | FeedbackRecord; id: string; type: string }> = [
    { name: 'a prediction is its own id', record: prediction, id: 'p1', type: 'dev.perennial.prediction.v1' },
    { name: 'a label is the prediction id with /feedback', record: feedback, id: 'p1/feedback', type: 'dev.perennial.feedback.v1' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const e = inferenceCloudEvent(source, c.record);
      assert.equal(e.specversion, '1.0');
      assert.equal(e.id, c.id);
      assert.equal(e.type, c.type);
      assert.equal(e.source, '/perennial/ml/weather');
      assert.equal(e.subject, 'p1', 'both carry the prediction id they are keyed by');
      assert.equal(e.time, c.record.time);
      // The data is the inference log's record, readable by the log's own parser.
      assert.deepEqual(parseLogRecord((JSON.parse(JSON.stringify(e)) as { data: unknown }).data), c.record);
    });
  }
});

describe('inferenceCloudEventJson', () => {
  // The sink's message value: the same text as stringifying the event object, whatever the record holds.
  const source = '/perennial/ml/"quoted"\\weather';
  const cases: Array<{ name: string; record: PredictionRecord | FeedbackRecord }> = [
    { name: 'a prediction', record: prediction },
    { name: 'a label', record: feedback },
    { name: 'a regression with event time and row id', record: { v: inferenceLogVersion, kind: 'prediction', id: 'p2', time: prediction.time, modelVersion: 'v2', features: { wind: 1.5 }, prediction: 12.5, eventTime: 1735689600000, rowId: 'r-1' } },
    { name: 'strings that need escaping', record: { ...prediction, id: 'p"\\\u2028', features: { city: 'Zürich "new"\n', wind: null } } },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(inferenceCloudEventJson(source, c.record), JSON.stringify(inferenceCloudEvent(source, c.record))));
  }
});
