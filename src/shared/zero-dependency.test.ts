// src/shared is imported by every program (and mirrored by trainers in other languages): it may import only
// Node built-ins and its own modules, never a package or another layer.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const importPattern = /^\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/gm;

function specifiersOf(file: string): string[] {
  return [...readFileSync(join(here, file), 'utf8').matchAll(importPattern)].map((m) => m[1] ?? '');
}

describe('src/shared imports', () => {
  it('finds the imports it checks (a pattern that stopped matching would pass everything)', () => {
    assert.ok(specifiersOf('trainer-config.ts').includes('./json-contract.js'));
    assert.ok(specifiersOf('prediction-id.ts').some((s) => s.startsWith('node:')));
  });

  for (const file of readdirSync(here).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
    it(`${file} imports only node: built-ins and ./ siblings`, () => {
      for (const s of specifiersOf(file)) assert.ok(s.startsWith('node:') || /^\.\/[^/]+\.js$/.test(s), `${file} imports ${s}`);
    });
  }
});
