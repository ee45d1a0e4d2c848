// Autoscaling of the server pods (spec.server.autoscaling), as Argo Rollouts does it: a HorizontalPodAutoscaler the
// md owns targets the ModelDeployment's scale subresource, so the autoscaler sets the total (spec.server.replicas)
// and the controller keeps splitting that total between the stable version and the candidate by the canary weight
// (replica-split.ts). The scale subresource reads status.replicas and status.selector, written here: the pods of the
// revisions that take traffic (stable and candidate; not the previous revision kept idle for the rollback window,
// whose idle pods would pull the average CPU down). Pure, table-tested.
import { createHash } from 'node:crypto';
import { apiVersion } from '../../../api/common.js';
import { Label } from '../../../api/labels.js';
import type { ModelDeploymentSpec } from '../../../api/model-deployment.js';
import type { KubeObject, OwnerReference } from '../../runtime/resource.js';
import { ownedLabels } from './names.js';

/** The pods metric a custom metrics adapter serves from the servers' request counter (docs/observability). */
export const requestRateMetric = 'perennial_server_requests_per_second';

export interface AutoscalerInput {
  readonly namespace: string;
  readonly md: string;
  readonly owner: OwnerReference;
  readonly autoscaling: NonNullable<ModelDeploymentSpec['server']['autoscaling']>;
}

/** The HPA's name: the md's own (one per md). */
export function autoscalerName(md: string): string {
  return md;
}

/** A quantity for a per-pod rate: milli-units, so 0.5 requests/s is "500m". */
function quantityOf(perSecond: number): string {
  return `${Math.max(1, Math.round(perSecond * 1000))}m`;
}

export function buildAutoscaler(input: AutoscalerInput): KubeObject {
  const a = input.autoscaling;
  const metrics: unknown[] = [];
  if (a.targetCPUUtilization !== undefined) {
    metrics.push({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: a.targetCPUUtilization } } });
  }
  if (a.targetRequestsPerSecond !== undefined) {
    metrics.push({ type: 'Pods', pods: { metric: { name: requestRateMetric }, target: { type: 'AverageValue', averageValue: quantityOf(a.targetRequestsPerSecond) } } });
  }
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: autoscalerName(input.md), namespace: input.namespace, labels: ownedLabels(input.md), ownerReferences: [input.owner] },
    spec: {
      scaleTargetRef: { apiVersion, kind: 'ModelDeployment', name: input.md },
      minReplicas: a.minReplicas,
      maxReplicas: a.maxReplicas,
      metrics,
    },
  } as KubeObject;
}

/** What the reconcile does with the HPA: write it (its spec changed), delete it (autoscaling was turned off), or nothing. */
export type AutoscalerWrite =
  | { readonly kind: 'write'; readonly object: KubeObject; readonly hash: string }
  | { readonly kind: 'delete'; readonly name: string }
  | { readonly kind: 'none'; readonly hash: string | undefined };

export function hashOf(object: KubeObject): string {
  return createHash('sha256').update(JSON.stringify(object)).digest('hex').slice(0, 16);
}

/** Compares the HPA wanted with the one last written (status.autoscalerHash). */
export function autoscalerWrite(input: Omit<AutoscalerInput, 'autoscaling'> & { readonly autoscaling: AutoscalerInput['autoscaling'] | undefined }, written: string | undefined): AutoscalerWrite {
  if (input.autoscaling === undefined) return written === undefined ? { kind: 'none', hash: undefined } : { kind: 'delete', name: autoscalerName(input.md) };
  const object = buildAutoscaler({ ...input, autoscaling: input.autoscaling });
  const hash = hashOf(object);
  return hash === written ? { kind: 'none', hash } : { kind: 'write', object, hash };
}

/** The scale subresource's status: the pods wanted across the revisions taking traffic, and their selector. */
export function scaleStatus(md: string, revisions: ReadonlyArray<{ readonly hash: string; readonly replicas: number }>): { replicas: number; selector: string } {
  const hashes = [...new Set(revisions.map((r) => r.hash))].sort();
  const selector = `${Label.deployment}=${md},${Label.revision} in (${hashes.join(',')})`;
  return { replicas: revisions.reduce((n, r) => n + r.replicas, 0), selector };
}
