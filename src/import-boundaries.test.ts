// The import rules of DESIGN.md, enforced: the three programs never import each other, shared code depends on
// nothing but Node, the operator never loads TensorFlow.js, and the pure planning modules of the controllers do
// no I/O (only their observe/apply edges may). Type-only imports are free: they vanish at build time.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const src = dirname(fileURLToPath(import.meta.url));

interface Import {
  readonly from: string; // file, relative to src
  readonly spec: string; // as written
  readonly target: string; // resolved path relative to src for relative imports, else the package/module name
  readonly typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const importPattern = /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

export function importsOf(file: string, text: string): Import[] {
  const out: Import[] = [];
  for (const m of text.matchAll(importPattern)) {
    const spec = m[3] ?? m[4];
    if (!spec) continue;
    const typeOnly = m[2] !== undefined;
    const target = spec.startsWith('.') ? relative(src, resolve(dirname(join(src, file)), spec)) : spec;
    out.push({ from: file, spec, target, typeOnly });
  }
  return out;
}

const all: Import[] = sourceFiles(src).flatMap((path) => importsOf(relative(src, path), readFileSync(path, 'utf8')));

const area = (path: string): string => path.split('/')[0] ?? '';
const isRelative = (i: Import): boolean => i.spec.startsWith('.');

function violations(rule: (i: Import) => boolean): string[] {
  return all.filter((i) => !i.typeOnly && rule(i)).map((i) => `${i.from} imports ${i.spec}`);
}

/** Modules whose import means I/O: the network, the file system, processes, the cluster, the store. */
function isIo(i: Import): boolean {
  if (['node:fs', 'node:fs/promises', 'node:http', 'node:https', 'node:net', 'node:child_process', 'minio', '@kubernetes/client-node'].includes(i.spec)) return true;
  return isRelative(i) && (area(i.target) === 'storage' || /^operator\/runtime\/(kube|kube-http|informer|manager|events|leader-election|health-server)\.js$/.test(i.target));
}

/** Controller files allowed to touch the outside world: the edges of observe → plan → apply. */
const controllerEdge = /^operator\/controllers\/[^/]+\/(reconciler|observe|apply)\.ts$/;

describe('importsOf', () => {
  it('reads static, re-exported, type-only and dynamic imports, resolving relative ones', () => {
    const text = [
      "import { a } from '../trainer/run.js';",
      "import type { B } from './b.js';",
      "export { c } from '../shared/c.js';",
      "import * as tf from '@tensorflow/tfjs';",
      "const m = await import('node:fs');",
      "import {\n  d,\n  e,\n} from 'minio';",
    ].join('\n');
    assert.deepEqual(importsOf('operator/x.ts', text).map((i) => [i.target, i.typeOnly]), [
      ['trainer/run.js', false],
      ['operator/b.js', true],
      ['shared/c.js', false],
      ['@tensorflow/tfjs', false],
      ['node:fs', false],
      ['minio', false],
    ]);
  });
});

describe('import boundaries', () => {
  it('finds the imports it checks', () => {
    assert.ok(all.length > 50, `only ${all.length} imports found: is the pattern broken?`);
    assert.ok(all.some((i) => i.from === 'operator/operator.ts' && i.target === 'operator/runtime/manager.js'));
  });

  const programs = ['operator', 'trainer', 'server'] as const;
  for (const program of programs) {
    it(`${program} imports neither of the other two programs`, () => {
      const others = programs.filter((p) => p !== program);
      assert.deepEqual(violations((i) => area(i.from) === program && isRelative(i) && (others as readonly string[]).includes(area(i.target))), []);
    });
  }

  it('shared imports only node: modules and other shared code', () => {
    assert.deepEqual(violations((i) => area(i.from) === 'shared' && (isRelative(i) ? area(i.target) !== 'shared' : !i.spec.startsWith('node:'))), []);
  });

  it('api imports nothing of the programs, the store or ml', () => {
    assert.deepEqual(violations((i) => area(i.from) === 'api' && isRelative(i) && !['api', 'shared'].includes(area(i.target))), []);
  });

  it('the operator never loads TensorFlow.js (not even through src/ml)', () => {
    assert.deepEqual(violations((i) => area(i.from) === 'operator' && (i.spec.startsWith('@tensorflow/') || (isRelative(i) && area(i.target) === 'ml'))), []);
  });

  it('storage and ml import no program', () => {
    assert.deepEqual(violations((i) => ['storage', 'ml'].includes(area(i.from)) && isRelative(i) && ['operator', 'trainer', 'server'].includes(area(i.target))), []);
  });

  it('the planning modules of the controllers do no I/O (only reconciler/observe/apply may)', () => {
    assert.deepEqual(violations((i) => i.from.startsWith('operator/controllers/') && !controllerEdge.test(i.from) && isIo(i)), []);
  });
});
