// What the reliability benchmark sees of the loop, through informers of its own (they relist after an API server
// restart): the pipeline and the deployment (to time the faults and print the loop's state), the trainer pods, and
// every training Job ever created, kept by uid even after it is deleted, so a second Job for one run shows.
import type { KubeConfig } from '@kubernetes/client-node';
import { Label } from '../src/api/labels.js';
import type { ModelDeployment } from '../src/api/model-deployment.js';
import type { TrainingPipeline } from '../src/api/training-pipeline.js';
import { systemClock } from '../src/operator/runtime/clock.js';
import { Informer } from '../src/operator/runtime/informer.js';
import type { KubeHttp } from '../src/operator/runtime/kube-http.js';
import { createLogger } from '../src/operator/runtime/log.js';
import type { KubeObject } from '../src/operator/runtime/resource.js';
import { jobs, modelDeployments, pods, trainingPipelines } from '../src/operator/resources.js';
import type { SeenJob } from './reliability-tally.js';

const runLabel = Label.run;

export interface JobObject extends KubeObject {
  readonly status?: { readonly active?: number; readonly failed?: number; readonly succeeded?: number; readonly conditions?: ReadonlyArray<{ readonly type: string; readonly status: string }> };
}

export interface PodObject extends KubeObject {
  readonly status?: { readonly phase?: string };
}

/** The loop as last seen. */
export interface LoopView {
  readonly tp: TrainingPipeline | undefined;
  readonly md: ModelDeployment | undefined;
  readonly jobs: readonly JobObject[];
  readonly pods: readonly PodObject[];
}

interface Waiter {
  readonly ok: (v: LoopView) => boolean;
  readonly resolve: (v: LoopView) => void;
}

export class LoopWatch {
  private readonly tps: Informer<TrainingPipeline>;
  private readonly mds: Informer<ModelDeployment>;
  private readonly jobInformer: Informer<JobObject>;
  private readonly podInformer: Informer<PodObject>;
  private readonly seen = new Map<string, SeenJob>();
  /** Per Job uid, the most failed pods its status reported (each one retried, unless the Job failed). */
  private readonly failedPods = new Map<string, number>();
  private waiters: Waiter[] = [];

  constructor(kubeConfig: KubeConfig, http: KubeHttp, private readonly namespace: string, private readonly name: string) {
    const common = { kubeConfig, http, namespace, clock: systemClock(), logger: createLogger({ silent: true }), restartBaseMs: 250, restartCapMs: 2000 };
    this.tps = new Informer<TrainingPipeline>({ ...common, ref: trainingPipelines });
    this.mds = new Informer<ModelDeployment>({ ...common, ref: modelDeployments });
    this.jobInformer = new Informer<JobObject>({ ...common, ref: jobs });
    this.podInformer = new Informer<PodObject>({ ...common, ref: pods, labelSelector: runLabel });
    this.jobInformer.onEvent((_, job) => {
      const uid = job.metadata?.uid ?? '';
      if (uid !== '' && !this.seen.has(uid)) {
        this.seen.set(uid, { uid, name: job.metadata?.name ?? '', run: job.metadata?.labels?.[runLabel] ?? '', createdAt: job.metadata?.creationTimestamp ?? '' });
      }
      if (uid !== '') this.failedPods.set(uid, Math.max(this.failedPods.get(uid) ?? 0, job.status?.failed ?? 0));
    });
    for (const i of [this.tps, this.mds, this.jobInformer, this.podInformer]) i.onEvent(() => this.check());
  }

  async start(): Promise<void> {
    for (const i of [this.tps, this.mds, this.jobInformer, this.podInformer]) i.start();
    await Promise.all([this.tps.synced, this.mds.synced, this.jobInformer.synced, this.podInformer.synced]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.tps.stop(), this.mds.stop(), this.jobInformer.stop(), this.podInformer.stop()]);
  }

  view(): LoopView {
    return {
      tp: this.tps.get(this.namespace, this.name),
      md: this.mds.get(this.namespace, this.name),
      jobs: this.jobInformer.list(this.namespace),
      pods: this.podInformer.list(this.namespace),
    };
  }

  /** Every training Job created since start, deleted ones included. */
  seenJobs(): SeenJob[] {
    return [...this.seen.values()];
  }

  /** Trainer pods that failed (and were retried by their Job) over every Job seen. */
  failedTrainerPods(): number {
    return [...this.failedPods.values()].reduce((a, b) => a + b, 0);
  }

  /** Resolves on the first change after which ok holds (at once if it holds now); never rejects. */
  until(ok: (v: LoopView) => boolean, signal: AbortSignal): Promise<LoopView | undefined> {
    const now = this.view();
    if (ok(now)) return Promise.resolve(now);
    return new Promise((resolve) => {
      const waiter: Waiter = { ok, resolve };
      this.waiters.push(waiter);
      signal.addEventListener('abort', () => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(undefined);
      }, { once: true });
    });
  }

  private check(): void {
    if (this.waiters.length === 0) return;
    const v = this.view();
    const done = this.waiters.filter((w) => w.ok(v));
    if (done.length === 0) return;
    this.waiters = this.waiters.filter((w) => !done.includes(w));
    for (const w of done) w.resolve(v);
  }

  /** One line: runs, champion, rollout and Jobs as last seen. */
  describe(): string {
    const { tp, md, jobs: js } = this.view();
    const st = tp?.status;
    const runs = (st?.runs ?? []).slice().reverse().map((r) => `${r.name}/${r.version ?? '?'} ${r.outcome ?? '?'}`).join(', ');
    const m = md?.status;
    const canary = m?.canaryVersion !== undefined ? ` canary=${m.canaryVersion}@${m.canaryWeight ?? 0}% step=${m.currentStep ?? 0}` : '';
    const jobText = js.map((j) => {
      const done = j.status?.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')?.type;
      return `${j.metadata?.name ?? '?'}(${done ?? `active ${j.status?.active ?? 0}, failed pods ${j.status?.failed ?? 0}`})`;
    }).join(' ');
    return `runs [${runs}] current=${st?.currentRun ?? '-'} champion=${st?.championVersion ?? '-'} | md ${m?.phase ?? '-'} stable=${m?.stableVersion ?? '-'}${canary} | jobs ${jobText || '-'}`;
  }
}

export function jobFinished(j: JobObject | undefined): boolean {
  return (j?.status?.conditions ?? []).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}
