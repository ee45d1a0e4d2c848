import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { invalidDataMessage, type ValidationIssue } from './invalid-data.js';

describe('invalidDataMessage', () => {
  const table: Array<[string, readonly ValidationIssue[], number, string]> = [
    ['a small first period: the count, the minimum and what to do', [{ check: 'min-rows', message: '42 row(s), fewer than the required 100' }], 100,
      'The data failed validation: 42 row(s), fewer than the minimum 100 (spec.validation.minRows): lower spec.validation.minRows or wait for more data, then run again (kubectl perennial trigger weather, or the next trigger). Not retried on the same data.'],
    ['the minimum the run was given, not the spec\'s since', [{ check: 'min-rows', message: '42 row(s), fewer than the required 100' }], 30,
      'The data failed validation: 42 row(s), fewer than the minimum 100 (spec.validation.minRows): lower spec.validation.minRows or wait for more data, then run again (kubectl perennial trigger weather, or the next trigger). Not retried on the same data.'],
    ['a count in the report wins over the sentence; a sentence in other words takes the spec\'s minimum', [{ check: 'min-rows', message: 'not enough rows', count: 7 }], 100,
      'The data failed validation: 7 row(s), fewer than the minimum 100 (spec.validation.minRows): lower spec.validation.minRows or wait for more data, then run again (kubectl perennial trigger weather, or the next trigger). Not retried on the same data.'],
    ['neither: too few rows', [{ check: 'min-rows', message: 'not enough rows' }], 100,
      'The data failed validation: too few rows, fewer than the minimum 100 (spec.validation.minRows): lower spec.validation.minRows or wait for more data, then run again (kubectl perennial trigger weather, or the next trigger). Not retried on the same data.'],
    ['other issues keep the trainer\'s words, in order', [{ check: 'missing-rate', message: 'column wind: 12% missing' }, { check: undefined, message: 'the validation report is not JSON' }], 100,
      'The data failed validation: column wind: 12% missing; the validation report is not JSON. Not retried on the same data.'],
    ['a report without issues points at the report', [], 100, 'The data failed validation: see the validation report. Not retried on the same data.'],
  ];
  for (const [name, issues, minRows, want] of table) it(name, () => assert.equal(invalidDataMessage(issues, 'weather', minRows), want));
});
