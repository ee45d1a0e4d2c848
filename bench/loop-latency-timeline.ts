// The loop's timeline as the objects themselves tell it: watches on the pipeline, the deployment, Jobs, pods,
// server Deployments and EndpointSlices of one namespace, recording the first time (ms, on this machine's clock)
// each fact was observed, next to the object's own timestamp where it has one (whole seconds, as metav1 writes
// them). Facts are recorded for every object, not only the retrain's: which Job, pod or Deployment is the
// retrain's is decided afterwards, so the order in which the separate watches deliver never loses a fact.
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { Label } from '../src/api/labels.js';
import type { ModelDeployment } from '../src/api/model-deployment.js';
import type { TrainingPipeline } from '../src/api/training-pipeline.js';

export interface Fact {
  /** When this process first saw it (Date.now()). */
  readonly atMs: number;
  /** The object's own timestamp for it, when it has one. */
  readonly objectTime?: string | undefined;
  readonly note?: string | undefined;
}

interface Meta {
  readonly name?: string;
  readonly creationTimestamp?: string;
  readonly deletionTimestamp?: string;
  readonly labels?: Readonly<Record<string, string>>;
}

interface Condition {
  readonly type: string;
  readonly status: string;
  readonly lastTransitionTime?: string;
}

interface ContainerState {
  readonly running?: { readonly startedAt?: string };
  readonly terminated?: { readonly startedAt?: string; readonly finishedAt?: string; readonly exitCode?: number };
}

interface PodObject {
  readonly metadata: Meta;
  readonly spec?: { readonly nodeName?: string };
  readonly status?: {
    readonly conditions?: readonly Condition[];
    readonly containerStatuses?: ReadonlyArray<{ readonly state?: ContainerState }>;
  };
}

interface JobObject {
  readonly metadata: Meta;
  readonly status?: { readonly conditions?: readonly Condition[]; readonly completionTime?: string };
}

interface DeploymentObject {
  readonly metadata: Meta;
  readonly spec?: { readonly replicas?: number };
  readonly status?: { readonly readyReplicas?: number };
}

interface SliceObject {
  readonly metadata: Meta;
  readonly endpoints?: ReadonlyArray<{ readonly conditions?: { readonly ready?: boolean }; readonly targetRef?: { readonly name?: string } }>;
}

export const versionLabel = Label.version;
export const jobNameLabel = 'job-name';

export class LoopTimeline {
  readonly facts = new Map<string, Fact>();
  /** The latest labels of every pod seen (by name), to tell a pod's version or Job. */
  readonly podLabels = new Map<string, Readonly<Record<string, string>>>();
  readonly deploymentLabels = new Map<string, Readonly<Record<string, string>>>();
  private readonly slices = new Map<string, SliceObject>();
  private readonly watches: AbortController[] = [];
  private stopped = false;
  private readonly watch: Watch;

  constructor(kc: KubeConfig, private readonly namespace: string, private readonly service: string) {
    this.watch = new Watch(kc);
  }

  /** Starts the watches; resolves once each has delivered its first event or had time to. */
  async start(): Promise<void> {
    const ns = this.namespace;
    await Promise.all([
      this.follow(`/apis/perennial.dev/v1alpha1/namespaces/${ns}/trainingpipelines`, (_t, o) => this.onPipeline(o as TrainingPipeline)),
      this.follow(`/apis/perennial.dev/v1alpha1/namespaces/${ns}/modeldeployments`, (_t, o) => this.onDeployment(o as ModelDeployment)),
      this.follow(`/apis/batch/v1/namespaces/${ns}/jobs`, (_t, o) => this.onJob(o as JobObject)),
      this.follow(`/api/v1/namespaces/${ns}/pods`, (t, o) => this.onPod(t, o as PodObject)),
      this.follow(`/apis/apps/v1/namespaces/${ns}/deployments`, (t, o) => this.onServerDeployment(t, o as DeploymentObject)),
      this.follow(`/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, (t, o) => this.onSlice(t, o as SliceObject)),
    ]);
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.watches) w.abort();
  }

  get(key: string): Fact | undefined {
    return this.facts.get(key);
  }

  /** Facts whose key starts with a prefix, in the order they were observed. */
  matching(prefix: string): Array<[string, Fact]> {
    return [...this.facts].filter(([k]) => k.startsWith(prefix)).sort((a, b) => a[1].atMs - b[1].atMs);
  }

  private note(key: string, objectTime?: string, note?: string): void {
    if (this.facts.has(key)) return;
    this.facts.set(key, { atMs: Date.now(), objectTime, note });
  }

  /** A watch that restarts (after a short pause) when the server ends it, until stop(). */
  private async follow(path: string, on: (type: string, obj: unknown) => void): Promise<void> {
    const run = async (): Promise<void> => {
      const controller = await this.watch.watch(path, {}, (type: string, obj: unknown) => {
        try {
          on(type, obj);
        } catch (e: unknown) {
          console.error(`timeline: ${path}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }, () => {
        if (!this.stopped) setTimeout(() => void run().catch(() => undefined), 200);
      });
      this.watches.push(controller);
    };
    await run();
  }

  private onPipeline(tp: TrainingPipeline): void {
    const st = tp.status;
    if (!st) return;
    if (st.driftSince !== undefined) this.note(`tp:since:Drift:${st.driftSince}`, st.driftSince);
    if (st.performanceSince !== undefined) this.note(`tp:since:Performance:${st.performanceSince}`, st.performanceSince);
    for (const r of st.runs ?? []) {
      this.note(`tp:run:${r.name}:Running`, r.startTime, `${r.version ?? ''} ${r.trigger}: ${r.reason ?? ''}`);
      if (r.outcome !== 'Running') this.note(`tp:run:${r.name}:${r.outcome}`, r.completionTime, r.message);
    }
    if (st.championVersion !== undefined) this.note(`tp:champion:${st.championVersion}`);
  }

  private onDeployment(md: ModelDeployment): void {
    const st = md.status;
    if (!st) return;
    const m = st.liveMetrics;
    if (m?.time !== undefined) {
      this.note(`md:live:${m.time}`, m.time, JSON.stringify({
        version: m.version, psi: m.maxDriftPsi, accuracy: m.accuracy, labelled: m.labelledSamples,
        evidence: m.maxDriftEvidence, features: Object.keys(m.driftEvidence ?? {}).length, detected: m.driftDetectedTime,
      }));
    }
    const v = st.canaryVersion;
    if (v !== undefined) {
      this.note(`md:canary:${v}`, st.stepStartTime);
      this.note(`md:step:${v}:${st.currentStep ?? 0}:${st.stepStartTime ?? ''}`, st.stepStartTime, `weight ${st.canaryWeight ?? 0}%, ${st.canaryReadyReplicas ?? 0} canary pods ready`);
    }
    for (const a of st.analysis ?? []) this.note(`md:analysis:${a.version}:${a.time}:${a.verdict}`, a.time, `step ${(a.step ?? 0) + 1}: ${a.message ?? ''}`);
    if (st.stableVersion !== undefined && v === undefined) {
      this.note(`md:stable:${st.stableVersion}`, st.promotedTime);
      const want = md.spec.server.replicas;
      if ((st.stableReadyReplicas ?? 0) >= want) this.note(`md:done:${st.stableVersion}`, undefined, `${st.stableReadyReplicas ?? 0}/${want} stable pods ready`);
    }
  }

  private onJob(job: JobObject): void {
    const name = job.metadata.name ?? '';
    this.note(`job:${name}:created`, job.metadata.creationTimestamp);
    for (const c of job.status?.conditions ?? []) {
      if ((c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') this.note(`job:${name}:${c.type}`, job.status?.completionTime ?? c.lastTransitionTime);
    }
  }

  private onPod(type: string, pod: PodObject): void {
    const name = pod.metadata.name ?? '';
    if (pod.metadata.labels) this.podLabels.set(name, pod.metadata.labels);
    this.note(`pod:${name}:created`, pod.metadata.creationTimestamp);
    if (pod.spec?.nodeName) this.note(`pod:${name}:scheduled`);
    const state = pod.status?.containerStatuses?.[0]?.state;
    if (state?.running) this.note(`pod:${name}:running`, state.running.startedAt);
    if (state?.terminated) this.note(`pod:${name}:terminated`, state.terminated.finishedAt, `exit ${state.terminated.exitCode ?? '?'}, started ${state.terminated.startedAt ?? '?'}`);
    const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
    if (ready?.status === 'True') this.note(`pod:${name}:ready`, ready.lastTransitionTime);
    if (pod.metadata.deletionTimestamp) this.note(`pod:${name}:deleting`, pod.metadata.deletionTimestamp);
    if (type === 'DELETED') this.note(`pod:${name}:deleted`);
  }

  private onServerDeployment(type: string, d: DeploymentObject): void {
    const name = d.metadata.name ?? '';
    if (d.metadata.labels) this.deploymentLabels.set(name, d.metadata.labels);
    this.note(`deploy:${name}:created`, d.metadata.creationTimestamp);
    this.note(`deploy:${name}:replicas:${d.spec?.replicas ?? 0}`);
    this.note(`deploy:${name}:ready:${d.status?.readyReplicas ?? 0}`);
    if (type === 'DELETED') this.note(`deploy:${name}:deleted`);
  }

  private onSlice(type: string, s: SliceObject): void {
    const name = s.metadata.name ?? '';
    if (s.metadata.labels?.['kubernetes.io/service-name'] !== this.service) return;
    if (type === 'DELETED') this.slices.delete(name);
    else this.slices.set(name, s);
    // The versions the stable Service sends traffic to now (ready endpoints, by their pods' version label).
    const versions = new Set<string>();
    for (const slice of this.slices.values()) {
      for (const e of slice.endpoints ?? []) {
        if (e.conditions?.ready !== true) continue;
        versions.add(this.podLabels.get(e.targetRef?.name ?? '')?.[versionLabel] ?? '?');
      }
    }
    this.note(`eps:${[...versions].sort().join('+')}`);
  }
}
