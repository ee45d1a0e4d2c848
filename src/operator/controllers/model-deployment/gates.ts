// The verdict on a candidate from live measurements: a chain of small named gate checks (cert-manager's policy
// chains), each Passed, Failed or Inconclusive. Pure, table-tested.
//
// - A gate needs its own minimum sample count before it may speak: minSamples served requests for error rate and
//   latency (requests the server took on: client errors (4xx) and shed requests (503) are counted and recorded but
//   are no samples, so a client can neither fail a rollout with bad requests nor pass one by flooding it), minSamples
//   rows for drift; minSamples labelled requests for accuracy (on the stable version too, for the relative gate);
//   minSamples compared requests for shadow agreement.
// - A gate with enough data that fails decides the verdict: Failed (the rollout aborts and rolls back).
// - Otherwise any gate short of data makes the whole verdict Inconclusive: the rollout waits (it neither fails
//   nor passes on too little traffic).
// - Only when every configured gate passed is the verdict Passed.
import type { ModelDeploymentSpec, Verdict } from '../../../api/model-deployment.js';
import { servedRequests, type Measurement } from './metrics/provider.js';

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

function accuracyGate(min: number, m: Measurement, minSamples: number): GateResult {
  if (m.labelled < minSamples) return { gate: 'accuracy', verdict: 'Inconclusive', message: `${m.labelled} of ${minSamples} labelled requests needed` };
  const acc = m.correct / m.labelled;
  return acc < min
    ? { gate: 'accuracy', verdict: 'Failed', message: `live accuracy ${fix(acc)} below ${min}` }
    : { gate: 'accuracy', verdict: 'Passed', message: `live accuracy ${fix(acc)} at least ${min}` };
}

function accuracyDropGate(maxDrop: number, m: Measurement, stable: Measurement | undefined, minSamples: number): GateResult {
  if (m.labelled < minSamples) return { gate: 'accuracyDrop', verdict: 'Inconclusive', message: `${m.labelled} of ${minSamples} labelled requests needed` };
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

/**
 * Shadow agreement: 1 − total variation distance between the predicted-class shares of candidate and stable on
 * the same (mirrored) requests. Per-request agreement can be at most this, so a low value is a certain failure.
 */
export function classAgreement(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): number | undefined {
  const na = Object.values(a).reduce((x, y) => x + y, 0);
  const nb = Object.values(b).reduce((x, y) => x + y, 0);
  if (na === 0 || nb === 0) return undefined;
  const classes = new Set([...Object.keys(a), ...Object.keys(b)]);
  let overlap = 0;
  for (const c of classes) overlap += Math.min((a[c] ?? 0) / na, (b[c] ?? 0) / nb);
  return overlap;
}

function agreementGate(min: number, m: Measurement, stable: Measurement | undefined, minSamples: number): GateResult {
  const n = Object.values(m.predictedClasses).reduce((x, y) => x + y, 0);
  const ns = Object.values(stable?.predictedClasses ?? {}).reduce((x, y) => x + y, 0);
  if (n < minSamples || ns < minSamples) {
    return { gate: 'agreement', verdict: 'Inconclusive', message: `${Math.min(n, ns)} of ${minSamples} predictions on each version needed` };
  }
  const agreement = classAgreement(m.predictedClasses, stable?.predictedClasses ?? {}) ?? 0;
  return agreement < min
    ? { gate: 'agreement', verdict: 'Failed', message: `shadow agreement ${pct(agreement)} below ${pct(min)}` }
    : { gate: 'agreement', verdict: 'Passed', message: `shadow agreement ${pct(agreement)} at least ${pct(min)}` };
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
    out['labelledSamples'] = m.labelled;
    if (m.labelled > 0) out['accuracy'] = m.correct / m.labelled;
    const psis = Object.values(m.drift);
    if (psis.length > 0) out['maxDriftPsi'] = Math.max(...psis);
  }
  if (stable) {
    if (stable.labelled > 0) out['stableAccuracy'] = stable.correct / stable.labelled;
    const agreement = m ? classAgreement(m.predictedClasses, stable.predictedClasses) : undefined;
    if (agreement !== undefined) out['agreement'] = agreement;
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
  if (gates.maxDriftPsi !== undefined) results.push(driftGate(gates.maxDriftPsi, m, minSamples));
  if (input.shadow) results.push(agreementGate(input.shadow.minAgreement, m, input.stable, minSamples));
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
