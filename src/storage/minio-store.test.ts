// A store that accepts connections and then never answers (a half-open connection, a hung proxy): every call must
// fail as unavailable — retried by the callers — instead of hanging. A real TCP server on loopback plays the store.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { S3Error } from 'minio';
import { classifyStoreError, MinioStore } from './minio-store.js';
import { ObjectNotFoundError, StoreRequestError, StoreUnavailableError } from './object-store.js';

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

describe('MinioStore retries', () => {
  // A real HTTP server plays the store: HEAD (stat) answers 503 SlowDown `failures` times, then 200; GET answers
  // 403 AccessDenied, which no retry can fix.
  let server: HttpServer;
  let heads = 0;
  let gets = 0;
  let failures = 0;
  let store: MinioStore;

  before(async () => {
    server = createHttpServer((req, res) => {
      if (req.method === 'HEAD') {
        heads++;
        if (heads <= failures) res.writeHead(503, { 'x-amz-error-code': 'SlowDown' }).end();
        else res.writeHead(200, { 'content-length': '0', etag: '"abc"', 'last-modified': 'Sun, 22 Nov 2026 00:00:00 GMT' }).end();
        return;
      }
      gets++;
      const body = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied.</Message></Error>';
      res.writeHead(403, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    store = new MinioStore({
      endPoint: '127.0.0.1', port: address.port, useSSL: false, accessKey: 'a', secretKey: 'bbbbbbbb', region: 'us-east-1',
      attempts: 3, backoff: { baseMs: 5, capMs: 20 },
    });
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('retries a store that is busy until it answers, within the attempts', async () => {
    [heads, failures] = [0, 2];
    assert.equal((await store.stat('models', 'a')).etag, 'abc');
    assert.equal(heads, 3);
  });

  it('gives up as unavailable once the attempts are used', async () => {
    [heads, failures] = [0, 5];
    await assert.rejects(store.stat('models', 'a'), StoreUnavailableError);
    assert.equal(heads, 3);
  });

  it('does not retry a refusal', async () => {
    gets = 0;
    await assert.rejects(store.getBuffer('models', 'a'), StoreRequestError);
    assert.equal(gets, 1);
  });
});

describe('classifyStoreError', () => {
  const coded = (code: string, message = code): Error => Object.assign(new Error(message), { code });
  const s3 = (code: string): Error => Object.assign(new S3Error(code), { code });
  const table: [string, unknown, new (...args: never[]) => Error][] = [
    ['a missing key', s3('NoSuchKey'), ObjectNotFoundError],
    ['a store slowing clients down', s3('SlowDown'), StoreUnavailableError],
    ['a refusal', s3('AccessDenied'), StoreRequestError],
    ['a reset connection', coded('ECONNRESET'), StoreUnavailableError],
    ['a status the client counts as retryable (its own retry off)', new Error('Request failed after 0 retries: Error: Retryable HTTP status: 503'), StoreUnavailableError],
    ['anything else', new Error('bad argument'), StoreRequestError],
  ];
  for (const [name, error, kind] of table) {
    it(name, () => assert.ok(classifyStoreError(error, 'b', 'k') instanceof kind));
  }
});
