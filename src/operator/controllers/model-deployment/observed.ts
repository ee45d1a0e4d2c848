// What one reconcile observed, as one immutable value: the deployment, the model it should serve, its server
// Deployments and Services from the caches, and the live measurements taken for this reconcile.
import type { ModelDeployment } from '../../../api/model-deployment.js';
import type { TrainingPipeline } from '../../../api/training-pipeline.js';
import type { PodFault } from '../pod-faults.js';
import type { TenancyPolicy } from '../tenancy.js';
import type { DesiredModel } from './desired-model.js';
import type { Measurement } from './metrics/provider.js';
import type { StoreSettings } from '../../store-settings.js';

export interface ObservedRevision {
  readonly name: string;
  readonly uid: string;
  /** spec.replicas as last written. */
  readonly replicas: number;
  readonly readyReplicas: number;
  /** spec.progressDeadlineSeconds as last written (the API server defaults it to 600). */
  readonly progressDeadlineSeconds?: number | undefined;
  /** The Deployment gave up on its pods becoming ready: Progressing=False/ProgressDeadlineExceeded. */
  readonly deadlineExceeded?: boolean;
  /** What holds its pods, read when it gave up or has none ready (pod-faults.ts). */
  readonly podFault?: PodFault | undefined;
}

export interface ObservedService {
  readonly name: string;
  readonly selector: Readonly<Record<string, string>>;
  /** Its ports as the API server has them; undefined when the cache does not keep them. */
  readonly ports?: ReadonlyArray<Record<string, unknown>> | undefined;
}

/** A measurement, or why there is none (NoValuesError / ProviderError message). */
export type MeasureResult = { readonly ok: true; readonly m: Measurement } | { readonly ok: false; readonly reason: string };

export interface Observed {
  readonly md: ModelDeployment;
  readonly nowMs: number;
  /** Undefined when the operator runs without an object store (server pods could not load a model). */
  readonly store: StoreSettings | undefined;
  /** The TrainingPipeline of spec.model.fromPipeline, when the cache has it. */
  readonly pipeline: TrainingPipeline | undefined;
  /** What the deployment's namespace may make the operator do (install-time). */
  readonly tenancy: TenancyPolicy;
  readonly desired: DesiredModel;
  /** Server Deployments this md controls, by name. */
  readonly revisions: ReadonlyMap<string, ObservedRevision>;
  readonly services: ReadonlyMap<string, ObservedService>;
  /** The candidate over the current step's window (taken during window steps only). */
  readonly candidate: MeasureResult | undefined;
  /** The stable version over the current step's window (relative gates, shadow agreement). */
  readonly stableInWindow: MeasureResult | undefined;
  /** The stable version over the last analysis interval (status.liveMetrics). */
  readonly stableLive: MeasureResult | undefined;
}
