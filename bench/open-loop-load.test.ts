import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openLoop, openLoopHere, parseAnswerHead, quantile } from './open-loop-load.js';

/** Runs `test` against a server answering every request `{}` at once, closed after. */
async function withAnsweringServer(test: (url: string) => Promise<void>): Promise<void> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await test(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  } finally {
    server.close();
  }
}

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

  it('counts a request whose connection the server closes as one error, and loses none of those waiting', async () => {
    // One connection, a server slower than the rate (so requests wait for the connection) that drops every tenth
    // request with its connection. The request waiting when a connection closed went out on the closed one, was
    // never answered, and was counted an error only after the 30 s deadline.
    let n = 0;
    let dropped = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        n += 1;
        const drop = n % 10 === 0;
        setTimeout(() => {
          if (drop) {
            dropped += 1;
            req.socket.destroy();
          } else res.end('{}');
        }, 3);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const r = await openLoopHere(url, '{}', 400, 0.5, 1, 0);
      assert.ok(dropped >= 10, `${dropped} dropped`);
      assert.equal(r.errors, dropped, 'an error per dropped request, none lost');
      assert.equal(r.answered + r.errors, 200);
    } finally {
      server.close();
    }
  });

  it('openLoop runs the generator in a process of its own under SCHED_BATCH, and says how long it waited for a CPU', () => withAnsweringServer(async (url) => {
    const r = await openLoop(url, '{}', 200, 0.5, 2, 0);
    assert.equal(r.schedPolicy, 3, 'SCHED_BATCH: its wake-ups do not preempt the server it shares the cores with');
    assert.equal(r.answered, 100);
    assert.ok(Number.isFinite(r.waitMs) && r.waitMs >= 0, `waitMs ${r.waitMs}`);
    assert.ok(r.cpuMs > 0);
  }));

  it("reports the generator's own longest pause, which its requests are charged with", () => withAnsweringServer(async (url) => {
    // The generator runs in this process here: block its loop for 120 ms, half a second into the counted second.
    setTimeout(() => {
      const until = performance.now() + 120;
      while (performance.now() < until) { /* the generator's pause */ }
    }, 700);
    const r = await openLoopHere(url, '{}', 200, 1, 4, 0.2);
    assert.ok(r.pauseMaxMs >= 115, `longest pause ${r.pauseMaxMs} ms`);
    assert.ok(r.max >= 100, `the requests due meanwhile waited: max ${r.max} ms`);
    const calm = await openLoopHere(url, '{}', 200, 0.5, 4, 0.2);
    assert.ok(calm.pauseMaxMs < 60, `no pause, none reported: ${calm.pauseMaxMs} ms`);
  }));
});
