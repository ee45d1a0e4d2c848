import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PodConnections } from './cluster-messages.js';
import { balanceHttp, connectionShare, overShare, shareSlack, shedDue, WorkerConnections, type WorkerConnectionsOptions } from './connection-balance.js';

/** A server answering "ok" with its connections balanced, and a keep-alive client: get() answers its Connection header. */
async function balanced(o: WorkerConnectionsOptions, maxSockets: number): Promise<{ server: Server; balance: WorkerConnections; get: () => Promise<string | undefined>; close: () => void }> {
  const server = createServer((_req, res) => res.end('ok'));
  const balance = new WorkerConnections(o);
  balanceHttp(server, balance.http);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const agent = new Agent({ keepAlive: true, maxSockets });
  const get = (): Promise<string | undefined> => new Promise((resolve, reject) => {
    request(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.headers.connection));
    }).on('error', reject).end();
  });
  return { server, balance, get, close: () => { agent.destroy(); balance.close(); server.close(); } };
}

describe('connectionShare', () => {
  const cases: [number, PodConnections | undefined, number][] = [
    [64, undefined, 0],
    [64, { others: 0, workers: 0 }, 0],
    [0, { others: 0, workers: 2 }, 0],
    [64, { others: 0, workers: 2 }, 32],
    [33, { others: 30, workers: 2 }, 32],
    [1, { others: 0, workers: 2 }, 1],
    [5, { others: 6, workers: 3 }, 4],
    [7, { others: 0, workers: 1 }, 7],
  ];
  for (const [own, pod, want] of cases) it(`own ${own}, ${JSON.stringify(pod)} → ${want}`, () => assert.equal(connectionShare(own, pod), want));
});

describe('shedDue', () => {
  const cases: [number, number, number, boolean][] = [
    [0, -Infinity, 10, true],
    [105, 100, 10, false],
    [110, 100, 10, true],
    [100, 100, 0, true],
  ];
  for (const [now, last, gap, want] of cases) it(`now ${now}, last ${last}, gap ${gap} → ${want}`, () => assert.equal(shedDue(now, last, gap), want));
});

describe('shareSlack and overShare', () => {
  it('allows an eighth of the share, at least one connection (REST) or none (gRPC)', () => {
    assert.deepEqual([0, 1, 4, 8, 16, 32, 100].map((share) => shareSlack(share)), [1, 1, 1, 1, 2, 4, 12]);
    assert.deepEqual([0, 1, 4, 8, 16, 32, 100].map((share) => shareSlack(share, 0)), [0, 0, 0, 1, 2, 4, 12]);
  });
  // open, closing, share, the slack's least (REST 1, gRPC 0), want
  const cases: [number, number, number, number, boolean, string][] = [
    [64, 0, 0, 1, false, 'share not known yet: never shed'],
    [64, 0, 32, 1, true, 'a burst on one worker'],
    [36, 0, 32, 1, false, 'within the slack'],
    [37, 0, 32, 1, true, 'past the slack'],
    [37, 1, 32, 1, false, 'one already told to close'],
    [2, 0, 1, 1, false, 'one connection over a share of one is the slack'],
    [3, 0, 1, 1, true, 'two over'],
    [2, 0, 1, 0, true, 'gRPC: two connections on one worker of two, one moves (the other worker would idle)'],
    [1, 0, 1, 0, false, 'gRPC: one each'],
    [5, 0, 4, 0, true, 'gRPC: eight split 5 / 3'],
    [4, 0, 4, 0, false, 'gRPC: eight split 4 / 4'],
    [10, 0, 8, 0, true, 'gRPC: past an eighth of a share of eight'],
    [9, 0, 8, 0, false, 'gRPC: within an eighth of a share of eight'],
  ];
  for (const [open, closing, share, least, want, what] of cases) {
    it(`${what}: open ${open}, closing ${closing}, share ${share} → ${want}`, () => assert.equal(overShare(open, closing, share, least), want));
  }
});

describe('WorkerConnections with an HTTP server', () => {
  it('counts its connections, reports them, and answers with Connection: close only down to the share', async () => {
    let pod: PodConnections | undefined;
    const reports: number[] = [];
    const { balance, get, close } = await balanced({ pod: () => pod, report: (open) => reports.push(open.http), reportMs: 20, httpShedGapMs: 0 }, 8);
    try {
      const round = (): Promise<(string | undefined)[]> => Promise.all(Array.from({ length: 8 }, get));
      assert.deepEqual((await round()).filter((c) => c === 'close'), [], 'no share yet: nothing shed');
      assert.equal(balance.http.connections, 8);
      await sleep(60);
      assert.equal(reports.at(-1), 8, 'the open connections reported');
      pod = { others: 0, workers: 2 }; // another worker holds none: this one sheds down to its share of 4 + 1 of slack
      assert.equal((await round()).filter((c) => c === 'close').length, 3, 'three told to close, the first answers over the share');
      await sleep(60);
      assert.equal(balance.http.connections, 5, 'the shed connections closed after their answers');
      // The pool opens three new ones (here, to this worker again), shed again; the share follows this worker's live
      // count (5 of its own and none elsewhere: 3, plus 1 of slack), so one more may go while the new ones connect.
      const again = (await round()).filter((c) => c === 'close').length;
      assert.ok(again >= 3 && again <= 4, `${again} told to close`);
      await sleep(60);
      const left: number = balance.http.connections;
      assert.ok(left <= 5, `${left} left open`);
      pod = { others: 0, workers: 1 }; // alone: all of them are its share
      await sleep(20);
      assert.deepEqual((await round()).filter((c) => c === 'close'), [], 'within the share: kept');
      await sleep(60);
      const before = reports.length;
      await sleep(60);
      assert.equal(reports.length, before, 'no report while the count stays the same');
    } finally {
      close();
    }
  });

  it('closes at most one connection per gap, however far over its share the counts say it is', async () => {
    // The others' count is as old as their last report: while a client's connections are still arriving it reads low,
    // and a worker that closed a connection on every answer made the client reconnect on every answer.
    const { server, get, close } = await balanced({ pod: () => ({ others: 0, workers: 8 }), report: () => undefined, httpShedGapMs: 200 }, 16);
    let opened = 0;
    server.on('connection', () => (opened += 1));
    try {
      let closes = 0;
      const start = performance.now();
      while (performance.now() - start < 300) closes += (await Promise.all(Array.from({ length: 16 }, get))).filter((c) => c === 'close').length;
      const elapsed = performance.now() - start;
      assert.ok(closes >= 1, 'over its share: it sheds');
      assert.ok(closes <= Math.floor(elapsed / 200) + 1, `${closes} closes in ${elapsed.toFixed(0)} ms: at most one per 200 ms`);
      assert.ok(opened <= 16 + closes, `${opened} connections opened`);
    } finally {
      close();
    }
  });
});
