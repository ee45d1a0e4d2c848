// TrainingPipeline reconcile: review (spec checks and tenancy, pure) → the store to act with (none for a pipeline
// that is not accepted; a client built from its own credentials Secret when it names one) → observe (caches +
// store, observe.ts) → plan (pure, plan.ts) → apply:
//   finalizer patch (then stop: the watch event brings the next reconcile)
//   | cleanup of the store on deletion, then the finalizer's removal (only after the cleanup succeeded)
//   | stop a replaced run's Job → ONE status write (it claims a new run's number before its Job exists)
//     → the plan's events and run-outcome metrics, right after it (jobset's order: a later write that fails
//       cannot lose them) → stop the Jobs of runs that have ended (a run its pods ended) → create the run's Job
//       (AlreadyExists is success) → delete versions beyond retention.
import type { TrainingPipeline, TrainingRun } from '../../../api/training-pipeline.js';
import { artifactFiles, versionPrefix } from '../../../shared/artifact-layout.js';
import { StoreRequestError, StoreUnavailableError, type ObjectStore } from '../../../storage/object-store.js';
import type { ModelDeployment } from '../../../api/model-deployment.js';
import type { CacheReader } from '../../runtime/informer.js';
import type { KubeClient } from '../../runtime/kube.js';
import type { ObjectKey, ReconcileResult, Reconciler } from '../../runtime/manager.js';
import type { KubeObject } from '../../runtime/resource.js';
import type { StatusWriteResult } from '../../runtime/status-writer.js';
import { InvalidError } from '../../runtime/errors.js';
import { jobs, trainingPipelines } from '../../resources.js';
import { ConditionType, Reason, finalizer as cleanupFinalizer } from '../../../api/conditions.js';
import { isAccepted } from '../acceptance.js';
import type { ReadPods } from '../pod-faults.js';
import type { ReconcilerDeps } from '../reconciler-deps.js';
import { CredentialsError } from '../store-credentials.js';
import { storageDenials, type TenancyPolicy } from '../tenancy.js';
import { freshDataListing, observe } from './observe.js';
import type { StoreSettings } from '../../store-settings.js';
import type { Observed } from './observed.js';
import type { TrainingJob } from './job.js';
import { ListingDeferred, type DataPolls } from './data-polls.js';
import { needsFreshListing, planTrainingPipeline, withJobRejected, withStoreProblem, type TrainingPipelinePlan } from './plan.js';
import { reviewTrainingPipeline } from './spec-checks.js';

/** How long a pipeline whose credentials Secret cannot be read waits before it is looked at again (Secrets are not watched). */
export const credentialsRetryMs = 60_000;

/** What a status may say about a store failure: its kind and S3 code, never the store's own text (it goes to the log). */
export function storeProblemText(e: StoreUnavailableError | StoreRequestError): string {
  if (e instanceof StoreUnavailableError) return 'the object store did not answer; retrying';
  return `the object store refused a request${e.code === undefined ? '' : ` (${e.code})`}`;
}

export interface TrainingPipelineReconcilerDeps extends ReconcilerDeps {
  readonly pipelines: CacheReader<KubeObject>;
  readonly jobs: CacheReader<KubeObject>;
  readonly deployments: CacheReader<KubeObject>;
  /** The deployments of a namespace that may use a pipeline's versions (observe.ts; the cache's index). */
  readonly deploymentsUsing: (namespace: string, pipeline: string) => readonly ModelDeployment[];
  /** Lists pods by label (the current run's Job pods, read on demand by observe). */
  readonly readPods: ReadPods;
  readonly kube: KubeClient;
  /** The object store and how trainer pods reach it; undefined when the operator runs without one. */
  readonly store: ObjectStore | undefined;
  readonly storeSettings: StoreSettings | undefined;
  /** A client acting with the credentials in a pipeline's Secret; throws CredentialsError when it cannot. */
  readonly storeForSecret: (namespace: string, name: string) => Promise<ObjectStore>;
  readonly tenancy: TenancyPolicy;
  /** Told each ended run, as status records it (perennial_training_pipeline_runs_total and its duration). */
  readonly onRunFinished: (tp: TrainingPipeline, run: TrainingRun) => void;
  readonly dataPollMs: number;
  readonly jobTtlSeconds: number;
  /** The kept data listings and the operator's listing budget (data-polls.ts). */
  readonly dataPolls?: DataPolls | undefined;
}

export class TrainingPipelineReconciler implements Reconciler {
  constructor(private readonly deps: TrainingPipelineReconcilerDeps) {}

  async reconcile(key: ObjectKey): Promise<ReconcileResult> {
    const tp = this.deps.pipelines.get(key.namespace, key.name) as TrainingPipeline | undefined;
    if (!tp) {
      this.deps.dataPolls?.forget(`${key.namespace}/${key.name}`);
      return {}; // deleted; its Jobs go with it by garbage collection
    }
    let store: ObjectStore | undefined;
    try {
      store = this.usesStore(tp) ? await this.storeFor(tp) : undefined;
    } catch (e: unknown) {
      if (!(e instanceof CredentialsError)) throw e;
      return this.credentialsUnavailable(tp, e);
    }
    let observed: Observed;
    let plan: TrainingPipelinePlan;
    try {
      observed = await observe(this.deps, tp, this.deps.clock.now(), store);
      plan = planTrainingPipeline(observed);
      if (store && observed.store && needsFreshListing(observed, plan)) {
        // A run takes the data there is when it starts: list it, then plan again with what the store holds now.
        observed = { ...observed, data: await freshDataListing(this.deps, store, observed.store, tp) };
        plan = planTrainingPipeline(observed);
      }
    } catch (e: unknown) {
      // No usable data listing until a token of the listing budget is due (data-polls.ts): back then, no write now.
      if (e instanceof ListingDeferred) return { requeueAfterMs: Math.max(1, e.atMs - this.deps.clock.now()) };
      if (e instanceof StoreUnavailableError || e instanceof StoreRequestError) {
        await this.deps.statusWriter.write(trainingPipelines, tp, withStoreProblem(tp, Reason.StoreUnavailable, `Waiting for the object store: ${storeProblemText(e)}.`, this.deps.clock.now()));
      }
      throw e; // retried with backoff
    }
    const bucket = observed.store?.bucket;
    if (plan.cleanup && store && bucket !== undefined) {
      for (const k of plan.cleanup.keys) await store.delete(bucket, k);
      await this.setFinalizer(tp, false);
      this.deps.logger.info('store cleaned up', { namespace: key.namespace, name: key.name, objects: plan.cleanup.keys.length });
      return {};
    }
    if (plan.finalizer) {
      await this.setFinalizer(tp, plan.finalizer === 'add');
      return {};
    }
    return this.apply(tp, observed, plan, store, bucket);
  }

  /**
   * Whether the operator touches the store for this pipeline at all: only for an accepted spec, and while it is
   * being deleted only where its storage is permitted (the cleanup deletes there, nothing else).
   */
  private usesStore(tp: TrainingPipeline): boolean {
    if (!this.deps.store) return false;
    if (tp.metadata.deletionTimestamp !== undefined) {
      return storageDenials(this.deps.tenancy, tp.metadata.namespace ?? '', tp.metadata.name ?? '', tp.spec.storage).length === 0;
    }
    return isAccepted(reviewTrainingPipeline(tp, this.deps.tenancy));
  }

  /** The operator's own client, or one with the pipeline's own credentials. */
  private storeFor(tp: TrainingPipeline): Promise<ObjectStore | undefined> {
    const secret = tp.spec.storage?.credentialsSecret;
    return secret === undefined ? Promise.resolve(this.deps.store) : this.deps.storeForSecret(tp.metadata.namespace ?? '', secret);
  }

  /**
   * Without usable credentials nothing is done in the store: a condition says why, and the pipeline is looked at
   * again after credentialsRetryMs (an invalid Secret is the user's to fix, not a failure to retry with backoff).
   * A pipeline being deleted does not wait for them: deleting a namespace deletes its Secrets and pipelines
   * together, and a finalizer waiting for a Secret that is gone would hold both forever. Its objects stay.
   */
  private async credentialsUnavailable(tp: TrainingPipeline, e: CredentialsError): Promise<ReconcileResult> {
    const { statusWriter, events, clock, logger } = this.deps;
    const ref = { namespace: tp.metadata.namespace ?? '', name: tp.metadata.name ?? '' };
    if (tp.metadata.deletionTimestamp !== undefined) {
      if ((tp.metadata.finalizers ?? []).includes(cleanupFinalizer)) {
        await events.event(tp, 'Warning', Reason.CleanupFailed, `Its objects stay in the store: ${e.message}.`);
        await this.setFinalizer(tp, false);
      }
      return {};
    }
    const message = `spec.storage.credentialsSecret: ${e.message}; nothing is done in the object store until it can be read (looked at again every ${credentialsRetryMs / 1000} s).`;
    const before = tp.status?.conditions?.find((c) => c.type === ConditionType.Progressing)?.reason;
    await statusWriter.write(trainingPipelines, tp, withStoreProblem(tp, Reason.CredentialsUnavailable, message, clock.now()));
    if (before !== Reason.CredentialsUnavailable) await events.event(tp, 'Warning', Reason.CredentialsUnavailable, message);
    logger.info('store credentials unavailable', { ...ref, reason: e.message });
    return { requeueAfterMs: credentialsRetryMs };
  }

  private async apply(tp: TrainingPipeline, observed: Observed, plan: TrainingPipelinePlan, store: ObjectStore | undefined, bucket: string | undefined): Promise<ReconcileResult> {
    const { kube, statusWriter, logger } = this.deps;
    const namespace = tp.metadata.namespace ?? '';
    const name = tp.metadata.name ?? '';
    if (plan.deleteJob) {
      await kube.delete(jobs, { namespace, name: plan.deleteJob.name }, { propagationPolicy: 'Background', uid: plan.deleteJob.uid });
    }
    const written = await statusWriter.write(trainingPipelines, tp, plan.status);
    if (written.written) logger.debug('status written', { namespace, name, generation: tp.metadata.generation });
    await this.tell(tp, plan);
    for (const job of plan.stopJobs) {
      if (await kube.delete(jobs, { namespace, name: job.name }, { propagationPolicy: 'Background', uid: job.uid })) {
        logger.info('training job stopped', { namespace, name, job: job.name });
      }
    }
    if (plan.createJob && !(await this.createJob(tp, observed, plan, plan.createJob, written))) return {};
    if (store && bucket !== undefined) {
      for (const version of plan.deleteVersions) await deleteVersion(store, bucket, { namespace, name }, version);
    }
    return plan.requeueAfterMs === undefined ? {} : { requeueAfterMs: plan.requeueAfterMs };
  }

  /** What the status write recorded, told at once: the runs that ended (counted) and the plan's events. */
  private async tell(tp: TrainingPipeline, plan: TrainingPipelinePlan): Promise<void> {
    for (const run of plan.finishedRuns) this.deps.onRunFinished(tp, run);
    for (const e of plan.events) await this.deps.events.event(tp, e.type, e.reason, e.note);
  }

  /**
   * Creates the run's Job (AlreadyExists is success). When the API server refuses it (422: the spec yields a Job that
   * cannot exist), retrying cannot help: the run ends Failed with the server's reason, in a second status write on
   * this error path only, and false is returned (nothing else is done in this reconcile).
   */
  private async createJob(tp: TrainingPipeline, observed: Observed, plan: TrainingPipelinePlan, job: TrainingJob, written: StatusWriteResult): Promise<boolean> {
    const { kube, statusWriter, events, logger } = this.deps;
    try {
      const created = await kube.create(jobs, job, { alreadyExistsOk: true });
      if (created.created) logger.info('training job created', { namespace: tp.metadata.namespace, name: tp.metadata.name, job: job.metadata.name });
      return true;
    } catch (e: unknown) {
      if (!(e instanceof InvalidError)) throw e;
      const runName = job.metadata.name;
      const afterWrite = written.written && written.resourceVersion !== undefined
        ? { ...tp, metadata: { ...tp.metadata, resourceVersion: written.resourceVersion }, status: plan.status }
        : tp;
      const ended = withJobRejected(plan.status, runName, e.message, observed.nowMs);
      const replanned = planTrainingPipeline({ ...observed, pipeline: { ...tp, status: ended } });
      await statusWriter.write(trainingPipelines, afterWrite, replanned.status);
      const failed = replanned.status.runs?.find((r) => r.name === runName);
      if (failed) this.deps.onRunFinished(tp, failed);
      await events.event(tp, 'Warning', Reason.RunFailed, `Run ${runName}: the API server refused its Job: ${e.message}`);
      return false;
    }
  }

  /** Adds or removes our finalizer with a merge patch guarded by the resourceVersion we read. */
  private async setFinalizer(tp: TrainingPipeline, present: boolean): Promise<void> {
    const others = (tp.metadata.finalizers ?? []).filter((f) => f !== cleanupFinalizer);
    const finalizers = present ? [...others, cleanupFinalizer] : others;
    await this.deps.kube.patch(trainingPipelines, { namespace: tp.metadata.namespace ?? '', name: tp.metadata.name ?? '' },
      { metadata: { resourceVersion: tp.metadata.resourceVersion, finalizers } }, 'merge');
  }
}

/** Deletes one version, manifest first: a half-deleted version is never mistaken for a model. */
async function deleteVersion(store: ObjectStore, bucket: string, ref: { namespace: string; name: string }, version: string): Promise<void> {
  const prefix = versionPrefix(ref, version);
  const keys = (await store.list(bucket, prefix)).map((o) => o.key);
  const manifest = prefix + artifactFiles.manifest;
  await store.delete(bucket, manifest);
  for (const k of keys) if (k !== manifest) await store.delete(bucket, k);
}
