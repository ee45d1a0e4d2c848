// The import rules, enforced: the three programs never import each other, shared code depends on nothing but Node,
// the operator never loads TensorFlow.js, and the pure planning modules of the controllers do no I/O, neither by an
// import nor by a global (fetch, the process, timers, the clock, randomness): only their edges may (observe, the
// reconciler that applies, the wiring, the metric providers). Type-only imports are free: they vanish at build time.
// Each rule first shows it finds what it checks, so a pattern that stops matching fails instead of passing on nothing.
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

const sources = new Map(sourceFiles(src).map((path) => [relative(src, path), readFileSync(path, 'utf8')]));
const all: Import[] = [...sources].flatMap(([file, text]) => importsOf(file, text));

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

/**
 * Controller files allowed to touch the outside world: the edges of observe → plan → apply (observe reads caches and
 * outside systems, the reconciler applies the plan, the wiring builds clients) and the metric providers observe asks.
 */
const controllerEdge = /^operator\/controllers\/([^/]+\/(reconciler|observe|wiring)|model-deployment\/metrics\/(pods|prometheus))\.ts$/;

/**
 * I/O a module can do without importing anything: the network (fetch), the process, timers, the clock, randomness.
 * A plan is a function of what was observed: it gets `nowMs`, never reads the time.
 */
const ambientIo = /\bfetch\s*\(|\bprocess\.(env|argv|exit|stdout|stderr|stdin|cwd|kill)\b|\bset(Timeout|Interval|Immediate)\s*\(|\bDate\.now\s*\(|\bnew Date\(\s*\)|\bMath\.random\s*\(|\bperformance\.now\s*\(|\brandom(Bytes|UUID|Int)\s*\(|\bgetRandomValues\s*\(|\brequire\s*\(|=\s*fetch\b/g;

/** The ambient I/O a file's code does (comments and string contents left out), as "file: what" lines. */
export function ambientIoOf(file: string, text: string): string[] {
  const code = text
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:])\/\/.*$/gm, '$1')
    .replace(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"/g, "''");
  return [...code.matchAll(ambientIo)].map((m) => `${file}: ${m[0].trim()}`);
}

const controllerFiles = [...sources.keys()].filter((f) => f.startsWith('operator/controllers/'));

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

describe('ambientIoOf', () => {
  it('finds fetch, the process, timers, the clock and randomness in code, not in comments or strings', () => {
    const text = [
      "const r = await fetch(url); // fetch( in a comment",
      "const t = Date.now(); const d = new Date(); const ok = new Date(0);",
      "setTimeout(f, 1); const k = randomBytes(8); const e = process.env['X'];",
      "const f: Fetch = fetch;",
      "const s = 'fetch(it) and Date.now()';",
      "/* setInterval(f) */",
    ].join('\n');
    assert.deepEqual(ambientIoOf('x.ts', text).map((l) => l.slice('x.ts: '.length)),
      ['fetch(', 'Date.now(', 'new Date()', 'setTimeout(', 'randomBytes(', 'process.env', '= fetch']);
  });
});

describe('import boundaries', () => {
  it('finds the imports it checks', () => {
    assert.ok(all.length > 50, `only ${all.length} imports found: is the pattern broken?`);
    assert.ok(all.some((i) => i.from === 'operator/operator.ts' && i.target === 'operator/runtime/manager.js'));
    assert.ok(all.some((i) => i.from.startsWith('shared/') && i.spec.startsWith('node:')), 'shared imports of node: modules');
  });

  it('finds the controllers\' edges, and the I/O they do', () => {
    const edges = controllerFiles.filter((f) => controllerEdge.test(f));
    for (const edge of ['training-pipeline/observe.ts', 'training-pipeline/reconciler.ts', 'training-pipeline/wiring.ts',
      'model-deployment/observe.ts', 'model-deployment/reconciler.ts', 'model-deployment/wiring.ts', 'model-deployment/metrics/pods.ts']) {
      assert.ok(edges.includes(`operator/controllers/${edge}`), `${edge} is an edge`);
    }
    assert.ok(edges.length < controllerFiles.length / 3, `${edges.length} of ${controllerFiles.length} controller files are edges`);
    const io = edges.flatMap((f) => ambientIoOf(f, sources.get(f) ?? ''));
    assert.ok(io.some((l) => l.startsWith('operator/controllers/model-deployment/metrics/pods.ts: = fetch')), io.join('\n'));
    assert.ok(io.some((l) => l.startsWith('operator/controllers/model-deployment/reconciler.ts: randomBytes(')), io.join('\n'));
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

  it('the planning modules of the controllers import no I/O (only their edges may)', () => {
    assert.deepEqual(violations((i) => i.from.startsWith('operator/controllers/') && !controllerEdge.test(i.from) && isIo(i)), []);
  });

  it('the planning modules of the controllers do no I/O without an import either: no fetch, process, timers, clock or randomness', () => {
    assert.deepEqual(controllerFiles.filter((f) => !controllerEdge.test(f)).flatMap((f) => ambientIoOf(f, sources.get(f) ?? '')), []);
  });
});
