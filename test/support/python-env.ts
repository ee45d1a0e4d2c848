// Where the integration tier's Python venvs are (scripts/python-envs.sh builds them from test/python/*-requirements.txt,
// `make test` runs it first): the same path the script computes, from the requirements file's hash.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../localcluster/cluster.js';

/** The venv built from test/python/<name>-requirements.txt; throws with the command to run when it is missing. */
export function venvPath(name: string): string {
  const req = join(repoRoot, 'test', 'python', `${name}-requirements.txt`);
  const hash = createHash('sha256').update(readFileSync(req)).digest('hex').slice(0, 12);
  const dir = join(process.env['PERENNIAL_CACHE'] ?? join(homedir(), '.cache', 'perennial'), 'venvs', `${name}-${hash}`);
  if (!existsSync(join(dir, '.complete'))) throw new Error(`the ${name} venv is missing: run scripts/python-envs.sh ${name} (make test runs it)`);
  return dir;
}

/** The venv's python. */
export function venvPython(name: string): string {
  return join(venvPath(name), 'bin', 'python');
}
