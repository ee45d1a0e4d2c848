// Packs kubectl-perennial as an npm package of its own: the launcher (bin/kubectl-perennial.js) and the one-file
// bundle of src/cli, which holds every dependency, so the package has none and `npm install -g` of it needs no
// registry. The project's own package.json cannot be packed for this: it is private and would pull the operator's,
// trainer's and server's dependencies (TensorFlow.js among them) into a kubectl plugin.
// Usage: node scripts/pack-kubectl-perennial.mjs [OUT_DIR]   (default .cache/pack) → prints the tarball's path
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const outDir = resolve(process.argv[2] ?? join(root, '.cache', 'pack'));
const stage = join(outDir, 'kubectl-perennial');
rmSync(stage, { recursive: true, force: true });
mkdirSync(join(stage, 'bin'), { recursive: true });

// The bundle, built into the stage (BUNDLE_OUT_DIR is relative to the repository).
const relStage = join(stage, 'dist').slice(root.length + 1);
if (!resolve(root, relStage).startsWith(root)) throw new Error(`${outDir} must be inside the repository`);
execFileSync(process.execPath, [join(root, 'scripts', 'bundle.mjs'), 'kubectl-perennial'], { cwd: root, env: { ...process.env, BUNDLE_OUT_DIR: relStage }, stdio: 'inherit' });
copyFileSync(join(root, 'bin', 'kubectl-perennial.js'), join(stage, 'bin', 'kubectl-perennial.js'));
chmodSync(join(stage, 'bin', 'kubectl-perennial.js'), 0o755);

const project = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const manifest = {
  name: 'kubectl-perennial',
  version: project.version,
  description: 'kubectl perennial: the kubectl plugin of Perennial, the operator that keeps machine-learning models fresh.',
  license: project.license,
  type: 'module',
  engines: project.engines,
  bin: { 'kubectl-perennial': 'bin/kubectl-perennial.js' },
  files: ['bin/', 'dist/'],
};
writeFileSync(join(stage, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
const out = execFileSync('npm', ['pack', '--json', '--pack-destination', outDir], { cwd: stage, encoding: 'utf8' });
const [{ filename }] = JSON.parse(out);
console.log(join(outDir, filename));
