import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type Condition, formatTime, getCondition, isTrueFor, removeCondition, setCondition } from './conditions.js';

const t0 = Date.UTC(2026, 0, 1, 0, 0, 0);
const t1 = t0 + 60_000;
const ready = (status: 'True' | 'False' | 'Unknown', reason: string, generation = 1) =>
  ({ type: 'Ready', status, reason, message: `m-${reason}`, observedGeneration: generation }) as const;

describe('setCondition', () => {
  const table: Array<{ name: string; before: Condition[] | undefined; input: ReturnType<typeof ready>; want: Condition[] }> = [
    {
      name: 'adds a new condition with the current time',
      before: undefined,
      input: ready('True', 'Done'),
      want: [{ ...ready('True', 'Done'), lastTransitionTime: formatTime(t1) }],
    },
    {
      name: 'keeps lastTransitionTime when the status does not change, but updates reason, message and generation',
      before: [{ ...ready('True', 'Old'), lastTransitionTime: formatTime(t0) }],
      input: ready('True', 'New', 2),
      want: [{ ...ready('True', 'New', 2), lastTransitionTime: formatTime(t0) }],
    },
    {
      name: 'moves lastTransitionTime when the status flips',
      before: [{ ...ready('True', 'Done'), lastTransitionTime: formatTime(t0) }],
      input: ready('False', 'Broken'),
      want: [{ ...ready('False', 'Broken'), lastTransitionTime: formatTime(t1) }],
    },
    {
      name: 'leaves other conditions and the order alone',
      before: [
        { type: 'A', status: 'True', reason: 'R', message: '', lastTransitionTime: formatTime(t0), observedGeneration: 1 },
        { ...ready('Unknown', 'Pending'), lastTransitionTime: formatTime(t0) },
        { type: 'B', status: 'False', reason: 'R', message: '', lastTransitionTime: formatTime(t0), observedGeneration: 1 },
      ],
      input: ready('True', 'Done'),
      want: [
        { type: 'A', status: 'True', reason: 'R', message: '', lastTransitionTime: formatTime(t0), observedGeneration: 1 },
        { ...ready('True', 'Done'), lastTransitionTime: formatTime(t1) },
        { type: 'B', status: 'False', reason: 'R', message: '', lastTransitionTime: formatTime(t0), observedGeneration: 1 },
      ],
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      const before = row.before ? structuredClone(row.before) : undefined;
      assert.deepEqual(setCondition(row.before, row.input, t1), row.want);
      assert.deepEqual(row.before, before, 'the input list is not mutated');
    });
  }

  it('formats time as metav1.Time (whole seconds, Z)', () => {
    assert.equal(formatTime(Date.UTC(2026, 4, 6, 7, 8, 9, 999)), '2026-05-06T07:08:09Z');
  });

  it('isTrueFor ignores a True condition from an older generation', () => {
    const list = setCondition([], ready('True', 'Done', 3), t0);
    assert.equal(isTrueFor(list, 'Ready', 3), true);
    assert.equal(isTrueFor(list, 'Ready', 4), false);
    assert.equal(getCondition(list, 'Missing'), undefined);
    assert.deepEqual(removeCondition(list, 'Ready'), []);
  });
});
