// Publishing a version: every artifact first, the manifest last. A run that dies before the manifest leaves
// a version prefix without manifest.json, which readers treat as absent ("no manifest, no model"); a retry
// simply overwrites the partial artifacts.
import { artifactFiles, artifactKey, manifestSchemaVersion, versionPrefix, type ArtifactName, type Manifest, type ManifestEntry, type PipelineRef } from '../shared/artifact-layout.js';
import { sha256, writeSavedModel } from '../ml/store-io.js';
import type { SavedModel } from '../ml/tabular-model.js';
import type { ObjectStore } from '../storage/object-store.js';

export interface PublishInput {
  readonly store: ObjectStore;
  readonly bucket: string;
  readonly pipeline: PipelineRef;
  readonly version: string;
  readonly runId: string;
  readonly task: 'classification' | 'regression';
  /** The model's files, of any family (model.json says which reads them). */
  readonly model: SavedModel;
  /** JSON documents by artifact name (everything but the model and the manifest). */
  readonly documents: Readonly<Record<Exclude<ArtifactName, 'modelJson' | 'modelWeights' | 'manifest'>, unknown>>;
  readonly now: () => Date;
}

export async function publishVersion(input: PublishInput): Promise<{ manifestKey: string; manifest: Manifest }> {
  const { store, bucket, pipeline, version } = input;
  const entries: ManifestEntry[] = [];
  const written = await writeSavedModel(store, bucket, versionPrefix(pipeline, version) + 'model/', input.model);
  for (const w of written) entries.push({ name: w.key.endsWith(artifactFiles.modelJson) ? 'modelJson' : 'modelWeights', key: w.key, sha256: w.sha256, size: w.size, etag: w.etag });
  for (const [name, doc] of Object.entries(input.documents) as [ArtifactName, unknown][]) {
    const key = artifactKey(pipeline, version, name);
    const body = JSON.stringify(doc, null, 2);
    const { etag } = await store.put(bucket, key, body, { contentType: 'application/json' });
    entries.push({ name, key, sha256: sha256(body), size: Buffer.byteLength(body), etag });
  }
  const manifest: Manifest = {
    schemaVersion: manifestSchemaVersion, pipeline, version, runId: input.runId, createdAt: input.now().toISOString(), task: input.task, artifacts: entries,
  };
  const manifestKey = artifactKey(pipeline, version, 'manifest');
  await store.put(bucket, manifestKey, JSON.stringify(manifest, null, 2), { contentType: 'application/json' });
  return { manifestKey, manifest };
}
