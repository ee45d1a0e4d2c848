import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LabelSpec } from '../../shared/preprocessing.js';
import type { Prediction } from '../model.js';
import { BadRequestError } from '../requests.js';
import { outputTensors, planOutputs, topClasses } from './outputs.js';

const classes: LabelSpec = { task: 'classification', name: 'weather', classes: ['rain', 'sun', 'fog'] };
const regression: LabelSpec = { task: 'regression', name: 'y', mean: 0, std: 1 };
const predictions: Prediction[] = [{ label: 'sun', probabilities: [0.2, 0.7, 0.1] }, { label: 'rain', probabilities: [0.5, 0.25, 0.25] }];

describe('OIP outputs', () => {
  it('answers every output but classification when none is asked', () => {
    assert.deepEqual(planOutputs(undefined, classes).map((p) => p.name), ['label', 'probabilities', 'prediction_id']);
    assert.deepEqual(planOutputs([], regression).map((p) => p.name), ['value', 'prediction_id']);
  });

  it('answers the outputs asked, in the order asked, with Triton\'s top-k classification strings', () => {
    const plan = planOutputs([{ name: 'prediction_id' }, { name: 'classification', parameters: { classification: 2 } }, { name: 'probabilities', parameters: { classification: 9, binary_data: true } }, { name: 'label' }], classes);
    assert.deepEqual(outputTensors(plan, predictions, ['id0', 'id1'], classes), [
      { name: 'prediction_id', datatype: 'BYTES', shape: [2], data: ['id0', 'id1'] },
      { name: 'classification', datatype: 'BYTES', shape: [2, 2], data: ['0.7:1:sun', '0.2:0:rain', '0.5:0:rain', '0.25:1:sun'] },
      { name: 'probabilities', datatype: 'BYTES', shape: [2, 3], data: ['0.7:1:sun', '0.2:0:rain', '0.1:2:fog', '0.5:0:rain', '0.25:1:sun', '0.25:2:fog'] },
      { name: 'label', datatype: 'BYTES', shape: [2], data: ['sun', 'rain'] },
    ]);
    assert.deepEqual(outputTensors(planOutputs([{ name: 'classification' }], classes), predictions, [], classes)[0]?.shape, [2, 1], 'k = 1 by default');
    assert.deepEqual(outputTensors(planOutputs([{ name: 'probabilities', parameters: { classification: 0 } }], classes), predictions, [], classes)[0]?.data, [0.2, 0.7, 0.1, 0.5, 0.25, 0.25], '0: no classification');
  });

  it('a regression model answers its value', () => {
    assert.deepEqual(outputTensors(planOutputs([{ name: 'value' }], regression), [{ value: 3.5 }], ['i'], regression), [{ name: 'value', datatype: 'FP64', shape: [1], data: [3.5] }]);
  });

  it('ties keep the class order', () => assert.deepEqual(topClasses([0.5, 0.5], ['a', 'b'], 2), ['0.5:0:a', '0.5:1:b']));

  const bad: [string, Parameters<typeof planOutputs>[0], LabelSpec, RegExp][] = [
    ['an unknown output, named with the ones there are', [{ name: 'scores' }], classes, /outputs\[0\]: unknown output "scores" \(outputs: label, probabilities, classification, prediction_id\)/],
    ['a classification output of a regression model', [{ name: 'classification' }], regression, /unknown output "classification" \(outputs: value, prediction_id\)/],
    ['an output asked twice', [{ name: 'label' }, { name: 'label' }], classes, /outputs\[1\] \(label\): asked for twice/],
    ['an unknown output parameter', [{ name: 'label', parameters: { shm_region: 'x' } }], classes, /parameter "shm_region" is not understood \(output parameters: binary_data, classification\)/],
    ['classification on label', [{ name: 'label', parameters: { classification: 2 } }], classes, /applies to probabilities or classification only/],
    ['classification not a count', [{ name: 'probabilities', parameters: { classification: 'two' } }], classes, /must be a non-negative integer \(the top k classes\), got "two"/],
    ['classification negative', [{ name: 'probabilities', parameters: { classification: -1 } }], classes, /must be a non-negative integer/],
  ];
  for (const [name, requested, label, reason] of bad) {
    it(`refuses: ${name}`, () => assert.throws(() => planOutputs(requested, label), (e: unknown) => e instanceof BadRequestError && e.status === 400 && reason.test(e.message)));
  }
});
