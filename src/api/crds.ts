// The two CustomResourceDefinitions, assembled from the schemas in this folder. crds/*.yaml is generated from
// here by `npm run gen:crds` and checked for drift by crds.test.ts.
import { group, version } from './common.js';
import { modelDeploymentSpecSchema, modelDeploymentStatusSchema } from './model-deployment.js';
import { nameCelRules, nameRules, type NameRule } from './object-names.js';
import type { JsonSchema, Schema } from './schema.js';
import { trainingPipelineSpecSchema, trainingPipelineStatusSchema } from './training-pipeline.js';

interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description: string;
  priority?: number;
}

interface CrdInput {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  description: string;
  spec: Schema<unknown, boolean>;
  status: Schema<unknown, boolean>;
  columns: PrinterColumn[];
  /** Which names the resource may have (object-names.ts: what the operator derives from them must be valid). */
  names: NameRule;
  /** The scale subresource's paths, for a kind a HorizontalPodAutoscaler (or `kubectl scale`) can scale. */
  scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath: string };
}

function crd(input: CrdInput): Record<string, unknown> {
  const schema: JsonSchema = {
    type: 'object',
    description: input.description,
    properties: {
      apiVersion: { type: 'string', description: 'The versioned schema of this object: perennial.dev/v1alpha1.' },
      kind: { type: 'string', description: `The kind of this object: ${input.kind}.` },
      metadata: { type: 'object' }, // the API server allows nothing else here
      spec: input.spec.json,
      status: input.status.json,
    },
    required: ['spec'],
    'x-kubernetes-validations': nameCelRules(input.names),
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${input.plural}.${group}`,
      labels: { 'app.kubernetes.io/name': 'perennial', 'app.kubernetes.io/part-of': 'perennial' },
    },
    spec: {
      group,
      names: {
        kind: input.kind,
        listKind: `${input.kind}List`,
        plural: input.plural,
        singular: input.singular,
        shortNames: input.shortNames,
        categories: ['perennial'],
      },
      scope: 'Namespaced',
      versions: [{
        name: version,
        served: true,
        storage: true,
        subresources: { status: {}, ...(input.scale ? { scale: input.scale } : {}) },
        additionalPrinterColumns: input.columns,
        schema: { openAPIV3Schema: schema },
      }],
    },
  };
}

const ready = (name = 'Ready') => `.status.conditions[?(@.type=="${name}")].status`;

export const trainingPipelineCrd = crd({
  kind: 'TrainingPipeline',
  plural: 'trainingpipelines',
  singular: 'trainingpipeline',
  shortNames: ['tp'],
  description: 'TrainingPipeline keeps a model fresh: when a trigger fires (schedule, new data, drift, falling live accuracy, '
    + 'or the perennial.dev/trigger annotation) it trains a candidate in a Job, evaluates it against thresholds and the '
    + 'current champion, and records it as the new champion or rejects it.',
  spec: trainingPipelineSpecSchema,
  status: trainingPipelineStatusSchema,
  names: nameRules.TrainingPipeline,
  columns: [
    { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Idle, Running, Suspended or Failed.' },
    { name: 'Champion', type: 'string', jsonPath: '.status.championVersion', description: 'The latest blessed version.' },
    { name: 'Latest', type: 'string', jsonPath: '.status.latestVersion', description: 'The newest published version.' },
    { name: 'Run', type: 'string', jsonPath: '.status.currentRun', description: 'The run in progress.' },
    { name: 'Ready', type: 'string', jsonPath: ready(), description: 'Whether the pipeline has a champion and its spec is valid.' },
    { name: 'Next', type: 'date', jsonPath: '.status.nextScheduleTime', description: 'The next scheduled run.', priority: 1 },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Time since creation.' },
  ],
});

export const modelDeploymentCrd = crd({
  kind: 'ModelDeployment',
  plural: 'modeldeployments',
  singular: 'modeldeployment',
  shortNames: ['md'],
  description: 'ModelDeployment serves a model with the Perennial model server and rolls out new versions (a fixed one, '
    + 'or each new champion of a TrainingPipeline) by canary, blue-green or shadow, judged by live gates, rolling back '
    + 'on its own when a gate fails.',
  spec: modelDeploymentSpecSchema,
  status: modelDeploymentStatusSchema,
  names: nameRules.ModelDeployment,
  // What a HorizontalPodAutoscaler scales (server.autoscaling): the total of server pods, which the controller then
  // splits between the stable version and the candidate by the canary weight, as Argo Rollouts does.
  scale: { specReplicasPath: '.spec.server.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' },
  columns: [
    { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Pending, Progressing, Paused, Healthy or Degraded.' },
    { name: 'Stable', type: 'string', jsonPath: '.status.stableVersion', description: 'The version serving most traffic.' },
    { name: 'Canary', type: 'string', jsonPath: '.status.canaryVersion', description: 'The candidate being rolled out.' },
    { name: 'Weight', type: 'integer', jsonPath: '.status.canaryWeight', description: 'Percent of traffic to the candidate.' },
    { name: 'Accuracy', type: 'number', jsonPath: '.status.liveMetrics.accuracy', description: 'Live accuracy from feedback.', priority: 1 },
    { name: 'Drift', type: 'number', jsonPath: '.status.liveMetrics.maxDriftPsi', description: 'Largest feature PSI.', priority: 1 },
    { name: 'Available', type: 'string', jsonPath: ready('Available'), description: 'Whether the stable version serves.' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Time since creation.' },
  ],
});

export const crds = { 'trainingpipelines.yaml': trainingPipelineCrd, 'modeldeployments.yaml': modelDeploymentCrd } as const;
