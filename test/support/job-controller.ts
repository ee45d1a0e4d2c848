// The test plays the Job controller (the cluster runs without kube-controller-manager): it reads a Job the
// operator created, runs the real trainer as the Job's only pod would (the container's env, with secretKeyRef
// values resolved from the Secret), then writes the Job status as the Job controller does in 1.34: an interim
// SuccessCriteriaMet / FailureTarget condition first, then Complete / Failed with the same reason, with startTime
// and completionTime.
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeHttpClient, PatchType } from '../../src/operator/runtime/kube-http.js';
import type { KubeConfig } from '@kubernetes/client-node';
import { exitCodes } from '../../src/shared/pod-contract.js';
import { startTrainer } from '../integration/trainer-harness.js';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}

export interface Job {
  metadata: { name: string; namespace: string; uid: string; labels?: Record<string, string>; ownerReferences?: Array<{ uid: string; controller?: boolean }> };
  spec: {
    suspend?: boolean;
    backoffLimit?: number;
    podFailurePolicy?: { rules: Array<{ action: string; onExitCodes?: { values: number[] } }> };
    template: { spec: { containers: Array<{ image: string; env?: EnvVar[] }> } };
  };
  status?: { conditions?: Array<{ type: string; status: string; reason?: string }> };
}

export interface TrainerExit {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const metaTime = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

export class JobController {
  private readonly http: KubeHttpClient;

  constructor(kc: KubeConfig, private readonly namespace: string) {
    this.http = new KubeHttpClient(kc);
  }

  jobPath(name = ''): string {
    return `/apis/batch/v1/namespaces/${this.namespace}/jobs${name ? `/${name}` : ''}`;
  }

  async list(labelSelector?: string): Promise<Job[]> {
    const r = await this.http.request<{ items: Job[] }>('GET', this.jobPath(), { query: { labelSelector } });
    return r.items;
  }

  async get(name: string): Promise<Job | undefined> {
    try {
      return await this.http.request<Job>('GET', this.jobPath(name));
    } catch {
      return undefined;
    }
  }

  async waitFor(name: string, timeoutMs = 60_000): Promise<Job> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await this.get(name);
      if (job) return job;
      if (Date.now() > deadline) throw new Error(`timed out waiting for Job ${name}`);
      await sleep(200);
    }
  }

  /** The container's environment as the kubelet would give it: literal values and resolved secretKeyRefs. */
  async podEnv(job: Job): Promise<NodeJS.ProcessEnv> {
    const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '' };
    for (const e of job.spec.template.spec.containers[0]?.env ?? []) {
      if (e.value !== undefined) env[e.name] = e.value;
      const ref = e.valueFrom?.secretKeyRef;
      if (ref) {
        const secret = await this.http.request<{ data?: Record<string, string> }>('GET', `/api/v1/namespaces/${this.namespace}/secrets/${ref.name}`);
        const b64 = secret.data?.[ref.key];
        if (b64 === undefined) throw new Error(`secret ${ref.name} has no key ${ref.key}`);
        env[e.name] = Buffer.from(b64, 'base64').toString('utf8');
      }
    }
    return env;
  }

  private async patchStatus(name: string, status: unknown): Promise<void> {
    await this.http.request('PATCH', `${this.jobPath(name)}/status`, { body: { status }, contentType: PatchType.merge });
  }

  /** Marks the Job started (its pod is running). */
  async start(name: string): Promise<number> {
    const startedMs = Date.now();
    await this.patchStatus(name, { startTime: metaTime(startedMs), active: 1 });
    return startedMs;
  }

  /** Ends the Job as the Job controller would after the pod's exit: success, or failure by the podFailurePolicy. */
  async finish(job: Job, startedMs: number, exit: TrainerExit): Promise<void> {
    const name = job.metadata.name;
    const now = metaTime(Math.max(Date.now(), startedMs + 1000));
    if (exit.code === exitCodes.success) {
      const interim = { type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods', lastProbeTime: now, lastTransitionTime: now };
      await this.patchStatus(name, { active: 0, succeeded: 1, conditions: [interim] });
      await this.patchStatus(name, { completionTime: now, conditions: [interim, { ...interim, type: 'Complete' }] });
      return;
    }
    const failJob = job.spec.podFailurePolicy?.rules.some((r) => r.action === 'FailJob' && (r.onExitCodes?.values ?? []).includes(exit.code ?? -1)) ?? false;
    const reason = failJob ? 'PodFailurePolicy' : 'BackoffLimitExceeded';
    const message = failJob ? `Container trainer for pod ${name}-x failed with exit code ${exit.code} matching FailJob rule at index 0` : 'Job has reached the specified backoff limit';
    const interim = { type: 'FailureTarget', status: 'True', reason, message, lastProbeTime: now, lastTransitionTime: now };
    await this.patchStatus(name, { active: 0, failed: 1, conditions: [interim] });
    await this.patchStatus(name, { conditions: [interim, { ...interim, type: 'Failed' }] });
  }

  /** Runs the Job's single pod: the real trainer with the Job's environment, then writes the final status. */
  async run(name: string): Promise<TrainerExit> {
    const job = await this.waitFor(name);
    const env = await this.podEnv(job);
    const started = await this.start(name);
    const exit = await startTrainer(env).done;
    await this.finish(job, started, exit);
    return exit;
  }
}
