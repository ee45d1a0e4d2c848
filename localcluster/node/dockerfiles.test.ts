// Every base image of the three Dockerfiles is pinned by digest (directly or through an ARG default), so a build
// elsewhere gets the bytes these images were tested with; FROM a stage of the same file is fine.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../cluster.js';
import { perennialImages } from './images.js';

function bases(dockerfile: string): { from: string; resolved: string }[] {
  const args = new Map<string, string>();
  const stages = new Set<string>();
  const out: { from: string; resolved: string }[] = [];
  for (const line of dockerfile.split('\n')) {
    const arg = /^ARG\s+(\w+)=(\S+)/.exec(line);
    if (arg?.[1] !== undefined && arg[2] !== undefined) args.set(arg[1], arg[2]);
    const from = /^FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from?.[1] === undefined) continue;
    const resolved = from[1].replace(/\$\{(\w+)\}/g, (_, name: string) => args.get(name) ?? '');
    if (!stages.has(resolved)) out.push({ from: from[1], resolved });
    if (from[2] !== undefined) stages.add(from[2]);
  }
  return out;
}

describe('Dockerfiles', () => {
  for (const image of perennialImages) {
    it(`${image.dockerfile}: every base pinned by digest`, () => {
      const found = bases(readFileSync(join(repoRoot, image.dockerfile), 'utf8'));
      assert.ok(found.length > 0, 'the pattern finds the FROM lines');
      for (const b of found) assert.match(b.resolved, /@sha256:[0-9a-f]{64}$/, `${b.from} → ${b.resolved}`);
    });
  }
});
