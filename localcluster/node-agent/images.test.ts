import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { imageName, programFor, UnknownImageError } from './images.js';

describe('imageName', () => {
  const table: Array<[string, string]> = [
    ['perennial-server', 'perennial-server'],
    ['perennial-server:0.1.0', 'perennial-server'],
    ['ghcr.io/perennial-dev/perennial-trainer:0.1.0', 'ghcr.io/perennial-dev/perennial-trainer'],
    ['localhost:5000/perennial-operator', 'localhost:5000/perennial-operator'],
    ['registry/perennial-server@sha256:abc', 'registry/perennial-server'],
  ];
  for (const [image, want] of table) it(image, () => assert.equal(imageName(image), want));
});

describe('programFor', () => {
  it('runs the bundles of the three images, whatever the registry and tag', () => {
    assert.deepEqual(programFor('ghcr.io/perennial-dev/perennial-server:0.1.0', '/repo', 'node'), { command: 'node', args: ['/repo/dist/server/main.js'] });
    assert.deepEqual(programFor('perennial-trainer', '/repo', 'node').args, ['/repo/dist/trainer/main.js']);
    assert.deepEqual(programFor('perennial-operator:dev', '/repo', 'node').args, ['/repo/dist/operator/main.js']);
  });
  it('runs test programs', () => {
    assert.deepEqual(programFor('perennial-testing/http-echo:1', '/repo', 'node').args, ['/repo/localcluster/node-agent/testdata/http-echo.mjs']);
  });
  it('refuses anything else with a reason', () => {
    assert.throws(() => programFor('nginx:1.27', '/repo'), UnknownImageError);
    assert.throws(() => programFor('evil/perennial-server-x', '/repo'), UnknownImageError);
  });
});
