// The labels the operator puts on what it creates: training Jobs and their pods, server Deployments, their pods and
// Services, HTTPRoutes and feedback Secrets. One set for both controllers, because people, dashboards, the CLI,
// the benchmarks and the tests select by them: a label is part of the API as much as an annotation is.

export const Label = {
  /** The TrainingPipeline a training Job (and its pod) runs for. */
  pipeline: 'perennial.dev/pipeline',
  /** The run a training Job is (`<pipeline>-<run number>`, also the Job's name). */
  run: 'perennial.dev/run',
  /** The ModelDeployment a server Deployment, pod, Service or route belongs to. */
  deployment: 'perennial.dev/deployment',
  /** The revision of a ModelDeployment (the hash of version, artifact location and server template). */
  revision: 'perennial.dev/revision',
  /** The model version a training Job publishes or a server pod serves. */
  version: 'perennial.dev/version',
  name: 'app.kubernetes.io/name',
  component: 'app.kubernetes.io/component',
  managedBy: 'app.kubernetes.io/managed-by',
  /** Kueue's own label: the LocalQueue a training Job is submitted to (spec.trainer.queueName). */
  kueueQueue: 'kueue.x-k8s.io/queue-name',
} as const;

/** The value of app.kubernetes.io/managed-by on everything the operator creates. */
export const managedBy = 'perennial';

/** The recommended app.kubernetes.io labels of a workload's pods: which program, which part of the loop, who manages it. */
export function workloadLabels(program: 'perennial-trainer' | 'perennial-server', component: 'training' | 'serving'): Record<string, string> {
  return { [Label.name]: program, [Label.component]: component, [Label.managedBy]: managedBy };
}
