// The training Job of one run. Pure and deterministic: the same run gives the same Job, byte for byte (nothing
// time-based in it), so re-creating it after an operator restart is a harmless AlreadyExists.
//
// What the Job promises:
// - name <pipeline>-<run>, labels to find it, a controller ownerReference (garbage-collected with the pipeline);
// - the pod contract environment (src/shared/pod-contract.ts): the trainer config as JSON, the store endpoint,
//   and the credentials only as secretKeyRefs, never literal values;
// - GPUs as an extended-resource limit, placement (nodeSelector, tolerations, priorityClassName);
// - with a Kueue queue: the queue-name label and suspend: true, as Kueue expects without its webhook; the
//   operator never touches suspend or the template afterwards (Kueue owns them while it admits and evicts);
// - podFailurePolicy: invalid data / invalid config exit codes fail the Job at once (retrying cannot help), pod
//   disruptions (preemption, eviction, node drain) do not count against backoffLimit;
// - the restricted Pod Security profile with a writable emptyDir at /tmp, and no service account token.
import { Label, workloadLabels } from '../../../api/labels.js';
import type { TrainingPipelineSpec } from '../../../api/training-pipeline.js';
import { nonRetryableExitCodes, podEnv } from '../../../shared/pod-contract.js';
import type { OwnerReference } from '../../runtime/resource.js';
import type { StoreLocation } from '../../store-settings.js';
import { storeEnv, type EnvVar } from '../pod-env.js';
import type { TrainerConfigDocument } from './trainer-config.js';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../pod-security.js';

export const trainerContainerName = 'trainer';

export interface TrainingJobInput {
  readonly namespace: string;
  readonly pipeline: string;
  readonly owner: OwnerReference;
  readonly runName: string;
  readonly version: string;
  readonly trainer: TrainingPipelineSpec['trainer'];
  readonly config: TrainerConfigDocument;
  /** The store with the pipeline's bucket. */
  readonly store: StoreLocation;
  /** Secret (in the pipeline's namespace) holding AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. */
  readonly credentialsSecret: string;
  readonly ttlSecondsAfterFinished: number;
}

export type { EnvVar };

/** The Job as plain JSON (only the fields Perennial sets or reads). */
export interface TrainingJob {
  readonly apiVersion: 'batch/v1';
  readonly kind: 'Job';
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly ownerReferences: readonly OwnerReference[];
  };
  readonly spec: Readonly<Record<string, unknown>> & {
    readonly template: { readonly metadata: { readonly labels: Readonly<Record<string, string>> }; readonly spec: Readonly<Record<string, unknown>> };
  };
}

export function jobLabels(pipeline: string, runName: string, version: string): Record<string, string> {
  return { ...workloadLabels('perennial-trainer', 'training'), [Label.pipeline]: pipeline, [Label.run]: runName, [Label.version]: version };
}

export function trainerEnv(input: Pick<TrainingJobInput, 'config' | 'store' | 'credentialsSecret' | 'trainer'>): EnvVar[] {
  const { store } = input;
  return [
    { name: podEnv.trainerConfig, value: JSON.stringify(input.config) },
    ...storeEnv(store, input.credentialsSecret),
    { name: podEnv.codeVersion, value: input.trainer.image },
    { name: 'TMPDIR', value: '/tmp' },
  ];
}

function containerResources(trainer: TrainingPipelineSpec['trainer']): Record<string, Record<string, string | number>> {
  const out: Record<string, Record<string, string | number>> = {};
  if (trainer.resources?.requests) out['requests'] = { ...trainer.resources.requests };
  const limits: Record<string, string | number> = { ...(trainer.resources?.limits ?? {}) };
  // An extended resource is requested through its limit (requests default to it).
  if (trainer.gpu) limits[trainer.gpu.resourceName] = trainer.gpu.count;
  if (Object.keys(limits).length > 0) out['limits'] = limits;
  return out;
}

export function buildTrainingJob(input: TrainingJobInput): TrainingJob {
  const { trainer } = input;
  const podLabels = jobLabels(input.pipeline, input.runName, input.version);
  const jobMetaLabels = trainer.queueName !== undefined ? { ...podLabels, [Label.kueueQueue]: trainer.queueName } : podLabels;
  const podSpec: Record<string, unknown> = {
    restartPolicy: 'Never',
    automountServiceAccountToken: false,
    securityContext: restrictedPodSecurityContext(),
    ...(trainer.nodeSelector && Object.keys(trainer.nodeSelector).length > 0 ? { nodeSelector: { ...trainer.nodeSelector } } : {}),
    ...(trainer.tolerations && trainer.tolerations.length > 0 ? { tolerations: trainer.tolerations.map((t) => ({ ...t })) } : {}),
    ...(trainer.priorityClassName !== undefined ? { priorityClassName: trainer.priorityClassName } : {}),
    containers: [{
      name: trainerContainerName,
      image: trainer.image,
      env: trainerEnv(input),
      resources: containerResources(trainer),
      terminationMessagePolicy: 'FallbackToLogsOnError',
      securityContext: restrictedContainerSecurityContext(),
      volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
    }],
    volumes: [{ name: 'tmp', emptyDir: {} }],
  };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: input.runName,
      namespace: input.namespace,
      labels: jobMetaLabels,
      ownerReferences: [input.owner],
    },
    spec: {
      ...(trainer.queueName !== undefined ? { suspend: true } : {}),
      backoffLimit: trainer.backoffLimit,
      activeDeadlineSeconds: trainer.activeDeadlineSeconds,
      ttlSecondsAfterFinished: input.ttlSecondsAfterFinished,
      completions: 1,
      parallelism: 1,
      podReplacementPolicy: 'Failed',
      podFailurePolicy: {
        rules: [
          {
            action: 'FailJob',
            onExitCodes: { containerName: trainerContainerName, operator: 'In', values: [...nonRetryableExitCodes].sort((a, b) => a - b) },
          },
          { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
        ],
      },
      template: { metadata: { labels: podLabels }, spec: podSpec },
    },
  };
}

