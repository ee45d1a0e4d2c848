import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConnectionBalance, connectionShare, overShare, shareSlack } from './connection-balance.js';

describe('connectionShare', () => {
  const cases: [readonly number[], number][] = [
    [[], 0],
    [[0, 0], 0],
    [[64, 0], 32],
    [[33, 30], 32],
    [[1, 0], 1],
    [[5, 5, 1], 4],
    [[7], 7],
  ];
  for (const [open, want] of cases) it(`${JSON.stringify(open)} → ${want}`, () => assert.equal(connectionShare(open), want));
});

describe('shareSlack and overShare', () => {
  it('allows an eighth of the share, at least one connection', () => {
    assert.deepEqual([0, 1, 4, 8, 16, 32, 100].map(shareSlack), [1, 1, 1, 1, 2, 4, 12]);
  });
  const cases: [number, number, number, boolean, string][] = [
    [64, 0, 0, false, 'share not known yet: never shed'],
    [64, 0, 32, true, 'a burst on one worker'],
    [36, 0, 32, false, 'within the slack'],
    [37, 0, 32, true, 'past the slack'],
    [37, 1, 32, false, 'one already told to close'],
    [2, 0, 1, false, 'one connection over a share of one is the slack'],
    [3, 0, 1, true, 'two over'],
  ];
  for (const [open, closing, share, want, what] of cases) it(`${what}: open ${open}, closing ${closing}, share ${share} → ${want}`, () => assert.equal(overShare(open, closing, share), want));
});

describe('ConnectionBalance', () => {
  it('counts its connections, reports them, and answers with Connection: close only down to the share', async () => {
    const server = createServer((_req, res) => res.end('ok'));
    let share = 0;
    const reports: number[] = [];
    const balance = new ConnectionBalance(server, { share: () => share, report: (open) => reports.push(open), reportMs: 20 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const get = (): Promise<string | undefined> => new Promise((resolve, reject) => {
      request(url, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.headers.connection));
      }).on('error', reject).end();
    });
    try {
      const round = (): Promise<(string | undefined)[]> => Promise.all(Array.from({ length: 8 }, get));
      assert.deepEqual((await round()).filter((c) => c === 'close'), [], 'no share yet: nothing shed');
      assert.equal(balance.connections, 8);
      await sleep(60);
      assert.equal(reports.at(-1), 8, 'the open connections reported');
      share = 4; // another worker holds none: this one sheds down to 4 + 1 of slack
      assert.equal((await round()).filter((c) => c === 'close').length, 3, 'three told to close, the first answers over the share');
      await sleep(60);
      assert.equal(balance.connections, 5, 'the shed connections closed after their answers');
      assert.equal((await round()).filter((c) => c === 'close').length, 3, 'the pool opened three new ones (here, to this worker again): shed again');
      share = 8;
      await sleep(20);
      assert.deepEqual((await round()).filter((c) => c === 'close'), [], 'within the share: kept');
      await sleep(60);
      const before = reports.length;
      await sleep(60);
      assert.equal(reports.length, before, 'no report while the count stays the same');
    } finally {
      agent.destroy();
      balance.close();
      server.close();
    }
  });
});
