// The local node: a small kubelet (and scheduler) for the local cluster. It registers a Node with CPU, memory and
// nvidia.com/gpu capacity and keeps its Lease fresh, binds pending pods that fit, runs each container of the images
// Perennial ships as a local process (the bundles), each pod on its own address (pod-network.ts),
// with the pod's environment (Secrets, ConfigMaps and the downward API resolved), runs readiness and liveness
// probes, reports pod status with exit codes and termination messages, and stops the processes of deleted pods.
// kube-controller-manager then drives Jobs, ReplicaSets and EndpointSlices as in a real cluster.
//
// What a container runtime would do and this cannot: it has no filesystem isolation. Volume mounts (emptyDir,
// configMap, secret) become per-pod folders, and paths under a mount in env values and args are rewritten to
// them; every process gets PERENNIAL_BIND_HOST=<pod IP> (programs bind there, as they would bind 0.0.0.0 in their
// own network namespace), TMPDIR, and, when the pod mounts a service-account token, a KUBECONFIG with a token from
// the TokenRequest API for the pod's ServiceAccount (so RBAC applies as in a cluster).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { ApiException, type KubeConfig } from '@kubernetes/client-node';
import { systemClock } from '../../src/operator/runtime/clock.js';
import { Informer } from '../../src/operator/runtime/informer.js';
import { KubeHttpClient, PatchType } from '../../src/operator/runtime/kube-http.js';
import { createLogger, errorFields, type Logger } from '../../src/operator/runtime/log.js';
import type { KubeObject } from '../../src/operator/runtime/resource.js';
import { onExit } from '../cleanup.js';
import { kubeconfigYaml } from '../cluster.js';
import { ManagedProcess } from '../process.js';
import { EnvError, loopbackPorts, resolveEnv, type ContainerEnvSpec, type PodFields } from './env.js';
import { programFor, UnknownImageError } from './images.js';
import { createPodNetwork, type PodNetwork } from './pod-network.js';
import { podStatus, type ContainerRun, type PodRun, type RestartPolicy } from './pod-status.js';

export interface NodeAgentOptions {
  readonly kubeConfig: KubeConfig;
  /** The API server and CA, for the kubeconfigs given to pods. */
  readonly server: string;
  readonly caData: string;
  readonly repoRoot: string;
  readonly logDir: string;
  readonly nodeName?: string;
  readonly capacity?: { readonly cpu: string; readonly memory: string; readonly pods: number; readonly gpus: number };
  readonly labels?: Readonly<Record<string, string>>;
  /** Ports on 127.0.0.1 that pods must reach from the start (default: the API server's); ports named in a
   * container's env (127.0.0.1:<port>, localhost:<port>, PERENNIAL_S3_ENDPOINT + PERENNIAL_S3_PORT) are added
   * as pods need them. See pod-network.ts. */
  readonly forwardPorts?: readonly number[];
  /** Pods on loopback addresses instead of a network namespace (no root needed; no EndpointSlices). */
  readonly loopbackOnly?: boolean;
  readonly logger?: Logger;
}

interface Probe {
  httpGet?: { path?: string; port: number | string; scheme?: string };
  tcpSocket?: { port: number | string };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
  successThreshold?: number;
}

interface ContainerSpec extends ContainerEnvSpec {
  name: string;
  image: string;
  args?: string[];
  ports?: Array<{ name?: string; containerPort: number }>;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  terminationMessagePath?: string;
  terminationMessagePolicy?: string;
  resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
}

interface Volume {
  name: string;
  emptyDir?: object;
  configMap?: { name: string; items?: Array<{ key: string; path: string }>; optional?: boolean };
  secret?: { secretName: string; items?: Array<{ key: string; path: string }>; optional?: boolean };
  projected?: { sources?: Array<{ serviceAccountToken?: { path: string } }> };
}

interface Pod extends KubeObject {
  metadata: NonNullable<KubeObject['metadata']>;
  spec: {
    nodeName?: string;
    schedulerName?: string;
    nodeSelector?: Record<string, string>;
    restartPolicy?: RestartPolicy;
    containers: ContainerSpec[];
    volumes?: Volume[];
    serviceAccountName?: string;
    automountServiceAccountToken?: boolean;
    terminationGracePeriodSeconds?: number;
  };
  status?: { phase?: string; conditions?: Array<{ type: string; status: string; lastTransitionTime?: string }> };
}

interface ContainerState {
  readonly spec: ContainerSpec;
  run: ContainerRun;
  proc: ManagedProcess | undefined;
  probeTimers: NodeJS.Timeout[];
  readinessOk: number;
  readinessFail: number;
  livenessFail: number;
  restartTimer: NodeJS.Timeout | undefined;
}

interface PodState {
  readonly key: string;
  readonly uid: string;
  readonly ip: string;
  readonly dir: string;
  /** Log files are <logPrefix>.<container>.log. */
  readonly logPrefix: string;
  readonly startTime: number;
  readonly restartPolicy: RestartPolicy;
  containers: ContainerState[];
  stopping: boolean;
  lastWritten: string;
  unregisterCleanup?: () => void;
}

const gpuResource = 'nvidia.com/gpu';
const pods = { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true } as const;

function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class NodeAgent {
  readonly nodeName: string;
  private readonly http: KubeHttpClient;
  private readonly log: Logger;
  private readonly informer: Informer<Pod>;
  private readonly states = new Map<string, PodState>();
  private readonly queue = new Set<string>();
  private readonly busy = new Set<string>();
  private network: PodNetwork | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private stopped = false;
  private draining: Promise<void> = Promise.resolve();

  private constructor(private readonly options: NodeAgentOptions) {
    this.nodeName = options.nodeName ?? 'perennial-local';
    this.http = new KubeHttpClient(options.kubeConfig);
    this.log = options.logger ?? createLogger({ level: 'warn', fields: { component: 'node-agent' } });
    this.informer = new Informer<Pod>({
      kubeConfig: options.kubeConfig, http: this.http, ref: pods, namespace: '', clock: systemClock(), logger: this.log,
      watchdogMs: 60_000,
    });
    this.informer.onEvent((_event, pod) => this.enqueue(`${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`));
    mkdirSync(join(options.logDir, 'pods'), { recursive: true });
  }

  static async start(options: NodeAgentOptions): Promise<NodeAgent> {
    const agent = new NodeAgent(options);
    agent.network = await createPodNetwork({
      forwardPorts: options.forwardPorts ?? [Number(new URL(options.server).port)],
      logDir: options.logDir,
      ...(options.loopbackOnly ? { loopbackOnly: true } : {}),
    });
    await agent.register();
    agent.heartbeat = setInterval(() => void agent.beat(), 10_000);
    agent.heartbeat.unref();
    agent.informer.start();
    await agent.informer.synced;
    return agent;
  }

  /** Stops every pod's processes (as a kubelet shutting down would) and the agent itself. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.informer.stop();
    await Promise.all([...this.states.values()].map((s) => this.forget(s)));
    await this.network?.close();
  }

  /** netns: pods have real addresses (EndpointSlices work); loopback: 127.10.x.y. */
  get networkMode(): 'netns' | 'loopback' {
    return this.net.mode;
  }

  private get net(): PodNetwork {
    if (!this.network) throw new Error('the node agent is not started');
    return this.network;
  }

  /** The pod IP given to a pod this agent runs, if any. */
  podIP(namespace: string, name: string): string | undefined {
    return this.states.get(`${namespace}/${name}`)?.ip;
  }

  // ---- node registration and heartbeat

  private async register(): Promise<void> {
    const labels = {
      'kubernetes.io/hostname': this.nodeName,
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      'perennial.dev/local-node': 'true',
      ...this.options.labels,
    };
    try {
      await this.http.request('POST', '/api/v1/nodes', { body: { apiVersion: 'v1', kind: 'Node', metadata: { name: this.nodeName, labels } } });
    } catch (e: unknown) {
      if (!(e instanceof ApiException && e.code === 409)) throw e;
    }
    await this.beat();
  }

  private async beat(): Promise<void> {
    if (this.stopped) return;
    const now = Date.now();
    const cap = this.options.capacity ?? { cpu: '2', memory: '24Gi', pods: 110, gpus: 1 };
    const capacity = { cpu: cap.cpu, memory: cap.memory, pods: String(cap.pods), [gpuResource]: String(cap.gpus) };
    const t = new Date(Math.floor(now / 1000) * 1000).toISOString().replace('.000Z', 'Z');
    const condition = (type: string, status: string, reason: string, message: string) => ({
      type, status, reason, message, lastHeartbeatTime: t, lastTransitionTime: t,
    });
    try {
      await this.http.request('PATCH', `/api/v1/nodes/${this.nodeName}/status`, {
        contentType: PatchType.merge,
        body: {
          status: {
            capacity,
            allocatable: capacity,
            conditions: [
              condition('Ready', 'True', 'KubeletReady', 'the perennial local node agent is running'),
              condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'no memory pressure'),
              condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'no disk pressure'),
              condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'no PID pressure'),
            ],
            addresses: [{ type: 'InternalIP', address: this.net.hostIP }, { type: 'Hostname', address: this.nodeName }],
            nodeInfo: {
              kubeletVersion: 'v1.34.4', kubeProxyVersion: 'v1.34.4', operatingSystem: 'linux', architecture: 'amd64',
              containerRuntimeVersion: 'perennial-local://1', osImage: 'perennial local node', kernelVersion: '',
              machineID: '', systemUUID: '', bootID: '',
            },
          },
        },
      });
      await this.renewLease(now);
    } catch (e: unknown) {
      this.log.warn('node heartbeat failed', errorFields(e));
    }
  }

  private async renewLease(now: number): Promise<void> {
    const path = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${this.nodeName}`;
    const spec = { holderIdentity: this.nodeName, leaseDurationSeconds: 40, renewTime: microTime(now) };
    try {
      const lease = await this.http.request<{ metadata: { resourceVersion: string } }>('GET', path);
      await this.http.request('PUT', path, { body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.nodeName, namespace: 'kube-node-lease', resourceVersion: lease.metadata.resourceVersion }, spec } });
    } catch (e: unknown) {
      if (!(e instanceof ApiException && e.code === 404)) throw e;
      await this.http.request('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', {
        body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.nodeName, namespace: 'kube-node-lease' }, spec },
      });
    }
  }

  // ---- the work loop: one sync per pod key at a time

  private enqueue(key: string): void {
    if (this.stopped) return;
    this.queue.add(key);
    this.draining = this.draining.then(() => this.drain());
  }

  private async drain(): Promise<void> {
    for (const key of [...this.queue]) {
      if (this.busy.has(key)) continue;
      this.queue.delete(key);
      this.busy.add(key);
      try {
        await this.sync(key);
      } catch (e: unknown) {
        this.log.warn('pod sync failed', { pod: key, ...errorFields(e) });
        setTimeout(() => this.enqueue(key), 1000).unref();
      } finally {
        this.busy.delete(key);
      }
    }
  }

  private async sync(key: string): Promise<void> {
    const [namespace = '', name = ''] = key.split('/');
    const pod = this.informer.get(namespace, name);
    const state = this.states.get(key);
    if (!pod || (state && pod.metadata.uid !== state.uid)) {
      if (state) await this.forget(state);
      if (!pod) return;
    }
    if (!pod.spec.nodeName) {
      if ((pod.spec.schedulerName ?? 'default-scheduler') === 'default-scheduler' && !pod.metadata.deletionTimestamp) await this.schedule(pod);
      return;
    }
    if (pod.spec.nodeName !== this.nodeName) return;
    const current = this.states.get(key);
    if (pod.metadata.deletionTimestamp) {
      if (current) {
        const graceMs = (pod.spec.terminationGracePeriodSeconds ?? 30) * 1000;
        await this.stopContainers(current, graceMs);
        await this.forget(current);
      }
      await this.http.request('DELETE', `/api/v1/namespaces/${namespace}/pods/${name}`, {
        body: { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } },
      }).catch((e: unknown) => {
        if (!(e instanceof ApiException && (e.code === 404 || e.code === 409))) throw e;
      });
      return;
    }
    if (!current) {
      if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return; // finished before a restart of ours
      await this.startPod(key, pod);
    }
    await this.writeStatus(key, pod);
  }

  // ---- scheduling

  private async schedule(pod: Pod): Promise<void> {
    const nodeLabels: Record<string, string> = {
      'kubernetes.io/hostname': this.nodeName, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64',
      'perennial.dev/local-node': 'true', ...this.options.labels,
    };
    const mismatch = Object.entries(pod.spec.nodeSelector ?? {}).find(([k, v]) => nodeLabels[k] !== v);
    const gpus = (this.options.capacity ?? { gpus: 1 }).gpus;
    const wanted = gpuRequest(pod);
    const used = [...this.informer.list()].filter((p) => p.spec.nodeName === this.nodeName
      && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed').reduce((n, p) => n + gpuRequest(p), 0);
    const why = mismatch ? `0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector (${mismatch[0]}=${mismatch[1]}).`
      : used + wanted > gpus ? `0/1 nodes are available: 1 Insufficient ${gpuResource} (${wanted} wanted, ${gpus - used} free).` : undefined;
    const ns = pod.metadata.namespace ?? '';
    const name = pod.metadata.name ?? '';
    if (why) {
      await this.http.request('PATCH', `/api/v1/namespaces/${ns}/pods/${name}/status`, {
        contentType: PatchType.merge,
        body: { status: { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: why, lastTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') }] } },
      }).catch(() => undefined);
      setTimeout(() => this.enqueue(`${ns}/${name}`), 5000).unref(); // capacity may free up
      return;
    }
    await this.http.request('POST', `/api/v1/namespaces/${ns}/pods/${name}/binding`, {
      body: { apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace: ns, uid: pod.metadata.uid }, target: { apiVersion: 'v1', kind: 'Node', name: this.nodeName } },
    }).catch((e: unknown) => {
      if (!(e instanceof ApiException && e.code === 409)) throw e;
    });
  }

  // ---- running pods

  private async startPod(key: string, pod: Pod): Promise<void> {
    const ip = await this.net.allocate();
    // Volumes, TMPDIR and the pod's kubeconfig live in a private temp folder (removed with the pod); logs stay.
    const dir = mkdtempSync(join(tmpdir(), 'perennial-pod-'));
    mkdirSync(join(dir, 'tmp'), { recursive: true });
    const logPrefix = join(this.options.logDir, 'pods', `${key.replace('/', '_')}-${(pod.metadata.uid ?? '').slice(0, 8)}`);
    const state: PodState = {
      key, uid: pod.metadata.uid ?? '', ip, dir, logPrefix, startTime: Date.now(), restartPolicy: pod.spec.restartPolicy ?? 'Always',
      containers: pod.spec.containers.map((spec) => ({
        spec, proc: undefined, probeTimers: [], readinessOk: 0, readinessFail: 0, livenessFail: 0, restartTimer: undefined,
        run: { name: spec.name, image: spec.image, state: { kind: 'waiting', reason: 'ContainerCreating' }, ready: false, restartCount: 0 },
      })),
      stopping: false,
      lastWritten: '',
    };
    this.states.set(key, state);
    state.unregisterCleanup = onExit(() => rmSync(dir, { recursive: true, force: true }));
    // The token for the pod's kubeconfig comes from the TokenRequest API, bound to this pod.
    if (this.podKubeconfig(state, pod)) await this.writePodKubeconfig(pod, join(dir, 'kubeconfig'));
    for (const c of state.containers) await this.startContainer(state, pod, c);
  }

  private async startContainer(state: PodState, pod: Pod, c: ContainerState): Promise<void> {
    if (state.stopping || this.stopped) return;
    let env: Record<string, string>;
    let program: { command: string; args: readonly string[] };
    try {
      program = programFor(c.spec.image, this.options.repoRoot);
      if (!existsSync(program.args[0] ?? '')) throw new UnknownImageError(`${c.spec.image} (${program.args[0] ?? ''} is not built: run npm run build)`);
      const mounts = await this.prepareVolumes(state, pod, c.spec);
      env = this.containerEnv(state, pod, c.spec, await this.envSources(pod, c.spec), mounts);
      program = { command: program.command, args: [...program.args, ...(c.spec.args ?? []).map((a) => remap(a, mounts))] };
    } catch (e: unknown) {
      const reason = e instanceof UnknownImageError ? 'ErrImageNeverPull' : e instanceof EnvError ? 'CreateContainerConfigError' : 'CreateContainerError';
      c.run = { ...c.run, state: { kind: 'waiting', reason, message: e instanceof Error ? e.message : String(e) } };
      if (reason !== 'ErrImageNeverPull') setTimeout(() => void this.startContainer(state, pod, c).then(() => this.enqueue(state.key)), 2000).unref();
      return;
    }
    // Loopback services the container is configured to reach (the store, a Prometheus...) must be reachable
    // from the pod network at the same address.
    for (const port of loopbackPorts(env)) await this.net.forward(port);
    const termFile = join(state.dir, `${c.spec.name}.termination-log`);
    writeFileSync(termFile, '');
    const wrapped = this.net.wrap(program.command, program.args);
    const proc = new ManagedProcess({
      name: `${state.key}/${c.spec.name}`,
      command: wrapped.command,
      args: wrapped.args,
      env: { ...env, PERENNIAL_TERMINATION_MESSAGE_PATH: env['PERENNIAL_TERMINATION_MESSAGE_PATH'] ?? termFile },
      logFile: `${state.logPrefix}.${c.spec.name}.log`,
    });
    const startedAt = Date.now();
    proc.start();
    c.proc = proc;
    c.readinessOk = 0;
    c.readinessFail = 0;
    c.livenessFail = 0;
    c.run = { ...c.run, state: { kind: 'running', startedAt }, ready: c.spec.readinessProbe === undefined };
    void proc.exited.then(() => this.onExit(state, pod, c, proc, startedAt, termFile));
    this.startProbes(state, c);
  }

  private onExit(state: PodState, pod: Pod, c: ContainerState, proc: ManagedProcess, startedAt: number, termFile: string): void {
    if (c.proc !== proc) return;
    for (const t of c.probeTimers) clearInterval(t);
    c.probeTimers = [];
    const exitCode = proc.exit?.code ?? (proc.exit?.signal === 'SIGKILL' ? 137 : 143);
    let message = '';
    try {
      message = readFileSync(termFile, 'utf8').slice(0, 4096);
    } catch {
      // no message
    }
    if (message === '' && exitCode !== 0 && c.spec.terminationMessagePolicy === 'FallbackToLogsOnError') {
      try {
        const log = readFileSync(proc.spec.logFile, 'utf8');
        message = log.slice(-2048);
      } catch {
        // no log
      }
    }
    const terminated = { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', ...(message ? { message } : {}), startedAt, finishedAt: Date.now() };
    c.proc = undefined;
    const restart = !state.stopping && !this.stopped
      && (state.restartPolicy === 'Always' || (state.restartPolicy === 'OnFailure' && exitCode !== 0));
    if (restart) {
      const delay = Math.min(30_000, 1000 * 2 ** Math.min(c.run.restartCount, 5));
      c.run = { ...c.run, ready: false, lastTerminated: terminated, state: { kind: 'waiting', reason: 'CrashLoopBackOff', message: `back-off ${delay / 1000}s restarting failed container` } };
      c.restartTimer = setTimeout(() => {
        c.run = { ...c.run, restartCount: c.run.restartCount + 1 };
        void this.startContainer(state, pod, c).then(() => this.enqueue(state.key));
      }, delay);
      c.restartTimer.unref();
    } else {
      c.run = { ...c.run, ready: false, state: { kind: 'terminated', ...terminated } };
    }
    this.enqueue(state.key);
  }

  private startProbes(state: PodState, c: ContainerState): void {
    const run = (probe: Probe, onResult: (ok: boolean) => void): void => {
      const period = (probe.periodSeconds ?? 10) * 1000;
      const first = setTimeout(() => {
        const tick = (): void => void this.probe(state.ip, probe, c.spec).then(onResult);
        tick();
        const timer = setInterval(tick, period);
        timer.unref();
        c.probeTimers.push(timer);
      }, (probe.initialDelaySeconds ?? 0) * 1000);
      first.unref();
      c.probeTimers.push(first);
    };
    if (c.spec.readinessProbe) {
      const p = c.spec.readinessProbe;
      run(p, (ok) => {
        if (c.run.state.kind !== 'running') return;
        if (ok) { c.readinessOk++; c.readinessFail = 0; } else { c.readinessFail++; c.readinessOk = 0; }
        const ready = c.run.ready ? c.readinessFail < (p.failureThreshold ?? 3) : c.readinessOk >= (p.successThreshold ?? 1);
        if (ready !== c.run.ready) {
          c.run = { ...c.run, ready };
          this.enqueue(state.key);
        }
      });
    }
    if (c.spec.livenessProbe) {
      const p = c.spec.livenessProbe;
      run(p, (ok) => {
        c.livenessFail = ok ? 0 : c.livenessFail + 1;
        if (c.livenessFail >= (p.failureThreshold ?? 3) && c.proc) {
          this.log.warn('liveness probe failed, restarting container', { pod: state.key, container: c.spec.name });
          void c.proc.stop(5000);
        }
      });
    }
  }

  private probe(ip: string, probe: Probe, spec: ContainerSpec): Promise<boolean> {
    const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
    const portOf = (port: number | string): number => typeof port === 'number' ? port
      : spec.ports?.find((p) => p.name === port)?.containerPort ?? Number(port);
    if (probe.httpGet) {
      const { path = '/', port } = probe.httpGet;
      return new Promise((resolve) => {
        const req = httpRequest({ host: ip, port: portOf(port), path, method: 'GET', timeout: timeoutMs }, (res) => {
          res.resume();
          resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400);
        });
        req.on('timeout', () => req.destroy());
        req.on('error', () => resolve(false));
        req.end();
      });
    }
    if (probe.tcpSocket) {
      const port = portOf(probe.tcpSocket.port);
      return new Promise((resolve) => {
        const socket = connect({ host: ip, port, timeout: timeoutMs }, () => { socket.destroy(); resolve(true); });
        socket.on('error', () => resolve(false));
        socket.on('timeout', () => { socket.destroy(); resolve(false); });
      });
    }
    return Promise.resolve(true);
  }

  private async stopContainers(state: PodState, graceMs: number): Promise<void> {
    state.stopping = true;
    await Promise.all(state.containers.map(async (c) => {
      for (const t of c.probeTimers) clearInterval(t);
      c.probeTimers = [];
      if (c.restartTimer) clearTimeout(c.restartTimer);
      await c.proc?.stop(graceMs);
    }));
  }

  private async forget(state: PodState): Promise<void> {
    await this.stopContainers(state, 2000);
    this.states.delete(state.key);
    await this.net.release(state.ip);
    rmSync(state.dir, { recursive: true, force: true });
    state.unregisterCleanup?.();
  }

  // ---- environment and volumes

  private async envSources(pod: Pod, spec: ContainerSpec): Promise<{ secrets: Map<string, Record<string, string>>; configMaps: Map<string, Record<string, string>> }> {
    const ns = pod.metadata.namespace ?? '';
    const secretNames = new Set<string>();
    const configMapNames = new Set<string>();
    for (const e of spec.env ?? []) {
      if (e.valueFrom?.secretKeyRef) secretNames.add(e.valueFrom.secretKeyRef.name);
      if (e.valueFrom?.configMapKeyRef) configMapNames.add(e.valueFrom.configMapKeyRef.name);
    }
    for (const f of spec.envFrom ?? []) {
      if (f.secretRef) secretNames.add(f.secretRef.name);
      if (f.configMapRef) configMapNames.add(f.configMapRef.name);
    }
    const secrets = new Map<string, Record<string, string>>();
    const configMaps = new Map<string, Record<string, string>>();
    for (const name of secretNames) {
      const data = await this.readData(ns, 'secrets', name);
      if (data) secrets.set(name, data);
    }
    for (const name of configMapNames) {
      const data = await this.readData(ns, 'configmaps', name);
      if (data) configMaps.set(name, data);
    }
    return { secrets, configMaps };
  }

  private async readData(ns: string, kind: 'secrets' | 'configmaps', name: string): Promise<Record<string, string> | undefined> {
    try {
      const obj = await this.http.request<{ data?: Record<string, string>; stringData?: Record<string, string> }>('GET', `/api/v1/namespaces/${ns}/${kind}/${name}`);
      const data = obj.data ?? {};
      return kind === 'secrets'
        ? Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]))
        : data;
    } catch (e: unknown) {
      if (e instanceof ApiException && e.code === 404) return undefined;
      throw e;
    }
  }

  /** Creates the pod folders that stand in for the container's volume mounts; returns mountPath → folder. */
  private async prepareVolumes(state: PodState, pod: Pod, spec: ContainerSpec): Promise<Array<[string, string]>> {
    const mounts: Array<[string, string]> = [];
    const ns = pod.metadata.namespace ?? '';
    for (const m of spec.volumeMounts ?? []) {
      const volume = pod.spec.volumes?.find((v) => v.name === m.name);
      if (!volume) continue;
      const dir = join(state.dir, 'volumes', m.name);
      mkdirSync(dir, { recursive: true });
      const source = volume.configMap
        ? { kind: 'configmaps' as const, name: volume.configMap.name, items: volume.configMap.items, optional: volume.configMap.optional }
        : volume.secret ? { kind: 'secrets' as const, name: volume.secret.secretName, items: volume.secret.items, optional: volume.secret.optional } : undefined;
      if (source) {
        const data = await this.readData(ns, source.kind, source.name);
        if (!data && !source.optional) throw new EnvError(`${source.kind === 'secrets' ? 'secret' : 'configmap'} "${source.name}" not found`);
        for (const [k, v] of Object.entries(data ?? {})) {
          const item = source.items?.find((i) => i.key === k);
          if (source.items && !item) continue;
          const file = join(dir, item?.path ?? k);
          mkdirSync(join(file, '..'), { recursive: true });
          writeFileSync(file, v, { mode: 0o600 });
        }
      }
      mounts.push([m.mountPath.replace(/\/+$/, ''), dir]);
    }
    return mounts.sort((a, b) => b[0].length - a[0].length);
  }

  private containerEnv(state: PodState, pod: Pod, spec: ContainerSpec, sources: { secrets: Map<string, Record<string, string>>; configMaps: Map<string, Record<string, string>> }, mounts: Array<[string, string]>): Record<string, string> {
    const fields: PodFields = {
      name: pod.metadata.name ?? '', namespace: pod.metadata.namespace ?? '', uid: pod.metadata.uid ?? '',
      nodeName: this.nodeName, podIP: state.ip, hostIP: this.net.hostIP,
      serviceAccountName: pod.spec.serviceAccountName ?? 'default',
      labels: { ...pod.metadata.labels }, annotations: { ...pod.metadata.annotations },
    };
    const env = resolveEnv(spec, fields, sources);
    for (const [k, v] of Object.entries(env)) env[k] = remap(v, mounts);
    const tmp = mounts.find(([path]) => path === '/tmp')?.[1] ?? join(state.dir, 'tmp');
    const base: Record<string, string> = { HOSTNAME: fields.name, TMPDIR: tmp, PERENNIAL_BIND_HOST: state.ip };
    const kubeconfig = this.podKubeconfig(state, pod);
    if (kubeconfig) base['KUBECONFIG'] = kubeconfig;
    return { ...base, ...env };
  }

  /** A kubeconfig with a token for the pod's ServiceAccount, when the pod mounts one (the default). */
  private podKubeconfig(state: PodState, pod: Pod): string | undefined {
    const mountsToken = pod.spec.automountServiceAccountToken !== false
      || (pod.spec.volumes ?? []).some((v) => v.projected?.sources?.some((s) => s.serviceAccountToken));
    if (!mountsToken) return undefined;
    return join(state.dir, 'kubeconfig');
  }

  private async writeStatus(key: string, pod: Pod): Promise<void> {
    const state = this.states.get(key);
    if (!state) return;
    const run: PodRun = { podIP: state.ip, hostIP: this.net.hostIP, startTime: state.startTime, restartPolicy: state.restartPolicy, containers: state.containers.map((c) => c.run) };
    const status = podStatus(run, pod.status?.conditions ?? [], Date.now());
    const text = JSON.stringify(status);
    if (text === state.lastWritten) return;
    await this.http.request('PATCH', `/api/v1/namespaces/${pod.metadata.namespace ?? ''}/pods/${pod.metadata.name ?? ''}/status`, {
      contentType: PatchType.merge, body: { status },
    });
    state.lastWritten = text;
  }

  private async writePodKubeconfig(pod: Pod, file: string): Promise<void> {
    const ns = pod.metadata.namespace ?? '';
    const sa = pod.spec.serviceAccountName ?? 'default';
    const res = await this.http.request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`, {
      body: {
        apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest',
        spec: { expirationSeconds: 86_400, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid } },
      },
    });
    writeFileSync(file, kubeconfigYaml(this.options.server, this.options.caData, res.status.token, `system:serviceaccount:${ns}:${sa}`), { mode: 0o600 });
  }
}

function gpuRequest(pod: Pod): number {
  return pod.spec.containers.reduce((n, c) => n + Number(c.resources?.limits?.[gpuResource] ?? c.resources?.requests?.[gpuResource] ?? 0), 0);
}

/** A path under a volume mount, moved to the folder that stands in for it. */
function remap(value: string, mounts: ReadonlyArray<readonly [string, string]>): string {
  for (const [path, dir] of mounts) {
    if (value === path) return dir;
    if (value.startsWith(`${path}/`)) return dir + value.slice(path.length);
  }
  return value;
}
