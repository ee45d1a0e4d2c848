import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, transports } from 'winston';
import { feedbackPrefix, logBatchKey, predictionsPrefix } from '../shared/artifact-layout.js';
import type { LabelSpec } from '../shared/preprocessing.js';
import { MemoryStore } from '../storage/memory-store.js';
import { defaultShadowBookOptions, ShadowBook, type BookEvent } from './shadow-book.js';
import { dayFolders, ShadowScoring } from './shadow-scoring.js';

const log = createLogger({ silent: true, transports: [new transports.Console()] });
const d = { namespace: 'ml', name: 'weather' };
const spec: LabelSpec = { task: 'classification', column: 'weather', classes: ['rain', 'sun'] } as unknown as LabelSpec;

describe('ShadowScoring: reading the inference log back on a shadow pod', () => {
  it('lists the day folders that can hold the records of a span', () => {
    assert.deepEqual(dayFolders('p/', Date.parse('2026-12-03T23:50:00Z'), Date.parse('2026-12-04T00:10:00Z')), ['p/2026-12-03/', 'p/2026-12-04/']);
    assert.deepEqual(dayFolders('p/', Date.parse('2026-12-04T01:00:00Z'), Date.parse('2026-12-04T02:00:00Z')), ['p/2026-12-04/']);
  });

  it('off the shadow track it holds nothing and never reads the store', async () => {
    let listed = 0;
    const store = new MemoryStore();
    const list = store.list.bind(store);
    store.list = (b, p) => { listed++; return list(b, p); };
    const s = new ShadowScoring({
      store, bucket: 'b', predictionsPrefix: predictionsPrefix(d), feedbackPrefix: feedbackPrefix(d), version: 'v2', pollMs: 1000, holdMs: 600_000,
      label: () => spec, active: () => false, record: () => undefined, log, now: () => new Date(),
    }, new ShadowBook({ ...defaultShadowBookOptions, version: 'v2' }));
    s.hold([{ temp: 1 }], [{ label: 'rain', probabilities: [0.9, 0.1] }], Date.now());
    await s.poll();
    assert.equal(listed, 0);
  });

  it('pairs logged predictions and labels of the serving pods with the rows it answered, reading each object once', async () => {
    const store = new MemoryStore();
    let now = Date.now();
    const events: BookEvent[] = [];
    const s = new ShadowScoring({
      store, bucket: 'b', predictionsPrefix: predictionsPrefix(d), feedbackPrefix: feedbackPrefix(d), version: 'v2', pollMs: 1000, holdMs: 600_000,
      label: () => spec, active: () => true, record: (e) => events.push(e), log, now: () => new Date(now),
    }, new ShadowBook({ ...defaultShadowBookOptions, version: 'v2' }));
    s.hold([{ temp: 1 }, { temp: 2 }], [{ label: 'rain', probabilities: [0.9, 0.1] }, { label: 'rain', probabilities: [0.6, 0.4] }], now);
    const rec = (id: string, temp: number, prediction: string) => JSON.stringify({ v: 1, kind: 'prediction', id, time: new Date(now).toISOString(), modelVersion: 'v1', track: 'stable', features: { temp }, prediction });
    // A label that arrives (and is flushed) before the prediction record it belongs to.
    await store.put('b', logBatchKey(feedbackPrefix(d), new Date(now), 'pod-b-000001'), JSON.stringify({ v: 1, kind: 'feedback', id: 'a', label: 'sun', time: new Date(now).toISOString() }) + '\n');
    await s.poll();
    assert.deepEqual(events, []);
    await store.put('b', logBatchKey(predictionsPrefix(d), new Date(now), 'pod-a-000001'), [rec('a', 1, 'sun'), rec('b', 2, 'rain'), 'not json', rec('c', 3, 'sun')].join('\n') + '\n');
    now += 1000;
    await s.poll();
    assert.deepEqual(events, [
      { kind: 'compared', agree: false },
      { kind: 'label', scored: { prediction: 'rain', probabilities: [0.9, 0.1] }, label: 'sun' },
      { kind: 'compared', agree: true },
    ]);
    await store.put('b', logBatchKey(feedbackPrefix(d), new Date(now), 'pod-a-000002'), JSON.stringify({ v: 1, kind: 'feedback', id: 'b', label: 'rain', time: new Date(now).toISOString() }) + '\n');
    await s.poll();
    assert.equal(events.length, 4, 'objects already read are not read again');
    assert.deepEqual(events[3], { kind: 'label', scored: { prediction: 'rain', probabilities: [0.6, 0.4] }, label: 'rain' });
  });
});
