// The outputs a model answers over OIP, which of them a request asks for, and their tensors. Pure.
//   classification model: label (BYTES [n]), probabilities (FP32 [n, classes], in the order of the metadata's
//     `classes` parameter), classification (BYTES [n, k]: Triton's top-k "score:index:label" strings, k from the
//     output's `classification` parameter, 1 when absent), prediction_id (BYTES [n]).
//   regression model: value (FP64 [n]), prediction_id.
// No `outputs` in the request: every output but classification. Triton's `classification` parameter on
// probabilities turns that output into the top-k strings too; k past the number of classes is taken as all of them
// (as Triton does). Output parameters understood: classification, and binary_data (the REST transport's); any other
// is refused, as is an output name the model does not have.
import type { LabelSpec } from '../../shared/preprocessing.js';
import type { Prediction } from '../model.js';
import { BadRequestError, shown } from '../requests.js';
import { tensorAt } from './inputs.js';
import type { OipParameter, OipRequestedOutput, OipTensor, OipTensorMetadata } from './types.js';

/** Output parameters the server understands (binary_data is read by the REST transport). */
export const outputParameters: readonly string[] = ['binary_data', 'classification'];

export function outputsMetadata(label: LabelSpec): OipTensorMetadata[] {
  return [
    ...(label.task === 'classification'
      ? [
        { name: 'label', datatype: 'BYTES', shape: [-1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, label.classes.length] },
        { name: 'classification', datatype: 'BYTES', shape: [-1, -1] },
      ] as const
      : [{ name: 'value', datatype: 'FP64', shape: [-1] }] as const),
    { name: 'prediction_id', datatype: 'BYTES', shape: [-1] },
  ];
}

/** One output to answer: its name and, for the top-k form, k. */
export interface OutputPlan {
  readonly name: string;
  readonly topK: number | undefined;
}

function topKOf(p: OipParameter | undefined, at: string, classes: number): number | undefined {
  if (p === undefined) return undefined;
  if (typeof p !== 'number' || !Number.isSafeInteger(p) || p < 0) throw new BadRequestError(`${at}: parameter "classification" must be a non-negative integer (the top k classes), got ${JSON.stringify(p)}`);
  // Triton: 0 means no classification; past the class count, every class.
  return p === 0 ? undefined : Math.min(p, classes);
}

/** Which outputs to answer, checked before the model is called (a refused request predicts nothing). */
export function planOutputs(requested: readonly OipRequestedOutput[] | undefined, label: LabelSpec): OutputPlan[] {
  const names = outputsMetadata(label).map((o) => o.name);
  if (requested === undefined || requested.length === 0) return names.filter((n) => n !== 'classification').map((name) => ({ name, topK: undefined }));
  const classes = label.task === 'classification' ? label.classes.length : 0;
  const seen = new Set<string>();
  return requested.map((o, i): OutputPlan => {
    const at = tensorAt(i, o.name, 'outputs');
    if (!names.includes(o.name)) throw new BadRequestError(`outputs[${i}]: unknown output ${shown(o.name)} (outputs: ${names.join(', ')})`);
    if (seen.has(o.name)) throw new BadRequestError(`${at}: asked for twice`);
    seen.add(o.name);
    const params = o.parameters ?? {};
    for (const key of Object.keys(params)) {
      if (!outputParameters.includes(key)) throw new BadRequestError(`${at}: parameter ${shown(key)} is not understood (output parameters: ${outputParameters.join(', ')})`);
    }
    const k = topKOf(params['classification'], at, classes);
    if (k !== undefined && o.name !== 'probabilities' && o.name !== 'classification') throw new BadRequestError(`${at}: parameter "classification" applies to probabilities or classification only`);
    return { name: o.name, topK: o.name === 'classification' ? (k ?? 1) : k };
  });
}

/** Triton's classification strings of one row: the top k "score:index:label", highest first (ties by index). */
export function topClasses(probabilities: readonly number[], classes: readonly string[], k: number): string[] {
  return probabilities
    .map((p, i) => ({ p, i }))
    .sort((a, b) => b.p - a.p || a.i - b.i)
    .slice(0, k)
    .map(({ p, i }) => `${p}:${i}:${classes[i] ?? ''}`);
}

/** The planned outputs' tensors for n predictions and their signed ids. */
export function outputTensors(plan: readonly OutputPlan[], predictions: readonly Prediction[], ids: readonly string[], label: LabelSpec): OipTensor[] {
  const n = predictions.length;
  const classes = label.task === 'classification' ? label.classes : [];
  const probs = (p: Prediction): readonly number[] => ('label' in p ? p.probabilities : []);
  return plan.map(({ name, topK }): OipTensor => {
    if (topK !== undefined) return { name, datatype: 'BYTES', shape: [n, topK], data: predictions.flatMap((p) => topClasses(probs(p), classes, topK)) };
    switch (name) {
      case 'label':
        return { name, datatype: 'BYTES', shape: [n], data: predictions.map((p) => ('label' in p ? p.label : '')) };
      case 'probabilities':
        return { name, datatype: 'FP32', shape: [n, classes.length], data: predictions.flatMap(probs) };
      case 'value':
        return { name, datatype: 'FP64', shape: [n], data: predictions.map((p) => ('value' in p ? p.value : 0)) };
      default:
        return { name, datatype: 'BYTES', shape: [n], data: [...ids] };
    }
  });
}
