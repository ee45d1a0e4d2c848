// Writes crds/*.yaml from the schemas in src/api (the one source of truth). `--check` only compares.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crds } from '../src/api/crds.js';
import { renderCrdYaml } from '../src/api/crd-yaml.js';
import { repoRoot } from '../localcluster/cluster.js';

const check = process.argv.includes('--check');
const dir = join(repoRoot, 'crds');
mkdirSync(dir, { recursive: true });
let stale = 0;
for (const [file, crd] of Object.entries(crds)) {
  const path = join(dir, file);
  const want = renderCrdYaml(crd);
  let have = '';
  try {
    have = readFileSync(path, 'utf8');
  } catch {
    // missing counts as stale
  }
  if (have === want) continue;
  if (check) {
    console.error(`${path} is out of date: run npm run gen:crds`);
    stale++;
  } else {
    writeFileSync(path, want);
    console.log(`wrote ${path}`);
  }
}
process.exit(stale === 0 ? 0 : 1);
