// A real local control plane on loopback: etcd, kube-apiserver, optionally kube-controller-manager, and MinIO,
// built from pinned Go modules (build-servers.sh) and started on free ports. Returns what a client needs
// (a kubeconfig, tokens, the S3 endpoint and credentials) and tears everything down on stop(), on Ctrl-C and
// when the process exits, leaving only the component logs (under .cache/logs/, the newest runs kept).
import { execFile } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { onExit } from './cleanup.js';
import { freePorts, waitHealthy } from './net.js';
import { ManagedProcess } from './process.js';
import { pauseImageArchive } from './node/images.js';
import { LocalNode, nodeName } from './node/node.js';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..');
const keepLogRuns = 20;

export interface ClusterOptions {
  /** Run kube-controller-manager (Deployments → ReplicaSets → Pods, Jobs → Pods, garbage collection). Default true. */
  readonly controllerManager?: boolean;
  /** Run MinIO. Default true. */
  readonly minio?: boolean;
  /** More environment for MinIO, e.g. a notify_webhook target (MINIO_NOTIFY_WEBHOOK_*). */
  readonly minioEnv?: Readonly<Record<string, string>>;
  /** A word naming this cluster in its log folder. */
  readonly name?: string;
  /**
   * An audit policy (YAML of audit.k8s.io/v1 Policy): the API server then writes its audit log (JSON lines) to
   * info.auditLogPath. Default: no audit log.
   */
  readonly auditPolicy?: string;
  /** More users with a bearer token each, all members of system:masters (info.userTokens), so a benchmark can
   * tell one program's requests from another's in the audit log. Default: none. */
  readonly users?: readonly string[];
  /** ClusterIP range of Services. Default 10.0.0.0/24 (254 Services); a benchmark with thousands asks for more. */
  readonly serviceClusterIpRange?: string;
  /**
   * Run a real node (node/node.ts: containerd, kubelet, kube-proxy, kube-scheduler, CoreDNS in a network namespace
   * of its own). The API server and MinIO then listen on the node's host address instead of 127.0.0.1, where pods
   * reach them, and Services get the node's range. Needs root. Default false.
   */
  readonly node?: boolean;
}

/** Where a cluster's node is, when it runs one. */
export interface NodeInfo {
  readonly name: string;
  /** The host's address on the node network: API server, MinIO and DNS for pods. */
  readonly hostIP: string;
  readonly nodeIP: string;
  readonly podCIDR: string;
  readonly serviceCIDR: string;
}

export interface S3Info {
  readonly endPoint: string;
  readonly port: number;
  readonly useSSL: false;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly region: string;
  /** http://host:port */
  readonly url: string;
}

/** Everything a client needs to use a running cluster; JSON-serialisable so a test runner can hand it on. */
export interface ClusterInfo {
  readonly server: string;
  readonly kubeconfigPath: string;
  /** PEM of the API server's self-signed serving chain. */
  readonly caData: string;
  /** Member of system:masters. */
  readonly adminToken: string;
  /** Authenticated user "alice" with no roles at all. */
  readonly unprivilegedToken: string;
  readonly s3: S3Info | undefined;
  readonly logDir: string;
  readonly binDir: string;
  readonly controllerManager: boolean;
  /** Present when the cluster was started with an auditPolicy; removed with the data folder on stop(). */
  readonly auditLogPath?: string | undefined;
  /** Bearer token of each user asked for in options.users. */
  readonly userTokens: Readonly<Record<string, string>>;
  /** Present when the cluster runs a node. */
  readonly node?: NodeInfo | undefined;
}

/** Builds (or finds in the cache) the server binaries; returns their folder. */
export async function ensureServers(names: readonly string[] = ['cluster']): Promise<string> {
  const script = join(here, 'build-servers.sh');
  const { stdout } = await promisify(execFile)(script, [...names], {
    maxBuffer: 16 * 1024 * 1024,
    timeout: 80 * 60 * 1000,
  }).catch((e: unknown) => {
    const err = e as { stderr?: string; message?: string };
    throw new Error(`building the local cluster servers failed: ${err.stderr ?? err.message ?? String(e)}`);
  });
  const lines = stdout.trim().split('\n');
  const bin = lines[lines.length - 1];
  if (!bin) throw new Error('build-servers.sh printed no folder');
  return bin;
}

export class LocalCluster {
  private stopped = false;
  private readonly unregisterCleanup: () => void;

  private constructor(
    readonly info: ClusterInfo,
    private readonly dataDir: string,
    /** Every server, in start order. */
    private readonly procs: readonly ManagedProcess[],
    private readonly apiServer: ManagedProcess,
    private readonly apiServerHealthUrl: string,
    private readonly minio: ManagedProcess | undefined,
    /** The node, when the cluster runs one. */
    readonly node: LocalNode | undefined,
  ) {
    // The node first: its container mounts live under the data folder, and removing a folder with a container's
    // mounts (a hostPath volume) in it would reach through them. (Exit hooks run newest first.)
    this.unregisterCleanup = onExit(() => {
      this.node?.teardown();
      rmSync(this.dataDir, { recursive: true, force: true });
    });
  }

  get logDir(): string {
    return this.info.logDir;
  }

  static async start(options: ClusterOptions = {}): Promise<LocalCluster> {
    const withCm = options.controllerManager ?? true;
    const withMinio = options.minio ?? true;
    const withNode = options.node ?? false;
    const bin = await ensureServers(withNode ? nodeServers : ['cluster']);
    const logDir = newLogDir(options.name ?? 'cluster');
    const dataDir = mkdtempSync(join(tmpdir(), 'perennial-cluster-'));
    // Registered before anything starts, so a failure half-way still removes the folder.
    const removeData = onExit(() => rmSync(dataDir, { recursive: true, force: true }));
    const started: ManagedProcess[] = [];
    let node: LocalNode | undefined;
    try {
      node = withNode ? LocalNode.prepare(dataDir) : undefined;
      // Where the API server and MinIO listen: loopback, or with a node the host's address on the node network.
      const host = node?.addresses.hostIP ?? '127.0.0.1';
      const [etcdClient = 0, etcdPeer = 0, apiPort = 0, cmPort = 0, minioPort = 0] = await freePorts(5);

      const etcd = new ManagedProcess({
        name: 'etcd',
        command: join(bin, 'etcd'),
        args: [
          '--name=default',
          `--data-dir=${join(dataDir, 'etcd')}`,
          `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
          `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
          `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
          `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
          `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`,
          '--unsafe-no-fsync',
          '--log-level=warn',
        ],
        logFile: join(logDir, 'etcd.log'),
      });
      etcd.start();
      started.push(etcd);

      const adminToken = randomBytes(16).toString('hex');
      const unprivilegedToken = randomBytes(16).toString('hex');
      const pki = join(dataDir, 'pki');
      mkdirSync(pki, { recursive: true });
      const userTokens = Object.fromEntries((options.users ?? []).map((u) => [u, randomBytes(16).toString('hex')]));
      const extraLines = Object.entries(userTokens).map(([u, t]) => `${t},${u},${u}-uid,"system:masters"\n`).join('');
      writeFileSync(join(pki, 'tokens.csv'),
        `${adminToken},admin,admin-uid,"system:masters"\n${unprivilegedToken},alice,alice-uid\n${extraLines}`, { mode: 0o600 });
      let auditLogPath: string | undefined;
      if (options.auditPolicy !== undefined) {
        writeFileSync(join(pki, 'audit-policy.yaml'), options.auditPolicy);
        auditLogPath = join(dataDir, 'audit.log');
      }
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      writeFileSync(join(pki, 'sa.key'), privateKey.export({ type: 'pkcs1', format: 'pem' }), { mode: 0o600 });
      writeFileSync(join(pki, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));

      const server = `https://${host}:${apiPort}`;
      const apiServer = new ManagedProcess({
        name: 'kube-apiserver',
        command: join(bin, 'kube-apiserver'),
        args: [
          `--etcd-servers=http://127.0.0.1:${etcdClient}`,
          `--bind-address=${host}`,
          `--advertise-address=${host}`,
          `--secure-port=${apiPort}`,
          `--cert-dir=${join(pki, 'serving')}`,
          `--service-cluster-ip-range=${node?.addresses.serviceCIDR ?? options.serviceClusterIpRange ?? '10.0.0.0/24'}`,
          ...(node === undefined ? [] : [
            `--kubelet-client-certificate=${node.pki.apiserverClientCert}`, `--kubelet-client-key=${node.pki.apiserverClientKey}`,
            `--kubelet-certificate-authority=${node.pki.caFile}`, '--kubelet-preferred-address-types=InternalIP',
          ]),
          '--allow-privileged=true',
          '--authorization-mode=RBAC',
          `--service-account-issuer=${server}`,
          `--service-account-key-file=${join(pki, 'sa.pub')}`,
          `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
          `--token-auth-file=${join(pki, 'tokens.csv')}`,
          // One audit log file: its writer rotates at 100 MB when no size is given (maxsize 0), and the readers of the
          // log (bench/operator-scale) read one file (at 10,000 + 10,000 they counted the last 100 MB only).
          ...(auditLogPath === undefined ? [] : [`--audit-policy-file=${join(pki, 'audit-policy.yaml')}`, `--audit-log-path=${auditLogPath}`, '--audit-log-maxsize=1000000']),
          // Without kube-controller-manager nothing creates the default ServiceAccounts that this plugin waits for.
          ...(withCm ? [] : ['--disable-admission-plugins=ServiceAccount']),
          '--profiling=false',
          '--v=1',
        ],
        logFile: join(logDir, 'kube-apiserver.log'),
      });
      const minioCreds = { accessKey: 'perennial', secretKey: randomBytes(12).toString('hex') };
      const minio = withMinio ? new ManagedProcess({
        name: 'minio',
        command: join(bin, 'minio'),
        args: ['server', join(dataDir, 'minio'), '--address', `${host}:${minioPort}`, '--quiet'],
        env: {
          MINIO_ROOT_USER: minioCreds.accessKey,
          MINIO_ROOT_PASSWORD: minioCreds.secretKey,
          MINIO_BROWSER: 'off',
          MINIO_UPDATE: 'off',
          MINIO_CI_CD: '1',
          ...options.minioEnv,
        },
        logFile: join(logDir, 'minio.log'),
      }) : undefined;

      await waitHealthy(etcd, `http://127.0.0.1:${etcdClient}/health`, 60_000);
      apiServer.start();
      started.push(apiServer);
      if (minio) {
        minio.start();
        started.push(minio);
      }
      const healthUrl = `${server}/readyz`;
      const auth = { Authorization: `Bearer ${adminToken}` };
      await waitHealthy(apiServer, healthUrl, 120_000, auth);
      const caData = readFileSync(join(pki, 'serving', 'apiserver.crt'), 'utf8');

      const kubeconfigPath = join(dataDir, 'kubeconfig');
      writeFileSync(kubeconfigPath, kubeconfigYaml(server, caData, adminToken, 'admin'), { mode: 0o600 });

      let cm: ManagedProcess | undefined;
      if (withCm) {
        cm = new ManagedProcess({
          name: 'kube-controller-manager',
          command: join(bin, 'kube-controller-manager'),
          args: [
            `--kubeconfig=${kubeconfigPath}`,
            `--authentication-kubeconfig=${kubeconfigPath}`,
            `--authorization-kubeconfig=${kubeconfigPath}`,
            `--service-account-private-key-file=${join(pki, 'sa.key')}`,
            `--root-ca-file=${join(pki, 'serving', 'apiserver.crt')}`,
            '--leader-elect=false',
            '--controllers=*',
            '--bind-address=127.0.0.1',
            `--secure-port=${cmPort}`,
            `--cert-dir=${join(pki, 'kcm')}`,
            '--concurrent-gc-syncs=5',
            '--v=1',
          ],
          logFile: join(logDir, 'kube-controller-manager.log'),
        });
        cm.start();
        started.push(cm);
        await waitHealthy(cm, `https://127.0.0.1:${cmPort}/healthz`, 120_000);
      }

      let s3: S3Info | undefined;
      if (minio) {
        await waitHealthy(minio, `http://${host}:${minioPort}/minio/health/ready`, 60_000);
        s3 = {
          endPoint: host,
          port: minioPort,
          useSSL: false,
          ...minioCreds,
          region: 'us-east-1',
          url: `http://${host}:${minioPort}`,
        };
      }
      let nodeInfo: NodeInfo | undefined;
      if (node) {
        const name = nodeName(node.addresses);
        await node.start({ server, kubeconfigPath, binDir: bin, logDir }, () => nodeReady(server, caData, adminToken, name));
        node.importImage(pauseImageArchive(join(bin, 'pause')));
        // The node has no GPU, but Perennial's training Jobs ask for one (spec.trainer.gpu): advertise the extended
        // resource, as a device plugin would, so they schedule; the trainer then finds no CUDA and runs on the CPU.
        await patchJson(server, caData, adminToken, `/api/v1/nodes/${name}/status`, [
          { op: 'add', path: '/status/capacity/nvidia.com~1gpu', value: '4' },
        ]);
        const a = node.addresses;
        nodeInfo = { name: node.name, hostIP: a.hostIP, nodeIP: a.nodeIP, podCIDR: a.podCIDR, serviceCIDR: a.serviceCIDR };
      }
      const info: ClusterInfo = {
        server, kubeconfigPath, caData, adminToken, unprivilegedToken, s3, logDir, binDir: bin,
        controllerManager: withCm, auditLogPath, userTokens, node: nodeInfo,
      };
      writeFileSync(join(logDir, 'README'), `Logs of a local cluster started at ${new Date().toISOString()}.\n` +
        `API server ${server}; MinIO ${s3?.url ?? 'not started'}.\n`);
      removeData();
      return new LocalCluster(info, dataDir, started, apiServer, healthUrl, minio, node);
    } catch (e: unknown) {
      await node?.stop();
      for (const p of started.reverse()) await p.stop(2000);
      rmSync(dataDir, { recursive: true, force: true });
      removeData();
      throw e;
    }
  }

  /** Stops the API server (etcd keeps the data); for tests of clients that must survive an outage. */
  async stopApiServer(): Promise<void> {
    await this.apiServer.stop();
  }

  /** Starts the API server again on the same port and waits until it is ready. */
  async startApiServer(): Promise<void> {
    this.apiServer.start();
    await waitHealthy(this.apiServer, this.apiServerHealthUrl, 120_000, {
      Authorization: `Bearer ${this.info.adminToken}`,
    });
  }

  async stopMinio(): Promise<void> {
    if (!this.minio) throw new Error('this cluster runs no MinIO');
    await this.minio.stop();
  }

  async startMinio(): Promise<void> {
    if (!this.minio || !this.info.s3) throw new Error('this cluster runs no MinIO');
    this.minio.start();
    await waitHealthy(this.minio, `${this.info.s3.url}/minio/health/ready`, 60_000);
  }

  /** Stops every server, newest first, and removes the data folder; logs stay in logDir. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.node?.stop();
    for (const p of [...this.procs].reverse()) await p.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
    this.unregisterCleanup();
  }
}

/** The servers a cluster with a node needs besides the control plane's. */
const nodeServers = ['cluster', 'kubelet', 'kube-proxy', 'kube-scheduler', 'coredns', 'pause'];

/** Whether the Node has registered and reports Ready (asked over TLS checked against the API server's own CA). */
function nodeReady(server: string, ca: string, token: string, name: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpsRequest(`${server}/api/v1/nodes/${name}`, { ca, headers: { Authorization: `Bearer ${token}` }, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        try {
          const node = JSON.parse(body) as { status?: { conditions?: Array<{ type: string; status: string }> } };
          resolve(res.statusCode === 200 && (node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false));
        } catch {
          resolve(false);
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** A JSON patch to the API server (TLS checked against its own CA); throws unless it answers 2xx. */
function patchJson(server: string, ca: string, token: string, path: string, patch: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify(patch);
    const req = httpsRequest(`${server}${path}`, {
      method: 'PATCH', ca, timeout: 10_000,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json-patch+json', 'Content-Length': Buffer.byteLength(body) },
    }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => ((res.statusCode ?? 500) < 300 ? resolve() : reject(new Error(`PATCH ${path}: ${res.statusCode ?? '?'} ${text.slice(0, 300)}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`PATCH ${path}: timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

export function kubeconfigYaml(server: string, caData: string, token: string, user: string): string {
  const ca = Buffer.from(caData).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: perennial-local',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${ca}`,
    'users:',
    `- name: ${user}`,
    '  user:',
    `    token: ${token}`,
    'contexts:',
    '- name: perennial-local',
    '  context:',
    '    cluster: perennial-local',
    `    user: ${user}`,
    '    namespace: default',
    'current-context: perennial-local',
    '',
  ].join('\n');
}

function newLogDir(name: string): string {
  const root = join(repoRoot, '.cache', 'logs');
  mkdirSync(root, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = join(root, `${stamp}-${process.pid}-${name}`);
  mkdirSync(dir, { recursive: true });
  // Keep the newest runs only; the folder names sort by time.
  const runs = readdirSync(root).sort();
  for (const old of runs.slice(0, Math.max(0, runs.length - keepLogRuns))) {
    rmSync(join(root, old), { recursive: true, force: true });
  }
  return dir;
}
