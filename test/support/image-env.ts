// The environment an image sets (its Dockerfile's one-line `ENV KEY=value` and `ENV KEY="value"` lines: V8's heap
// policy, glibc's MALLOC_ARENA_MAX), so that tests and benchmarks run a bundle as its pod does.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** `dockerfile` relative to the repository root: 'Dockerfile' (the operator), 'server-image/Dockerfile'. */
export function imageEnv(dockerfile: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of readFileSync(join(repoRoot, dockerfile), 'utf8').matchAll(/^ENV (\w+)=(?:"([^"]*)"|(\S*))$/gm)) {
    env[m[1] ?? ''] = m[2] ?? m[3] ?? '';
  }
  return env;
}
