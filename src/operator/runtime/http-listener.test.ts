import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { closeHttp, listenHttp } from './http-listener.js';

describe('listenHttp and closeHttp', () => {
  it('listens on a free port, answers, and closes with a keep-alive connection still open', async () => {
    const { server, port } = await listenHttp((_req, res) => res.end('ok'), 0, '127.0.0.1', { requestTimeoutMs: 10_000, headersTimeoutMs: 5_000 });
    assert.ok(port > 0);
    assert.equal(server.requestTimeout, 10_000);
    assert.equal(server.headersTimeout, 5_000);
    const agent = new http.Agent({ keepAlive: true });
    const body = await new Promise<string>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, agent }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => { text += c.toString(); });
        res.on('end', () => resolve(text));
      }).on('error', reject);
    });
    assert.equal(body, 'ok');
    await closeHttp(server); // resolves although the agent keeps its connection open
    assert.equal(server.listening, false);
    agent.destroy();
  });

  it('rejects with the listen error when the port is taken', async () => {
    const first = await listenHttp((_req, res) => res.end(), 0, '127.0.0.1');
    await assert.rejects(listenHttp((_req, res) => res.end(), first.port, '127.0.0.1'), { code: 'EADDRINUSE' });
    await closeHttp(first.server);
  });

  it('closing nothing is nothing', async () => {
    await closeHttp(undefined);
  });
});
