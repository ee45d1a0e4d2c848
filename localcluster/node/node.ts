// A real Kubernetes node for the local cluster: containerd (Debian's 1.6 with runc), the kubelet, kube-proxy in
// iptables mode and kube-scheduler from the pinned Kubernetes module, CNI bridge networking and CoreDNS, all in a
// network namespace of their own (network.ts) and in folders under the cluster's data folder.
//
//   prepare(): claim addresses, create the network, make the kubelet's and the API server's client PKI
//   — the control plane starts, its API server and MinIO on the host address pods reach —
//   start():   containerd → pause image → kubelet (registers the Node) → kube-proxy → kube-scheduler → CoreDNS
//   stop():    the same in reverse, then every container process, shim, mount, cgroup and the namespace go, and
//              the kernel settings the kubelet changes are put back. Also run synchronously at exit (Ctrl-C).
//   restart(): the node's services (kubelet, kube-proxy, containerd) stopped and started again, as a node upgrade
//              or `systemctl restart` does; the containers run on, their shims outliving containerd.
//
// Needs root (namespaces, mounts, cgroups). One node per cluster; nodes of concurrent runs get other addresses.
import { execFileSync } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { onExit } from '../cleanup.js';
import { freePorts } from '../net.js';
import { ManagedProcess } from '../process.js';
import { containerdConfig, containerdSocket, cniConfig, corefile, kubeletConfig, kubeProxyConfig, type NodeDirs } from './configs.js';
import { claimIndex, createNetwork, inNode, releaseIndex, removeNetwork, type NodeAddresses } from './network.js';
import { makeNodePki, type NodePki } from './pki.js';

/** Host-wide kernel settings the kubelet sets (when protectKernelDefaults is off); restored on stop. */
const globalSysctls = ['vm/overcommit_memory', 'kernel/panic', 'kernel/panic_on_oops'] as const;

export const nodeName = (a: NodeAddresses): string => `perennial-node-${a.index}`;

const nodeDirs = (root: string): NodeDirs => ({ containerd: join(root, 'containerd'), kubelet: join(root, 'kubelet'), cni: join(root, 'cni') });

export interface NodeControlPlane {
  readonly server: string;
  readonly kubeconfigPath: string;
  readonly binDir: string;
  readonly logDir: string;
}

export class LocalNode {
  private readonly procs: ManagedProcess[] = [];
  private readonly sysctls = new Map<string, string>();
  private stopped = false;
  private readonly unregister: () => void;
  /** Set by start(): whether the Node is Ready, and where the kubelet serves. */
  private readyCheck: (() => Promise<boolean>) | undefined;
  private kubeletPort = 0;

  private constructor(readonly addresses: NodeAddresses, readonly dirs: NodeDirs, readonly pki: NodePki) {
    for (const key of globalSysctls) this.sysctls.set(key, readFileSync(`/proc/sys/${key}`, 'utf8').trim());
    this.unregister = onExit(() => this.teardown());
  }

  get name(): string {
    return nodeName(this.addresses);
  }

  /** Claims addresses and creates the network and the PKI; the control plane starts after this. */
  static prepare(dataDir: string): LocalNode {
    if (process.getuid?.() !== 0) throw new Error('a local node needs root (network namespaces, mounts, cgroups)');
    const root = join(dataDir, 'node');
    const addresses = claimIndex(root, (stale, staleRoot) => {
      // A crashed run's node (its process was killed before it could tear down): remove what it left.
      removeLeftovers(stale, staleRoot === undefined ? undefined : nodeDirs(staleRoot));
      if (staleRoot !== undefined) rmSync(staleRoot, { recursive: true, force: true });
    });
    const dirs = nodeDirs(root);
    for (const d of [dirs.containerd, dirs.kubelet, join(dirs.cni, 'net.d')]) mkdirSync(d, { recursive: true });
    try {
      createNetwork(addresses);
      return new LocalNode(addresses, dirs, makeNodePki(join(root, 'pki'), addresses));
    } catch (e: unknown) {
      removeNetwork(addresses);
      releaseIndex(addresses);
      throw e;
    }
  }

  /** Starts the node's components against a running control plane; resolves once the Node is Ready. */
  async start(cp: NodeControlPlane, ready: () => Promise<boolean>): Promise<void> {
    const a = this.addresses;
    const d = this.dirs;
    const [kubeletPort = 0, kubeletHealthz = 0, proxyHealthz = 0, proxyMetrics = 0] = await freePorts(4);
    this.readyCheck = ready;
    this.kubeletPort = kubeletPort;
    writeFileSync(join(d.containerd, 'config.toml'), containerdConfig(d));
    writeFileSync(join(d.cni, 'net.d', '10-perennial.conflist'), cniConfig(a, d));
    writeFileSync(join(d.kubelet, 'config.yaml'), kubeletConfig(a, d, { port: kubeletPort, healthz: kubeletHealthz }, this.pki));
    writeFileSync(join(d.kubelet, 'kube-proxy.yaml'), kubeProxyConfig(a, cp.kubeconfigPath, { healthz: proxyHealthz, metrics: proxyMetrics }));
    writeFileSync(join(d.kubelet, 'Corefile'), corefile(a, cp.server, cp.kubeconfigPath));
    const bin = (name: string): string => join(cp.binDir, name);
    const log = (name: string): string => join(cp.logDir, `${name}.log`);
    makeCgroupRoot(this.addresses);
    const containerd = this.process('containerd', inNode(a, 'containerd', ['--config', join(d.containerd, 'config.toml')]), log('containerd'));
    await waitFor('containerd', containerd, () => existsSync(containerdSocket(d)), 30_000);
    this.process('kubelet', inNode(a, bin('kubelet'), [
      `--config=${join(d.kubelet, 'config.yaml')}`, `--kubeconfig=${cp.kubeconfigPath}`, `--root-dir=${join(d.kubelet, 'root')}`,
      `--cert-dir=${join(d.kubelet, 'pki')}`, `--hostname-override=${this.name}`, `--node-ip=${a.nodeIP}`, '--v=1',
    ]), log('kubelet'));
    this.process('kube-proxy', inNode(a, bin('kube-proxy'), [`--config=${join(d.kubelet, 'kube-proxy.yaml')}`, `--hostname-override=${this.name}`, '--v=1']), log('kube-proxy'));
    this.process('kube-scheduler', { command: bin('kube-scheduler'), args: [
      `--kubeconfig=${cp.kubeconfigPath}`, `--authentication-kubeconfig=${cp.kubeconfigPath}`, `--authorization-kubeconfig=${cp.kubeconfigPath}`,
      '--leader-elect=false', '--bind-address=127.0.0.1', '--secure-port=0', '--v=1',
    ] }, log('kube-scheduler'));
    this.process('coredns', { command: bin('coredns'), args: ['-conf', join(d.kubelet, 'Corefile')] }, log('coredns'));
    await this.untilReady(ready, cp.logDir);
  }

  /**
   * Restarts the node's services: the kubelet and kube-proxy stop gracefully, then containerd; containerd starts
   * again (the containers' shims outlive it and it finds them again), then the kubelet and kube-proxy, with the
   * same configuration and logs. Resolves once the kubelet answers again and the Node is Ready. The same processes
   * are started again, so stop() and the exit hook still remove everything.
   */
  async restart(): Promise<void> {
    const ready = this.readyCheck;
    if (this.stopped || ready === undefined) throw new Error(`node ${this.name} is not running`);
    const named = (name: string): ManagedProcess => {
      const p = this.procs.find((x) => x.spec.name === name);
      if (!p) throw new Error(`node ${this.name} has no ${name}`);
      return p;
    };
    for (const name of ['kubelet', 'kube-proxy', 'containerd']) await named(name).stop(10_000);
    rmSync(containerdSocket(this.dirs), { force: true }); // so its return is seen, not the old socket file
    const containerd = named('containerd');
    containerd.start();
    await waitFor('containerd', containerd, () => existsSync(containerdSocket(this.dirs)), 30_000);
    named('kubelet').start();
    named('kube-proxy').start();
    // Until the new kubelet serves, Ready is the old kubelet's last word (the Node goes NotReady only after the
    // grace period): wait for its port first.
    let kubeletUp = false;
    await this.untilReady(async () => {
      kubeletUp ||= await answers(this.addresses.nodeIP, this.kubeletPort);
      return kubeletUp && ready();
    }, dirname(named('kubelet').spec.logFile));
  }

  private async untilReady(ready: () => Promise<boolean>, logDir: string): Promise<void> {
    const deadline = Date.now() + 120_000;
    while (!(await ready().catch(() => false))) {
      for (const p of this.procs) p.assertRunning();
      if (Date.now() > deadline) throw new Error(`node ${this.name} not Ready after 120 s; see ${logDir}`);
      await sleep(250);
    }
  }

  /** Makes an OCI archive's images available to the kubelet (no registry: imagePullPolicy IfNotPresent or Never). */
  importImage(archive: string): void {
    execFileSync('ctr', ['--address', containerdSocket(this.dirs), '-n', 'k8s.io', 'images', 'import', '--no-unpack', archive], { stdio: ['ignore', 'ignore', 'pipe'] });
  }

  /** Stops everything and removes what the node made, restoring the host. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    // The kubelet and kube-proxy first and gracefully (they would restart what is killed under them).
    for (const name of ['kube-scheduler', 'kubelet', 'kube-proxy', 'coredns']) await this.procs.find((p) => p.spec.name === name)?.stop(5000);
    this.teardown();
  }

  private process(name: string, cmd: { command: string; args: readonly string[] }, logFile: string): ManagedProcess {
    const p = new ManagedProcess({ name, command: cmd.command, args: cmd.args, logFile });
    p.start();
    this.procs.push(p);
    return p;
  }

  /** Synchronous, so it can run at exit: processes, containers, shims, mounts, cgroups, network, sysctls. Idempotent. */
  teardown(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const p of [...this.procs].reverse()) p.killNow();
    removeLeftovers(this.addresses, this.dirs);
    releaseIndex(this.addresses);
    for (const [key, value] of this.sysctls) {
      try {
        writeFileSync(`/proc/sys/${key}`, value);
      } catch {
        // not ours to insist on
      }
    }
    this.unregister();
  }
}

/** True when something answers HTTPS at the address (any status: the kubelet refuses anonymous requests). */
function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpsRequest({ host, port, path: '/healthz', rejectUnauthorized: false, timeout: 2000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

async function waitFor(what: string, p: ManagedProcess, ok: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    p.assertRunning();
    if (Date.now() > deadline) throw new Error(`${what} did not come up in ${timeoutMs / 1000} s; see ${p.spec.logFile}`);
    await sleep(100);
  }
}

/** The node's cgroup root in every v1 hierarchy (the kubelet wants it to exist); cpuset needs its cpus and mems. */
function makeCgroupRoot(a: NodeAddresses): void {
  for (const h of readdirSync('/sys/fs/cgroup')) {
    const parent = join('/sys/fs/cgroup', h);
    if (h === 'unified' || !existsSync(join(parent, 'cgroup.procs'))) continue;
    const dir = join(parent, `perennial-node-${a.index}`);
    mkdirSync(dir, { recursive: true });
    if (h.split(',').includes('cpuset')) {
      for (const f of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(join(dir, f), readFileSync(join(parent, f), 'utf8').trim());
    }
  }
}

/** Every pid in a cgroup subtree (any v1 hierarchy that has it). */
function cgroupPids(path: string): number[] {
  const pids: number[] = [];
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    if (names.includes('cgroup.procs')) {
      for (const line of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')) if (line !== '') pids.push(Number(line));
    }
    for (const n of names) if (!n.includes('.')) walk(join(dir, n));
  };
  walk(path);
  return pids;
}

function removeCgroups(path: string): void {
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      return;
    }
    for (const n of names) walk(join(dir, n));
    try {
      execFileSync('rmdir', [dir], { stdio: 'ignore' });
    } catch {
      // busy or gone
    }
  };
  walk(path);
}

/**
 * Removes what a node leaves on the host, whether it stopped cleanly, crashed or belongs to a dead run: container
 * processes (by the node's cgroups), containerd shims (by the node's socket), mounts under its folders, its
 * cgroups, and the network namespace with its routes and veth.
 */
function removeLeftovers(a: NodeAddresses, dirs?: NodeDirs): void {
  const hierarchies = existsSync('/sys/fs/cgroup') ? readdirSync('/sys/fs/cgroup').map((h) => join('/sys/fs/cgroup', h, `perennial-node-${a.index}`)) : [];
  for (let round = 0; round < 3; round++) {
    const pids = new Set(hierarchies.flatMap(cgroupPids));
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    if (pids.size === 0) break;
    execFileSync('sleep', ['0.2']);
  }
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    // containerd-shim-runc-v2 -namespace k8s.io -id … -address <this node's socket>
    if (cmdline.startsWith('containerd-shim') || cmdline.includes('/containerd-shim')) {
      if (dirs === undefined ? cmdline.includes(`perennial-node-${a.index}`) || cmdline.includes(`/node/containerd/`) : cmdline.includes(dirs.containerd)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
  }
  if (dirs !== undefined) {
    const roots = [dirs.containerd, dirs.kubelet, dirs.cni];
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((m) => roots.some((r) => m === r || m.startsWith(`${r}/`)))
      .sort((x, y) => y.length - x.length);
    for (const m of mounts) {
      try {
        execFileSync('umount', ['-l', m], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
  }
  for (const h of hierarchies) removeCgroups(h);
  removeNetwork(a);
}
