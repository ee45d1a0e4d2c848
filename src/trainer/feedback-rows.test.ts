import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TrainerConfig } from '../shared/trainer-config.js';
import { admitFeedback, feedbackCap, trustedClasses } from './feedback-rows.js';
import type { Row } from './rows.js';

const data = (label: string | number, time: number): Row => ({ values: { x: 1, y: label }, ref: { object: 'data.csv', line: time }, time });
const fed = (label: string | number, time: number): Row => ({ values: { x: 1, y: label }, ref: { object: 'feedback:', line: time }, time, fedBack: true });

function config(task: 'classification' | 'regression', over: Partial<TrainerConfig['schema']> = {}, maxShare = 0.5): Pick<TrainerConfig, 'schema' | 'data'> {
  return {
    schema: { features: [{ name: 'x', type: 'numeric' }], label: 'y', task, classes: undefined, labelRange: undefined, timestamp: 't', rowId: undefined, ...over },
    data: { sources: [], where: undefined, window: undefined, replayFraction: 0, feedback: { bucket: undefined, predictionsPrefix: 'p/', feedbackPrefix: 'f/', modelVersion: undefined, maxShare, duplicates: 'prefer-uploaded' }, driftReference: undefined },
  };
}

describe('feedbackCap', () => {
  const cases: Array<[number, number, number]> = [[100, 0.5, 100], [100, 0.2, 25], [100, 0, 0], [3, 0.5, 3], [0, 0.5, 0], [100, 1, Infinity], [10, 0.9, 90]];
  for (const [trusted, share, want] of cases) it(`${trusted} uploaded rows, share ${share}: at most ${want}`, () => assert.equal(feedbackCap(trusted, share), want));
});

describe('admitFeedback', () => {
  it('keeps uploaded rows untouched and reports nothing without feedback', () => {
    const rows = [data('rain', 1), data('sun', 2)];
    assert.deepEqual(admitFeedback(rows, config('classification')), { rows, stats: { fedBack: 0, rejectedLabels: 0, capped: 0, admitted: 0 } });
  });

  it('drops fed-back labels that are not classes of the uploaded data (25 forged classes teach nothing)', () => {
    const forged = Array.from({ length: 25 }, (_, i) => fed(`class-${i}`, 10 + i));
    const rows = [data('rain', 1), data('sun', 2), data('sun', 3), fed('rain', 4), ...forged];
    const a = admitFeedback(rows, config('classification'));
    assert.deepEqual(a.stats, { fedBack: 26, rejectedLabels: 25, capped: 0, admitted: 1 });
    assert.deepEqual(trustedClasses(config('classification'), a.rows), ['rain', 'sun']);
  });

  it('takes the declared class list instead of the uploaded classes', () => {
    const rows = [data('rain', 1), data('rain', 2), fed('snow', 3), fed('hail', 4)];
    assert.equal(admitFeedback(rows, config('classification', { classes: ['rain', 'snow'] })).stats.admitted, 1);
  });

  it('checks regression labels against the declared range', () => {
    const rows = [data(5, 1), data(6, 2), fed(7, 3), fed(-1, 4), fed(1e300, 5), fed('NaN', 6)];
    assert.deepEqual(admitFeedback(rows, config('regression', { labelRange: { min: 0, max: 100 } })).stats, { fedBack: 4, rejectedLabels: 3, capped: 0, admitted: 1 });
    assert.equal(admitFeedback(rows, config('regression')).stats.rejectedLabels, 1, 'without a range only non-finite labels go');
  });

  it('caps the share of fed-back rows, keeping the newest', () => {
    const rows = [data('rain', 1), data('sun', 2), fed('sun', 30), fed('rain', 10), fed('sun', 20), fed('rain', 40)];
    const a = admitFeedback(rows, config('classification', {}, 0.5));
    assert.deepEqual(a.stats, { fedBack: 4, rejectedLabels: 0, capped: 2, admitted: 2 });
    assert.deepEqual(a.rows.map((r) => r.time), [1, 2, 30, 40]);
    assert.equal(admitFeedback(rows, config('classification', {}, 0)).stats.admitted, 0, 'share 0: feedback is only logged');
  });
});
