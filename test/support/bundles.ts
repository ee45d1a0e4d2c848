// The programs' bundles (scripts/bundle.mjs: what the images run), built for tests, the demo and the benchmarks.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../localcluster/cluster.js';

/**
 * Builds the named programs into `dist/`, or into `outDir` (relative to the repository) when a run must not have its
 * bundles swapped by another run rebuilding `dist/` meanwhile. Returns the path of each program's main.js.
 */
export function buildBundles<P extends string>(programs: readonly P[], outDir?: string): Record<P, string> {
  execFileSync(process.execPath, [join(repoRoot, 'scripts', 'bundle.mjs'), ...programs], {
    cwd: repoRoot, env: outDir === undefined ? process.env : { ...process.env, BUNDLE_OUT_DIR: outDir }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  const root = join(repoRoot, outDir ?? 'dist');
  return Object.fromEntries(programs.map((p) => [p, join(root, p, 'main.js')])) as Record<P, string>;
}
