// src/shared is imported by every program (and mirrored by trainers in other languages): it may import only
// Node built-ins and its own modules, never a package or another layer.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

describe('src/shared imports', () => {
  for (const file of readdirSync(here).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
    it(`${file} imports only node: built-ins and ./ siblings`, () => {
      const text = readFileSync(join(here, file), 'utf8');
      const specifiers = [...text.matchAll(/^\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1] ?? '');
      for (const s of specifiers) assert.ok(s.startsWith('node:') || /^\.\/[^/]+\.js$/.test(s), `${file} imports ${s}`);
    });
  }
});
