// The edge of the server's listeners: pure decisions as tables, then readJson and the clientError handler over real
// HTTP and raw sockets (what fetch cannot send).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { clientErrorAnswer, decodeSegment, guardListener, jsonBodyProblem, listenerOptions, readJson, requestPath, send, answerOf, HttpError } from './http-io.js';
import { BadRequestError } from './requests.js';

describe('requestPath', () => {
  const table: [string, string | RegExp][] = [
    ['/v1/models/weather:predict', '/v1/models/weather:predict'],
    ['/v2/models/weather/infer?x=1#f', '/v2/models/weather/infer'],
    ['/a/../metrics', '/metrics'],
    ['//x:99999/', '//x:99999/'],
    ['http://host:8080/v2/health/ready', '/v2/health/ready'],
    ['http://a:99999/', /malformed request target "http:\/\/a:99999\/"/],
    ['http://[::1/', /malformed request target/],
    ['*', /malformed request target "\*"/],
    ['ftp://x/y', /malformed request target/],
    ['x'.repeat(5000), /malformed request target "x{100}"$/],
  ];
  for (const [target, want] of table) {
    it(JSON.stringify(target.slice(0, 40)), () => {
      if (typeof want === 'string') assert.equal(requestPath(target), want);
      else assert.throws(() => requestPath(target), (e: unknown) => e instanceof BadRequestError && e.status === 400 && want.test(e.message));
    });
  }
});

describe('requestPath of a plain target', () => {
  it('is what the URL parser makes of it', () => {
    for (const t of ['/', '/metrics', '/v1/models/weather:predict', '/v2/models/my-model_2/versions/v1/infer', '//a//b/', '/:/-_/', `/${'a'.repeat(511)}`, `/${'a'.repeat(600)}`]) {
      assert.equal(requestPath(t), new URL(`http://x${t}`).pathname, t.slice(0, 40));
    }
  });
});

describe('decodeSegment', () => {
  it('decodes escapes and refuses malformed ones with a 400 naming the segment', () => {
    assert.equal(decodeSegment('we%61ther', 'model name'), 'weather');
    for (const bad of ['%', '%zz', '%E0%A4%A', '%C0%AF']) {
      assert.throws(() => decodeSegment(bad, 'model name'), (e: unknown) => e instanceof BadRequestError && e.status === 400 && /malformed percent-escape in the model name/.test(e.message), bad);
    }
  });
});

describe('jsonBodyProblem', () => {
  const table: [string | undefined, string | undefined, RegExp | undefined][] = [
    ['application/json', undefined, undefined],
    ['Application/JSON; charset=UTF-8', undefined, undefined],
    ['application/json;charset="utf-8"', 'identity', undefined],
    [undefined, undefined, /missing Content-Type/],
    ['', undefined, /missing Content-Type/],
    ['text/plain', undefined, /"text\/plain" is not supported: send application\/json/],
    ['application/x-www-form-urlencoded', undefined, /not supported/],
    ['application/jsonx', undefined, /not supported/],
    ['application/json; charset=latin1', undefined, /charset "latin1" is not supported/],
    ['application/json', 'gzip', /Content-Encoding "gzip" is not supported/],
    [`application/json; ${'x'.repeat(10_000)}`, undefined, undefined],
  ];
  for (const [type, coding, want] of table) {
    it(`${String(type).slice(0, 40)} ${coding ?? ''}`, () => {
      const p = jsonBodyProblem(type, coding);
      if (want === undefined) assert.equal(p, undefined);
      else assert.match(p ?? '', want);
    });
  }
});

describe('clientErrorAnswer and answerOf', () => {
  it('maps parser errors to a 4xx, never a 5xx', () => {
    const table: [string | undefined, number][] = [
      ['HPE_HEADER_OVERFLOW', 431], ['ERR_HTTP_REQUEST_TIMEOUT', 408], ['HPE_INVALID_URL', 400], ['HPE_INVALID_CONTENT_LENGTH', 400],
      ['HPE_INVALID_TRANSFER_ENCODING', 400], ['HPE_STRICT', 400], ['HPE_INVALID_METHOD', 400], [undefined, 400],
    ];
    for (const [code, status] of table) assert.equal(clientErrorAnswer(code).status, status, String(code));
  });
  it('closes the connection after refusing a body that may still be arriving', () => {
    assert.deepEqual(answerOf(new HttpError(408, 'slow')), { status: 408, message: 'slow', close: true });
    assert.deepEqual(answerOf(new HttpError(404, 'no')), { status: 404, message: 'no', close: false });
    assert.deepEqual(answerOf(new BadRequestError('bad', 422)), { status: 422, message: 'bad', close: false });
    assert.equal(answerOf(new Error('bug')), undefined);
  });
  it('sets Node\'s timeouts from the limits; 0 falls back to Node\'s own', () => {
    assert.deepEqual(listenerOptions({ headersTimeoutMs: 10_000, bodyTimeoutMs: 10_000, maxConnections: 5, maxRequestsPerConnection: 0, maxConnectionAgeMs: 0 }), {
      keepAliveTimeout: 65_000, headersTimeout: 10_000, requestTimeout: 25_000, connectionsCheckingInterval: 1000,
    });
    const off = listenerOptions({ headersTimeoutMs: 0, bodyTimeoutMs: 0, maxConnections: 0, maxRequestsPerConnection: 0, maxConnectionAgeMs: 0 });
    assert.deepEqual([off.headersTimeout, off.requestTimeout], [60_000, 300_000]);
  });
});

describe('a guarded listener over raw sockets', () => {
  let server: Server;
  let port = 0;
  const counted: number[] = [];
  before(async () => {
    const limits = { headersTimeoutMs: 1000, bodyTimeoutMs: 500, maxConnections: 8, maxRequestsPerConnection: 3, maxConnectionAgeMs: 800 };
    server = createServer(listenerOptions(limits), (req, res) => {
      readJson(req, 1000, limits.bodyTimeoutMs).then((body) => send(res, 200, { body }), (e: unknown) => {
        const a = answerOf(e);
        if (a?.close) res.setHeader('connection', 'close');
        send(res, a?.status ?? 500, { error: a?.message ?? 'bug' });
      });
    });
    guardListener(server, limits, (status) => counted.push(status));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  /** Sends raw bytes (optionally in timed parts) and returns everything read until the server closes. */
  function raw(parts: readonly (string | number)[], timeoutMs = 5000): Promise<string> {
    return new Promise((resolve) => {
      const c = connect(port, '127.0.0.1');
      let out = '';
      c.on('data', (d: Buffer) => (out += d.toString()));
      c.on('close', () => resolve(out));
      c.on('error', () => undefined);
      setTimeout(() => c.destroy(), timeoutMs).unref();
      void (async () => {
        for (const p of parts) {
          if (typeof p === 'number') await new Promise((r) => setTimeout(r, p));
          else if (!c.destroyed) c.write(p);
        }
      })();
    });
  }
  const status = (text: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  const post = (body: string, headers = 'Content-Type: application/json\r\n'): string => `POST / HTTP/1.1\r\nHost: x\r\n${headers}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;

  it('reads JSON; refuses other media types (415), oversized (413) and malformed (400) bodies', async () => {
    assert.equal(status(await raw([post('{"a":1}')])), 200);
    assert.match(await raw([post('{"a":1}', '')]), /^HTTP\/1\.1 415[^]*missing Content-Type/);
    assert.match(await raw([post('{"a":1}', 'Content-Type: text/plain\r\n')]), /^HTTP\/1\.1 415/);
    assert.match(await raw([post('{"a":1}', 'Content-Type: application/json\r\nContent-Encoding: gzip\r\n')]), /^HTTP\/1\.1 415[^]*Content-Encoding/);
    assert.equal(status(await raw([post('x'.repeat(2000))])), 413);
    assert.match(await raw([post('{"a":')]), /^HTTP\/1\.1 400[^]*malformed JSON/);
    assert.equal(status(await raw([post('['.repeat(900))])), 400, 'deep nesting is malformed JSON, not a crash');
  });

  it('closes a kept-alive connection after maxRequestsPerConnection answers, so a Service can rebalance it', async () => {
    const keep = (body: string): string => `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const out = await raw([keep('{"n":1}'), 100, keep('{"n":2}'), 100, keep('{"n":3}'), 100], 3000);
    const answers = out.split(/(?=HTTP\/1\.1 )/);
    assert.deepEqual(answers.map(status), [200, 200, 200]);
    assert.doesNotMatch(answers[1] ?? '', /connection: close/i);
    assert.match(answers[2] ?? '', /connection: close/i, 'the third answer closes the connection');
  });

  it('closes a kept-alive connection older than maxConnectionAgeMs at its next answer, however few requests it carried', async () => {
    const keep = (body: string): string => `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    // Two requests: the request cap (3) is not what closes it.
    const out = await raw([keep('{"n":1}'), 1000, keep('{"n":2}'), 100], 3000);
    // (The first answer comes at once, before even half the age.)
    const answers = out.split(/(?=HTTP\/1\.1 )/);
    assert.deepEqual(answers.map(status), [200, 200]);
    assert.doesNotMatch(answers[0] ?? '', /connection: close/i, 'a new connection is kept');
    assert.match(answers[1] ?? '', /connection: close/i, '1,000 ms old (the age is 400-800): its answer closes it');
  });

  it('answers a stalled body 408 within the body timeout and closes the connection', async () => {
    const started = Date.now();
    const out = await raw(['POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":'], 5000);
    assert.match(out, /^HTTP\/1\.1 408[^]*request body not received within 0.5 s/);
    assert.ok(Date.now() - started < 3000, `closed after ${Date.now() - started} ms`);
  });

  it('arms no timer per request for a body that comes whole: one sweep keeps the body timeout', async () => {
    // A one-packet body is still incomplete when its handler starts and on the next tick, so a timer armed per
    // request was set and cleared on nearly every one (a few µs of each on a busy server).
    const real = globalThis.setTimeout;
    let armed = 0;
    globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
      if (new Error().stack?.includes('http-io.ts') === true) armed += 1;
      return real(...args);
    }) as typeof setTimeout;
    try {
      const keep = (n: number): string => `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 7\r\n${n === 3 ? 'Connection: close\r\n' : ''}\r\n{"n":${n}}`;
      for (let i = 0; i < 5; i++) {
        const out = await raw([keep(1), 20, keep(2), 20, keep(3)], 3000);
        assert.deepEqual(out.split(/(?=HTTP\/1\.1 )/).map(status), [200, 200, 200]);
      }
    } finally {
      globalThis.setTimeout = real;
    }
    assert.equal(armed, 0, `${armed} timers armed by the body reader for 15 whole bodies`);
  });

  it('answers stalled headers 408 and counts it', async () => {
    const before = counted.length;
    const out = await raw(['POST / HTTP/1.1\r\nHost: x\r\n'], 5000);
    assert.match(out, /^HTTP\/1\.1 408[^]*"error":"request not received in time"/);
    assert.deepEqual(counted.slice(before), [408]);
  });

  it('answers requests the HTTP parser refuses with a JSON 4xx, counted', async () => {
    const before = counted.length;
    assert.match(await raw(['GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n']), /^HTTP\/1\.1 400[^]*malformed request target/);
    assert.match(await raw(['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n']), /^HTTP\/1\.1 400[^]*Content-Length/);
    assert.match(await raw(['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n']), /^HTTP\/1\.1 400/);
    assert.match(await raw(['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n']), /^HTTP\/1\.1 400/);
    assert.match(await raw([`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`]), /^HTTP\/1\.1 431/);
    assert.deepEqual(counted.slice(before), [400, 400, 400, 400, 431]);
  });

  it('answers a chunked body that breaks midway through its own handler: 400, connection closed', async () => {
    const before = counted.length;
    const out = await raw(['POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"a":\r\n', 50, 'zz\r\n']);
    assert.match(out, /^HTTP\/1\.1 400[^]*connection: close[^]*malformed chunked body/i);
    assert.deepEqual(counted.slice(before), [], 'counted by the handler, not twice');
  });

  it('closes connections past the cap at once', async () => {
    const held = await Promise.all(Array.from({ length: 8 }, () => new Promise<ReturnType<typeof connect>>((resolve) => {
      const c = connect(port, '127.0.0.1', () => resolve(c));
      c.on('error', () => undefined);
    })));
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    const out = await raw(['GET / HTTP/1.1\r\nHost: x\r\n\r\n'], 3000);
    assert.equal(out, '', 'the ninth connection is closed without an answer');
    assert.ok(Date.now() - started < 1000);
    for (const c of held) c.destroy();
  });
});
