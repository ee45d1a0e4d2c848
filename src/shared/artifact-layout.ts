// Where everything lives in the bucket. Version 1.
//
//   pipelines/<namespace>/<pipeline>/
//     versions/<version>/              one published model version (immutable once manifest.json exists)
//       model/model.json               tfjs LayersModel topology + weights manifest
//       model/weights.bin
//       preprocessing.json             PreprocessingSpec (preprocessing.ts)
//       reference-profile.json         ReferenceProfile (drift.ts)
//       metrics.json                   EvaluationReport (candidate, champion, slices, gate verdicts)
//       validation-report.json
//       lineage.json
//       manifest.json                  written LAST: no manifest, no model
//     runs/<runId>/                    scratch space of one training run
//       checkpoints/latest.json        pointer to the newest complete checkpoint
//       checkpoints/epoch-<n>.json|.bin
//       validation-report.json         also written here when validation fails (nothing is published then)
//     last-run-profile.json            data profile of the last run that passed validation (schema drift)
//   deployments/<namespace>/<deployment>/
//     predictions/<yyyy-mm-dd>/<file>.jsonl   PredictionRecord lines (inference-log.ts), written by the server
//     feedback/<yyyy-mm-dd>/<file>.jsonl      FeedbackRecord lines
export const artifactLayoutVersion = 1;

export interface PipelineRef {
  readonly namespace: string;
  readonly name: string;
}

export const artifactFiles = {
  modelJson: 'model/model.json',
  modelWeights: 'model/weights.bin',
  preprocessing: 'preprocessing.json',
  referenceProfile: 'reference-profile.json',
  metrics: 'metrics.json',
  validationReport: 'validation-report.json',
  lineage: 'lineage.json',
  manifest: 'manifest.json',
} as const;

export type ArtifactName = keyof typeof artifactFiles;

const segment = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

/** True for a name usable as one key segment: no slashes, no "..", no leading dot. */
export function isKeySegment(s: string): boolean {
  return segment.test(s) && !s.includes('..');
}

function seg(what: string, s: string): string {
  if (!isKeySegment(s)) throw new Error(`${what} ${JSON.stringify(s)} is not usable in an object key`);
  return s;
}

export function pipelinePrefix(p: PipelineRef): string {
  return `pipelines/${seg('namespace', p.namespace)}/${seg('pipeline', p.name)}/`;
}

export function versionPrefix(p: PipelineRef, version: string): string {
  return `${pipelinePrefix(p)}versions/${seg('version', version)}/`;
}

export function versionsPrefix(p: PipelineRef): string {
  return `${pipelinePrefix(p)}versions/`;
}

export function artifactKey(p: PipelineRef, version: string, name: ArtifactName): string {
  return versionPrefix(p, version) + artifactFiles[name];
}

export function runPrefix(p: PipelineRef, runId: string): string {
  return `${pipelinePrefix(p)}runs/${seg('run id', runId)}/`;
}

export function checkpointPrefix(p: PipelineRef, runId: string): string {
  return `${runPrefix(p, runId)}checkpoints/`;
}

export function checkpointPointerKey(p: PipelineRef, runId: string): string {
  return `${checkpointPrefix(p, runId)}latest.json`;
}

export function checkpointKeys(p: PipelineRef, runId: string, epoch: number): { meta: string; weights: string } {
  const n = String(epoch).padStart(6, '0');
  return { meta: `${checkpointPrefix(p, runId)}epoch-${n}.json`, weights: `${checkpointPrefix(p, runId)}epoch-${n}.bin` };
}

export function runValidationReportKey(p: PipelineRef, runId: string): string {
  return `${runPrefix(p, runId)}${artifactFiles.validationReport}`;
}

export function lastRunProfileKey(p: PipelineRef): string {
  return `${pipelinePrefix(p)}last-run-profile.json`;
}

export interface DeploymentRef {
  readonly namespace: string;
  readonly name: string;
}

export function deploymentPrefix(d: DeploymentRef): string {
  return `deployments/${seg('namespace', d.namespace)}/${seg('deployment', d.name)}/`;
}

export function predictionsPrefix(d: DeploymentRef): string {
  return `${deploymentPrefix(d)}predictions/`;
}

export function feedbackPrefix(d: DeploymentRef): string {
  return `${deploymentPrefix(d)}feedback/`;
}

/** Key of one batch of log lines; the day folder lets a reader list only recent days. */
export function logBatchKey(prefix: string, at: Date, file: string): string {
  return `${prefix}${at.toISOString().slice(0, 10)}/${seg('file', file)}.jsonl`;
}

/** One entry of the manifest: an artifact and what proves it is the one that was written. */
export interface ManifestEntry {
  readonly name: ArtifactName | 'modelWeights';
  readonly key: string;
  readonly sha256: string;
  readonly size: number;
  /** ETag the store returned on upload (quotes stripped). */
  readonly etag: string;
}

export const manifestSchemaVersion = 1;

export interface Manifest {
  readonly schemaVersion: typeof manifestSchemaVersion;
  readonly pipeline: PipelineRef;
  readonly version: string;
  readonly runId: string;
  readonly createdAt: string;
  readonly task: 'classification' | 'regression';
  readonly artifacts: readonly ManifestEntry[];
}

/** Reads a manifest written by any trainer, rejecting anything that is not version 1. */
export function parseManifest(text: string): Manifest {
  const v: unknown = JSON.parse(text);
  if (typeof v !== 'object' || v === null) throw new Error('manifest is not an object');
  const m = v as Partial<Manifest>;
  if (m.schemaVersion !== manifestSchemaVersion) throw new Error(`unsupported manifest schemaVersion ${String(m.schemaVersion)}`);
  if (typeof m.version !== 'string' || typeof m.runId !== 'string' || !Array.isArray(m.artifacts)) {
    throw new Error('manifest lacks version, runId or artifacts');
  }
  return m as Manifest;
}
