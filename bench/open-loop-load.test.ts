import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { openLoop, openLoopBinary } from './open-loop-load.js';

async function listening<S extends Server>(server: S, test: (url: string, port: number) => Promise<void>): Promise<void> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    await test(`http://127.0.0.1:${port}/`, port);
  } finally {
    server.close();
  }
}

/** Runs `test` against an HTTP server whose answer `answer` gives, once each request's body is read. */
function withServer(answer: (req: IncomingMessage, res: ServerResponse) => void, test: (url: string, port: number) => Promise<void>): Promise<void> {
  return listening(createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => answer(req, res));
  }), test);
}

const answersAtOnce = (_req: IncomingMessage, res: ServerResponse): void => void res.end('{}');

describe('openLoop (the C generator)', () => {
  it('sends the schedule, counts only what follows the warm-up, and reports its run', () => withServer(answersAtOnce, async (url) => {
    const r = await openLoop(url, '{"instances":[{"a":1}]}', 400, 1, 8, 0.5);
    assert.equal(r.warmup, 200);
    assert.equal(r.sent, 400);
    assert.equal(r.answered, 400);
    assert.equal(r.errors + r.non2xx, 0);
    assert.equal(r.connects, 8);
    assert.ok(r.p50 > 0 && r.p50 <= r.p99 && r.p99 <= r.max, `p50 ${r.p50} p99 ${r.p99} max ${r.max}`);
    assert.ok(r.rps > 300 && r.rps < 500, `${r.rps} answered/s`);
    assert.ok(r.cpuMs > 0 && Number.isFinite(r.waitMs) && r.waitMs >= 0, `cpu ${r.cpuMs} ms, waited ${r.waitMs} ms`);
  }));

  it('runs under SCHED_BATCH: its wake-ups do not preempt the server it shares the cores with', () => withServer(answersAtOnce, async (url) => {
    const r = await openLoop(url, '{}', 200, 0.5, 2, 0);
    assert.equal(r.schedPolicy, 3);
  }));

  it('counts a stall in the warm-up as the start, and charges it when there is no warm-up', async () => {
    // The server's event loop stalls 400 ms at its first request (a cold start), then answers at once.
    let first = true;
    await withServer((_req, res) => {
      if (first) {
        first = false;
        const until = Date.now() + 400;
        while (Date.now() < until) { /* stall */ }
      }
      res.end('{}');
    }, async (url) => {
      const warm = await openLoop(url, '{}', 400, 1, 8, 1);
      assert.equal(warm.answered, 400, 'every request after the warm-up answered and counted');
      assert.ok(warm.max < 400, `the stall fell in the warm-up: max ${warm.max} ms`);
      first = true;
      const cold = await openLoop(url, '{}', 400, 1, 8, 0);
      assert.equal(cold.answered, 400);
      assert.ok(cold.max >= 400, `without a warm-up the stall is counted: max ${cold.max} ms`);
    });
  });

  it('counts a request whose connection the server drops as one error, and loses none of those waiting', async () => {
    // One connection and a server slower than the rate (so requests wait for the connection) that drops every tenth
    // request with its connection.
    let n = 0;
    let dropped = 0;
    await withServer((req, res) => {
      n += 1;
      const drop = n % 10 === 0;
      setTimeout(() => {
        if (drop) {
          dropped += 1;
          req.socket.destroy();
        } else res.end('{}');
      }, 3);
    }, async (url) => {
      const r = await openLoop(url, '{}', 400, 0.5, 1, 0);
      assert.ok(dropped >= 10, `${dropped} dropped`);
      assert.equal(r.errors, dropped, 'an error per dropped request, none lost');
      assert.equal(r.answered + r.errors, 200);
      assert.equal(r.connects, 1 + dropped, 'a new connection after each drop');
    });
  });

  it("follows Connection: close, reads bodies in pieces and any header case, and counts non-2xx", async () => {
    // A raw server: a body of 40 KiB written in two pieces 5 ms apart, `connection: CLOSE` on every third answer,
    // 503 on every fifth.
    let n = 0;
    const server = createTcpServer((socket: Socket) => {
      let buffered = '';
      socket.on('data', (d: Buffer) => {
        buffered += d.toString('latin1');
        for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
          const length = Number(/content-length: (\d+)/i.exec(buffered.slice(0, end))?.[1] ?? 0);
          if (buffered.length < end + 4 + length) return;
          buffered = buffered.slice(end + 4 + length);
          n += 1;
          const close = n % 3 === 0;
          const body = 'x'.repeat(40 << 10);
          socket.write(`HTTP/1.1 ${n % 5 === 0 ? '503 Busy' : '200 OK'}\r\ncontent-LENGTH: ${body.length}\r\n${close ? 'connection: CLOSE\r\n' : ''}\r\n${body.slice(0, 1000)}`);
          setTimeout(() => {
            socket.write(body.slice(1000));
            if (close) socket.end();
          }, 5);
        }
      });
      socket.on('error', () => undefined);
    });
    await listening(server, async (url) => {
      const r = await openLoop(url, '{}', 100, 1, 2, 0);
      assert.equal(r.answered, 100);
      assert.equal(r.errors, 0);
      assert.equal(r.non2xx, 20);
      assert.equal(r.connects, 2 + Math.floor(100 / 3), 'a new connection after each answer that closes its own');
      assert.ok(r.p50 >= 5, `each answer's last piece came 5 ms later: p50 ${r.p50} ms`);
    });
  });

  it('counts an answer that is not HTTP as an error and goes on', async () => {
    let n = 0;
    const server = createTcpServer((socket: Socket) => {
      socket.on('data', () => {
        n += 1;
        socket.write(n % 4 === 0 ? 'SSH-2.0-nope\r\n\r\n' : 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}');
      });
      socket.on('error', () => undefined);
    });
    await listening(server, async (url) => {
      const r = await openLoop(url, '{}', 200, 0.5, 1, 0);
      assert.equal(r.answered + r.errors, 100);
      assert.equal(r.errors, 25);
    });
  });

  it("reports the generator's own longest pause, which its requests are charged with", () => withServer(answersAtOnce, async (url, port) => {
    // Stop the generator's process for 150 ms, half a second into the counted second.
    const run = openLoop(url, '{}', 200, 1, 4, 0.2);
    await sleep(700);
    const pid = Number(execFileSync('pgrep', ['-n', '-f', `${openLoopBinary()} 127.0.0.1 ${port} `], { encoding: 'utf8' }).trim());
    process.kill(pid, 'SIGSTOP');
    await sleep(150);
    process.kill(pid, 'SIGCONT');
    const r = await run;
    assert.ok(r.pauseMaxMs >= 140, `longest pause ${r.pauseMaxMs} ms`);
    assert.ok(r.max >= 120, `the requests due meanwhile waited: max ${r.max} ms`);
    const calm = await openLoop(url, '{}', 200, 0.5, 4, 0.2);
    assert.ok(calm.pauseMaxMs < 60, `no pause, none reported: ${calm.pauseMaxMs} ms`);
  }));

  it('refuses a URL without a port', () => {
    assert.throws(() => void openLoop('http://localhost/', '{}', 1, 1), /needs an http URL with a port/);
  });
});
