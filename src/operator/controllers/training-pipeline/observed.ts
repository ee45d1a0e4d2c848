// What one reconcile observed, as one immutable value: the pipeline, its Jobs, the ModelDeployments it reads or
// that serve its versions, and what it needs from the store. observe.ts builds it; plan.ts decides from it.
import type { ModelDeploymentStatus } from '../../../api/model-deployment.js';
import type { TrainingPipeline } from '../../../api/training-pipeline.js';
import type { Manifest } from '../../../shared/artifact-layout.js';
import type { EvaluationReport } from '../../../shared/evaluation-report.js';
import type { PodObject } from '../pod-faults.js';
import type { TenancyPolicy } from '../tenancy.js';
import type { StoreSettings } from '../../store-settings.js';
import type { Follower } from './champion.js';
import type { DataListing } from './triggers.js';
import type { ValidationIssue } from './invalid-data.js';

export type JobState =
  | { readonly phase: 'Active' }
  | { readonly phase: 'Succeeded'; readonly completionTime: string | undefined }
  | { readonly phase: 'Failed'; readonly reason: string; readonly message: string; readonly completionTime: string | undefined };

export interface ObservedJob {
  readonly name: string;
  readonly uid: string;
  readonly run: string | undefined;
  readonly state: JobState;
}

/** What the store says about the finished run of the current Job. */
export type RunResult =
  | { readonly kind: 'published'; readonly manifest: Manifest; readonly report: EvaluationReport }
  | { readonly kind: 'unreadable'; readonly message: string }
  | { readonly kind: 'noManifest'; readonly key: string }
  | { readonly kind: 'invalidData'; readonly issues: readonly ValidationIssue[] }
  | { readonly kind: 'noValidationReport' };

export interface Observed {
  readonly pipeline: TrainingPipeline;
  readonly nowMs: number;
  /** Jobs this pipeline controls (by label and controller ownerReference). */
  readonly jobs: readonly ObservedJob[];
  /** Status of the ModelDeployments the drift/performance triggers name (undefined: not found). */
  readonly deployments: Readonly<Record<string, ModelDeploymentStatus | undefined>>;
  /** Which of those follow this pipeline (spec.model.fromPipeline): they move to each new champion on their own. */
  readonly following: readonly string[];
  /** The ModelDeployments of the namespace following this pipeline: what they serve as stable and what they aborted. */
  readonly followers: readonly Follower[];
  /** Versions the ModelDeployments of the namespace serve or name (versions-in-use.ts): never deleted. */
  readonly servedVersions: readonly string[];
  /**
   * Undefined when the operator runs without an object store, or cannot use it for this pipeline (its spec is not
   * accepted: nothing is read, listed or deleted for it).
   */
  readonly store: StoreSettings | undefined;
  readonly data: DataListing | undefined;
  /** The store's verdict on the current run, once its Job has finished. */
  readonly result: RunResult | undefined;
  /** The pods of the current run's Job, read while the Job has not succeeded (what they say: run-faults.ts). */
  readonly runPods: readonly PodObject[] | undefined;
  /** Version names present under the pipeline's versions/ prefix (listed when there is a champion). */
  readonly versions: readonly string[] | undefined;
  /** Objects under the pipeline's prefix, listed while it is being deleted with onDelete: Delete. */
  readonly cleanupKeys: readonly string[] | undefined;
  /** How often the store is polled for new data. */
  readonly dataPollMs: number;
  readonly jobTtlSeconds: number;
  /** What the pipeline's namespace may make the operator do (install-time). */
  readonly tenancy: TenancyPolicy;
}
