// How the children of a ModelDeployment are named and labelled (the label keys are src/api/labels.ts). A revision
// is one model version served with one server template: its Deployment is `<md>-<hash>`, where the hash covers the
// version, its artifact location and the server template. The same revision always gets the same name, so a
// restarted operator finds (or harmlessly re-creates) what it made, and a template edit is rolled out like a new
// version.
import { createHash } from 'node:crypto';
import { Label, managedBy, workloadLabels } from '../../../api/labels.js';
import type { ModelDeploymentSpec } from '../../../api/model-deployment.js';
import { parseDuration } from '../../../api/duration.js';
import { deploymentNameSuffixes, revisionHashLength } from '../../../api/object-names.js';
import { serverConnectionAgeDefaultsMs } from '../../../shared/pod-contract.js';

/**
 * The parts of the spec that shape the server pods (not the rollout settings: editing those restarts nothing). Not
 * `replicas` (patched on the Deployment) nor `logPredictions` (in the server settings ConfigMap, read live): both
 * apply in place. logPredictions stays in the hashed value as a constant, so the hashes of revisions made before it
 * left are unchanged. `workers` is in it only when not 1 (its default, which the API server fills into every stored
 * object): the revisions of deployments made before the field keep their hashes, so an operator upgrade rolls no pod.
 * The connection ages likewise, only when not the server's defaults.
 */
export function serverTemplate(spec: ModelDeploymentSpec): unknown {
  const { replicas: _replicas, workers, maxConnectionAge, grpcMaxConnectionAge, ...template } = spec.server;
  const ages = connectionAgesMs(spec.server);
  return {
    ...template, logPredictions: true, ...(isSingleWorker(workers) ? {} : { workers }),
    ...(ages.http === undefined ? {} : { maxConnectionAge }), ...(ages.grpc === undefined ? {} : { grpcMaxConnectionAge }),
  };
}

/**
 * spec.server.maxConnectionAge and grpcMaxConnectionAge in ms, each undefined when it is the server's default (or
 * absent: an object read through a CRD from before the fields) and the pods need no variable for it.
 */
export function connectionAgesMs(server: { readonly maxConnectionAge?: string; readonly grpcMaxConnectionAge?: string }): { http?: number; grpc?: number } {
  const ms = (text: string | undefined, fallback: number): number | undefined => {
    if (text === undefined) return undefined;
    let v: number;
    try {
      v = parseDuration(text);
    } catch {
      return undefined; // refused by the API server; an object stored before the rule keeps the default
    }
    return v === fallback ? undefined : v;
  };
  const http = ms(server.maxConnectionAge, serverConnectionAgeDefaultsMs.http);
  const grpc = ms(server.grpcMaxConnectionAge, serverConnectionAgeDefaultsMs.grpc);
  return { ...(http === undefined ? {} : { http }), ...(grpc === undefined ? {} : { grpc }) };
}

/**
 * spec.server.workers of 1, or absent (an object read through a CRD from before the field, which prunes it): one
 * serving process, the pods as they were before the field existed.
 */
export function isSingleWorker(workers: number | undefined): boolean {
  return workers === undefined || workers === 1;
}

export function revisionHash(version: string, modelRef: string, template: unknown): string {
  return createHash('sha256').update(JSON.stringify([version, modelRef, template])).digest('hex').slice(0, revisionHashLength);
}

export function revisionName(md: string, hash: string): string {
  return `${md}-${hash}`;
}

/** The hash part of a revision name made by revisionName. */
export function hashOfRevision(md: string, revision: string): string {
  return revision.startsWith(`${md}-`) ? revision.slice(md.length + 1) : revision;
}

export const serviceNames = {
  stable: (md: string): string => md,
  canary: (md: string): string => `${md}${deploymentNameSuffixes.canaryService}`,
  preview: (md: string): string => `${md}${deploymentNameSuffixes.previewService}`,
  /** Every pod of the md, any revision, on the feedback port: labels reach any replica (signed ids say whose). */
  feedback: (md: string): string => `${md}${deploymentNameSuffixes.feedbackService}`,
} as const;

/** The Secret with the feedback token and the id signing key: spec.server.feedback.secretName or `<md>-feedback`. */
export function feedbackSecretName(md: string, server: ModelDeploymentSpec['server']): string {
  return server.feedback.secretName ?? `${md}${deploymentNameSuffixes.feedbackService}`;
}

/** The ConfigMap of settings the servers read live (src/shared/server-settings.ts): `<md>-server`. */
export function settingsConfigMapName(md: string): string {
  return `${md}-server`;
}

/** Keys of the feedback Secret. */
export const feedbackSecretKeys = { token: 'token', signingKey: 'signingKey' } as const;

/** Every pod of the md, of any revision. */
export function selectorLabels(md: string): Record<string, string> {
  return { [Label.deployment]: md };
}

/** The pods of one revision. */
export function revisionSelector(md: string, hash: string): Record<string, string> {
  return { [Label.deployment]: md, [Label.revision]: hash };
}

/** The labels of what the md owns besides its pods: Services, the HTTPRoute, the feedback Secret. */
export function ownedLabels(md: string): Record<string, string> {
  return { [Label.managedBy]: managedBy, [Label.deployment]: md };
}

export function revisionLabels(md: string, hash: string, version: string): Record<string, string> {
  return { ...workloadLabels('perennial-server', 'serving'), ...revisionSelector(md, hash), [Label.version]: version };
}
