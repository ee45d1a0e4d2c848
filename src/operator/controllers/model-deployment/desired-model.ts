// Which version the deployment should serve: a fixed artifact URI, a pinned version of a pipeline, or the
// pipeline's champion (status.championVersion). Pure: the pipeline comes from the cache. A version of the followed
// pipeline is served from that pipeline's own store (spec.storage): its bucket holds the model and takes the
// servers' logs (where its feedbackFrom reads them), and its credentials Secret is the servers' too. A model.uri of
// a pipeline of the deployment's own namespace is served likewise from the uri's bucket, logs included, when the
// namespace may write its logs there (withLogBucket); otherwise the logs go to the operator's bucket.
import type { ModelDeployment } from '../../../api/model-deployment.js';
import type { TrainingPipeline } from '../../../api/training-pipeline.js';
import { isKeySegment, versionPrefix } from '../../../shared/artifact-layout.js';
import { permits, type PipelineStorage, type TenancyPolicy } from '../tenancy.js';
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
  return `s3://${model.bucket ?? model.storage?.bucket ?? defaultBucket}/${versionPrefix({ namespace: model.namespace, name: model.pipeline }, model.version)}`;
}

/** The pipeline a deployment follows, as the cache has it: its name and its own store settings. */
export interface Followed {
  readonly name: string;
  readonly storage: PipelineStorage | undefined;
}

export function followedOf(md: ModelDeployment, pipeline: TrainingPipeline | undefined): Followed | undefined {
  const name = md.spec.model.fromPipeline;
  return name === undefined ? undefined : { name, storage: pipeline?.spec?.storage };
}

/**
 * A version as its servers load it. `located.bucket` is the bucket the version is in; the servers' store is the
 * followed pipeline's own (when the version is one of its and it names a bucket or a Secret) or the operator's.
 */
export function servedModelRef(located: ModelRef, namespace: string, followed: Followed | undefined, defaultBucket: string): ModelRef {
  const own = followed !== undefined && located.namespace === namespace && located.pipeline === followed.name ? followed.storage : undefined;
  const storage = own?.bucket !== undefined || own?.credentialsSecret !== undefined
    ? { bucket: own.bucket, credentialsSecret: own.credentialsSecret } : undefined;
  const modelBucket = located.bucket ?? defaultBucket;
  return {
    namespace: located.namespace, pipeline: located.pipeline, version: located.version,
    bucket: modelBucket === (storage?.bucket ?? defaultBucket) ? undefined : modelBucket,
    ...(storage ? { storage } : {}),
  };
}

/**
 * The servers of a version that lives outside their store (a model.uri in another bucket): when it is a version of a
 * pipeline of this namespace and the namespace may write its logs (deployments/<ns>/) in that bucket, the servers
 * use that bucket as their store, so their logs land where that pipeline's trainer reads feedback
 * (data.feedbackFrom); else (another namespace's model, a bucket it may only read) they log to the operator's.
 */
export function withLogBucket(model: ModelRef, namespace: string, policy: TenancyPolicy): ModelRef {
  if (model.bucket === undefined || model.storage !== undefined || model.namespace !== namespace) return model;
  if (!permits(policy, namespace, model.bucket, `deployments/${namespace}/`, 'ReadWrite')) return model;
  return { ...model, bucket: undefined, storage: { bucket: model.bucket, credentialsSecret: undefined } };
}

export function resolveDesiredModel(md: ModelDeployment, pipeline: TrainingPipeline | undefined, defaultBucket: string): DesiredModel {
  const namespace = md.metadata.namespace ?? '';
  const spec = md.spec.model;
  if (spec.uri !== undefined) {
    const ref = parseVersionUri(spec.uri);
    if (!ref) return { kind: 'waiting', message: `model.uri ${spec.uri} is not a published version prefix` };
    const model = servedModelRef(ref, namespace, undefined, defaultBucket);
    return { kind: 'ready', model, uri: versionUri(model, defaultBucket) };
  }
  const name = spec.fromPipeline ?? '';
  let version = spec.version;
  if (version === undefined) {
    if (!pipeline) return { kind: 'waiting', message: `TrainingPipeline ${name} not found` };
    version = pipeline.status?.championVersion;
    if (version === undefined) return { kind: 'waiting', message: `TrainingPipeline ${name} has no champion yet` };
  }
  const located: ModelRef = { namespace, pipeline: name, version, bucket: followedOf(md, pipeline)?.storage?.bucket };
  const model = servedModelRef(located, namespace, followedOf(md, pipeline), defaultBucket);
  return { kind: 'ready', model, uri: versionUri(model, defaultBucket) };
}
