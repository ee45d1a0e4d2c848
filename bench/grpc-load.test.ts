import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resultOf } from './grpc-load.js';

const closing = 'rpc error: code = Canceled desc = grpc: the client connection is closing';
const transport = 'rpc error: code = Unavailable desc = transport is closing';
const draining = 'rpc error: code = Unavailable desc = the connection is draining';

describe('resultOf: the errors of a ghz report that are the server\'s', () => {
  const cases: Array<[string, Record<string, number>, Record<string, number>, number, number]> = [
    ['none', { OK: 100 }, {}, 8, 0],
    // bench run of b701839 at one connection: two calls ghz cut as it closed, counted as one error before
    ['every call ghz cut by closing its own connection, however many', { OK: 100, Canceled: 2 }, { [closing]: 2 }, 1, 0],
    ['transport closings up to one per worker', { OK: 100, Unavailable: 8 }, { [transport]: 8 }, 8, 0],
    ['transport closings beyond one per worker', { OK: 100, Unavailable: 3 }, { [transport]: 3 }, 1, 2],
    ['a draining connection is the server\'s', { OK: 100, Unavailable: 3 }, { [draining]: 3 }, 8, 3],
    ['both kinds of cut, and one real error', { OK: 100, Canceled: 2, Unavailable: 2, Internal: 1 },
      { [closing]: 2, [transport]: 2, 'rpc error: code = Internal desc = boom': 1 }, 4, 1],
  ];
  for (const [name, statusCodeDistribution, errorDistribution, concurrency, errors] of cases) {
    it(name, () => {
      const r = resultOf({ count: 100, rps: 1000, latencyDistribution: [{ percentage: 50, latency: 1e6 }, { percentage: 99, latency: 2.5e6 }], statusCodeDistribution, errorDistribution }, concurrency);
      assert.equal(r.errors, errors);
      assert.deepEqual(r.errorMessages, errorDistribution);
      assert.deepEqual([r.p50Ms, r.p99Ms], [1, 2.5]);
    });
  }
});
