// How traffic is split between the stable version and a candidate, behind one small interface (after Argo
// Rollouts' trafficrouting and Flagger's pkg/router): a router turns the wanted split into replica counts, the
// selector of the stable Service, and the routing object it owns (if any). Pure: the reconciler applies the plan.
// Both honour one rule: no weight ever goes to a revision with no ready pods.
import type { ModelDeploymentSpec } from '../../../../api/model-deployment.js';
import type { KubeObject, OwnerReference } from '../../../runtime/resource.js';

export type TrafficPhase =
  /** No candidate: everything to stable. */
  | 'stable'
  /** Canary steps: the candidate takes `weight` percent. */
  | 'canary'
  /** Shadow: the candidate gets a mirrored share only, no real traffic. */
  | 'shadow'
  /** Blue-green preview: the candidate runs at full size behind the preview Service, no real traffic. */
  | 'preview';

export interface RouteInput {
  readonly namespace: string;
  readonly md: string;
  readonly owner: OwnerReference;
  readonly port: number;
  /** spec.server.grpcPort; 0 or absent: no gRPC port, so no GRPCRoute. */
  readonly grpcPort?: number | undefined;
  /** spec.server.replicas */
  readonly total: number;
  readonly phase: TrafficPhase;
  /** The target weight of the candidate (canary phase). */
  readonly weight: number;
  /** Mirrored percent (shadow phase). */
  readonly mirrorPercent: number;
  /** Pods of the preview (blue-green). */
  readonly previewReplicas: number;
  readonly stable: { readonly hash: string; readonly ready: number; readonly replicas: number };
  readonly canary: { readonly hash: string; readonly ready: number } | undefined;
}

export interface RoutePlan {
  readonly replicas: { readonly stable: number; readonly canary: number };
  /** The revision hash the stable Service `<md>` selects; undefined: every revision of the md (replica-based split). */
  readonly stableServiceRevision: string | undefined;
  /** Percent of real traffic the candidate gets now (0 when it has no ready pods). */
  readonly weight: number;
  /** The step's traffic is in place: the candidate has its pods and weight. */
  readonly reached: boolean;
  /** The routing object the router owns (an HTTPRoute), or undefined. */
  readonly route: KubeObject | undefined;
  /** Its gRPC twin (a GRPCRoute with the same parents and weights on the gRPC port), or undefined. */
  readonly grpcRoute?: KubeObject | undefined;
}

export interface TrafficRouter {
  plan(input: RouteInput): RoutePlan;
}

export type GatewayAPISettings = NonNullable<ModelDeploymentSpec['rollout']['trafficRouting']['gatewayAPI']>;
