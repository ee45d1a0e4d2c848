import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { fatalHandler, type FatalOptions } from './fatal.js';

function harness(flush: FatalOptions['flush'], deadlineMs = 100) {
  const logged: string[] = [];
  const exits: number[] = [];
  let flushed = 0;
  const handle = fatalHandler({
    log: (message, meta) => logged.push(`${message}: ${String(meta['error'])}`),
    flush: (d) => {
      flushed++;
      return flush(d);
    },
    exit: (code) => exits.push(code),
    deadlineMs,
  });
  return { handle, logged, exits, flushes: () => flushed };
}

describe('fatalHandler', () => {
  it('logs, flushes, then exits 70', async () => {
    const h = harness(() => sleep(10));
    h.handle('uncaughtException', new Error('boom'));
    assert.deepEqual(h.exits, [], 'not before the flush');
    await sleep(50);
    assert.deepEqual(h.exits, [70]);
    assert.equal(h.flushes(), 1);
    assert.match(h.logged[0] ?? '', /unexpected error: saving the inference logs and exiting: boom/);
  });

  it('exits at the deadline when the flush hangs, and once only', async () => {
    const h = harness(() => new Promise(() => undefined), 50);
    h.handle('unhandledRejection', 'not an Error');
    await sleep(150);
    assert.deepEqual(h.exits, [70]);
  });

  it('exits when the flush itself fails or throws', async () => {
    const rejects = harness(() => Promise.reject(new Error('disk')));
    rejects.handle('uncaughtException', new Error('boom'));
    const throws = harness(() => {
      throw new Error('sync');
    });
    throws.handle('uncaughtException', new Error('boom'));
    await sleep(20);
    assert.deepEqual([rejects.exits, throws.exits], [[70], [70]]);
    assert.ok(rejects.logged.some((l) => l.includes('saving the inference logs failed')));
  });

  it('a second error while crashing is logged, not handled again', async () => {
    const h = harness(() => sleep(20));
    h.handle('uncaughtException', new Error('first'));
    h.handle('uncaughtException', new Error('second'));
    await sleep(60);
    assert.equal(h.flushes(), 1);
    assert.deepEqual(h.exits, [70]);
    assert.ok(h.logged.some((l) => l.includes('another unexpected error while crashing: second')));
  });
});
