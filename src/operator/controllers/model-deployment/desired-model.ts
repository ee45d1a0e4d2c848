// Which version the deployment should serve: a fixed artifact URI, a pinned version of a pipeline, or the
// pipeline's champion (status.championVersion). Pure: the pipeline's status comes from the cache.
import type { ModelDeployment } from '../../../api/model-deployment.js';
import type { TrainingPipeline } from '../../../api/training-pipeline.js';
import { isKeySegment, versionPrefix } from '../../../shared/artifact-layout.js';
import { parseS3Uri } from './spec-checks.js';
import type { ModelRef } from './server-deployment.js';

export type DesiredModel =
  | { readonly kind: 'ready'; readonly model: ModelRef; readonly uri: string }
  | { readonly kind: 'waiting'; readonly message: string };

/** s3://bucket/pipelines/<ns>/<pipeline>/versions/<version>[/] → its parts, or undefined. */
export function parseVersionUri(uri: string): ModelRef | undefined {
  const parsed = parseS3Uri(uri);
  if (!parsed) return undefined;
  const m = /^pipelines\/([^/]+)\/([^/]+)\/versions\/([^/]+)$/.exec(parsed.prefix);
  if (!m?.[1] || !m[2] || !m[3] || ![m[1], m[2], m[3]].every(isKeySegment)) return undefined;
  return { namespace: m[1], pipeline: m[2], version: m[3], bucket: parsed.bucket };
}

export function versionUri(model: ModelRef, defaultBucket: string): string {
  return `s3://${model.bucket ?? defaultBucket}/${versionPrefix({ namespace: model.namespace, name: model.pipeline }, model.version)}`;
}

export function resolveDesiredModel(md: ModelDeployment, pipeline: TrainingPipeline | undefined, defaultBucket: string): DesiredModel {
  const namespace = md.metadata.namespace ?? '';
  const spec = md.spec.model;
  if (spec.uri !== undefined) {
    const ref = parseVersionUri(spec.uri);
    if (!ref) return { kind: 'waiting', message: `model.uri ${spec.uri} is not a published version prefix` };
    const model = { ...ref, bucket: ref.bucket === defaultBucket ? undefined : ref.bucket };
    return { kind: 'ready', model, uri: versionUri(model, defaultBucket) };
  }
  const name = spec.fromPipeline ?? '';
  let version = spec.version;
  if (version === undefined) {
    if (!pipeline) return { kind: 'waiting', message: `TrainingPipeline ${name} not found` };
    version = pipeline.status?.championVersion;
    if (version === undefined) return { kind: 'waiting', message: `TrainingPipeline ${name} has no champion yet` };
  }
  const model: ModelRef = { namespace, pipeline: name, version, bucket: undefined };
  return { kind: 'ready', model, uri: versionUri(model, defaultBucket) };
}
