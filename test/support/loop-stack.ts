// The whole loop on the local cluster, for any dataset, started the same way for the e2e tests, `make demo`, `make
// dev` and the loop benchmarks: the real control plane (etcd, kube-apiserver, kube-controller-manager, MinIO), a real
// node (kubelet, containerd, kube-proxy, CoreDNS) running the trainer and server images built from their Dockerfiles,
// a namespace with the store credentials Secret, the bucket (with the first periods of a dataset in it when the
// caller names them: options.data) and (unless the caller runs its own) the operator, in this process or installed
// with the chart. The real-node integration tests start the same way (their own bucket, their own data) and reach
// their ModelDeployments through it: create, get, patch, wait for a status.
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, CustomObjectsApi, DiscoveryV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Client as MinioClient } from 'minio';
import type { LocalCluster} from '../../localcluster/cluster.js';
import { type S3Info } from '../../localcluster/cluster.js';
import { kubeConfigFor, minioClientFor } from '../../localcluster/test-cluster.js';
import { Label } from '../../src/api/labels.js';
import type { ModelDeployment } from '../../src/api/model-deployment.js';
import type { TrainingPipeline } from '../../src/api/training-pipeline.js';
import { loadConfig } from '../../src/operator/config.js';
import { buildManager } from '../../src/operator/operator.js';
import { KubeHttpClient, PatchType } from '../../src/operator/runtime/kube-http.js';
import type { Manager } from '../../src/operator/runtime/manager.js';
import { installCrds } from './crds.js';
import { startClusterWithNode } from './node-cluster.js';
import { installOperatorChart, operatorLeader } from './operator-chart.js';
import { eventually, untilObject } from './eventually.js';
import { periodCsv, periodKey, type Dataset } from './dataset.js';
import { readyEndpoints, type FeedbackTarget, type TrafficTarget } from './traffic.js';

export const loopBucket = 'perennial-models';

/** The Secret (in the workload namespace) the operator references for store credentials in the pods it creates. */
export const credentialsSecret = 'perennial-s3';

/** The environment an in-process operator gets on the local cluster (what the chart sets in a real one). */
export function localOperatorEnv(namespace: string, s3: S3Info, bucket: string): Record<string, string> {
  return {
    PERENNIAL_WATCH_NAMESPACE: namespace, PERENNIAL_LEADER_ELECT: 'false', PERENNIAL_LOG_LEVEL: 'warn', PERENNIAL_HEALTH_PORT: '0',
    PERENNIAL_S3_ENDPOINT: s3.endPoint, PERENNIAL_S3_PORT: String(s3.port), PERENNIAL_S3_TLS: 'false', PERENNIAL_S3_REGION: s3.region,
    PERENNIAL_S3_BUCKET: bucket, AWS_ACCESS_KEY_ID: s3.accessKey, AWS_SECRET_ACCESS_KEY: s3.secretKey,
    PERENNIAL_S3_CREDENTIALS_SECRET: credentialsSecret,
  };
}

/** Periods of a dataset, uploaded one CSV object each under the namespace's data prefix. */
export interface LoopData {
  readonly dataset: Dataset;
  readonly periods: readonly string[];
}

export interface LoopStackOptions {
  /** Names the cluster's log folder. */
  readonly name: string;
  readonly namespace: string;
  /** The bucket the operator and the models use (loopBucket by default). */
  readonly bucket?: string;
  /** Periods of a dataset uploaded before the operator starts (none by default). */
  readonly data?: LoopData;
  /**
   * How the operator runs: 'in-process' (the default: in this process, for tests that stop and restart it),
   * 'helm' (installed by `helm install charts/perennial`, its image on the node, as users run it) or 'none' (the
   * caller runs it, e.g. a benchmark's child process with operatorEnv()).
   */
  readonly operator?: 'in-process' | 'helm' | 'none';
  /** Extra operator environment (merged over localOperatorEnv). */
  readonly operatorEnv?: Readonly<Record<string, string>>;
  /** Values for the chart when operator is 'helm'. */
  readonly chartValues?: Record<string, unknown>;
  /** Progress lines of slow steps (image builds on a cold cache). */
  readonly log?: (line: string) => void;
}

type LiveMetrics = NonNullable<NonNullable<ModelDeployment['status']>['liveMetrics']>;

export class LoopStack {
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  readonly discovery: DiscoveryV1Api;
  readonly http: KubeHttpClient;
  readonly minio: MinioClient;
  manager: Manager | undefined;

  private constructor(
    readonly cluster: LocalCluster,
    readonly kc: KubeConfig,
    readonly s3: S3Info,
    private readonly options: LoopStackOptions,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.discovery = kc.makeApiClient(DiscoveryV1Api);
    this.http = new KubeHttpClient(kc);
    this.minio = minioClientFor(cluster.info);
  }

  get namespace(): string {
    return this.options.namespace;
  }

  get bucket(): string {
    return this.options.bucket ?? loopBucket;
  }

  /** Builds the images (or finds them cached), starts everything and uploads options.data. Stops what it started if a step fails. */
  static async start(options: LoopStackOptions): Promise<LoopStack> {
    const cluster = await startClusterWithNode(options.name, options.log);
    const s3 = cluster.info.s3;
    if (!s3) {
      await cluster.stop();
      throw new Error('the loop needs MinIO');
    }
    const stack = new LoopStack(cluster, kubeConfigFor(cluster.info), s3, options);
    try {
      await stack.setUp();
    } catch (e: unknown) {
      await stack.stop();
      throw e;
    }
    return stack;
  }

  private async setUp(): Promise<void> {
    const { namespace } = this.options;
    const operator = this.options.operator ?? 'in-process';
    // The chart brings its own CRDs.
    if (operator !== 'helm') await installCrds(this.kc);
    await this.core.createNamespace({ body: { metadata: { name: namespace } } });
    await this.core.createNamespacedSecret({ namespace, body: {
      metadata: { name: credentialsSecret }, stringData: { AWS_ACCESS_KEY_ID: this.s3.accessKey, AWS_SECRET_ACCESS_KEY: this.s3.secretKey },
    } });
    await eventually('the default ServiceAccount', () => this.core.readNamespacedServiceAccount({ name: 'default', namespace }));
    await this.minio.makeBucket(this.bucket);
    if (this.options.data) await this.upload(this.options.data.dataset, this.options.data.periods);
    if (operator === 'in-process') await this.startOperator();
    if (operator === 'helm') {
      await installOperatorChart(this.cluster, this.kc, {
        bucket: this.bucket, credentialsSecret, ...(this.options.chartValues ? { values: this.options.chartValues } : {}),
      });
    }
  }

  /** The operator's environment on this cluster (what the chart sets in a real one). */
  operatorEnv(): Record<string, string> {
    return { ...localOperatorEnv(this.options.namespace, this.s3, this.bucket), ...this.options.operatorEnv };
  }

  async startOperator(): Promise<void> {
    this.manager = buildManager(loadConfig(this.operatorEnv()), this.kc);
    await this.manager.start();
  }

  /** The operator pod leading, when the operator was installed by helm. */
  operatorLeader(): Promise<string | undefined> {
    return operatorLeader(this.kc);
  }

  async stopOperator(): Promise<void> {
    await this.manager?.stop();
    this.manager = undefined;
  }

  /**
   * One CSV object per period under data/<namespace>/<dataset>/ (<period>.csv), as a data pipeline would drop them,
   * in order; the keys written.
   */
  async upload(dataset: Dataset, periods: readonly string[]): Promise<string[]> {
    const keys: string[] = [];
    for (const period of periods) {
      const key = periodKey(this.namespace, dataset, period);
      await this.minio.putObject(this.bucket, key, Buffer.from(periodCsv(dataset, period)));
      keys.push(key);
    }
    return keys;
  }

  /** An object of the loop's bucket as text (what the trainer wrote: lineage.json, metrics.json, ...). */
  async readText(key: string): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.minio.getObject(this.bucket, key)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  async readJson<T>(key: string): Promise<T> {
    return JSON.parse(await this.readText(key)) as T;
  }

  async create(plural: 'trainingpipelines' | 'modeldeployments', body: object): Promise<void> {
    await this.custom.createNamespacedCustomObject({ group: 'perennial.dev', version: 'v1alpha1', namespace: this.namespace, plural, body });
  }

  async getTp(name: string): Promise<TrainingPipeline> {
    return await this.custom.getNamespacedCustomObject({ group: 'perennial.dev', version: 'v1alpha1', namespace: this.namespace, plural: 'trainingpipelines', name }) as TrainingPipeline;
  }

  async getMd(name: string): Promise<ModelDeployment> {
    return await this.custom.getNamespacedCustomObject({ group: 'perennial.dev', version: 'v1alpha1', namespace: this.namespace, plural: 'modeldeployments', name }) as ModelDeployment;
  }

  untilTp(name: string, what: string, ok: (tp: TrainingPipeline) => boolean, timeoutMs = 180_000): Promise<TrainingPipeline> {
    return untilObject(what, () => this.getTp(name), ok, timeoutMs);
  }

  untilMd(name: string, what: string, ok: (md: ModelDeployment) => boolean, timeoutMs = 180_000): Promise<ModelDeployment> {
    return untilObject(what, () => this.getMd(name), ok, timeoutMs);
  }

  /** A JSON merge patch of a ModelDeployment (spec edits, promote/abort annotations). */
  async patchMd(name: string, body: unknown): Promise<void> {
    await this.http.request('PATCH', `/apis/perennial.dev/v1alpha1/namespaces/${this.namespace}/modeldeployments/${name}`, { body, contentType: PatchType.merge });
  }

  /** The ready endpoints of a ModelDeployment's stable Service (named after it). */
  endpoints(service: string): Promise<string[]> {
    return readyEndpoints(this.discovery, this.namespace, service);
  }

  /**
   * Where a label sender sends a ModelDeployment's labels: the ready endpoints of its feedback Service, with the
   * token read from its feedback Secret (kept once read; the Secret's values never change).
   */
  feedbackTarget(deployment: string): FeedbackTarget {
    let token: Promise<string> | undefined;
    const read = async (): Promise<string> => {
      const secret = await eventually(`the feedback Secret of ${deployment}`, () => this.core.readNamespacedSecret({ name: `${deployment}-feedback`, namespace: this.namespace }));
      return Buffer.from(secret.data?.['token'] ?? '', 'base64').toString('utf8');
    };
    return {
      endpoints: () => readyEndpoints(this.discovery, this.namespace, `${deployment}-feedback`),
      token: () => {
        token ??= read().catch((e: unknown) => {
          token = undefined;
          throw e;
        });
        return token;
      },
    };
  }

  /**
   * A ModelDeployment's Services as a client in the cluster reaches them: `clusterIP:port` of the serving Service
   * and of the feedback Service, balanced by kube-proxy on the node (the host routes the Service range to it), with
   * the feedback token from its Secret. Nothing here picks a pod.
   */
  async viaServices(deployment: string): Promise<{ endpoints: () => Promise<string[]>; feedback: FeedbackTarget }> {
    const address = async (service: string): Promise<string> => {
      const svc = await eventually(`the Service ${service}`, () => this.core.readNamespacedService({ name: service, namespace: this.namespace }));
      const port = svc.spec?.ports?.[0]?.port;
      if (svc.spec?.clusterIP === undefined || port === undefined) throw new Error(`the Service ${service} has no ClusterIP or port`);
      return `${svc.spec.clusterIP}:${port}`;
    };
    const serving = await address(deployment);
    const feedback = await address(`${deployment}-feedback`);
    const withToken = this.feedbackTarget(deployment);
    return { endpoints: () => Promise.resolve([serving]), feedback: { endpoints: () => Promise.resolve([feedback]), token: withToken.token } };
  }

  /** viaServices as a traffic target (traffic.ts): the model name is the deployment's. */
  async target(deployment: string): Promise<TrafficTarget> {
    return { ...await this.viaServices(deployment), model: deployment };
  }

  /** Every server pod of a ModelDeployment that is not being deleted. */
  async serverPods(deployment: string): Promise<{ name: string; version: string }[]> {
    const pods = await this.core.listNamespacedPod({ namespace: this.namespace, labelSelector: `${Label.deployment}=${deployment}` });
    return pods.items.filter((p) => !p.metadata?.deletionTimestamp)
      .map((p) => ({ name: p.metadata?.name ?? '', version: p.metadata?.labels?.[Label.version] ?? '' }));
  }

  async stop(): Promise<void> {
    await this.stopOperator().catch(() => undefined);
    await this.cluster.stop();
  }
}

/**
 * Every distinct status.liveMetrics of a ModelDeployment (one per analysis interval), polled each second while
 * running, so live accuracy can be averaged over the windows of a period: single windows swing with the days
 * they cover.
 */
export class LiveMetricsLog {
  private readonly seen = new Map<string, LiveMetrics>();
  private stopped = false;
  private running: Promise<void> | undefined;

  constructor(private readonly stack: LoopStack, private readonly deployment: string) {}

  start(): void {
    this.running ??= (async () => {
      while (!this.stopped) {
        const m = (await this.stack.getMd(this.deployment).catch(() => undefined))?.status?.liveMetrics;
        if (m?.time !== undefined) this.seen.set(m.time, m);
        await sleep(1000);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  /** The largest feature PSI of a version's windows measured in (fromMs, toMs]: their mean and maximum. */
  drift(version: string, fromMs: number, toMs = Infinity): { mean: number; max: number; windows: number } {
    const psis = [...this.seen.values()]
      .filter((m) => m.version === version && m.maxDriftPsi !== undefined && Date.parse(m.time ?? '') > fromMs && Date.parse(m.time ?? '') <= toMs)
      .map((m) => m.maxDriftPsi ?? 0);
    return { mean: psis.length > 0 ? psis.reduce((a, b) => a + b, 0) / psis.length : NaN, max: Math.max(...psis), windows: psis.length };
  }

  /** Live accuracy of a version over the windows measured in (fromMs, toMs], weighted by their labelled samples. */
  accuracy(version: string, fromMs: number, toMs = Infinity): { accuracy: number; samples: number; windows: number } {
    let correct = 0;
    let samples = 0;
    let windows = 0;
    for (const m of this.seen.values()) {
      const t = Date.parse(m.time ?? '');
      if (m.version !== version || !(t > fromMs && t <= toMs) || m.accuracy === undefined || !m.labelledSamples) continue;
      correct += m.accuracy * m.labelledSamples;
      samples += m.labelledSamples;
      windows++;
    }
    return { accuracy: samples > 0 ? correct / samples : NaN, samples, windows };
  }

  /** Live RMSE of a version over the windows measured in (fromMs, toMs], pooled over their labelled samples. */
  rmse(version: string, fromMs: number, toMs = Infinity): { rmse: number; samples: number; windows: number } {
    let squared = 0;
    let samples = 0;
    let windows = 0;
    for (const m of this.seen.values()) {
      const t = Date.parse(m.time ?? '');
      if (m.version !== version || !(t > fromMs && t <= toMs) || m.rmse === undefined || !m.labelledSamples) continue;
      squared += m.rmse * m.rmse * m.labelledSamples;
      samples += m.labelledSamples;
      windows++;
    }
    return { rmse: samples > 0 ? Math.sqrt(squared / samples) : NaN, samples, windows };
  }
}

/**
 * How long the node takes to start pods: creation to the first container running (image present, sandbox, CNI,
 * volumes), for every pod of the namespace seen while it runs, polled each second (whole seconds: the API's
 * timestamps have no more).
 */
export class PodStartLog {
  private readonly seconds = new Map<string, { kind: string; seconds: number }>();
  private stopped = false;
  private running: Promise<void> | undefined;

  constructor(private readonly stack: LoopStack) {}

  start(): void {
    this.running ??= (async () => {
      while (!this.stopped) {
        const pods = await this.stack.core.listNamespacedPod({ namespace: this.stack.namespace }).catch(() => undefined);
        for (const p of pods?.items ?? []) {
          const uid = p.metadata?.uid;
          const created = p.metadata?.creationTimestamp;
          const state = p.status?.containerStatuses?.[0]?.state;
          const started = state?.running?.startedAt ?? state?.terminated?.startedAt;
          if (uid === undefined || created === undefined || started === undefined || this.seconds.has(uid)) continue;
          const kind = p.metadata?.labels?.['job-name'] !== undefined ? 'trainer' : 'server';
          this.seconds.set(uid, { kind, seconds: (new Date(started).getTime() - new Date(created).getTime()) / 1000 });
        }
        await sleep(1000);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  /** p50 and p99 (nearest rank) of one kind of pod, in seconds. */
  percentiles(kind: 'trainer' | 'server'): { p50: number; p99: number; pods: number } {
    const s = [...this.seconds.values()].filter((x) => x.kind === kind).map((x) => x.seconds).sort((a, b) => a - b);
    const rank = (q: number): number => s[Math.max(0, Math.ceil(q * s.length) - 1)] ?? NaN;
    return { p50: rank(0.5), p99: rank(0.99), pods: s.length };
  }
}
