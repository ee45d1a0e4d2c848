// Every case of each actions/action_test.yaml (Argo CD's own layout and format) through the real Lua 5.1
// interpreter in Argo CD's action sandbox: discovery offers each action only where it applies, and each action
// turns the input object into the expected one. Plus the argocd-cm entry carries exactly these scripts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { runAction, runDiscovery } from './actions.js';
import { actionNames, actionsDir, kinds, renderArgocdCm } from './argocd-cm.js';

const root = join(import.meta.dirname, '..');

interface ActionTests {
  discoveryTests: Array<{ inputPath: string; result: Array<{ name: string; disabled: boolean }> }>;
  actionTests: Array<{ action: string; inputPath: string; expectedOutputPath: string }>;
}

for (const kind of kinds) {
  describe(`Argo CD actions of ${kind}`, () => {
    const dir = actionsDir(root, kind);
    const tests = yaml.load(readFileSync(join(dir, 'action_test.yaml'), 'utf8')) as ActionTests;
    const input = (path: string): unknown => yaml.load(readFileSync(join(dir, path), 'utf8'));

    for (const c of tests.discoveryTests) {
      it(`discovery on ${c.inputPath}`, async () => {
        assert.deepEqual(await runDiscovery(join(dir, 'discovery.lua'), input(c.inputPath)), c.result);
      });
    }
    for (const c of tests.actionTests) {
      it(`${c.action} on ${c.inputPath}`, async () => {
        const got = await runAction(join(dir, c.action, 'action.lua'), input(c.inputPath));
        assert.deepEqual(got, input(c.expectedOutputPath));
      });
    }

    it('every action is offered by discovery and exercised by a test', async () => {
      const names = actionNames(root, kind);
      const offered = (await runDiscovery(join(dir, 'discovery.lua'), {})).map((a) => a.name);
      assert.deepEqual(offered, names);
      for (const name of names) assert.ok(tests.actionTests.some((t) => t.action === name), `no test runs ${name}`);
    });

    it('every action runs on an object without annotations, spec fields or status', async () => {
      for (const name of actionNames(root, kind)) {
        const got = await runAction(join(dir, name, 'action.lua'), { apiVersion: 'perennial.dev/v1alpha1', kind, metadata: { name: 'x' }, spec: {} });
        assert.equal((got as { kind: string }).kind, kind, name);
      }
    });
  });
}

describe('argocd-cm.yaml actions', () => {
  it('installs discovery.lua and every action.lua of both kinds', () => {
    const cm = yaml.load(renderArgocdCm(root)) as { data: Record<string, string> };
    for (const kind of kinds) {
      const value = yaml.load(cm.data[`resource.customizations.actions.perennial.dev_${kind}`] ?? '') as { 'discovery.lua': string; definitions: Array<{ name: string; 'action.lua': string }> };
      assert.equal(value['discovery.lua'], readFileSync(join(actionsDir(root, kind), 'discovery.lua'), 'utf8'));
      assert.deepEqual(value.definitions.map((d) => d.name), actionNames(root, kind));
    }
  });
});
