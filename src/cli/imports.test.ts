// The plugin is a client of the API: it may import src/api and src/shared (and the Kubernetes client), never the
// operator, trainer or server (DESIGN.md's import rules; src/import-boundaries.test.ts covers the programs).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const here = dirname(fileURLToPath(import.meta.url));
const allowed = (spec: string): boolean =>
  spec.startsWith('./') || spec.startsWith('../api/') || spec.startsWith('../shared/') || spec.startsWith('node:') || spec === '@kubernetes/client-node';

describe('src/cli imports', () => {
  for (const file of readdirSync(here).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
    it(`${file} imports only api, shared and the Kubernetes client`, () => {
      const specs = [...readFileSync(join(here, file), 'utf8').matchAll(/^import [^;]*? from '([^']+)'/gm)].map((m) => m[1] ?? '');
      assert.deepEqual(specs.filter((s) => !allowed(s)), []);
    });
  }
});
