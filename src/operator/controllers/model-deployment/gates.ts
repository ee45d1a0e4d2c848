// The verdict on a candidate from live measurements: a chain of small named gate checks (cert-manager's policy
// chains), each Passed, Failed or Inconclusive. Pure, table-tested.
//
// - A gate needs its own minimum sample count before it may speak: minSamples served requests for error rate and
//   latency (requests the server took on: client errors (4xx) and shed requests (503) are counted and recorded but
//   are no samples, so a client can neither fail a rollout with bad requests nor pass one by flooding it), minSamples
//   rows for drift; minSamples labelled requests for accuracy, log loss and RMSE (on the stable version too, for
//   the relative gates); minSamples compared requests for shadow agreement.
// - Labels count for the version whose prediction they label, whichever pod took them; in the shadow phase the
//   candidate's labels are those of the mirrored requests (its pods pair them from the inference log).
// - Shadow agreement is per request: of the mirrored requests paired with the stable version's answer to the same
//   request, the share where both agree (classification: the same class; regression: within the servers'
//   relative tolerance, PERENNIAL_SERVER_SHADOW_TOLERANCE, 1% by default).
// - A gate with enough data that fails decides the verdict: Failed (the rollout aborts and rolls back).
// - Otherwise any gate short of data makes the whole verdict Inconclusive: the rollout waits (it neither fails
//   nor passes on too little traffic).
// - Only when every configured gate passed is the verdict Passed.
import type { ModelDeploymentSpec, Verdict } from '../../../api/model-deployment.js';
import { accuracyOf, logLossOf, rmseOf, servedRequests, type Measurement } from './metrics/provider.js';

/** Every gate optional here: maxErrorRate has a default in the CRD, but the checks work with any subset. */
type Gates = Partial<ModelDeploymentSpec['rollout']['analysis']['gates']>;

export interface GateInput {
  readonly gates: Gates;
  readonly minSamples: number;
  /** Undefined: the provider had no values at all for the candidate. */
  readonly candidate: Measurement | undefined;
  /** The stable version over the same window (relative accuracy, shadow agreement); undefined when unknown. */
  readonly stable: Measurement | undefined;
  /** In the shadow phase the candidate answers mirrored requests: agreement is judged, weight-based gates too. */
  readonly shadow: { readonly minAgreement: number } | undefined;
  /** Why the provider had nothing (NoValuesError message), for the record. */
  readonly noValuesReason?: string;
}

export interface GateResult {
  readonly gate: string;
  readonly verdict: Verdict;
  readonly message: string;
}

export interface AnalysisVerdict {
  readonly verdict: Verdict;
  readonly message: string;
  readonly measurements: Readonly<Record<string, number>>;
  readonly results: readonly GateResult[];
}

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
const fix = (x: number): string => (Math.round(x * 10_000) / 10_000).toString();

/** What was left out of the samples, for messages: ", not counted: 12 client errors, 3 shed". */
function notCounted(m: Measurement): string {
  const parts = [...(m.clientErrors > 0 ? [`${m.clientErrors} client errors (4xx)`] : []), ...(m.shed > 0 ? [`${m.shed} shed (503)`] : [])];
  return parts.length === 0 ? '' : `; not counted: ${parts.join(', ')}`;
}

function errorRateGate(max: number, m: Measurement, minSamples: number): GateResult {
  const served = servedRequests(m);
  if (served < minSamples) return { gate: 'errorRate', verdict: 'Inconclusive', message: `${served} of ${minSamples} served requests needed${notCounted(m)}` };
  const rate = m.errors / served;
  return rate > max
    ? { gate: 'errorRate', verdict: 'Failed', message: `error rate ${pct(rate)} above ${pct(max)} (${m.errors} server errors in ${served} served requests${notCounted(m)})` }
    : { gate: 'errorRate', verdict: 'Passed', message: `error rate ${pct(rate)} within ${pct(max)}` };
}

function latencyGate(maxMs: number, m: Measurement, minSamples: number): GateResult {
  const served = servedRequests(m);
  if (served < minSamples || m.latencyP99Ms === undefined) {
    return { gate: 'latencyP99', verdict: 'Inconclusive', message: `${served} of ${minSamples} served requests needed` };
  }
  return m.latencyP99Ms > maxMs
    ? { gate: 'latencyP99', verdict: 'Failed', message: `p99 ${fix(m.latencyP99Ms)} ms above ${maxMs} ms` }
    : { gate: 'latencyP99', verdict: 'Passed', message: `p99 ${fix(m.latencyP99Ms)} ms within ${maxMs} ms` };
}

/** Why a classification gate has no labels when the labels are regression ones. */
const regressionHint = (m: Measurement): string => (m.labelled === 0 && m.scored > 0 ? ' (the labels are regression values: use maxRmse or maxRmseIncrease)' : '');
const classificationHint = (m: Measurement): string => (m.scored === 0 && m.labelled > 0 ? ' (the labels are classes: use minAccuracy, maxAccuracyDrop or maxLogLoss)' : '');

function accuracyGate(min: number, m: Measurement, minSamples: number): GateResult {
  if (m.labelled < minSamples) return { gate: 'accuracy', verdict: 'Inconclusive', message: `${m.labelled} of ${minSamples} labelled requests needed${regressionHint(m)}` };
  const acc = m.correct / m.labelled;
  return acc < min
    ? { gate: 'accuracy', verdict: 'Failed', message: `live accuracy ${fix(acc)} below ${min}` }
    : { gate: 'accuracy', verdict: 'Passed', message: `live accuracy ${fix(acc)} at least ${min}` };
}

function accuracyDropGate(maxDrop: number, m: Measurement, stable: Measurement | undefined, minSamples: number): GateResult {
  if (m.labelled < minSamples) return { gate: 'accuracyDrop', verdict: 'Inconclusive', message: `${m.labelled} of ${minSamples} labelled requests needed${regressionHint(m)}` };
  if (!stable || stable.labelled < minSamples) {
    return { gate: 'accuracyDrop', verdict: 'Inconclusive', message: `${stable?.labelled ?? 0} of ${minSamples} labelled requests needed on the stable version` };
  }
  const drop = stable.correct / stable.labelled - m.correct / m.labelled;
  return drop > maxDrop
    ? { gate: 'accuracyDrop', verdict: 'Failed', message: `live accuracy ${fix(drop)} below the stable version's, more than ${maxDrop}` }
    : { gate: 'accuracyDrop', verdict: 'Passed', message: `live accuracy within ${maxDrop} of the stable version's` };
}

function driftGate(maxPsi: number, m: Measurement, minSamples: number): GateResult {
  const entries = Object.entries(m.drift);
  if (m.driftRows < minSamples || entries.length === 0) {
    return { gate: 'drift', verdict: 'Inconclusive', message: `${m.driftRows} of ${minSamples} rows needed in the drift window` };
  }
  const [feature, psi] = entries.reduce((a, b) => (b[1] > a[1] ? b : a));
  return psi > maxPsi
    ? { gate: 'drift', verdict: 'Failed', message: `PSI of ${feature} ${fix(psi)} above ${maxPsi}` }
    : { gate: 'drift', verdict: 'Passed', message: `largest PSI ${fix(psi)} (${feature}) within ${maxPsi}` };
}

function logLossGate(max: number, m: Measurement, minSamples: number): GateResult {
  const loss = logLossOf(m);
  if (m.logLossLabels < minSamples || loss === undefined) {
    return { gate: 'logLoss', verdict: 'Inconclusive', message: `${m.logLossLabels} of ${minSamples} labelled requests with probabilities needed${regressionHint(m)}` };
  }
  return loss > max
    ? { gate: 'logLoss', verdict: 'Failed', message: `live log loss ${fix(loss)} above ${max}` }
    : { gate: 'logLoss', verdict: 'Passed', message: `live log loss ${fix(loss)} within ${max}` };
}

function rmseGate(max: number, m: Measurement, minSamples: number): GateResult {
  const rmse = rmseOf(m);
  if (m.scored < minSamples || rmse === undefined) return { gate: 'rmse', verdict: 'Inconclusive', message: `${m.scored} of ${minSamples} labelled requests needed${classificationHint(m)}` };
  return rmse > max
    ? { gate: 'rmse', verdict: 'Failed', message: `live RMSE ${fix(rmse)} above ${max}` }
    : { gate: 'rmse', verdict: 'Passed', message: `live RMSE ${fix(rmse)} within ${max}` };
}

function rmseIncreaseGate(maxIncrease: number, m: Measurement, stable: Measurement | undefined, minSamples: number): GateResult {
  const rmse = rmseOf(m);
  if (m.scored < minSamples || rmse === undefined) return { gate: 'rmseIncrease', verdict: 'Inconclusive', message: `${m.scored} of ${minSamples} labelled requests needed${classificationHint(m)}` };
  const base = stable === undefined ? undefined : rmseOf(stable);
  if (!stable || stable.scored < minSamples || base === undefined) {
    return { gate: 'rmseIncrease', verdict: 'Inconclusive', message: `${stable?.scored ?? 0} of ${minSamples} labelled requests needed on the stable version` };
  }
  return rmse - base > maxIncrease
    ? { gate: 'rmseIncrease', verdict: 'Failed', message: `live RMSE ${fix(rmse)} above the stable version's ${fix(base)} by more than ${maxIncrease}` }
    : { gate: 'rmseIncrease', verdict: 'Passed', message: `live RMSE ${fix(rmse)} within ${maxIncrease} of the stable version's ${fix(base)}` };
}

/** Per-request shadow agreement: the share of paired mirrored requests where candidate and stable agree. */
export function agreementOf(m: Measurement): number | undefined {
  return m.compared > 0 ? m.agreed / m.compared : undefined;
}

function agreementGate(min: number, m: Measurement, minSamples: number): GateResult {
  const agreement = agreementOf(m);
  if (m.compared < minSamples || agreement === undefined) {
    return { gate: 'agreement', verdict: 'Inconclusive', message: `${m.compared} of ${minSamples} mirrored requests compared with the stable version's answers` };
  }
  return agreement < min
    ? { gate: 'agreement', verdict: 'Failed', message: `shadow agreement ${pct(agreement)} below ${pct(min)} (${m.agreed} of ${m.compared} requests)` }
    : { gate: 'agreement', verdict: 'Passed', message: `shadow agreement ${pct(agreement)} at least ${pct(min)} (${m.agreed} of ${m.compared} requests)` };
}

export function measurementsOf(m: Measurement | undefined, stable: Measurement | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (m) {
    const served = servedRequests(m);
    out['samples'] = served;
    if (served > 0) out['errorRate'] = m.errors / served;
    out['clientErrors'] = m.clientErrors;
    out['shed'] = m.shed;
    if (m.latencyP99Ms !== undefined) out['latencyP99Ms'] = m.latencyP99Ms;
    out['labelledSamples'] = m.labelled + m.scored;
    const quality = { accuracy: accuracyOf(m), logLoss: logLossOf(m), rmse: rmseOf(m), agreement: agreementOf(m) };
    for (const [k, v] of Object.entries(quality)) if (v !== undefined) out[k] = v;
    if (m.compared > 0) out['compared'] = m.compared;
    const psis = Object.values(m.drift);
    if (psis.length > 0) out['maxDriftPsi'] = Math.max(...psis);
  }
  if (stable) {
    const quality = { stableAccuracy: accuracyOf(stable), stableLogLoss: logLossOf(stable), stableRmse: rmseOf(stable) };
    for (const [k, v] of Object.entries(quality)) if (v !== undefined) out[k] = v;
  }
  return out;
}

export function judge(input: GateInput): AnalysisVerdict {
  const { gates, minSamples, candidate: m } = input;
  if (!m) {
    const message = `no measurements of the candidate${input.noValuesReason ? `: ${input.noValuesReason}` : ''}`;
    return { verdict: 'Inconclusive', message, measurements: {}, results: [{ gate: 'samples', verdict: 'Inconclusive', message }] };
  }
  const results: GateResult[] = [];
  if (gates.maxErrorRate !== undefined) results.push(errorRateGate(gates.maxErrorRate, m, minSamples));
  if (gates.maxLatencyP99Ms !== undefined) results.push(latencyGate(gates.maxLatencyP99Ms, m, minSamples));
  if (gates.minAccuracy !== undefined) results.push(accuracyGate(gates.minAccuracy, m, minSamples));
  if (gates.maxAccuracyDrop !== undefined) results.push(accuracyDropGate(gates.maxAccuracyDrop, m, input.stable, minSamples));
  if (gates.maxLogLoss !== undefined) results.push(logLossGate(gates.maxLogLoss, m, minSamples));
  if (gates.maxRmse !== undefined) results.push(rmseGate(gates.maxRmse, m, minSamples));
  if (gates.maxRmseIncrease !== undefined) results.push(rmseIncreaseGate(gates.maxRmseIncrease, m, input.stable, minSamples));
  if (gates.maxDriftPsi !== undefined) results.push(driftGate(gates.maxDriftPsi, m, minSamples));
  if (input.shadow) results.push(agreementGate(input.shadow.minAgreement, m, minSamples));
  // Whatever the gates, a verdict needs the minimum traffic.
  if (results.length === 0 && servedRequests(m) < minSamples) {
    results.push({ gate: 'samples', verdict: 'Inconclusive', message: `${servedRequests(m)} of ${minSamples} served requests needed` });
  }
  const failed = results.filter((r) => r.verdict === 'Failed');
  const inconclusive = results.filter((r) => r.verdict === 'Inconclusive');
  const verdict: Verdict = failed.length > 0 ? 'Failed' : inconclusive.length > 0 ? 'Inconclusive' : 'Passed';
  const deciding = failed.length > 0 ? failed : inconclusive.length > 0 ? inconclusive : results;
  const message = deciding.length === 0 ? 'no gates configured' : deciding.map((r) => `${r.gate}: ${r.message}`).join('; ');
  return { verdict, message, measurements: measurementsOf(m, input.stable), results };
}
