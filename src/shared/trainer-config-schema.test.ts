// Keeps the JSON Schema, its copy in docs/contracts and the parser in step: a config that uses every field
// must be accepted by both, and every field the schema declares must be one the parser knows.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTrainerConfig, trainerConfigApiVersion } from './trainer-config.js';
import { trainerConfigJsonSchema } from './trainer-config-schema.js';

const docsCopy = join(dirname(fileURLToPath(import.meta.url)), '../../docs/contracts/trainer-config.schema.json');

/** Every field, every optional block: the config from docs/contracts/README.md. */
const everything = {
  apiVersion: trainerConfigApiVersion,
  pipeline: { namespace: 'ml', name: 'weather' },
  runId: 'r1', version: 'v7', outputBucket: 'models',
  data: {
    sources: [{ bucket: 'raw', prefix: 'weather/', format: 'csv', delimiter: ';' }],
    where: { column: 'location', in: ['Seattle'] },
    window: { lastRows: 100000, lastDays: 730 },
    replayFraction: 0.1,
    feedback: { bucket: 'logs', predictionsPrefix: 'p/', feedbackPrefix: 'f/', modelVersion: 'v6', maxShare: 0.3, duplicates: 'keep-both' },
    driftReference: { lastRows: 5000, lastDays: 365 },
  },
  schema: {
    features: [{ name: 'temp_max', type: 'numeric' }, { name: 'location', type: 'categorical' }, { name: 'day', type: 'date' }],
    label: 'weather', task: 'classification', classes: ['rain', 'sun'], timestamp: 'date', rowId: 'id',
  },
  validation: {
    minRows: 50, maxMissingRate: 0.2, maxMissingRateByColumn: { temp_max: 0.5 }, ranges: { temp_max: { min: -50, max: 60 } },
    allowedCategories: { location: ['Seattle'] }, unseenCategories: 'error', minClassShare: 0.01, schemaDrift: 'warning', maxSchemaDriftPsi: 2,
    maxLineBytes: 1048576, maxExampleRows: 20,
  },
  model: {
    type: 'mlp', hiddenUnits: [32, 16], activation: 'relu', dropout: 0.1, l2: 0.0001, calibration: 'temperature',
    trees: { count: 100, maxDepth: 6, learningRate: 0.1, minRowsPerLeaf: 20, maxBins: 64, rowSubsample: 0.8, featureSubsample: 0.9, l2: 1, earlyStoppingRounds: 10 },
  },
  search: {
    trials: 4, maxSeconds: 60,
    parameters: [{ name: 'learningRate', min: 0.0001, max: 0.01, scale: 'log' }, { name: 'hiddenUnits', values: ['32', '64,32'] }],
  },
  hyperparameters: { epochs: 50, batchSize: 32, learningRate: 0.001, patience: 5, validationFraction: 0.1 },
  seed: 42, warmStart: 'champion', championVersion: 'v6',
  evaluation: {
    holdout: { from: '2015-01-01' }, metrics: ['accuracy', 'macroF1'], primaryMetric: 'macroF1', sliceColumn: 'location', minSliceRows: 30,
    historicalSlice: { from: '2012-01-01', to: '2013-01-01' }, refit: true,
    gates: { thresholds: { accuracy: 0.7 }, maxDegradationVsChampion: 0.02, maxForgetting: 0.05, maxSliceGap: 0.2, minImprovementOverBaseline: 0.05 },
  },
};

type S = Record<string, unknown>;

/** The few JSON Schema keywords the schema uses; returns the problems found. */
function check(schema: S, value: unknown, path: string, seen: Set<string>): string[] {
  const out: string[] = [];
  seen.add(path.replace(/\[\d+\]/g, '[]'));
  if ('const' in schema && schema['const'] !== value) out.push(`${path}: not ${JSON.stringify(schema['const'])}`);
  if (Array.isArray(schema['enum']) && !schema['enum'].includes(value)) out.push(`${path}: not in enum`);
  const type = schema['type'];
  if (type === 'string' && typeof value !== 'string') out.push(`${path}: not a string`);
  if (type === 'number' && typeof value !== 'number') out.push(`${path}: not a number`);
  if (type === 'integer' && !Number.isInteger(value)) out.push(`${path}: not an integer`);
  if (type === 'array') {
    if (!Array.isArray(value)) return [...out, `${path}: not an array`];
    value.forEach((v, i) => out.push(...check(schema['items'] as S, v, `${path}[${i}]`, seen)));
  }
  if (type === 'object') {
    if (typeof value !== 'object' || value === null) return [...out, `${path}: not an object`];
    const props = (schema['properties'] ?? {}) as Record<string, S>;
    for (const [k, v] of Object.entries(value)) {
      const sub = props[k] ?? (typeof schema['additionalProperties'] === 'object' ? (schema['additionalProperties'] as S) : undefined);
      if (sub === undefined) out.push(`${path}.${k}: not allowed by the schema`);
      else out.push(...check(sub, v, props[k] ? `${path}.${k}` : `${path}.*`, seen));
    }
    for (const r of (schema['required'] ?? []) as string[]) if (!(r in value)) out.push(`${path}.${r}: required`);
  }
  return out;
}

function declaredPaths(schema: S, path: string, out: Set<string>): Set<string> {
  out.add(path);
  if (schema['type'] === 'array' && schema['items']) declaredPaths(schema['items'] as S, `${path}[]`, out);
  for (const [k, v] of Object.entries((schema['properties'] ?? {}) as Record<string, S>)) declaredPaths(v, `${path}.${k}`, out);
  if (typeof schema['additionalProperties'] === 'object') declaredPaths(schema['additionalProperties'] as S, `${path}.*`, out);
  return out;
}

describe('trainer config JSON Schema', () => {
  it('accepts the config that uses every field, as the parser does', () => {
    parseTrainerConfig(JSON.stringify(everything));
    assert.deepEqual(check(trainerConfigJsonSchema, everything, '$', new Set()), []);
  });

  it('declares no field the parser does not know (every declared path is exercised)', () => {
    const seen = new Set<string>();
    check(trainerConfigJsonSchema, everything, '$', seen);
    // The holdout is one of two shapes; the other one is exercised here.
    check(trainerConfigJsonSchema, { ...everything, evaluation: { holdout: { lastFraction: 0.2 } } }, '$', seen);
    // So is the regression-only label range.
    const { classes: _classes, ...schema } = everything.schema;
    const regression = { ...everything, schema: { ...schema, task: 'regression', labelRange: { min: 0, max: 1 } } };
    parseTrainerConfig(JSON.stringify({ ...regression, evaluation: { holdout: { lastFraction: 0.2 } } }));
    check(trainerConfigJsonSchema, regression, '$', seen);
    const declared = [...declaredPaths(trainerConfigJsonSchema, '$', new Set())].filter((p) => !p.includes('.thresholds.') || p.endsWith('.accuracy'));
    assert.deepEqual(declared.filter((p) => !seen.has(p)), []);
  });

  it('rejects what the parser rejects', () => {
    assert.notDeepEqual(check(trainerConfigJsonSchema, { ...everything, extra: 1 }, '$', new Set()), []);
    assert.notDeepEqual(check(trainerConfigJsonSchema, { ...everything, schema: { ...everything.schema, task: 'ranking' } }, '$', new Set()), []);
  });

  it('is published unchanged in docs/contracts', () => {
    assert.deepEqual(JSON.parse(readFileSync(docsCopy, 'utf8')), trainerConfigJsonSchema);
  });
});
