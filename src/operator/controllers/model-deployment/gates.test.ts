import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Verdict } from '../../../api/model-deployment.js';
import { judge, type GateInput } from './gates.js';
import { emptyMeasurement, type Measurement } from './metrics/provider.js';

const m = (over: Partial<Measurement>): Measurement => ({ ...emptyMeasurement, ...over });
const healthy = m({ requests: 200, errors: 1, latencyP99Ms: 8, labelled: 150, correct: 135, drift: { wind: 0.02, temp_max: 0.05 }, driftRows: 200 });

function input(over: Partial<GateInput>): GateInput {
  return { gates: { maxErrorRate: 0.01 }, minSamples: 100, candidate: healthy, stable: undefined, shadow: undefined, ...over };
}

describe('judge', () => {
  const table: Array<[string, Partial<GateInput>, Verdict, RegExp]> = [
    ['healthy candidate passes the error-rate gate', {}, 'Passed', /error rate 0.50% within 1.00%/],
    ['too many errors fail', { candidate: m({ ...healthy, errors: 5 }) }, 'Failed', /error rate 2.50% above 1.00%/],
    ['too little traffic is inconclusive, not failed', { candidate: m({ requests: 20, errors: 20 }) }, 'Inconclusive', /20 of 100 served requests needed/],
    ['client errors (4xx) never fail the error-rate gate', { candidate: m({ ...healthy, requests: 10_200, clientErrors: 10_000 }) }, 'Passed', /error rate 0.50% within/],
    ['client errors are no samples: a 4xx flood cannot pass a gate', { candidate: m({ requests: 10_020, errors: 0, clientErrors: 10_000 }) }, 'Inconclusive', /20 of 100 served requests needed; not counted: 10000 client errors \(4xx\)/],
    ['nor dilute faults: 5 faults in 200 served fail whatever the 4xx', { candidate: m({ ...healthy, requests: 100_200, errors: 5, clientErrors: 100_000 }) }, 'Failed', /error rate 2.50% above 1.00% \(5 server errors in 200 served requests; not counted: 100000 client errors/],
    ['shed requests (503) are counted apart, not as faults', { candidate: m({ ...healthy, requests: 700, shed: 500 }) }, 'Passed', /error rate 0.50% within/],
    ['latency needs served requests too', { gates: { maxLatencyP99Ms: 50 }, candidate: m({ ...healthy, requests: 1000, clientErrors: 950 }) }, 'Inconclusive', /50 of 100 served requests needed/],
    ['no values at all is inconclusive', { candidate: undefined, noValuesReason: 'no ready pods' }, 'Inconclusive', /no ready pods/],
    ['p99 above the bound fails', { gates: { maxLatencyP99Ms: 5 } }, 'Failed', /p99 8 ms above 5 ms/],
    ['p99 within passes', { gates: { maxLatencyP99Ms: 50 } }, 'Passed', /p99 8 ms within 50 ms/],
    ['absolute accuracy below fails', { gates: { minAccuracy: 0.95 } }, 'Failed', /live accuracy 0.9 below 0.95/],
    ['accuracy without enough labels is inconclusive', { gates: { minAccuracy: 0.5 }, candidate: m({ ...healthy, labelled: 10, correct: 10 }) }, 'Inconclusive', /10 of 100 labelled/],
    ['accuracy drop vs stable beyond the bound fails', { gates: { maxAccuracyDrop: 0.02 }, stable: m({ labelled: 200, correct: 190 }) }, 'Failed', /below the stable version's, more than 0.02/],
    ['accuracy drop within the bound passes', { gates: { maxAccuracyDrop: 0.1 }, stable: m({ labelled: 200, correct: 190 }) }, 'Passed', /within 0.1/],
    ['relative accuracy without stable labels is inconclusive', { gates: { maxAccuracyDrop: 0.1 }, stable: m({ labelled: 3, correct: 3 }) }, 'Inconclusive', /on the stable version/],
    ['drift above the bound fails naming the feature', { gates: { maxDriftPsi: 0.03 } }, 'Failed', /PSI of temp_max 0.05 above 0.03/],
    ['drift within passes', { gates: { maxDriftPsi: 0.2 } }, 'Passed', /largest PSI 0.05 \(temp_max\)/],
    ['shadow agreement per request below fails', { shadow: { minAgreement: 0.9 }, candidate: m({ ...healthy, compared: 200, agreed: 150 }) }, 'Failed', /agreement 75.00% below 90.00% \(150 of 200 requests\)/],
    // Class shares can match exactly while most requests disagree: per request is what is judged.
    ['shadow agreement within passes', { shadow: { minAgreement: 0.9 }, candidate: m({ ...healthy, compared: 200, agreed: 190 }) }, 'Passed', /agreement 95.00% at least 90.00%/],
    ['shadow agreement with few compared requests is inconclusive', { shadow: { minAgreement: 0.9 }, candidate: m({ ...healthy, compared: 50, agreed: 50 }) }, 'Inconclusive', /50 of 100 mirrored requests compared/],
    ['shadow with an accuracy gate is judged on the mirrored requests\' labels', { shadow: { minAgreement: 0.9 }, gates: { minAccuracy: 0.95 }, candidate: m({ ...healthy, compared: 200, agreed: 190 }) }, 'Failed', /live accuracy 0.9 below 0.95/],
    ['log loss above the bound fails', { gates: { maxLogLoss: 0.5 }, candidate: m({ ...healthy, logLossLabels: 150, logLossSum: 90 }) }, 'Failed', /live log loss 0.6 above 0.5/],
    ['log loss within passes', { gates: { maxLogLoss: 0.7 }, candidate: m({ ...healthy, logLossLabels: 150, logLossSum: 90 }) }, 'Passed', /live log loss 0.6 within 0.7/],
    ['log loss without probabilities is inconclusive', { gates: { maxLogLoss: 0.7 } }, 'Inconclusive', /0 of 100 labelled requests with probabilities/],
    ['regression: RMSE above the bound fails', { gates: { maxRmse: 2 }, candidate: m({ ...healthy, labelled: 0, correct: 0, scored: 100, squaredError: 900 }) }, 'Failed', /live RMSE 3 above 2/],
    ['regression: RMSE within passes', { gates: { maxRmse: 4 }, candidate: m({ ...healthy, labelled: 0, correct: 0, scored: 100, squaredError: 900 }) }, 'Passed', /live RMSE 3 within 4/],
    ['regression: RMSE with few labels is inconclusive', { gates: { maxRmse: 4 }, candidate: m({ ...healthy, labelled: 0, correct: 0, scored: 10, squaredError: 90 }) }, 'Inconclusive', /10 of 100 labelled/],
    ['regression: RMSE above the stable version\'s by more than allowed fails', { gates: { maxRmseIncrease: 0.5 }, candidate: m({ ...healthy, labelled: 0, scored: 100, squaredError: 900 }), stable: m({ scored: 100, squaredError: 400 }) }, 'Failed', /live RMSE 3 above the stable version's 2 by more than 0.5/],
    ['regression: RMSE increase within passes', { gates: { maxRmseIncrease: 1 }, candidate: m({ ...healthy, labelled: 0, scored: 100, squaredError: 900 }), stable: m({ scored: 100, squaredError: 400 }) }, 'Passed', /within 1 of the stable version's 2/],
    ['regression: an accuracy gate says why it never speaks', { gates: { minAccuracy: 0.9 }, candidate: m({ ...healthy, labelled: 0, correct: 0, scored: 100, squaredError: 1 }) }, 'Inconclusive', /regression values: use maxRmse/],
    ['classification: an RMSE gate says why it never speaks', { gates: { maxRmse: 1 } }, 'Inconclusive', /the labels are classes/],
    ['a failed gate wins over an inconclusive one', { gates: { maxErrorRate: 0.001, minAccuracy: 0.5 }, candidate: m({ ...healthy, labelled: 0, correct: 0 }) }, 'Failed', /^errorRate: error rate/],
    ['no gates still need the minimum traffic', { gates: {}, candidate: m({ requests: 5 }) }, 'Inconclusive', /5 of 100 served requests needed/],
    ['no gates with traffic pass', { gates: {} }, 'Passed', /no gates configured/],
  ];
  for (const [name, over, verdict, message] of table) {
    it(name, () => {
      const v = judge(input(over));
      assert.equal(v.verdict, verdict, v.message);
      assert.match(v.message, message);
    });
  }

  it('records the measured values', () => {
    const v = judge(input({ stable: m({ labelled: 100, correct: 95 }) }));
    assert.deepEqual(v.measurements, { samples: 200, errorRate: 0.005, clientErrors: 0, shed: 0, latencyP99Ms: 8, labelledSamples: 150, accuracy: 0.9, maxDriftPsi: 0.05, stableAccuracy: 0.95 });
  });

  it('records client errors and shed requests apart from the served samples', () => {
    const v = judge(input({ candidate: m({ ...healthy, requests: 260, clientErrors: 40, shed: 20 }) }));
    assert.deepEqual([v.measurements['samples'], v.measurements['errorRate'], v.measurements['clientErrors'], v.measurements['shed']], [200, 0.005, 40, 20]);
  });
});
