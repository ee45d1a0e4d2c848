// Reading a saved tree ensemble (model.json + weights.bin, written by TreeEnsemble.toSaved) with every check that
// makes prediction safe: the arrays have the lengths model.json states and the file holds exactly them, every split
// names an input the model has and children that come after it inside its own tree (so a walk always ends at a
// leaf), and every number is finite. The first problem found is the error's reason.
import type { SavedModel } from '../tabular-model.js';
import {
  InvalidTreeModelError, leafWidthOf, rawOutputs, treesFormat, treesFormatVersion, type TreeEnsembleParts, type TreeTask,
} from './format.js';
import type { TreeNodes } from './nodes.js';
import type { ResolvedTreeSettings, TreeFamily } from './settings.js';

const settingNames: readonly (keyof ResolvedTreeSettings)[] = [
  'count', 'maxDepth', 'learningRate', 'minRowsPerLeaf', 'maxBins', 'rowSubsample', 'featureSubsample', 'l2', 'earlyStoppingRounds',
];
const arrayNames = ['roots', 'treeOutput', 'feature', 'threshold', 'left', 'right', 'values'] as const;
const floatArrays: ReadonlySet<string> = new Set(['threshold', 'values']);

function fail(reason: string): never {
  throw new InvalidTreeModelError(reason);
}

function int(json: Record<string, unknown>, key: string, min: number): number {
  const v = json[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(`model.json: ${key} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return v;
}

function oneOf<T extends string>(json: Record<string, unknown>, key: string, values: readonly T[]): T {
  const v = json[key];
  const found = values.find((x) => x === v);
  if (found === undefined) fail(`model.json: ${key} must be one of ${values.join(', ')}, got ${JSON.stringify(v)}`);
  return found;
}

function settingsOf(v: unknown): ResolvedTreeSettings {
  if (typeof v !== 'object' || v === null) fail('model.json: settings must be an object');
  const s = v as Record<string, unknown>;
  const out: Record<string, number> = {};
  for (const name of settingNames) {
    const x = s[name];
    if (typeof x !== 'number' || !Number.isFinite(x)) fail(`model.json: settings.${name} must be a finite number`);
    out[name] = x;
  }
  return out as unknown as ResolvedTreeSettings;
}

function parseJson(text: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e: unknown) {
    fail(`model.json is not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('model.json is not a JSON object');
  return json as Record<string, unknown>;
}

/** The header fields of model.json, checked. */
function readHeader(json: Record<string, unknown>): Omit<TreeEnsembleParts, 'roots' | 'treeOutput' | 'nodes'> & { trees: number; nodes: number; leafWidth: number } {
  if (json['format'] !== treesFormat) fail(`model.json: format must be "${treesFormat}", got ${JSON.stringify(json['format'])}`);
  if (json['formatVersion'] !== treesFormatVersion) fail(`model.json: formatVersion ${JSON.stringify(json['formatVersion'])} is not one this server reads (${treesFormatVersion})`);
  const family = oneOf<TreeFamily>(json, 'family', ['gradient-boosting', 'random-forest']);
  const task = oneOf<TreeTask>(json, 'task', ['classification', 'regression']);
  const outputs = int(json, 'outputs', 1);
  if (task === 'regression' ? outputs !== 1 : outputs < 2) fail(`model.json: outputs ${outputs} does not fit a ${task}`);
  const inputWidth = int(json, 'inputWidth', 1);
  const trees = int(json, 'trees', 1);
  const nodes = int(json, 'nodes', trees);
  const leafWidth = int(json, 'leafWidth', 1);
  if (leafWidth !== leafWidthOf(family, task, outputs)) fail(`model.json: leafWidth ${leafWidth} does not fit a ${family} ${task} of ${outputs} outputs`);
  const base = json['baseScore'];
  const raw = family === 'gradient-boosting' ? rawOutputs(family, task, outputs) : 0;
  if (!Array.isArray(base) || base.length !== raw || !base.every((b) => typeof b === 'number' && Number.isFinite(b))) {
    fail(`model.json: baseScore must be ${raw} finite numbers`);
  }
  return { family, task, outputs, inputWidth, settings: settingsOf(json['settings']), baseScore: base as number[], trees, nodes, leafWidth };
}

/** weights.bin cut into the arrays model.json lists, after checking the list and the file's size. */
function readArrays(json: Record<string, unknown>, weights: Buffer, expected: Readonly<Record<(typeof arrayNames)[number], number>>): Record<string, Int32Array | Float32Array> {
  const listed = json['weights'];
  if (!Array.isArray(listed) || listed.length !== arrayNames.length) fail(`model.json: weights must list the ${arrayNames.length} arrays ${arrayNames.join(', ')}`);
  const bytes = arrayNames.reduce((s, name) => s + expected[name] * 4, 0);
  if (weights.length !== bytes) fail(`weights.bin has ${weights.length} bytes, model.json's arrays need ${bytes}${weights.length < bytes ? ' (truncated)' : ''}`);
  const out: Record<string, Int32Array | Float32Array> = {};
  let at = 0;
  arrayNames.forEach((name, i) => {
    const entry = listed[i] as { name?: unknown; length?: unknown } | null;
    if (entry?.name !== name || entry.length !== expected[name]) fail(`model.json: weights[${i}] must be ${name} of length ${expected[name]}, got ${JSON.stringify(entry)}`);
    const n = expected[name];
    const a = floatArrays.has(name) ? new Float32Array(n) : new Int32Array(n);
    for (let k = 0; k < n; k++, at += 4) a[k] = a instanceof Float32Array ? weights.readFloatLE(at) : weights.readInt32LE(at);
    out[name] = a;
  });
  return out;
}

/** Every tree's nodes: splits name an input and children after them in the same tree; numbers are finite. */
function checkTrees(roots: Int32Array, treeOutput: Int32Array, nodes: TreeNodes, inputWidth: number, raw: number): void {
  const count = nodes.feature.length;
  for (let t = 0; t < roots.length; t++) {
    const start = roots[t] ?? 0;
    const end = t + 1 < roots.length ? roots[t + 1] ?? 0 : count;
    if ((t === 0 && start !== 0) || end <= start || end > count) fail(`roots: tree ${t} spans nodes ${start}..${end} of ${count}`);
    const o = treeOutput[t] ?? -1;
    if (o < 0 || o >= Math.max(1, raw)) fail(`treeOutput: tree ${t} adds to output ${o} of ${Math.max(1, raw)}`);
    for (let n = start; n < end; n++) {
      const f = nodes.feature[n] ?? -1;
      if (f === -1) {
        for (let k = 0; k < nodes.leafWidth; k++) if (!Number.isFinite(nodes.values[n * nodes.leafWidth + k] ?? NaN)) fail(`values: node ${n} has a value that is not finite`);
        continue;
      }
      if (f < 0 || f >= inputWidth) fail(`feature: node ${n} splits on input ${f} of ${inputWidth}`);
      if (!Number.isFinite(nodes.threshold[n] ?? NaN)) fail(`threshold: node ${n} is not finite`);
      const l = nodes.left[n] ?? -1;
      const r = nodes.right[n] ?? -1;
      if (l <= n || l >= end || r <= n || r >= end) fail(`node ${n}: children ${l}, ${r} are not after it in tree ${t} (nodes ${start}..${end - 1})`);
    }
  }
}

export function readSaved(saved: SavedModel): TreeEnsembleParts {
  const json = parseJson(saved.modelJson);
  const h = readHeader(json);
  const a = readArrays(json, saved.weights, {
    roots: h.trees, treeOutput: h.trees, feature: h.nodes, threshold: h.nodes, left: h.nodes, right: h.nodes, values: h.nodes * h.leafWidth,
  });
  const nodes: TreeNodes = {
    leafWidth: h.leafWidth, feature: a['feature'] as Int32Array, threshold: a['threshold'] as Float32Array,
    left: a['left'] as Int32Array, right: a['right'] as Int32Array, values: a['values'] as Float32Array,
  };
  const roots = a['roots'] as Int32Array;
  const treeOutput = a['treeOutput'] as Int32Array;
  checkTrees(roots, treeOutput, nodes, h.inputWidth, h.baseScore.length);
  return { family: h.family, task: h.task, outputs: h.outputs, inputWidth: h.inputWidth, settings: h.settings, baseScore: h.baseScore, roots, treeOutput, nodes };
}
