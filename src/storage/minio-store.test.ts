// A store that accepts connections and then never answers (a half-open connection, a hung proxy): every call must
// fail as unavailable — retried by the callers — instead of hanging. A real TCP server on loopback plays the store.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { MinioStore } from './minio-store.js';
import { StoreUnavailableError } from './object-store.js';

describe('MinioStore against a store that never answers', () => {
  let server: Server;
  const sockets = new Set<Socket>();
  let accepted = 0;
  let store: MinioStore;

  before(async () => {
    server = createServer((s) => {
      accepted++;
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
      // Answers HEAD requests for keys starting with "ok" (keeping the connection open for the next request); reads
      // and ignores everything else.
      s.on('data', (chunk: Buffer) => {
        if (/^HEAD \/models\/ok/.test(chunk.toString('latin1'))) {
          s.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nETag: "abc"\r\nLast-Modified: Sun, 22 Nov 2026 00:00:00 GMT\r\nConnection: keep-alive\r\n\r\n');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    store = new MinioStore({ endPoint: '127.0.0.1', port: address.port, useSSL: false, accessKey: 'a', secretKey: 'bbbbbbbb', region: 'us-east-1', attempts: 2, idleTimeoutMs: 300 });
  });

  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  // The test's own timeout only guards against the hang this is about; no timing is asserted.
  const calls: Array<[string, () => Promise<unknown>]> = [
    ['get', () => store.get('models', 'a/b')],
    ['put', () => store.put('models', 'a/b', 'hello')],
    ['exists', () => store.exists('models', 'a/b')],
  ];
  it('a connection reused from the keep-alive pool times out too', { timeout: 20_000 }, async () => {
    assert.equal(await store.exists('models', 'ok-1'), true);
    const before = accepted;
    await assert.rejects(store.get('models', 'hang'), StoreUnavailableError);
    assert.ok(accepted - before <= 1, 'the first attempt went over the pooled connection');
  });

  for (const [name, call] of calls) {
    it(`${name} fails as unavailable after the idle timeout, retried once`, { timeout: 20_000 }, async () => {
      const before = accepted;
      await assert.rejects(call(), (e: unknown) => {
        assert.ok(e instanceof StoreUnavailableError, `${String(e)}`);
        assert.match(e.message, /timed out|idle/);
        return true;
      });
      assert.ok(accepted - before >= 2, `${accepted - before} connections: the call was attempted twice`);
    });
  }
});
