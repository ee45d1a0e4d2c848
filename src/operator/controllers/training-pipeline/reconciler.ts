// TrainingPipeline reconcile: observe (caches + store, observe.ts) → plan (pure, plan.ts) → apply:
//   finalizer patch (then stop: the watch event brings the next reconcile)
//   | cleanup of the store on deletion, then the finalizer's removal (only after the cleanup succeeded)
//   | stop a replaced run's Job → ONE status write (it claims a new run's number before its Job exists)
//     → create the run's Job (AlreadyExists is success) → delete versions beyond retention → events, metrics.
import type { TrainingPipeline, RunOutcome } from '../../../api/training-pipeline.js';
import { artifactFiles, versionPrefix } from '../../../shared/artifact-layout.js';
import { StoreRequestError, StoreUnavailableError, type ObjectStore } from '../../../storage/object-store.js';
import type { Clock } from '../../runtime/clock.js';
import type { EventRecorder } from '../../runtime/events.js';
import type { CacheReader } from '../../runtime/informer.js';
import type { KubeClient } from '../../runtime/kube.js';
import type { Logger } from '../../runtime/log.js';
import type { ObjectKey, ReconcileResult, Reconciler } from '../../runtime/manager.js';
import type { KubeObject } from '../../runtime/resource.js';
import type { StatusWriter } from '../../runtime/status-writer.js';
import { InvalidError } from '../../runtime/errors.js';
import { jobs, trainingPipelines } from '../../resources.js';
import { Reason, finalizer as cleanupFinalizer } from '../../../api/conditions.js';
import { observe } from './observe.js';
import type { Observed, StoreSettings } from './observed.js';
import { planTrainingPipeline, withJobRejected, withStoreUnavailable, type TrainingPipelinePlan } from './plan.js';

/** What every controller's reconciler gets (the ModelDeployment controller builds its deps from this). */
export interface TrainingPipelineDeps {
  readonly pipelines: CacheReader<KubeObject>;
  readonly statusWriter: StatusWriter;
  readonly events: EventRecorder;
  readonly clock: Clock;
  readonly logger: Logger;
}

export interface TrainingPipelineReconcilerDeps extends TrainingPipelineDeps {
  readonly jobs: CacheReader<KubeObject>;
  readonly deployments: CacheReader<KubeObject>;
  readonly kube: KubeClient;
  /** The object store and how trainer pods reach it; undefined when the operator runs without one. */
  readonly store: ObjectStore | undefined;
  readonly storeSettings: StoreSettings | undefined;
  /** Counts each ended run (perennial_training_runs_total{outcome}). */
  readonly onRunFinished: (outcome: RunOutcome) => void;
  readonly dataPollMs: number;
  readonly jobTtlSeconds: number;
}

export class TrainingPipelineReconciler implements Reconciler {
  constructor(private readonly deps: TrainingPipelineReconcilerDeps) {}

  async reconcile(key: ObjectKey): Promise<ReconcileResult> {
    const tp = this.deps.pipelines.get(key.namespace, key.name) as TrainingPipeline | undefined;
    if (!tp) return {}; // deleted; its Jobs go with it by garbage collection
    let observed: Observed;
    try {
      observed = await observe(this.deps, tp, this.deps.clock.now());
    } catch (e: unknown) {
      if (e instanceof StoreUnavailableError || e instanceof StoreRequestError) {
        await this.deps.statusWriter.write(trainingPipelines, tp, withStoreUnavailable(tp, e.message, this.deps.clock.now()));
      }
      throw e; // retried with backoff
    }
    const plan = planTrainingPipeline(observed);
    const bucket = observed.store?.bucket;
    if (plan.cleanup && this.deps.store && bucket !== undefined) {
      for (const k of plan.cleanup.keys) await this.deps.store.delete(bucket, k);
      await this.setFinalizer(tp, false);
      this.deps.logger.info('store cleaned up', { namespace: key.namespace, name: key.name, objects: plan.cleanup.keys.length });
      return {};
    }
    if (plan.finalizer) {
      await this.setFinalizer(tp, plan.finalizer === 'add');
      return {};
    }
    return this.apply(tp, observed, plan, bucket);
  }

  private async apply(tp: TrainingPipeline, observed: Observed, plan: TrainingPipelinePlan, bucket: string | undefined): Promise<ReconcileResult> {
    const { kube, statusWriter, events, store, logger } = this.deps;
    const namespace = tp.metadata.namespace ?? '';
    const name = tp.metadata.name ?? '';
    if (plan.deleteJob) {
      await kube.delete(jobs, { namespace, name: plan.deleteJob.name }, { propagationPolicy: 'Background', uid: plan.deleteJob.uid });
    }
    const written = await statusWriter.write(trainingPipelines, tp, plan.status);
    if (written.written) logger.debug('status written', { namespace, name, generation: tp.metadata.generation });
    if (plan.createJob) {
      try {
        const created = await kube.create(jobs, plan.createJob, { alreadyExistsOk: true });
        if (created.created) logger.info('training job created', { namespace, name, job: plan.createJob.metadata.name });
      } catch (e: unknown) {
        if (!(e instanceof InvalidError)) throw e;
        // Retrying cannot help: end the run with the server's reason (a second write, on this error path only).
        const runName = plan.createJob.metadata.name;
        const afterWrite = written.written && written.resourceVersion !== undefined
          ? { ...tp, metadata: { ...tp.metadata, resourceVersion: written.resourceVersion }, status: plan.status }
          : tp;
        const ended = withJobRejected(plan.status, runName, e.message, observed.nowMs);
        const replanned = planTrainingPipeline({ ...observed, pipeline: { ...tp, status: ended } });
        await statusWriter.write(trainingPipelines, afterWrite, replanned.status);
        this.deps.onRunFinished('Failed');
        await events.event(tp, 'Warning', Reason.RunFailed, `Run ${runName}: the API server refused its Job: ${e.message}`);
        return {};
      }
    }
    if (store && bucket !== undefined) {
      for (const version of plan.deleteVersions) await deleteVersion(store, bucket, { namespace, name }, version);
    }
    for (const outcome of plan.finishedRuns) this.deps.onRunFinished(outcome);
    for (const e of plan.events) await events.event(tp, e.type, e.reason, e.note);
    return plan.requeueAfterMs === undefined ? {} : { requeueAfterMs: plan.requeueAfterMs };
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
