// The pod network of the local node. Kubernetes requires real pod addresses: EndpointSlices reject loopback ones
// ("may not be in the loopback range"), so Services would get no endpoints. As root, the agent therefore makes a
// network namespace of its own, joined to the host by a veth pair on a 10.2xx.0.0/16 subnet; every pod gets an
// address on that namespace's loopback and its processes run inside it (`ip netns exec`). The host reaches pods
// through the veth (probes, the operator scraping metrics, test traffic), and pods reach the cluster's servers on
// the host (API server, MinIO) at the same 127.0.0.1:<port> as the host does, through a pair of TCP forwarders.
// Without root it falls back to loopback addresses (127.10.x.y): everything but EndpointSlices works.
import { execFile, execSync } from 'node:child_process';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { onExit } from '../cleanup.js';
import { ManagedProcess } from '../process.js';

const run = promisify(execFile);
const forwarderScript = join(fileURLToPath(new URL('.', import.meta.url)), 'forwarder.mjs');

export interface PodNetwork {
  readonly mode: 'netns' | 'loopback';
  /** The address pods see as the node's (hostIP). */
  readonly hostIP: string;
  allocate(): Promise<string>;
  release(ip: string): Promise<void>;
  /** Makes host port 127.0.0.1:<port> reachable from pods at the same address (idempotent). */
  forward(port: number): Promise<void>;
  /** The command line that runs a program inside the pod network. */
  wrap(command: string, args: readonly string[]): { command: string; args: string[] };
  close(): Promise<void>;
}

export interface PodNetworkOptions {
  /** Host ports on 127.0.0.1 that pods must reach at the same address (API server, MinIO). */
  readonly forwardPorts: readonly number[];
  readonly logDir: string;
  /** Force loopback mode (no root needed, no EndpointSlices). */
  readonly loopbackOnly?: boolean;
}

export async function createPodNetwork(options: PodNetworkOptions): Promise<PodNetwork> {
  if (!options.loopbackOnly && process.getuid?.() === 0 && (await canRun('ip', ['netns', 'list']))) {
    return NetnsPodNetwork.create(options);
  }
  return new LoopbackPodNetwork();
}

async function canRun(cmd: string, args: string[]): Promise<boolean> {
  try {
    await run(cmd, args);
    return true;
  } catch {
    return false;
  }
}

/** Hands out addresses round-robin, so a pod's address is not given to the next pod at once (as IPAM avoids). */
class AddressPool {
  private readonly used = new Set<string>();
  private cursor = 1;
  constructor(private readonly prefix: string) {}

  take(): string {
    for (let n = 0; n < 65_000; n++) {
      this.cursor = this.cursor >= 65_000 ? 2 : this.cursor + 1;
      const i = this.cursor;
      if (i % 256 === 0 || i % 256 === 255) continue;
      const ip = `${this.prefix}.${Math.floor(i / 256)}.${i % 256}`;
      if (this.used.has(ip)) continue;
      this.used.add(ip);
      return ip;
    }
    throw new Error('out of pod addresses');
  }

  give(ip: string): void {
    this.used.delete(ip);
  }

  reserve(ip: string): void {
    this.used.add(ip);
  }
}

class LoopbackPodNetwork implements PodNetwork {
  readonly mode = 'loopback' as const;
  readonly hostIP = '127.0.0.1';
  private readonly pool = new AddressPool('127.10');

  allocate(): Promise<string> {
    return Promise.resolve(this.pool.take());
  }

  release(ip: string): Promise<void> {
    this.pool.give(ip);
    return Promise.resolve();
  }

  forward(): Promise<void> {
    return Promise.resolve(); // pods share the host's loopback
  }

  wrap(command: string, args: readonly string[]): { command: string; args: string[] } {
    return { command, args: [...args] };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

class NetnsPodNetwork implements PodNetwork {
  readonly mode = 'netns' as const;
  private readonly pool: AddressPool;
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly forwarders: ManagedProcess[] = [];
  private readonly forwarded = new Set<number>();
  private logDir = '';
  private unregister: () => void = () => undefined;

  private constructor(
    private readonly ns: string,
    private readonly hostVeth: string,
    private readonly subnet: string, // e.g. 10.213
  ) {
    this.pool = new AddressPool(subnet);
    // the .0.x block is the link; pods start at .1.x
    for (let i = 2; i < 256; i++) this.pool.reserve(`${subnet}.0.${i}`);
  }

  get hostIP(): string {
    return `${this.subnet}.0.1`;
  }

  static async create(options: PodNetworkOptions): Promise<NetnsPodNetwork> {
    const id = process.pid.toString(36);
    const ns = `perennial-${id}`;
    const hostVeth = `pn${id}h`.slice(0, 15);
    const podVeth = `pn${id}p`.slice(0, 15);
    const subnet = await freeSubnet();
    const net = new NetnsPodNetwork(ns, hostVeth, subnet);
    net.unregister = onExit(() => {
      // Synchronous last resort: deleting the namespace removes its end of the veth, and with it the pair.
      try {
        execSync(`ip netns del ${ns}`, { stdio: 'ignore' });
      } catch {
        // already gone
      }
    });
    try {
      await run('ip', ['netns', 'add', ns]);
      const inNs = (...args: string[]) => run('ip', ['netns', 'exec', ns, 'ip', ...args]);
      await inNs('link', 'set', 'lo', 'up');
      await run('ip', ['link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', podVeth]);
      await run('ip', ['link', 'set', podVeth, 'netns', ns]);
      await run('ip', ['addr', 'add', `${subnet}.0.1/16`, 'dev', hostVeth]);
      await run('ip', ['link', 'set', hostVeth, 'up']);
      await inNs('addr', 'add', `${subnet}.0.2/16`, 'dev', podVeth);
      await inNs('link', 'set', podVeth, 'up');
      await inNs('route', 'add', 'default', 'via', `${subnet}.0.1`);
      await net.startForwarders(options);
      return net;
    } catch (e: unknown) {
      await net.close();
      throw e;
    }
  }

  private async startForwarders(options: PodNetworkOptions): Promise<void> {
    this.logDir = options.logDir;
    for (const port of options.forwardPorts) await this.forward(port);
  }

  async forward(port: number): Promise<void> {
    if (this.forwarded.has(port)) return;
    this.forwarded.add(port);
    // Host side: <subnet>.0.1:<port> → 127.0.0.1:<port>.
    const server = createServer((client) => {
      const upstream = createConnection({ host: '127.0.0.1', port });
      for (const [s, other] of [[client, upstream], [upstream, client]] as const) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        // pipe() does not carry an error across: without this, a server that stops (MinIO restarted) or refuses
        // leaves the pod's side of the connection open forever, and its request hangs instead of failing.
        s.on('error', () => {
          s.destroy();
          other.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.hostIP, () => resolve());
    });
    this.servers.push(server);
    // Namespace side: 127.0.0.1:<port> → <subnet>.0.1:<port>, so pods use the host's own addresses.
    const forwarder = new ManagedProcess({
      name: `pod-network-forwarder-${port}`,
      command: 'ip',
      args: ['netns', 'exec', this.ns, process.execPath, forwarderScript, this.hostIP, String(port)],
      logFile: join(this.logDir, 'pod-network-forwarder.log'),
    });
    forwarder.start();
    this.forwarders.push(forwarder);
    await waitForwarder(this.ns, port);
  }

  async allocate(): Promise<string> {
    const ip = this.pool.take();
    await run('ip', ['netns', 'exec', this.ns, 'ip', 'addr', 'add', `${ip}/32`, 'dev', 'lo']);
    return ip;
  }

  async release(ip: string): Promise<void> {
    await run('ip', ['netns', 'exec', this.ns, 'ip', 'addr', 'del', `${ip}/32`, 'dev', 'lo']).catch(() => undefined);
    this.pool.give(ip);
  }

  wrap(command: string, args: readonly string[]): { command: string; args: string[] } {
    return { command: 'ip', args: ['netns', 'exec', this.ns, command, ...args] };
  }

  async close(): Promise<void> {
    await Promise.all(this.forwarders.map((f) => f.stop(1000)));
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    await run('ip', ['netns', 'del', this.ns]).catch(() => undefined);
    await run('ip', ['link', 'del', this.hostVeth]).catch(() => undefined);
    this.unregister();
  }
}

/** A 10.2xx /16 that no route of this machine uses yet (several agents may run side by side). */
async function freeSubnet(): Promise<string> {
  const { stdout } = await run('ip', ['-4', 'route', 'show']);
  const used = new Set([...stdout.matchAll(/\b10\.(\d+)\.\d+\.\d+/g)].map((m) => Number(m[1])));
  const start = 200 + (process.pid % 50);
  for (let i = 0; i < 50; i++) {
    const second = 200 + ((start - 200 + i) % 50);
    if (!used.has(second)) return `10.${second}`;
  }
  throw new Error('no free 10.200-249 subnet for the pod network');
}

async function waitForwarder(ns: string, port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      await run('ip', ['netns', 'exec', ns, process.execPath, '-e',
        `require('net').connect(${port}, '127.0.0.1').on('connect', () => process.exit(0)).on('error', () => process.exit(1))`]);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error('the pod network forwarder did not start');
}
