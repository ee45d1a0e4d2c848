// Whether a label may be given to a model's prediction: the one rule both the server (feedback, refused with 422)
// and the trainer (fed-back rows it drops) apply, so a label that could never train the model never reaches it.
//   classification: one of the model's classes. New classes enter only through uploaded data, never feedback.
//   regression: a finite number (or numeric text), inside the declared range when the pipeline declares one.
import type { LabelSpec } from './preprocessing.js';

/** Longest class name accepted in feedback (a class the model knows is never longer). */
const maxLabelChars = 256;

export type LabelCheck =
  | { readonly ok: true; readonly value: string | number }
  | { readonly ok: false; readonly reason: string };

function show(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

export function checkLabel(spec: LabelSpec, v: unknown): LabelCheck {
  if (spec.task === 'classification') {
    const text = typeof v === 'string' ? v.trim() : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined;
    if (text === undefined || text === '') return { ok: false, reason: `label must be a class name (one of ${spec.classes.join(', ')}), got ${show(v)}` };
    if (text.length > maxLabelChars || !spec.classes.includes(text)) {
      return { ok: false, reason: `label ${show(v)} is not a class of the model (${spec.classes.join(', ')})` };
    }
    return { ok: true, value: text };
  }
  const y = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' && v.length <= 64 ? Number(v) : NaN;
  if (!Number.isFinite(y)) return { ok: false, reason: `label must be a finite number, got ${show(v)}` };
  if ((spec.min !== undefined && y < spec.min) || (spec.max !== undefined && y > spec.max)) {
    return { ok: false, reason: `label ${y} is outside the declared range [${spec.min ?? '-∞'}, ${spec.max ?? '∞'}]` };
  }
  return { ok: true, value: y };
}
