// The resource types the operator watches and writes, as the runtime names them.
import { group, version } from '../api/common.js';
import type { ResourceRef } from './runtime/resource.js';

export const trainingPipelines: ResourceRef = { group, version, plural: 'trainingpipelines', kind: 'TrainingPipeline', namespaced: true };
export const modelDeployments: ResourceRef = { group, version, plural: 'modeldeployments', kind: 'ModelDeployment', namespaced: true };
export const jobs: ResourceRef = { group: 'batch', version: 'v1', plural: 'jobs', kind: 'Job', namespaced: true };
export const deployments: ResourceRef = { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true };
export const services: ResourceRef = { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true };
export const pods: ResourceRef = { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true };
/**
 * Read by name only: the credentials Secret a TrainingPipeline names (spec.storage.credentialsSecret). Created once,
 * never read: a ModelDeployment's feedback Secret (token and id signing key).
 */
export const secrets: ResourceRef = { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true };
/** Written only (created, then patched when its hash changes): a ModelDeployment's server settings `<md>-server`. */
export const configMaps: ResourceRef = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true };
/**
 * Written (get by name first, to check whose it is), never watched: the operator runs in clusters without the Gateway
 * API CRDs, and a route is written only when its hash changes.
 */
export const httpRoutes: ResourceRef = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes', kind: 'HTTPRoute', namespaced: true };
/** Written like the HTTPRoute, beside it, when the servers have a gRPC port (spec.server.grpcPort). */
export const grpcRoutes: ResourceRef = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'grpcroutes', kind: 'GRPCRoute', namespaced: true };
/**
 * Written only (created, then patched when its hash changes; deleted when autoscaling is turned off): a
 * ModelDeployment's HorizontalPodAutoscaler (spec.server.autoscaling), which scales the md through its scale subresource.
 */
export const horizontalPodAutoscalers: ResourceRef = { group: 'autoscaling', version: 'v2', plural: 'horizontalpodautoscalers', kind: 'HorizontalPodAutoscaler', namespaced: true };
