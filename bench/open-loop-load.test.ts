import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openLoopHere, parseAnswerHead, quantile } from './open-loop-load.js';

describe('parseAnswerHead and quantile', () => {
  it('reads status, length and close', () => {
    assert.deepEqual(parseAnswerHead('HTTP/1.1 200 OK\r\nContent-Length: 12\r\nConnection: close'), { status: 200, contentLength: 12, close: true });
    assert.deepEqual(parseAnswerHead('HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0'), { status: 503, contentLength: 0, close: false });
    assert.equal(parseAnswerHead('SSH-2.0'), undefined);
  });
  it('takes the nearest rank', () => {
    assert.equal(quantile([1, 2, 3, 4], 0.5), 2);
    assert.equal(quantile([1, 2, 3, 4], 0.99), 4);
    assert.ok(Number.isNaN(quantile([], 0.5)));
  });
});

describe('openLoopHere', () => {
  it('counts requests after the warm-up only: a stall at the start is the start, not the steady state', async () => {
    // The server's event loop stalls 400 ms at its first request (a cold start), then answers at once.
    let first = true;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (first) {
          first = false;
          const until = Date.now() + 400;
          while (Date.now() < until) { /* stall */ }
        }
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const warm = await openLoopHere(url, '{}', 400, 1, 8, 1);
      assert.equal(warm.warmup, 400);
      assert.equal(warm.answered, 400, 'every request after the warm-up answered and counted');
      assert.equal(warm.errors + warm.non2xx, 0);
      assert.ok(warm.max < 400, `the stall fell in the warm-up: max ${warm.max} ms`);
      first = true;
      const cold = await openLoopHere(url, '{}', 400, 1, 8, 0);
      assert.equal(cold.warmup, 0);
      assert.equal(cold.answered, 400);
      assert.ok(cold.max >= 400, `without a warm-up the stall is counted: max ${cold.max} ms`);
    } finally {
      server.close();
    }
  });
});
