// The Kafka sink's sender thread as the image runs it: the server bundle (scripts/bundle.mjs) carries
// kafka-worker.js beside main.js, where the sink looks for it, and that file runs on its own (kafkajs inside it):
// started against a port where no broker listens, it takes events, reports the failed send, and closes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { FromSender, SenderInit } from './kafka-sender-messages.js';
import { senderEntry } from './kafka-sink.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

describe('the server bundle\'s Kafka sender thread', () => {
  const out = join('.cache', 'test-bundles', `kafka-worker-${process.pid}`);
  const main = join(repoRoot, out, 'server', 'main.js');

  before(() => {
    execFileSync(process.execPath, [join(repoRoot, 'scripts/bundle.mjs'), 'server'], { cwd: repoRoot, env: { ...process.env, BUNDLE_OUT_DIR: out }, stdio: 'ignore' });
  });
  after(() => rmSync(join(repoRoot, out), { recursive: true, force: true }));

  it('is where the bundled sink looks for it, and runs from there', async () => {
    const entry = senderEntry(pathToFileURL(main).href);
    assert.ok(existsSync(entry), `${entry.pathname} is in the bundle`);
    const init: SenderInit = {
      config: { brokers: ['127.0.0.1:1'], predictionsTopic: 'p', feedbackTopic: 'f', tls: false, sasl: undefined, maxBufferedEvents: 10 },
      clientId: 'bundle-test', source: '/perennial/ml/weather', batchEvents: 500, backoff: { baseMs: 10, capMs: 20 },
    };
    const w = new Worker(entry, { workerData: init });
    const heard: FromSender[] = [];
    w.on('message', (m: FromSender) => heard.push(m));
    const exited = new Promise<number>((resolve) => w.on('exit', resolve));
    try {
      w.postMessage({ type: 'events', kinds: ['prediction'], ids: ['a'], times: ['2026-01-01T00:00:00.000Z'], data: ['{}'] });
      for (let i = 0; i < 400 && !heard.some((m) => m.type === 'failing'); i++) await new Promise((r) => setTimeout(r, 25));
      assert.equal(heard[0]?.type, 'ready');
      const failing = heard.find((m) => m.type === 'failing');
      assert.ok(failing !== undefined, `the failed send is reported: ${JSON.stringify(heard)}`);
      assert.match(failing.message, /did not take 1 events/);
      w.postMessage({ type: 'close', until: Date.now() + 100 });
      for (let i = 0; i < 200 && !heard.some((m) => m.type === 'closed'); i++) await new Promise((r) => setTimeout(r, 25));
      assert.ok(heard.some((m) => m.type === 'closed'), 'close is answered');
      assert.ok(!heard.some((m) => m.type === 'sent'), 'nothing was sent');
    } finally {
      await w.terminate();
    }
    assert.equal(typeof (await exited), 'number');
  });
});
