import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseTrainerConfig, trainerConfigApiVersion } from '../shared/trainer-config.js';
import type { Row } from './rows.js';
import { splitRows } from './split.js';

const day = 86_400_000;
const t0 = Date.parse('2024-01-01T00:00:00Z');
const rows: Row[] = Array.from({ length: 100 }, (_, i) => ({ values: { i }, ref: { object: 'o', line: i }, time: t0 + (99 - i) * day })); // newest first

function cfg(over: Record<string, unknown>) {
  return parseTrainerConfig(JSON.stringify({
    apiVersion: trainerConfigApiVersion, pipeline: { name: 'p' }, runId: 'r', version: 'v', seed: 3,
    data: { sources: [{ prefix: 'd/', format: 'csv' }] },
    schema: { features: [{ name: 'x', type: 'numeric' }], label: 'y', task: 'regression', timestamp: 't' },
    hyperparameters: { validationFraction: 0.1 },
    ...over,
    ...(over['data'] ? { data: { sources: [{ prefix: 'd/', format: 'csv' }], ...over['data'] } } : {}),
  }));
}

const days = (rs: readonly Row[]): number[] => rs.map((r) => ((r.time ?? 0) - t0) / day);

describe('splitting rows', () => {
  it('holds out the newest fraction and validates on the newest training rows', () => {
    const s = splitRows(rows, cfg({ evaluation: { holdout: { lastFraction: 0.2 } } }));
    assert.deepEqual(days(s.holdout), Array.from({ length: 20 }, (_, i) => 80 + i));
    assert.deepEqual(days(s.validation), Array.from({ length: 8 }, (_, i) => 72 + i));
    assert.equal(s.train.length, 72);
    assert.deepEqual(days(s.train).slice(0, 3), [0, 1, 2], 'ordered by time');
  });

  it('never holds out fed-back rows: the holdout is the newest uploaded rows, the fed-back rows train', () => {
    const fedBack: Row[] = Array.from({ length: 50 }, (_, i) => ({ values: { i }, ref: { object: 'feedback:', line: i }, time: t0 + (100 + i) * day, fedBack: true }));
    const s = splitRows([...rows, ...fedBack], cfg({ evaluation: { holdout: { lastFraction: 0.2 } }, hyperparameters: { validationFraction: 0 } }));
    assert.deepEqual(days(s.holdout), Array.from({ length: 20 }, (_, i) => 80 + i), '20% of the 100 uploaded rows, not of all 150');
    assert.ok(s.holdout.every((r) => r.fedBack !== true));
    assert.equal(s.train.filter((r) => r.fedBack).length, 50);
    assert.equal(s.train.length, 130);
  });

  it('holds out everything from a date on', () => {
    const s = splitRows(rows, cfg({ evaluation: { holdout: { from: '2024-03-01' } } }));
    assert.equal(days(s.holdout)[0], 60);
    assert.equal(s.holdout.length, 40);
  });

  it('keeps the window and replays a seeded share of older rows', () => {
    const c = cfg({ data: { window: { lastDays: 19 }, replayFraction: 0.5 }, evaluation: { holdout: { lastFraction: 0.2 }, historicalSlice: { to: '2024-01-11' } }, hyperparameters: { validationFraction: 0 } });
    const a = splitRows(rows, c);
    const b = splitRows(rows, c);
    assert.equal(a.outsideWindow, 60);
    assert.ok(a.replayed > 15 && a.replayed < 45, String(a.replayed));
    assert.deepEqual(days(a.train), days(b.train), 'same seed, same replay');
    assert.deepEqual(days(a.train).slice(-20), Array.from({ length: 20 }, (_, i) => 60 + i));
    assert.deepEqual(days(a.historical), Array.from({ length: 10 }, (_, i) => i), 'historical slice reaches outside the window');
  });

  it('keeps the newest rows of a row-count window', () => {
    const s = splitRows(rows, cfg({ data: { window: { lastRows: 10 } }, hyperparameters: { validationFraction: 0 } }));
    assert.deepEqual(days(s.train), Array.from({ length: 10 }, (_, i) => 70 + i));
  });
});
