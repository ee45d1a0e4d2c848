// Test program for the local node (image perennial-testing/http-echo): an HTTP server on the pod's address.
//   GET /healthz  200 (503 while /tmp/not-ready exists in its TMPDIR, to test readiness)
//   GET /env      the environment as JSON (to test env resolution)
//   GET /file?path=...  a file's text (to test volume mounts)
//   GET /fetch?url=...  the status code of a GET from inside the pod (to test the pod network)
// Exits 0 on SIGTERM after closing the server.
import { createServer } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const host = process.env.PERENNIAL_BIND_HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 8080);
const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/healthz') {
    const notReady = existsSync(join(process.env.TMPDIR ?? '/tmp', 'not-ready'));
    res.writeHead(notReady ? 503 : 200).end(notReady ? 'not ready' : 'ok');
  } else if (url.pathname === '/env') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(process.env));
  } else if (url.pathname === '/file') {
    try {
      res.writeHead(200).end(readFileSync(url.searchParams.get('path') ?? '', 'utf8'));
    } catch (e) {
      res.writeHead(404).end(String(e));
    }
  } else if (url.pathname === '/fetch') {
    fetch(url.searchParams.get('url') ?? '', { signal: AbortSignal.timeout(3000) })
      .then((r) => res.writeHead(200).end(String(r.status)), (e) => res.writeHead(502).end(String(e)));
  } else {
    res.writeHead(200).end(`hello from ${process.env.HOSTNAME ?? '?'} at ${host}`);
  }
});
server.listen(port, host);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
