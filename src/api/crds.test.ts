import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crds } from './crds.js';
import { renderCrdYaml } from './crd-yaml.js';
import { undescribedFields, type JsonSchema } from './schema.js';
import { cronPattern } from './training-pipeline.js';

const root = join(fileURLToPath(import.meta.url), '..', '..', '..');

describe('CRDs', () => {
  for (const [file, crd] of Object.entries(crds)) {
    it(`crds/${file} is what src/api generates (run npm run gen:crds after changing src/api)`, () => {
      assert.equal(readFileSync(join(root, 'crds', file), 'utf8'), renderCrdYaml(crd));
    });

    it(`${file}: every field has a description, so kubectl explain teaches the API`, () => {
      const versions = (crd['spec'] as { versions: Array<{ schema: { openAPIV3Schema: JsonSchema } }> }).versions;
      // metadata is the standard ObjectMeta, which kubectl explain describes itself.
      for (const v of versions) assert.deepEqual(undescribedFields(v.schema.openAPIV3Schema).filter((p) => p !== '.metadata'), []);
    });
  }
});

describe('cron pattern', () => {
  const re = new RegExp(cronPattern);
  const table: Array<[string, boolean]> = [
    ['0 3 * * *', true],
    ['*/15 * * * *', true],
    ['0 0 1,15 * MON-FRI', true],
    ['30 2 * JAN,JUL SUN', true],
    ['0 12 ? * 7', true],
    ['5-10/2 0-23 1-31 1-12 0-7', true],
    ['@daily', true],
    ['@hourly', true],
    ['every monday', false],
    ['61 3 * * *', false],
    ['0 24 * * *', false],
    ['0 0 32 * *', false],
    ['0 0 * 13 *', false],
    ['0 0 * * 8', false],
    ['0 0 3 * * *', false],
    ['0 3 * *', false],
    ['@fortnightly', false],
    ['', false],
  ];
  for (const [expr, ok] of table) {
    it(`${ok ? 'accepts' : 'rejects'} "${expr}"`, () => assert.equal(re.test(expr), ok));
  }
});
