import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renderServerSettings, serverSettingsFor, type LiveServerSettings } from './server-settings.js';

const env: LiveServerSettings = { track: 'stable', logPredictions: true };

describe('serverSettingsFor', () => {
  const written = renderServerSettings({ logPredictions: false, tracks: { b2: 'canary', a1: 'shadow' } });
  const table: Array<[string, string | undefined, string | undefined, LiveServerSettings]> = [
    ['no file: the environment\'s values', undefined, 'a1', env],
    ['a revision the file names as shadow', written, 'a1', { track: 'shadow', logPredictions: false }],
    ['a revision it names as canary', written, 'b2', { track: 'canary', logPredictions: false }],
    ['a revision it does not name is stable (a promoted canary, the previous one)', written, 'c3', { track: 'stable', logPredictions: false }],
    ['a pod that does not know its revision is stable', written, undefined, { track: 'stable', logPredictions: false }],
    ['torn or foreign text: the environment\'s values', '{"logPred', 'a1', env],
    ['a file without tracks keeps the environment\'s track', '{"logPredictions":false}', 'a1', { track: 'stable', logPredictions: false }],
    ['an unknown track is stable', '{"logPredictions":true,"tracks":{"a1":"blue"}}', 'a1', { track: 'stable', logPredictions: true }],
    ['logPredictions not a boolean: the environment\'s', '{"logPredictions":"no","tracks":{}}', 'a1', { track: 'stable', logPredictions: true }],
  ];
  for (const [name, text, revision, want] of table) it(name, () => assert.deepEqual(serverSettingsFor(text, revision, env), want));

  it('renders keys in a fixed order, so equal settings are equal text', () => {
    assert.equal(written, '{"logPredictions":false,"tracks":{"a1":"shadow","b2":"canary"}}\n');
    assert.equal(renderServerSettings({ logPredictions: false, tracks: { a1: 'shadow', b2: 'canary' } }), written);
  });
});
