import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderServerSettings, type LiveServerSettings } from '../shared/server-settings.js';
import { LiveSettings } from './live-settings.js';

const env: LiveServerSettings = { track: 'stable', logPredictions: true };

describe('LiveSettings', () => {
  it('follows the file as the kubelet swaps it: a canary promoted to stable, logging turned off, without a restart', () => {
    const dir = mkdtempSync(join(tmpdir(), 'perennial-settings-'));
    const file = join(dir, 'settings.json');
    const write = (text: string): void => {
      writeFileSync(join(dir, 'next'), text);
      renameSync(join(dir, 'next'), file);
    };
    write(renderServerSettings({ logPredictions: true, tracks: { abc: 'canary' } }));
    const changes: string[] = [];
    const live = new LiveSettings({ file, revision: 'abc', fallback: env, onChange: (n) => changes.push(`${n.track}/${String(n.logPredictions)}`) });
    assert.deepEqual(live.current(), { track: 'canary', logPredictions: true }, 'read at start');
    write(renderServerSettings({ logPredictions: true, tracks: {} }));
    live.refresh();
    assert.deepEqual(live.current(), { track: 'stable', logPredictions: true }, 'promoted');
    write(renderServerSettings({ logPredictions: false, tracks: {} }));
    live.refresh();
    live.refresh();
    assert.deepEqual(live.current(), { track: 'stable', logPredictions: false });
    assert.deepEqual(changes, ['stable/true', 'stable/false'], 'each change told once');
  });

  it('keeps the last good values while the file is torn, and the environment\'s without a file', () => {
    let text: string | undefined = renderServerSettings({ logPredictions: false, tracks: { abc: 'shadow' } });
    const live = new LiveSettings({ file: '/settings.json', revision: 'abc', fallback: env, read: () => text });
    text = '{"logPre';
    live.refresh();
    assert.deepEqual(live.current(), { track: 'shadow', logPredictions: false });
    assert.deepEqual(new LiveSettings({ file: undefined, revision: 'abc', fallback: env }).current(), env);
    assert.deepEqual(new LiveSettings({ file: '/nowhere/settings.json', revision: 'abc', fallback: env }).current(), env);
  });
});
