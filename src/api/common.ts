// Schema pieces both resources use: durations, pod scheduling, resources, conditions, object references.
import { s, type Infer } from './schema.js';

export const group = 'perennial.dev';
export const version = 'v1alpha1';
export const apiVersion = `${group}/${version}`;

/** Go-style durations as Kubernetes users write them (30s, 10m, 1h30m); read by parseDuration (duration.ts). */
export const durationPattern = '^([0-9]+([.][0-9]+)?(ms|s|m|h))+$';

/** A floor and/or a ceiling of a duration field, as durations. */
export interface DurationBounds {
  readonly min?: string;
  readonly max?: string;
}

/** The words a user reads when a duration is out of its bounds (the API server's and the controllers' message). */
export function boundsText(bounds: DurationBounds): string {
  if (bounds.min !== undefined && bounds.max !== undefined) return `must be between ${bounds.min} and ${bounds.max}`;
  return bounds.min !== undefined ? `must be at least ${bounds.min}` : `must be at most ${bounds.max ?? ''}`;
}

export function duration(description: string, bounds: DurationBounds = {}) {
  const d = s.string(description, { maxLength: 32 })
    .rule(`self.matches('${durationPattern}')`, 'must be a duration such as 30s, 10m or 1h30m');
  if (bounds.min === undefined && bounds.max === undefined) return d;
  // CEL's duration() parses Go durations, the same language as the pattern; a string the pattern refuses is
  // reported by the rule above only.
  const checks = [
    ...(bounds.min === undefined ? [] : [`duration(self) >= duration('${bounds.min}')`]),
    ...(bounds.max === undefined ? [] : [`duration(self) <= duration('${bounds.max}')`]),
  ];
  return d.rule(`!self.matches('${durationPattern}') || (${checks.join(' && ')})`, boundsText(bounds));
}

/** A DNS-1123 label: the name of a Kubernetes object in the same namespace. */
export function objectName(description: string) {
  return s.string(description, { minLength: 1, maxLength: 63 })
    .rule(`self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')`,
      'must be a lowercase DNS-1123 label: letters, digits and -, starting and ending with a letter or digit');
}

export const resources = s.object('Compute resources of the container, as in a Pod spec.', {
  requests: s.map('Minimum resources the container needs to be scheduled.', s.quantity('A quantity such as 500m, 2Gi or 1.')),
  limits: s.map('Maximum resources the container may use.', s.quantity('A quantity such as 500m, 2Gi or 1.')),
});

export const tolerations = s.array('Tolerations for the pods, as in a Pod spec (for example for GPU node taints).',
  s.object('A toleration, as in a Pod spec.', {
    key: s.string('The taint key the toleration applies to; empty matches all keys.', { maxLength: 253 }),
    operator: s.enum('How the key relates to the value.', ['Exists', 'Equal'] as const),
    value: s.string('The taint value to match, with operator Equal.', { maxLength: 63 }),
    effect: s.enum('The taint effect to match; empty matches all effects.', ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const),
    tolerationSeconds: s.integer('For NoExecute: how long the pod stays bound after the taint appears.', { minimum: 0 }),
  }), { maxItems: 32 });

export const nodeSelector = s.map('Node labels the pods must be scheduled on (for example a GPU node pool).',
  s.string('A label value.', { maxLength: 63 }), { maxProperties: 32 });

export const conditions = s.array('The latest observations of the resource\'s state, one per type.',
  s.object('A condition, as metav1.Condition.', {
    type: s.string('The aspect this condition describes, in CamelCase (Ready, Progressing, ...).', { maxLength: 316 }),
    status: s.enum('Whether the condition holds.', ['True', 'False', 'Unknown'] as const),
    observedGeneration: s.integer('The metadata.generation this condition was computed from.', { minimum: 0 }),
    lastTransitionTime: s.string('When the status last changed.', { format: 'date-time' }),
    reason: s.string('A CamelCase word saying why, for machines.', { maxLength: 1024 }),
    message: s.string('A sentence saying why, for people.', { maxLength: 32768 }),
  }, ['type', 'status', 'lastTransitionTime', 'reason', 'message']),
  { maxItems: 16, listType: 'map', mapKeys: ['type'] });

/** The metadata fields Perennial reads of its own resources, as they arrive in JSON (times are strings). */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  deletionTimestamp?: string;
  creationTimestamp?: string;
}

export type Condition = Infer<typeof conditions>[number];
