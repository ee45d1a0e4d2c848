// What a namespace tenant may make the operator do, decided from the install-time policy (the chart's values, read
// by config.ts) and never from the tenant's spec. Pure; each decision returns sentences naming the field and the
// grant, for the Accepted=False/NotPermitted condition.
//
// The object store: a namespace may use its own prefixes in the operator's default bucket — pipelines/<ns>/ and
// deployments/<ns>/ (the artifact layout, read-write) and data/<ns>/ (its data, read) — and what the grants give
// it. A pipeline that brings its own credentials (spec.storage.credentialsSecret) is not held to the grants: the
// operator then acts for it with those credentials only, so the store enforces what the tenant may do.
import { pipelinePrefix } from '../../shared/artifact-layout.js';
import type { StoreAccess, StoreGrant, TenancyConfig } from '../config.js';

export type { StoreAccess, StoreGrant };

export interface TenancyPolicy extends TenancyConfig {
  /** The operator's bucket: what a spec that names no bucket uses. */
  readonly defaultBucket: string;
}

/** The prefix in the default bucket a namespace's data sources may read without a grant. */
export function dataPrefix(namespace: string): string {
  return `data/${namespace}/`;
}

/** Where the artifact layout (src/shared/artifact-layout.ts) keeps a namespace's models and its servers' logs. */
const modelsOf = (namespace: string): string => `pipelines/${namespace}/`;
const logsOf = (namespace: string): string => `deployments/${namespace}/`;

/** A namespace's own prefixes in the default bucket, then the install-time grants that apply to it. */
export function grantsOf(policy: TenancyPolicy, namespace: string): StoreGrant[] {
  const own = (prefix: string, access: StoreAccess): StoreGrant => ({ namespace, bucket: policy.defaultBucket, prefix, access });
  return [
    own(modelsOf(namespace), 'ReadWrite'),
    own(logsOf(namespace), 'ReadWrite'),
    own(dataPrefix(namespace), 'Read'),
    ...policy.storeGrants.filter((g) => g.namespace === namespace || g.namespace === '*'),
  ];
}

/**
 * A prefix S3 reads literally, but that a store or a proxy in front of it might normalise: "..", "." and empty
 * segments, a leading "/". Refused whatever the grants say.
 */
export function isPlainPrefix(prefix: string): boolean {
  if (prefix.startsWith('/') || prefix.includes('\\')) return false;
  const segments = prefix.split('/');
  return segments.every((s, i) => (s === '' ? i === segments.length - 1 : s !== '.' && s !== '..'));
}

/** Whether the namespace may use (with at least `need`) every key under prefix in bucket. */
export function permits(policy: TenancyPolicy, namespace: string, bucket: string, prefix: string, need: StoreAccess): boolean {
  if (!isPlainPrefix(prefix)) return false;
  return grantsOf(policy, namespace)
    .some((g) => g.bucket === bucket && prefix.startsWith(g.prefix) && (need === 'Read' || g.access === 'ReadWrite'));
}

/** The grants of a namespace with at least `need`, as a user reads them: "s3://perennial/data/ml/, ...". */
export function describeGrants(policy: TenancyPolicy, namespace: string, need: StoreAccess): string {
  return grantsOf(policy, namespace)
    .filter((g) => need === 'Read' || g.access === 'ReadWrite')
    .map((g) => `s3://${g.bucket}/${g.prefix}`)
    .join(', ');
}

/**
 * Whether an image reference is under one of the prefixes. A prefix ending in "/", ":" or "@" matches anything
 * after it; any other prefix is a whole repository (ghcr.io/x/trainer matches ghcr.io/x/trainer:1, @sha256:...
 * and ghcr.io/x/trainer/sub, never ghcr.io/x/trainer-evil).
 */
export function imageAllowed(image: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => {
    if (!image.startsWith(p)) return false;
    if (p.endsWith('/') || p.endsWith(':') || p.endsWith('@')) return image.length > p.length;
    const next = image.charAt(p.length);
    return next === '' || next === ':' || next === '@' || next === '/';
  });
}

function imageDenial(field: string, image: string, prefixes: readonly string[]): string[] {
  if (imageAllowed(image, prefixes)) return [];
  const allowed = prefixes.length === 0 ? 'none are allowed' : prefixes.join(', ');
  return [`${field}: "${image}" is not under the image prefixes this operator runs (${allowed}; set at install time)`];
}

/** The store settings of a pipeline: its bucket (or the default) and whether it brings its own credentials. */
export interface PipelineStorage {
  readonly bucket?: string | undefined;
  readonly credentialsSecret?: string | undefined;
}

/** A pipeline's bucket must hold, read-write, both its models and the logs of the servers that serve them. */
function storageDenial(policy: TenancyPolicy, namespace: string, pipeline: string, bucket: string, field: string): string[] {
  const models = pipelinePrefix({ namespace, name: pipeline });
  const logs = logsOf(namespace);
  if (permits(policy, namespace, bucket, models, 'ReadWrite') && permits(policy, namespace, bucket, logs, 'ReadWrite')) return [];
  return [`${field}: bucket "${bucket}" is not granted to namespace "${namespace}" for its models and logs (${models} and ${logs}, read-write); `
    + `it may write ${describeGrants(policy, namespace, 'ReadWrite')} (wider grants are set at install time), or name spec.storage.credentialsSecret`];
}

export interface PipelineSpecView {
  readonly data: { readonly sources: ReadonlyArray<{ readonly bucket?: string | undefined; readonly prefix: string }> };
  readonly trainer: { readonly image: string };
  readonly storage?: PipelineStorage | undefined;
}

/**
 * Whether the operator may keep (and list, read and delete) a pipeline's models where its spec.storage says. A
 * pipeline being deleted is cleaned up only when this holds for it.
 */
export function storageDenials(policy: TenancyPolicy, namespace: string, name: string, storage: PipelineStorage | undefined): string[] {
  if (storage?.credentialsSecret !== undefined) return []; // the store enforces what those credentials may do
  const bucket = storage?.bucket ?? policy.defaultBucket;
  return bucket === policy.defaultBucket ? [] : storageDenial(policy, namespace, name, bucket, 'spec.storage.bucket');
}

/** What a TrainingPipeline spec asks for that its namespace is not permitted. */
export function pipelineDenials(policy: TenancyPolicy, namespace: string, name: string, spec: PipelineSpecView): string[] {
  const denied = imageDenial('spec.trainer.image', spec.trainer.image, policy.trainerImages);
  denied.push(...storageDenials(policy, namespace, name, spec.storage));
  if (spec.storage?.credentialsSecret !== undefined) return denied;
  // The trainer and the operator read a source without a bucket from the pipeline's bucket.
  const bucket = spec.storage?.bucket ?? policy.defaultBucket;
  spec.data.sources.forEach((source, i) => {
    const from = source.bucket ?? bucket;
    if (permits(policy, namespace, from, source.prefix, 'Read')) return;
    const field = `spec.data.sources[${i}]`;
    const what = isPlainPrefix(source.prefix)
      ? `s3://${from}/${source.prefix} is outside what namespace "${namespace}" may read (${describeGrants(policy, namespace, 'Read')}; wider grants are set at install time)`
      : `prefix "${source.prefix}" has an empty, "." or ".." segment or a leading "/"`;
    denied.push(`${field}: ${what}`);
  });
  return denied;
}

export interface DeploymentSpecView {
  readonly server: { readonly image: string };
}

/** A fixed model (spec.model.uri): its version prefix must be readable by the namespace. */
export function modelUriDenial(policy: TenancyPolicy, namespace: string, bucket: string, prefix: string, uri: string): string[] {
  if (permits(policy, namespace, bucket, prefix, 'Read')) return [];
  return [`spec.model.uri: ${uri} is outside what namespace "${namespace}" may read (${describeGrants(policy, namespace, 'Read')}; wider grants are set at install time)`];
}

/** What a ModelDeployment spec asks for that its namespace is not permitted (the model URI: modelUriDenial). */
export function deploymentDenials(policy: TenancyPolicy, namespace: string, spec: DeploymentSpecView, followed: { readonly name: string; readonly storage: PipelineStorage | undefined } | undefined): string[] {
  const denied = imageDenial('spec.server.image', spec.server.image, policy.serverImages);
  // The servers of a followed pipeline use its bucket (and its Secret when it has one).
  const storage = followed?.storage;
  if (followed && storage?.credentialsSecret === undefined && storage?.bucket !== undefined && storage.bucket !== policy.defaultBucket) {
    denied.push(...storageDenial(policy, namespace, followed.name, storage.bucket, `spec.model.fromPipeline (TrainingPipeline ${followed.name}'s spec.storage.bucket)`));
  }
  return denied;
}

/** Base URLs compare without trailing slashes. */
function sameURL(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

export type PrometheusChoice =
  | { readonly kind: 'pods' }
  | { readonly kind: 'prometheus'; readonly url: string }
  | { readonly kind: 'denied'; readonly problem: string };

/** The metric source of an analysis: the pods, or a Prometheus the install-time configuration allows. */
export function metricSource(policy: TenancyPolicy, provider: { readonly type: 'Pods' | 'Prometheus'; readonly prometheusURL?: string | undefined } | undefined): PrometheusChoice {
  if (provider?.type !== 'Prometheus') return { kind: 'pods' };
  const allowed = [policy.prometheusURL, ...policy.prometheusAllowedURLs].filter((u): u is string => u !== undefined);
  const wanted = provider.prometheusURL;
  if (wanted === undefined) {
    return policy.prometheusURL === undefined
      ? { kind: 'denied', problem: 'spec.rollout.analysis.provider: type Prometheus needs a Prometheus server, and this operator has none configured (set at install time)' }
      : { kind: 'prometheus', url: policy.prometheusURL };
  }
  const match = allowed.find((u) => sameURL(u, wanted));
  if (match !== undefined) return { kind: 'prometheus', url: match };
  const list = allowed.length === 0 ? 'none is configured' : allowed.join(', ');
  return { kind: 'denied', problem: `spec.rollout.analysis.provider.prometheusURL: "${wanted}" is not a Prometheus server this operator may query (${list}; set at install time)` };
}
