// Every case of each health_test.yaml (Argo CD's own layout and format) through the real Lua 5.1 interpreter in
// Argo CD's sandbox; plus the generated argocd-cm.yaml matches the scripts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { kinds, renderArgocdCm, scriptPath } from './argocd-cm.js';
import { runHealthScript, toLua } from './health.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

interface HealthTests {
  tests: Array<{ healthStatus: { status: string; message?: string }; inputPath: string }>;
}

for (const kind of kinds) {
  describe(`Argo CD health of ${kind}`, () => {
    const script = scriptPath(root, kind);
    const dir = dirname(script);
    const cases = (yaml.load(readFileSync(join(dir, 'health_test.yaml'), 'utf8')) as HealthTests).tests;
    for (const c of cases) {
      it(`${c.inputPath} is ${c.healthStatus.status}`, async () => {
        const obj = yaml.load(readFileSync(join(dir, c.inputPath), 'utf8'));
        const got = await runHealthScript(script, obj);
        assert.deepEqual(got, { status: c.healthStatus.status, message: c.healthStatus.message ?? '' });
      });
    }

    it('never errors or returns nothing, whatever of status is missing', async () => {
      const shapes: unknown[] = [
        { metadata: {} },
        { metadata: { generation: 1 }, status: { conditions: [] } },
        { metadata: { generation: 1 }, status: { observedGeneration: 1, conditions: [{}] } },
        { status: { observedGeneration: 'not a number' } },
        {},
      ];
      for (const obj of shapes) {
        const got = await runHealthScript(script, obj);
        assert.ok(['Progressing', 'Healthy', 'Degraded', 'Suspended'].includes(got.status), `${JSON.stringify(obj)} → ${JSON.stringify(got)}`);
        assert.notEqual(got.message, '');
      }
    });
  });
}

describe('the sandbox', () => {
  it('has no string library, as in argocd-cm without useOpenLibs', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'perennial-lua-')), 'uses-string.lua');
    writeFileSync(file, 'return { status = string.upper("healthy") }');
    const got = await runHealthScript(file, {});
    assert.equal(got.status, 'Unknown');
    assert.match(got.message, /string/);
  });

  it('quotes strings so a message cannot break out', () => {
    assert.equal(toLua({ m: 'a "q" \\ \n' }), '{["m"] = "a \\"q\\" \\\\ \\n"}');
  });
});

describe('argocd-cm.yaml', () => {
  it('is generated from the scripts (run npm run gen:argocd after editing them)', () => {
    assert.equal(readFileSync(join(root, 'argocd', 'argocd-cm.yaml'), 'utf8'), renderArgocdCm(root));
  });
});
