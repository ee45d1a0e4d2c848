import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitCodes, formatTerminationMessage, nonRetryableExitCodes, podEnv, terminationMessageMaxBytes, writeTerminationMessage } from './pod-contract.js';

describe('pod contract', () => {
  it('has distinct exit codes, none of them Node\'s own 1 or a signal code', () => {
    const codes = Object.values(exitCodes);
    assert.equal(new Set(codes).size, codes.length);
    for (const c of codes) assert.ok(c === 0 || (c > 1 && c < 128), String(c));
    assert.deepEqual([...nonRetryableExitCodes].sort(), [exitCodes.invalidData, exitCodes.invalidConfig].sort());
  });

  it('names every variable once, and the drift window by seconds and by rows', () => {
    const names = Object.values(podEnv);
    assert.equal(new Set(names).size, names.length);
    assert.equal(podEnv.serverDriftWindowSeconds, 'PERENNIAL_SERVER_DRIFT_WINDOW_SECONDS');
    assert.equal(podEnv.serverDriftWindowRows, 'PERENNIAL_SERVER_DRIFT_WINDOW_ROWS');
  });

  it('shortens a long message to fit the kubelet limit', () => {
    const text = formatTerminationMessage({ outcome: 'invalidData', exitCode: 65, message: 'x'.repeat(10_000), runId: 'r' });
    assert.ok(Buffer.byteLength(text) <= terminationMessageMaxBytes);
    assert.equal((JSON.parse(text) as { runId: string }).runId, 'r');
  });

  it('writes to a configured path, and to the default one only if it exists', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'term-')), 'msg');
    assert.equal(writeTerminationMessage({ outcome: 'success', exitCode: 0, message: 'ok' }, path), true);
    assert.equal((JSON.parse(readFileSync(path, 'utf8')) as { outcome: string }).outcome, 'success');
  });
});
