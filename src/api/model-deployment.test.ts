// spec.server.workers as the CRD declares it: what the API server takes and refuses at admission (the same schema,
// checked here with a JSON Schema validator; test/integration/crds.test.ts sends the refusals to a real API server
// for its messages), and the description `kubectl explain` shows.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Ajv2020 from 'ajv/dist/2020.js';
import { mdServerMaxWorkers, modelDeploymentSpecSchema } from './model-deployment.js';
import type { JsonSchema } from './schema.js';

const server = modelDeploymentSpecSchema.json.properties?.['server'];
const workers = server?.properties?.['workers'] as JsonSchema;

describe('spec.server.workers', () => {
  it('is an integer from 1 to 64, default 1, optional', () => {
    assert.deepEqual({ type: workers.type, minimum: workers.minimum, maximum: workers.maximum, default: workers.default },
      { type: 'integer', minimum: 1, maximum: 64, default: 1 });
    assert.equal(mdServerMaxWorkers, 64);
    assert.ok(!(server?.required ?? []).includes('workers'));
  });

  it('says what it does and what it costs', () => {
    for (const words of ['Serving processes per pod', 'its own copy of the model', 'CPU limit', 'Memory grows by about one model per worker']) {
      assert.ok(workers.description?.includes(words), `the description lacks "${words}"`);
    }
  });

  const validate = new Ajv2020.default({ strict: false }).compile(workers);
  const table: Array<[string, unknown, boolean]> = [
    ['1', 1, true],
    ['2', 2, true],
    ['64, the most', 64, true],
    ['0', 0, false],
    ['-1', -1, false],
    ['1.5 (not an integer)', 1.5, false],
    ['65', 65, false],
    ['"4" (a string)', '4', false],
  ];
  for (const [name, value, ok] of table) {
    it(`${ok ? 'takes' : 'refuses'} ${name}`, () => assert.equal(validate(value), ok, JSON.stringify(validate.errors)));
  }
});
