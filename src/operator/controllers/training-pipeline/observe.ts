// Observe: everything one reconcile decides from, read into one immutable value (observed.ts). The caches give
// the pipeline, its Jobs and the ModelDeployments; the store (behind the ObjectStore port) gives the data
// listing for the newData trigger, a finished run's manifest and metrics (or its validation report), the
// versions present for retention, and the keys to clean up on deletion. A store that cannot answer throws, so
// the reconcile is retried with backoff and no verdict is ever drawn from an outage.
import { createHash } from 'node:crypto';
import { Annotation } from '../../../api/conditions.js';
import { Label } from '../../../api/labels.js';
import type { ModelDeployment, ModelDeploymentStatus } from '../../../api/model-deployment.js';
import type { TrainingPipeline } from '../../../api/training-pipeline.js';
import {
  artifactKey, parseManifest, pipelinePrefix, runValidationReportKey, versionsPrefix, type PipelineRef,
} from '../../../shared/artifact-layout.js';
import { parseEvaluationReport } from '../../../shared/evaluation-report.js';
import { ObjectNotFoundError, type ObjectStore } from '../../../storage/object-store.js';
import type { CacheReader } from '../../runtime/informer.js';
import type { KubeObject } from '../../runtime/resource.js';
import type { PodObject, ReadPods } from '../pod-faults.js';
import type { TenancyPolicy } from '../tenancy.js';
import type { StoreSettings } from '../../store-settings.js';
import type { JobState, Observed, ObservedJob, RunResult } from './observed.js';
import { watermarkListing, type DataPolls } from './data-polls.js';
import { dataPollIntervalMs, type DataListing } from './triggers.js';
import { versionsInUse } from './versions-in-use.js';

export interface ObserveDeps {
  readonly jobs: CacheReader<KubeObject>;
  /** Lists pods by label in a namespace (the current run's Job pods, read on demand). */
  readonly readPods: ReadPods;
  readonly deployments: CacheReader<KubeObject>;
  /**
   * The ModelDeployments of a namespace that may use a pipeline's versions (pipelinesUsedBy: the cache's index, so a
   * reconcile does not read every deployment of the namespace).
   */
  readonly deploymentsUsing: (namespace: string, pipeline: string) => readonly ModelDeployment[];
  readonly storeSettings: StoreSettings | undefined;
  readonly dataPollMs: number;
  readonly jobTtlSeconds: number;
  readonly tenancy: TenancyPolicy;
  /** The kept listings and the listing budget (data-polls.ts); without it every reconcile lists. */
  readonly dataPolls?: DataPolls | undefined;
}

interface JobObject extends KubeObject {
  readonly status?: {
    readonly conditions?: ReadonlyArray<{ readonly type: string; readonly status: string; readonly reason?: string; readonly message?: string }>;
    readonly completionTime?: string;
  };
}

export function jobState(job: JobObject): JobState {
  const conditions = job.status?.conditions ?? [];
  const completionTime = job.status?.completionTime;
  if (conditions.some((c) => c.type === 'Complete' && c.status === 'True')) return { phase: 'Succeeded', completionTime };
  const failed = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
  if (failed) return { phase: 'Failed', reason: failed.reason ?? 'Failed', message: failed.message ?? '', completionTime };
  return { phase: 'Active' };
}

function ownedJobs(deps: ObserveDeps, tp: TrainingPipeline): ObservedJob[] {
  const { namespace = '', name = '', uid } = tp.metadata;
  return deps.jobs.list(namespace, { [Label.pipeline]: name })
    .filter((j) => j.metadata?.ownerReferences?.some((r) => r.controller === true && r.uid === uid))
    .map((j) => ({
      name: j.metadata?.name ?? '',
      uid: j.metadata?.uid ?? '',
      run: j.metadata?.labels?.[Label.run],
      state: jobState(j as JobObject),
    }));
}

async function readText(store: ObjectStore, bucket: string, key: string): Promise<string | undefined> {
  try {
    return (await store.getBuffer(bucket, key)).toString('utf8');
  } catch (e: unknown) {
    if (e instanceof ObjectNotFoundError) return undefined;
    throw e;
  }
}

/** Counts data rows in an object: lines with content, minus a CSV header. */
async function countRows(store: ObjectStore, bucket: string, key: string, format: 'csv' | 'jsonl'): Promise<number> {
  const stream = await store.get(bucket, key);
  let lines = 0;
  let pending = false;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    for (const byte of chunk) {
      if (byte === 0x0a) {
        if (pending) lines++;
        pending = false;
      } else if (byte !== 0x0d && byte !== 0x20) pending = true;
    }
  }
  if (pending) lines++;
  return format === 'csv' ? Math.max(0, lines - 1) : lines;
}

async function listData(store: ObjectStore, settings: StoreSettings, tp: TrainingPipeline): Promise<DataListing> {
  const watermark = tp.status?.dataWatermark?.newestObjectTime;
  const since = watermark === undefined ? undefined : Date.parse(watermark);
  const countNewRows = tp.spec.triggers.newData?.minRows !== undefined;
  const digest = createHash('sha256');
  let objects = 0;
  let newestMs: number | undefined;
  let newObjects = 0;
  let newRows = 0;
  for (const source of tp.spec.data.sources) {
    const bucket = source.bucket ?? settings.bucket;
    for (const o of await store.list(bucket, source.prefix)) {
      objects++;
      digest.update(`${bucket}/${o.key}@${o.etag}\n`);
      const modified = o.lastModified.getTime();
      newestMs = newestMs === undefined ? modified : Math.max(newestMs, modified);
      if (since !== undefined && modified > since) {
        newObjects++;
        if (countNewRows) newRows += await countRows(store, bucket, o.key, source.format);
      }
    }
  }
  return { objects, digest: digest.digest('hex'), newestMs, newObjects, newRows };
}

function pollKey(tp: TrainingPipeline): string {
  return `${tp.metadata.namespace ?? ''}/${tp.metadata.name ?? ''}`;
}

/**
 * What a listing depends on besides the watermark: the sources and whether rows are counted. The watermark new data
 * is counted from is the stand-in data-polls.ts compares; only a watermark without its digest (written before
 * there was one) is part of the basis.
 */
function pollBasis(tp: TrainingPipeline, settings: StoreSettings): string {
  const legacyWatermark = watermarkListing(tp.status?.dataWatermark) === undefined ? tp.status?.dataWatermark?.newestObjectTime : undefined;
  return JSON.stringify([tp.metadata.uid, settings.bucket, tp.spec.data.sources, tp.spec.triggers.newData?.minRows !== undefined, legacyWatermark]);
}

/**
 * The listing of the sources: kept and reused by data-polls.ts until it is due, notified or out of date; after a
 * restart, the data watermark stands in for it until its first poll.
 */
function dataListing(deps: ObserveDeps, store: ObjectStore, settings: StoreSettings, tp: TrainingPipeline): Promise<DataListing> {
  if (!deps.dataPolls) return listData(store, settings, tp);
  const pollMs = dataPollIntervalMs(tp.spec, deps.dataPollMs);
  return deps.dataPolls.listing(pollKey(tp), pollBasis(tp, settings), pollMs, () => listData(store, settings, tp), watermarkListing(tp.status?.dataWatermark));
}

/** The sources listed now, whatever is kept: the data a run about to start takes (reconciler.ts). */
export function freshDataListing(deps: ObserveDeps, store: ObjectStore, settings: StoreSettings, tp: TrainingPipeline): Promise<DataListing> {
  if (!deps.dataPolls) return listData(store, settings, tp);
  const pollMs = dataPollIntervalMs(tp.spec, deps.dataPollMs);
  return deps.dataPolls.listNow(pollKey(tp), pollBasis(tp, settings), pollMs, () => listData(store, settings, tp), watermarkListing(tp.status?.dataWatermark));
}

/** A parsed document, or why it cannot be read (a content problem: a verdict, never a store outage). */
function parsed<T>(parse: () => T): { ok: true; value: T } | { ok: false; message: string } {
  try {
    return { ok: true, value: parse() };
  } catch (e: unknown) {
    return { ok: false, message: e instanceof Error ? e.message : String(e) };
  }
}

/** What the validation report of a failed run says: invalid data (with its issues), or nothing about this failure. */
async function failedRunResult(store: ObjectStore, bucket: string, ref: PipelineRef, runId: string): Promise<RunResult> {
  const text = await readText(store, bucket, runValidationReportKey(ref, runId));
  if (text === undefined) return { kind: 'noValidationReport' };
  const report = parsed(() => JSON.parse(text) as { ok?: unknown; issues?: Array<{ severity?: unknown; check?: unknown; message?: unknown; count?: unknown }> });
  if (!report.ok) return { kind: 'invalidData', issues: [{ check: undefined, message: 'the validation report is not JSON' }] };
  if (report.value.ok === true) return { kind: 'noValidationReport' }; // validation passed; the failure came later
  const issues = (report.value.issues ?? []).filter((i) => i.severity === 'error' && typeof i.message === 'string').map((i) => ({
    check: typeof i.check === 'string' ? i.check : undefined,
    message: String(i.message),
    count: typeof i.count === 'number' ? i.count : undefined,
  }));
  return { kind: 'invalidData', issues };
}

/**
 * The store's verdict on a finished run. Only what the store holds decides it (a missing or unparsable manifest or
 * metrics document); a store that cannot answer throws, and the reconcile is retried.
 */
async function runResult(store: ObjectStore, bucket: string, ref: PipelineRef, runId: string, version: string, state: JobState): Promise<RunResult | undefined> {
  if (state.phase === 'Active') return undefined;
  if (state.phase === 'Failed') return failedRunResult(store, bucket, ref, runId);
  const manifestKey = artifactKey(ref, version, 'manifest');
  const manifestText = await readText(store, bucket, manifestKey);
  if (manifestText === undefined) return { kind: 'noManifest', key: manifestKey };
  const manifest = parsed(() => parseManifest(manifestText));
  if (!manifest.ok) return { kind: 'unreadable', message: manifest.message };
  const metricsKey = artifactKey(ref, version, 'metrics');
  const metricsText = await readText(store, bucket, metricsKey);
  if (metricsText === undefined) return { kind: 'unreadable', message: `${metricsKey} is missing` };
  const report = parsed(() => parseEvaluationReport(metricsText));
  return report.ok ? { kind: 'published', manifest: manifest.value, report: report.value } : { kind: 'unreadable', message: report.message };
}

async function listVersions(store: ObjectStore, bucket: string, ref: PipelineRef): Promise<string[]> {
  const prefix = versionsPrefix(ref);
  const names = new Set<string>();
  for (const o of await store.list(bucket, prefix)) {
    const name = o.key.slice(prefix.length).split('/')[0];
    if (name) names.add(name);
  }
  return [...names];
}

function deploymentStatuses(deps: ObserveDeps, tp: TrainingPipeline): Record<string, ModelDeploymentStatus | undefined> {
  const out: Record<string, ModelDeploymentStatus | undefined> = {};
  const namespace = tp.metadata.namespace ?? '';
  for (const name of [tp.spec.triggers.drift?.deployment, tp.spec.triggers.performance?.deployment]) {
    if (name === undefined) continue;
    out[name] = (deps.deployments.get(namespace, name) as ModelDeployment | undefined)?.status;
  }
  return out;
}

function followingDeployments(deps: ObserveDeps, tp: TrainingPipeline): string[] {
  const namespace = tp.metadata.namespace ?? '';
  return [tp.spec.triggers.drift?.deployment, tp.spec.triggers.performance?.deployment]
    .filter((name): name is string => name !== undefined)
    .filter((name) => (deps.deployments.get(namespace, name) as ModelDeployment | undefined)?.spec?.model?.fromPipeline === tp.metadata.name);
}

/**
 * The pods of a run's Job, listed by the run's labels in the pipeline's namespace when a reconcile needs them, not
 * kept in an informer: memory stays bounded by one Job's pods for one reconcile (a pod cache would hold every pod
 * carrying these labels in every watched namespace, for the operator's lifetime), and listing needs only the
 * `list` the server pods' metrics already use, no watch. What changes a waiting pod does not change its Job, so
 * the plan looks again while the pod has not started (run-faults.ts). A pod of an earlier Job of the same name
 * (replaced) is not this Job's.
 */
async function jobPods(deps: ObserveDeps, tp: TrainingPipeline, job: ObservedJob): Promise<PodObject[]> {
  const pods = await deps.readPods(tp.metadata.namespace ?? '', { [Label.pipeline]: tp.metadata.name ?? '', [Label.run]: job.name });
  return pods.filter((p) => p.metadata?.ownerReferences?.some((r) => r.controller === true && r.uid === job.uid));
}

/** What the caches say: the pipeline's Jobs and the ModelDeployments around it. */
function fromCaches(deps: ObserveDeps, tp: TrainingPipeline, ref: PipelineRef): Pick<Observed, 'pipeline' | 'jobs' | 'deployments' | 'following' | 'followers' | 'servedVersions'> {
  const users = deps.deploymentsUsing(ref.namespace, ref.name);
  const bucket = tp.spec.storage?.bucket ?? deps.storeSettings?.bucket ?? '';
  return {
    pipeline: tp, jobs: ownedJobs(deps, tp), deployments: deploymentStatuses(deps, tp), following: followingDeployments(deps, tp),
    followers: users.filter((md) => md.spec?.model?.fromPipeline === ref.name).map((md) => ({
      name: md.metadata.name ?? '', stableVersion: md.status?.stableVersion, abortedVersion: md.status?.abortedVersion, abortedMessage: md.status?.abortedMessage,
    })),
    servedVersions: versionsInUse(users, ref, bucket),
  };
}

/**
 * Whether to list the versions: for retention (once there is a champion), for status.storedVersions (once a run
 * published a version), and for a pin to check.
 */
function versionsListed(tp: TrainingPipeline, result: RunResult | undefined): boolean {
  const st = tp.status;
  return st?.championVersion !== undefined || st?.latestVersion !== undefined || result?.kind === 'published' || tp.metadata.annotations?.[Annotation.champion] !== undefined;
}

/**
 * `store` is the client the operator acts with for this pipeline (its own credentials when it names a Secret), or
 * undefined when there is none or the pipeline is not accepted: then nothing is read from the store.
 */
export async function observe(deps: ObserveDeps, tp: TrainingPipeline, nowMs: number, store: ObjectStore | undefined): Promise<Observed> {
  const ref: PipelineRef = { namespace: tp.metadata.namespace ?? '', name: tp.metadata.name ?? '' };
  const { storeSettings } = deps;
  const settings = storeSettings === undefined || store === undefined ? undefined : { ...storeSettings, bucket: tp.spec.storage?.bucket ?? storeSettings.bucket };
  const base = {
    ...fromCaches(deps, tp, ref), nowMs,
    store: settings, data: undefined, result: undefined, runPods: undefined, versions: undefined, cleanupKeys: undefined,
    dataPollMs: deps.dataPollMs, jobTtlSeconds: deps.jobTtlSeconds, tenancy: deps.tenancy,
  };
  if (!store || !settings) return base;
  if (tp.metadata.deletionTimestamp !== undefined) {
    const cleanup = tp.spec.retention.onDelete === 'Delete' ? (await store.list(settings.bucket, pipelinePrefix(ref))).map((o) => o.key) : undefined;
    return { ...base, cleanupKeys: cleanup };
  }
  const data = tp.spec.triggers.newData ? await dataListing(deps, store, settings, tp) : undefined;
  const current = tp.status?.currentRun;
  const run = current === undefined ? undefined : tp.status?.runs?.find((r) => r.name === current);
  const job = current === undefined ? undefined : base.jobs.find((j) => j.name === current);
  const result = run && job ? await runResult(store, settings.bucket, ref, run.name, run.version ?? '', job.state) : undefined;
  const runPods = run && job && job.state.phase !== 'Succeeded' ? await jobPods(deps, tp, job) : undefined;
  const versions = versionsListed(tp, result) ? await listVersions(store, settings.bucket, ref) : undefined;
  return { ...base, data, result, runPods, versions };
}
