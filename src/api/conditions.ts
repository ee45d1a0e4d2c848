// Condition types and reasons of both resources: the vocabulary users, `kubectl wait`, Argo CD health scripts and
// the controllers share. Reasons are CamelCase constants; each controller pairs them with its message.

export const ConditionType = {
  /**
   * The spec is valid and the controller acts on it. False + InvalidSpec: fix the spec; False + NotPermitted: the
   * spec asks for what the namespace may not (a bucket, prefix, image or Prometheus outside the install-time policy).
   */
  Accepted: 'Accepted',
  /** TrainingPipeline: a champion exists and nothing is wrong. */
  Ready: 'Ready',
  /** ModelDeployment: the stable version serves with enough ready replicas. */
  Available: 'Available',
  /** Work is under way: a training run, or a rollout. */
  Progressing: 'Progressing',
  /** Something needs attention: the last run failed, or a rollout was aborted and rolled back. */
  Degraded: 'Degraded',
  /** ModelDeployment: the rollout waits for a person (spec.rollout.paused, an untimed pause step, inconclusive analyses). */
  Paused: 'Paused',
  /**
   * TrainingPipeline with spec.integrations.mlflow: every ended run is exported to MLflow and the champion alias is
   * where the champion is. False: an export waits (MLflowUnavailable, MLflowRefused, CredentialsUnavailable).
   */
  MLflowSynced: 'MLflowSynced',
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

export const Reason = {
  Accepted: 'Accepted',
  InvalidSpec: 'InvalidSpec',
  NotPermitted: 'NotPermitted',
  // TrainingPipeline
  NoChampionYet: 'NoChampionYet',
  ChampionServing: 'ChampionServing',
  RunStarted: 'RunStarted',
  RunRunning: 'RunRunning',
  Idle: 'Idle',
  Suspended: 'Suspended',
  Blessed: 'Blessed',
  Rejected: 'Rejected',
  RunFailed: 'RunFailed',
  InvalidData: 'InvalidData',
  RunReplaced: 'RunReplaced',
  StoreNotConfigured: 'StoreNotConfigured',
  StoreUnavailable: 'StoreUnavailable',
  VersionsDeleted: 'VersionsDeleted',
  CleanupFailed: 'CleanupFailed',
  /** The run's training pod cannot get its image; the run ends Failed after spec.trainer.imagePullTimeout. */
  ImagePullFailed: 'ImagePullFailed',
  /** The trainer was killed for exceeding its memory limit: the run ends Failed (raise spec.trainer.resources). */
  OOMKilled: 'OOMKilled',
  /** The run's training pod cannot be scheduled (the scheduler's message says why). */
  Unschedulable: 'Unschedulable',
  /**
   * A pod's container cannot be configured (CreateContainerConfigError), most often a Secret it refers to is missing
   * from the namespace or lacks a key: the message names it. Training runs and ModelDeployments.
   */
  ConfigMissing: 'ConfigMissing',
  /** spec.storage.credentialsSecret cannot be read or lacks its keys: nothing is done in the store until it can. */
  CredentialsUnavailable: 'CredentialsUnavailable',
  // TrainingPipeline, condition MLflowSynced
  MLflowExported: 'MLflowExported',
  MLflowUnavailable: 'MLflowUnavailable',
  MLflowRefused: 'MLflowRefused',
  /** A ModelDeployment following the pipeline rolled the champion back: the champion is what it serves as stable. */
  ChampionDemoted: 'ChampionDemoted',
  /** The perennial.dev/champion annotation set the champion. */
  ChampionPinned: 'ChampionPinned',
  /** The perennial.dev/champion annotation names a version that was never published (or not yet): ignored. */
  ChampionPinRefused: 'ChampionPinRefused',
  // ModelDeployment
  WaitingForModel: 'WaitingForModel',
  RolloutProgressing: 'RolloutProgressing',
  RolloutComplete: 'RolloutComplete',
  RolloutAborted: 'RolloutAborted',
  RolledBack: 'RolledBack',
  PausedBySpec: 'PausedBySpec',
  PausedAtStep: 'PausedAtStep',
  InconclusiveAnalysis: 'InconclusiveAnalysis',
  ReplicasReady: 'ReplicasReady',
  ReplicasUnavailable: 'ReplicasUnavailable',
  /**
   * A revision's server pods did not become ready within spec.rollout.progressDeadline (its Deployment's own
   * condition): a candidate is aborted, a stable version is Degraded; the message names what holds the pods.
   */
  ProgressDeadlineExceeded: 'ProgressDeadlineExceeded',
  /** An HTTPRoute of the deployment's name exists that this deployment does not control: it is left alone. */
  RouteNotOwned: 'RouteNotOwned',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

/** Annotations a person (or a GitOps tool that must not edit the synced spec) sets to command the operator. */
export const Annotation = {
  /** TrainingPipeline: a new value starts a run now (subject to concurrencyPolicy). */
  trigger: 'perennial.dev/trigger',
  /**
   * TrainingPipeline: pins the champion to this published version while set (a rollback does not demote it, a
   * blessing does not move it); removed, the champion stays until the next blessing or rollback.
   */
  champion: 'perennial.dev/champion',
  /** ModelDeployment: a new value promotes the candidate past the current step (or all the way with "full"). */
  promote: 'perennial.dev/promote',
  /** ModelDeployment: a new value aborts the rollout and returns all traffic to stable. */
  abort: 'perennial.dev/abort',
  /** ModelDeployment: a new value retries an aborted candidate. */
  retry: 'perennial.dev/retry',
} as const;

export const finalizer = 'perennial.dev/cleanup';
