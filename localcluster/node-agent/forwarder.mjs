// Runs inside the pod network namespace: listens on 127.0.0.1:<port> for each port given and forwards to
// <host>:<port>, so pods reach the cluster's servers at the same address as the host does.
// Usage: node forwarder.mjs <host> <port> [<port>...]
import { createConnection, createServer } from 'node:net';

const [host, ...ports] = process.argv.slice(2);
for (const port of ports.map(Number)) {
  createServer((client) => {
    const upstream = createConnection({ host, port });
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream).pipe(client);
  }).listen(port, '127.0.0.1');
}
process.on('SIGTERM', () => process.exit(0));
