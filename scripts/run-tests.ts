// Runs a tier of tests with Node's built-in runner (TypeScript through tsx).
//   unit         **/*.test.ts under src, localcluster, scripts, argocd and bench: no servers
//   integration  test/integration/**/*.test.ts: against one local cluster shared by the whole run
//   e2e          test/e2e/**/*.test.ts: each test brings its own cluster; one file at a time
//   all          the three in order
// Extra arguments are file filters (substrings of the path), e.g. `npm run test:integration -- localcluster`;
// PERENNIAL_TEST_NAME=<regexp> runs only the tests whose names match (node --test-name-pattern).
import { spawn } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { LocalCluster, repoRoot } from '../localcluster/cluster.js';
import { clusterInfoEnv } from '../localcluster/test-cluster.js';

type Tier = 'unit' | 'integration' | 'e2e';
const tiers: Record<Tier, readonly string[]> = {
  unit: ['src', 'localcluster', 'scripts', 'argocd', 'bench'],
  integration: ['test/integration'],
  e2e: ['test/e2e'],
};

function findTests(dirs: readonly string[], filters: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (name === 'node_modules' || name.startsWith('.')) continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.test.ts')) out.push(relative(repoRoot, path));
    }
  };
  for (const d of dirs) walk(join(repoRoot, d));
  return out.sort().filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
}

function runNodeTest(files: readonly string[], env: NodeJS.ProcessEnv, sequential = false): Promise<number> {
  return new Promise((resolve) => {
    const only = process.env['PERENNIAL_TEST_NAME'];
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...(sequential ? ['--test-concurrency=1'] : []),
      ...(only ? [`--test-name-pattern=${only}`] : []), ...files], {
      cwd: repoRoot,
      env,
      stdio: 'inherit',
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function runTier(tier: Tier, filters: readonly string[]): Promise<number> {
  const files = findTests(tiers[tier], filters);
  if (files.length === 0) {
    console.log(`${tier}: no test files`);
    return 0;
  }
  console.log(`\n=== ${tier} tests (${files.length} files)`);
  // Each e2e file runs a whole loop (cluster, node, trainer and server pods): one at a time, or they starve
  // each other of CPU (node --test runs files concurrently on a machine with more than 2 cores).
  if (tier !== 'integration') return runNodeTest(files, process.env, tier === 'e2e');
  const started = Date.now();
  const cluster = await LocalCluster.start({ name: 'integration' });
  console.log(`local cluster ready in ${((Date.now() - started) / 1000).toFixed(1)} s; logs in ${cluster.logDir}`);
  const infoFile = join(cluster.logDir, 'cluster-info.json');
  writeFileSync(infoFile, JSON.stringify(cluster.info), { mode: 0o600 });
  try {
    const code = await runNodeTest(files, { ...process.env, [clusterInfoEnv]: infoFile });
    if (code !== 0) console.log(`\nintegration tests failed; component logs: ${cluster.logDir}`);
    return code;
  } finally {
    await cluster.stop();
  }
}

const [which = 'all', ...filters] = process.argv.slice(2);
const order: Tier[] = which === 'all' ? ['unit', 'integration', 'e2e'] : [which as Tier];
if (!order.every((t) => t in tiers)) {
  console.error(`usage: run-tests.ts [unit|integration|e2e|all] [file filters...]`);
  process.exit(2);
}
let failed = 0;
for (const tier of order) {
  if ((await runTier(tier, filters)) !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
