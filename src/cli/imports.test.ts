// The plugin is a client of the API: it may import src/api and src/shared (and the Kubernetes client, js-yaml for
// -o yaml, and Node's built-ins), never the operator, trainer or server (src/import-boundaries.test.ts holds the same rules for the
// programs).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const here = dirname(fileURLToPath(import.meta.url));
const allowed = (spec: string): boolean =>
  spec.startsWith('./') || spec.startsWith('../api/') || spec.startsWith('../shared/') || spec.startsWith('node:') || spec === '@kubernetes/client-node' || spec === 'js-yaml';

const importsOf = (file: string): string[] => [...readFileSync(join(here, file), 'utf8').matchAll(/^import [^;]*? from '([^']+)'/gm)].map((m) => m[1] ?? '');

describe('src/cli imports', () => {
  it('finds the imports it checks (a pattern that stopped matching would pass everything)', () => {
    assert.ok(importsOf('main.ts').includes('./args.js'));
    assert.ok(importsOf('main.ts').includes('@kubernetes/client-node'));
  });

  for (const file of readdirSync(here).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
    it(`${file} imports only api, shared and the Kubernetes client`, () => {
      assert.deepEqual(importsOf(file).filter((s) => !allowed(s)), []);
    });
  }
});
