import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PodConnections } from './cluster-messages.js';
import { balanceHttp, ConnectionShare, connectionShare, overShare, shareSlack, shedDue, WorkerConnections, type WorkerConnectionsOptions } from './connection-balance.js';

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
  // live (open, not told to close), share, the slack's least (REST 1, gRPC 0), want
  const cases: [number, number, number, boolean, string][] = [
    [64, 0, 1, false, 'share not known yet: never shed'],
    [64, 32, 1, true, 'a burst on one worker'],
    [36, 32, 1, false, 'within the slack'],
    [37, 32, 1, true, 'past the slack'],
    [2, 1, 1, false, 'one connection over a share of one is the slack'],
    [3, 1, 1, true, 'two over'],
    [2, 1, 0, true, 'gRPC: two connections on one worker of two, one moves (the other worker would idle)'],
    [1, 1, 0, false, 'gRPC: one each'],
    [5, 4, 0, true, 'gRPC: eight split 5 / 3'],
    [4, 4, 0, false, 'gRPC: eight split 4 / 4'],
    [10, 8, 0, true, 'gRPC: past an eighth of a share of eight'],
    [9, 8, 0, false, 'gRPC: within an eighth of a share of eight'],
  ];
  for (const [live, share, least, want, what] of cases) {
    it(`${what}: live ${live}, share ${share} → ${want}`, () => assert.equal(overShare(live, share, least), want));
  }
});

describe('ConnectionShare', () => {
  it('counts a connection told to close once: in transit for a moment, then only where its client reconnected', () => {
    // Eight gRPC connections, 6 here and 2 on the other worker. A moved connection drains for a second or more (the
    // two-step GOAWAY): counted in the pod's total all that while beside its replacement, the share read
    // ceil(9 / 2) = 5 against 5 live here, and the worker held 5 / 3 until the drain ended (6 / 3 on the wire three
    // seconds into a ghz run).
    let others = 2;
    let now = 0;
    const share = new ConnectionShare(() => ({ others, workers: 2 }), 100, 0, () => now);
    for (let i = 0; i < 6; i++) share.opened();
    assert.equal(share.wantsShed(), true, '6 against a share of 4');
    share.shedding();
    assert.equal(share.connections, 5, 'the draining one is not reported as live');
    now = 100;
    assert.equal(share.wantsShed(), true, 'its client not reconnected yet: the total is still 8, 5 live against 4');
    share.shedding();
    others = 4; // both clients reconnected to the other worker; the draining connections are still open here
    now = 200;
    assert.equal(share.wantsShed(), false, 'in transit, the pod counts 10: a share of 5');
    now = 400;
    assert.equal(share.wantsShed(), false, '4 / 4 once they are no longer in transit');
    share.closed(true);
    share.closed(true);
    assert.equal(share.connections, 4);
    assert.equal(share.wantsShed(), false, 'the drained ones closing changes nothing');
  });

  it('keeps moving while a moved connection drains', () => {
    let now = 0;
    let others = 0;
    const share = new ConnectionShare(() => ({ others, workers: 2 }), 100, 0, () => now);
    for (let i = 0; i < 8; i++) share.opened();
    const moves: number[] = [];
    for (; now <= 2000; now += 50) {
      if (share.wantsShed()) {
        share.shedding();
        moves.push(now);
        others += 1; // every client reconnects to the other worker at once
      }
    }
    // Nothing closes within the two seconds (the drains are longer); 8 / 0 still becomes 4 / 4.
    assert.equal(share.connections, 4);
    assert.equal(others, 4);
    assert.ok((moves.at(-1) ?? Infinity) <= 1000, `moved at ${moves.join(', ')} ms`);
  });
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
