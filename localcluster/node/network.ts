// The network of the local node: its own network namespace, like a machine of its own, joined to the host by a
// veth pair. Everything the node's components change lives in that namespace and goes with it: the pod bridge,
// the pods' veths, kube-proxy's iptables rules, conntrack, the forwarding and route_localnet sysctls.
//
//   host                                        node namespace perennial-node-<n>
//   10.250.<n>.1 (API server, MinIO, DNS) ◄─veth─► 10.250.<n>.2 (the node's InternalIP), default route via .1
//   route 10.244.<n>.0/24 (pods)     via .2           cni0 10.244.<n>.1 ─ pods 10.244.<n>.2…
//   route 10.96.<n>.0/24 (Services)  via .2           kube-proxy DNATs ClusterIPs to pod addresses
//
// The host reaches pods and ClusterIPs through the node (the routes), pods reach the host's servers at
// 10.250.<n>.1, which the API server advertises (the `kubernetes` Service) and MinIO and the cluster DNS listen
// on. <n> is the first index no other node of this machine holds (a claim folder with the owner's pid; a dead
// owner's leftovers are removed first), so nodes of concurrent runs never share addresses or names.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const claimRoot = '/run/perennial-nodes';
const maxIndex = 200;

export interface NodeAddresses {
  readonly index: number;
  /** The node's network namespace (`ip netns` name; /run/netns/<name>). */
  readonly netns: string;
  /** Host end of the veth: where pods reach the API server, MinIO and DNS. */
  readonly hostIP: string;
  /** Node end of the veth: the node's InternalIP. */
  readonly nodeIP: string;
  readonly podCIDR: string;
  readonly podGateway: string;
  readonly serviceCIDR: string;
  /** The host side of the veth pair. */
  readonly hostVeth: string;
}

export function addressesOf(index: number): NodeAddresses {
  return {
    index,
    netns: `perennial-node-${index}`,
    hostIP: `10.250.${index}.1`,
    nodeIP: `10.250.${index}.2`,
    podCIDR: `10.244.${index}.0/24`,
    podGateway: `10.244.${index}.1`,
    serviceCIDR: `10.96.${index}.0/24`,
    hostVeth: `pnode${index}`,
  };
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function tryIp(...args: string[]): void {
  try {
    ip(...args);
  } catch {
    // already gone
  }
}

/** Runs a command inside the node's namespace (network only: mounts stay the host's, as on a real node). */
export function inNode(a: NodeAddresses, command: string, args: readonly string[]): { command: string; args: string[] } {
  return { command: 'nsenter', args: [`--net=/run/netns/${a.netns}`, '--', command, ...args] };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Claims the first free index: a folder only one process can create, holding the owner's pid and the folder its
 * node keeps its state in. A dead owner's claim is taken over after onStale removed what it left behind.
 */
export function claimIndex(stateDir: string, onStale: (a: NodeAddresses, staleStateDir: string | undefined) => void): NodeAddresses {
  mkdirSync(claimRoot, { recursive: true });
  for (let index = 1; index <= maxIndex; index++) {
    const dir = join(claimRoot, String(index));
    try {
      mkdirSync(dir);
    } catch {
      const owner = Number(readFileSync(join(dir, 'pid'), { encoding: 'utf8', flag: 'a+' }) || 'NaN');
      if (Number.isFinite(owner) && pidAlive(owner)) continue;
      const staleDir = readFileSync(join(dir, 'state-dir'), { encoding: 'utf8', flag: 'a+' }).trim();
      onStale(addressesOf(index), staleDir === '' ? undefined : staleDir); // a crashed run's node
    }
    writeFileSync(join(dir, 'state-dir'), stateDir);
    writeFileSync(join(dir, 'pid'), String(process.pid));
    return addressesOf(index);
  }
  throw new Error(`no free node index under ${claimRoot} (${maxIndex} in use)`);
}

export function releaseIndex(a: NodeAddresses): void {
  rmSync(join(claimRoot, String(a.index)), { recursive: true, force: true });
}

/** Creates the namespace, the veth pair and the routes. Throws (after undoing what it did) on failure. */
export function createNetwork(a: NodeAddresses): void {
  try {
    ip('netns', 'add', a.netns);
    ip('link', 'add', a.hostVeth, 'type', 'veth', 'peer', 'name', `${a.hostVeth}n`);
    ip('link', 'set', `${a.hostVeth}n`, 'netns', a.netns);
    ip('addr', 'add', `${a.hostIP}/24`, 'dev', a.hostVeth);
    ip('link', 'set', a.hostVeth, 'up');
    const n = (...args: string[]): void => ip('-n', a.netns, ...args);
    n('link', 'set', 'lo', 'up');
    n('link', 'set', `${a.hostVeth}n`, 'name', 'eth0');
    n('addr', 'add', `${a.nodeIP}/24`, 'dev', 'eth0');
    n('link', 'set', 'eth0', 'up');
    n('route', 'add', 'default', 'via', a.hostIP);
    ip('route', 'add', a.podCIDR, 'via', a.nodeIP);
    ip('route', 'add', a.serviceCIDR, 'via', a.nodeIP);
    // Per-namespace: the node routes for its pods; br_netfilter hands bridged pod traffic to kube-proxy's rules.
    const sysctl = (key: string, value: string): void => {
      execFileSync('ip', ['netns', 'exec', a.netns, 'sysctl', '-q', '-w', `${key}=${value}`], { stdio: 'ignore' });
    };
    sysctl('net.ipv4.ip_forward', '1');
    if (existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables')) sysctl('net.bridge.bridge-nf-call-iptables', '1');
  } catch (e: unknown) {
    removeNetwork(a);
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`creating the node network ${a.netns} failed${stderr ? `: ${stderr}` : ''}`, { cause: e });
  }
}

/** Removes the routes, the veth pair and the namespace (with everything in it). Idempotent; synchronous. */
export function removeNetwork(a: NodeAddresses): void {
  tryIp('route', 'del', a.podCIDR);
  tryIp('route', 'del', a.serviceCIDR);
  tryIp('link', 'del', a.hostVeth);
  tryIp('netns', 'del', a.netns);
}
