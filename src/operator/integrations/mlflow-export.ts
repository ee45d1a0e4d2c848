// The MLflow export (spec.integrations.mlflow), a controller of its own on TrainingPipelines beside the
// TrainingPipeline controller: it reads what that controller wrote (the ended runs in status.runs, the champion in
// status.championVersion) and the runs' records in the store, and writes only status.mlflow and the MLflowSynced
// condition. So an MLflow that is away or slow holds up nothing but the export: runs start and end, and champions
// are blessed and demoted, whatever MLflow does.
//   each ended run not in status.mlflow.exportedRuns, oldest first:
//     the MLflow run tagged perennial.run=<namespace>/<pipeline>/<run> (found again, or created) → parameters,
//     metrics, tags → the documents as artifacts (where the server proxies artifacts) → ended FINISHED or FAILED →
//     tagged perennial.exported → a blessed version registered in <namespace>-<pipeline> (found again by run id,
//     or created) → remembered in status
//   the champion moved (a blessing, a demotion after a rollback, a pin) → the `champion` alias set on its version
//   a failure → the progress so far kept, the reason in status and the condition, the next try after a backoff
//   that grows with the failures in a row (the status write itself wakes the controller: it waits out the backoff)
// Every step can be repeated: a run is found by its tag, a version by its run, an alias is set, not added.
import { ConditionType, Reason } from '../../api/conditions.js';
import type { MlflowSpec, MlflowStatus, TrainingPipeline, TrainingPipelineStatus, TrainingRun } from '../../api/training-pipeline.js';
import { artifactKey, runValidationReportKey, type PipelineRef } from '../../shared/artifact-layout.js';
import { parseEvaluationReport } from '../../shared/evaluation-report.js';
import { ObjectNotFoundError, StoreRequestError, StoreUnavailableError, type ObjectStore } from '../../storage/object-store.js';
import { CredentialsError, type ReadSecret } from '../controllers/store-credentials.js';
import { trainingPipelines } from '../resources.js';
import { type Condition, formatTime, getCondition, setCondition } from '../runtime/conditions.js';
import type { CacheReader } from '../runtime/informer.js';
import type { Logger } from '../runtime/log.js';
import type { ObjectKey, ReconcileResult, Reconciler } from '../runtime/manager.js';
import type { KubeObject } from '../runtime/resource.js';
import type { StatusWriter } from '../runtime/status-writer.js';
import { MlflowClient, MlflowRequestError, MlflowUnavailableError, type MlflowAuth } from './mlflow-client.js';
import { defaultExperiment, mlflowRunRecord, registeredModelName, runTag, type RunDocuments } from './mlflow-records.js';

/** Waits between failed exports: 10 s, 20 s, ... up to 5 minutes (with jitter). */
export const exportBackoff = { baseMs: 10_000, capMs: 300_000 } as const;
/** Runs exported in one reconcile at most (the rest in the next, right after). */
const runsPerReconcile = 5;
const exportedTag = 'perennial.exported';

/** What is left to export: ended runs not exported yet (oldest first), and the champion when the alias is elsewhere. */
export function pendingExport(status: TrainingPipelineStatus): { runs: TrainingRun[]; champion: string | undefined } {
  const done = new Set(status.mlflow?.exportedRuns ?? []);
  const runs = [...(status.runs ?? [])].reverse().filter((r) => r.outcome !== 'Running' && !done.has(r.name));
  const champion = status.championVersion !== undefined && status.championVersion !== status.mlflow?.champion ? status.championVersion : undefined;
  return { runs, champion };
}

/** Pure: when a failed export may be tried again (undefined: now). */
export function retryAt(mlflow: MlflowStatus | undefined): number | undefined {
  if (mlflow?.lastErrorTime === undefined || (mlflow.failures ?? 0) === 0) return undefined;
  return Date.parse(mlflow.lastErrorTime) + Math.min(exportBackoff.capMs, exportBackoff.baseMs * 2 ** ((mlflow.failures ?? 1) - 1));
}

/** Pure: a failure's reason for the condition, and what status may say of it (never a credential). */
export function failureOf(e: unknown): { reason: string; message: string } {
  if (e instanceof MlflowUnavailableError) return { reason: Reason.MLflowUnavailable, message: `${e.message}; retrying` };
  if (e instanceof MlflowRequestError) return { reason: Reason.MLflowRefused, message: e.message };
  if (e instanceof CredentialsError) return { reason: Reason.CredentialsUnavailable, message: `spec.integrations.mlflow.secretName: ${e.message}` };
  if (e instanceof StoreUnavailableError) return { reason: Reason.MLflowUnavailable, message: 'the object store did not answer while reading the run\'s records; retrying' };
  if (e instanceof StoreRequestError) return { reason: Reason.MLflowUnavailable, message: `the object store refused to give the run's records${e.code === undefined ? '' : ` (${e.code})`}` };
  return { reason: Reason.MLflowUnavailable, message: e instanceof Error ? e.message : String(e) };
}

/** Pure: the status after an export attempt: its progress, and the condition (True once nothing is left). */
export function exportedStatus(status: TrainingPipelineStatus, mlflow: MlflowStatus, failure: { reason: string; message: string } | undefined, nowMs: number, generation: number): TrainingPipelineStatus {
  const runNames = new Set((status.runs ?? []).map((r) => r.name));
  const next: MlflowStatus = {
    ...mlflow,
    // Only runs status still keeps: a name that left status.runs cannot come back.
    exportedRuns: (mlflow.exportedRuns ?? []).filter((n) => runNames.has(n)).slice(0, 40),
    registeredVersions: (mlflow.registeredVersions ?? []).slice(0, 40),
    failures: failure ? (status.mlflow?.failures ?? 0) + 1 : 0,
    ...(failure ? { lastError: failure.message.slice(0, 1024), lastErrorTime: formatTime(nowMs) } : {}),
  };
  if (!failure) {
    delete (next as { lastError?: string }).lastError;
    delete (next as { lastErrorTime?: string }).lastErrorTime;
  }
  const left = pendingExport({ ...status, mlflow: next });
  const unregistered = left.champion !== undefined && left.runs.length === 0
    ? ` The champion ${left.champion} is not registered in MLflow (published before the export was configured, or by a run status no longer keeps).`
    : '';
  const condition = failure
    ? { type: ConditionType.MLflowSynced, status: 'False' as const, reason: failure.reason, message: `Export to MLflow waits: ${failure.message}. Training and promotion go on.`.slice(0, 4096), observedGeneration: generation }
    : left.runs.length > 0
      ? { type: ConditionType.MLflowSynced, status: 'False' as const, reason: Reason.MLflowExported, message: `${left.runs.length} runs left to export.`, observedGeneration: generation }
      : { type: ConditionType.MLflowSynced, status: 'True' as const, reason: Reason.MLflowExported, message: `Every ended run is in MLflow${next.champion ? `; the champion alias is on ${next.champion}` : ''}.${unregistered}`, observedGeneration: generation };
  return { ...status, mlflow: next, conditions: setCondition(status.conditions as Condition[] | undefined, condition, nowMs) };
}

/** Pure: the client's authentication from the Secret's data (base64, as the API server gives it). */
export function mlflowAuth(data: Readonly<Record<string, string>> | undefined, namespace: string, name: string): MlflowAuth {
  if (data === undefined) throw new CredentialsError(`Secret "${name}" not found in namespace "${namespace}"`);
  const read = (k: string): string => Buffer.from(data[k] ?? '', 'base64').toString('utf8').trim();
  if (read('token') !== '') return { token: read('token') };
  if (read('username') !== '' && read('password') !== '') return { username: read('username'), password: read('password') };
  throw new CredentialsError(`Secret "${name}" has neither \`token\` nor \`username\` and \`password\``);
}

export interface MlflowExportDeps {
  readonly pipelines: CacheReader<KubeObject>;
  readonly statusWriter: StatusWriter;
  readonly readSecret: ReadSecret;
  /** The store client the pipeline's records are read with (its own credentials when it names them), and the bucket. */
  readonly storeFor: (tp: TrainingPipeline) => Promise<{ store: ObjectStore; bucket: string } | undefined>;
  readonly clock: { now(): number };
  readonly logger: Logger;
  /** Counts runs exported, and exports that failed (perennial_mlflow_exports_total{outcome}). */
  readonly count: (outcome: 'exported' | 'failed', n?: number) => void;
}

async function readJson(store: ObjectStore, bucket: string, key: string): Promise<{ text: Buffer; value: Record<string, unknown> } | undefined> {
  try {
    const text = await store.getBuffer(bucket, key);
    return { text, value: JSON.parse(text.toString('utf8')) as Record<string, unknown> };
  } catch (e: unknown) {
    if (e instanceof ObjectNotFoundError || e instanceof SyntaxError) return undefined;
    throw e;
  }
}

/** The run's records in the store: a published version's documents, or a refused run's validation report. */
async function runDocuments(store: ObjectStore, bucket: string, ref: PipelineRef, run: TrainingRun): Promise<{ docs: RunDocuments; files: Array<[string, Buffer]> }> {
  const published = (run.outcome === 'Blessed' || run.outcome === 'Rejected') && run.version !== undefined;
  const metrics = published ? await readJson(store, bucket, artifactKey(ref, run.version ?? '', 'metrics')) : undefined;
  const lineage = published ? await readJson(store, bucket, artifactKey(ref, run.version ?? '', 'lineage')) : undefined;
  const validation = published
    ? await readJson(store, bucket, artifactKey(ref, run.version ?? '', 'validationReport'))
    : await readJson(store, bucket, runValidationReportKey(ref, run.name));
  let report;
  try {
    report = metrics === undefined ? undefined : parseEvaluationReport(metrics.text.toString('utf8'));
  } catch {
    report = undefined; // a report this operator cannot read: the run goes without its metrics
  }
  const files: Array<[string, Buffer]> = [];
  if (metrics) files.push(['metrics.json', metrics.text]);
  if (lineage) files.push(['lineage.json', lineage.text]);
  if (validation) files.push(['validation-report.json', validation.text]);
  return { docs: { report, lineage: lineage?.value, validation: validation?.value }, files };
}

export class MlflowExportReconciler implements Reconciler {
  constructor(private readonly deps: MlflowExportDeps) {}

  async reconcile(key: ObjectKey): Promise<ReconcileResult> {
    const tp = this.deps.pipelines.get(key.namespace, key.name) as TrainingPipeline | undefined;
    const spec = tp?.spec.integrations?.mlflow;
    if (!tp || !spec || tp.metadata.deletionTimestamp !== undefined) return {};
    const status = tp.status ?? {};
    const work = pendingExport(status);
    const synced = getCondition(status.conditions as Condition[] | undefined, ConditionType.MLflowSynced);
    if (work.runs.length === 0 && work.champion === undefined && synced !== undefined) return {};
    const nowMs = this.deps.clock.now();
    const wait = retryAt(status.mlflow);
    if (wait !== undefined && wait > nowMs) return { requeueAfterMs: wait - nowMs };
    const ref: PipelineRef = { namespace: key.namespace, name: key.name };
    const progress: MlflowStatus = { ...status.mlflow, exportedRuns: [...(status.mlflow?.exportedRuns ?? [])], registeredVersions: [...(status.mlflow?.registeredVersions ?? [])] };
    let failure: { reason: string; message: string } | undefined;
    let exported = 0;
    try {
      exported = await this.sync(tp, spec, ref, work.runs, progress);
    } catch (e: unknown) {
      failure = failureOf(e);
      this.deps.count('failed');
      this.deps.logger.warn('mlflow export failed; retried later', { namespace: ref.namespace, name: ref.name, reason: failure.message });
    }
    if (exported > 0) this.deps.count('exported', exported);
    const next = exportedStatus(status, progress, failure, nowMs, tp.metadata.generation ?? 0);
    await this.deps.statusWriter.write(trainingPipelines, tp, next);
    const again = retryAt(next.mlflow);
    return again === undefined ? {} : { requeueAfterMs: Math.max(1000, again - nowMs) };
  }

  /**
   * Exports the runs (a few per reconcile) and moves the champion alias, recording each step in `progress` as it
   * succeeds, so a failure half-way keeps what was done. Returns the runs exported.
   */
  private async sync(tp: TrainingPipeline, spec: MlflowSpec, ref: PipelineRef, runs: readonly TrainingRun[], progress: MlflowStatus): Promise<number> {
    const secret = spec.secretName;
    const client = new MlflowClient(spec.trackingURI, secret === undefined ? undefined : mlflowAuth((await this.deps.readSecret(ref.namespace, secret))?.data, ref.namespace, secret));
    let exported = 0;
    if (runs.length > 0) {
      const located = await this.deps.storeFor(tp);
      const experimentId = await client.experimentId(spec.experiment ?? defaultExperiment(ref));
      progress.experimentId = experimentId;
      for (const run of runs.slice(0, runsPerReconcile)) {
        const modelVersion = await this.exportRun(client, experimentId, ref, run, located);
        progress.exportedRuns = [run.name, ...(progress.exportedRuns ?? [])];
        if (modelVersion !== undefined && run.version !== undefined) {
          progress.registeredVersions = [{ version: run.version, modelVersion }, ...(progress.registeredVersions ?? []).filter((v) => v.version !== run.version)];
        }
        exported++;
      }
    }
    const champion = tp.status?.championVersion;
    const registered = progress.registeredVersions?.find((v) => v.version === champion);
    if (champion !== undefined && champion !== progress.champion && registered !== undefined) {
      await client.setAlias(registeredModelName(ref), 'champion', registered.modelVersion);
      progress.champion = champion;
      this.deps.logger.info('mlflow champion alias set', { namespace: ref.namespace, name: ref.name, version: champion, modelVersion: registered.modelVersion });
    }
    return exported;
  }

  /** One run into MLflow (and its version into the registry when it was blessed); returns the model version. */
  private async exportRun(client: MlflowClient, experimentId: string, ref: PipelineRef, run: TrainingRun, located: { store: ObjectStore; bucket: string } | undefined): Promise<string | undefined> {
    const { docs, files } = located ? await runDocuments(located.store, located.bucket, ref, run) : { docs: { report: undefined, lineage: undefined, validation: undefined }, files: [] };
    const record = mlflowRunRecord(ref, located?.bucket ?? '', run, docs);
    const tagValue = record.createTags[0]?.value ?? '';
    const found = await client.findRun(experimentId, runTag, tagValue);
    const mlrun = found ?? await client.createRun(experimentId, record.runName, record.startTime, record.createTags);
    if (found?.tags[exportedTag] !== 'true') {
      await client.logBatch(mlrun.runId, record.params, record.metrics, record.tags);
      for (const [name, content] of files) if (!(await client.putArtifact(mlrun, name, content))) break;
      await client.endRun(mlrun.runId, record.status, record.endTime);
      await client.setTag(mlrun.runId, exportedTag, 'true');
    }
    this.deps.logger.info('mlflow run exported', { namespace: ref.namespace, name: ref.name, run: run.name, mlflowRun: mlrun.runId });
    if (run.outcome !== 'Blessed' || record.source === undefined) return undefined;
    const model = registeredModelName(ref);
    await client.ensureRegisteredModel(model, `Blessed versions of TrainingPipeline ${ref.namespace}/${ref.name}.`);
    return (await client.findModelVersion(model, mlrun.runId))
      ?? client.createModelVersion(model, record.source, mlrun.runId, [{ key: 'perennial.version', value: run.version ?? '' }]);
  }
}
