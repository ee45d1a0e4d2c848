// What the operator's informers cache of each resource it watches, and which objects: the memory of the operator
// is these caches, one entry per object for its lifetime (docs/decisions/0013-operator-caches-and-throughput.md).
//   - TrainingPipelines and ModelDeployments: everything the reconcilers read (the whole spec and status; the
//     status writer compares the whole status) and the annotations (commands such as a pinned champion), without
//     managedFields and kubectl's last-applied-configuration.
//   - Jobs, server Deployments and Services: only the operator's own (selected by the label it puts on them,
//     src/api/labels.ts), and only the fields observe.ts reads: no pod template, no annotations, no managedFields.
// A reconciler that starts reading another field of a child adds it here, or it reads undefined.
import { Label } from '../api/labels.js';
import { deployments, jobs, modelDeployments, services, trainingPipelines } from './resources.js';
import type { InformerShape } from './runtime/manager.js';
import type { ResourceRef } from './runtime/resource.js';
import { transformOf, type Shape } from './runtime/transforms.js';

const primary: Shape = { spec: 'all', status: 'all', annotations: true };

/** The shape and label selector of each watched resource, by plural.group. */
const shapes: ReadonlyMap<string, InformerShape> = new Map([
  [trainingPipelines, { transform: transformOf(primary) }],
  [modelDeployments, { transform: transformOf(primary) }],
  // training-pipeline/observe.ts: a Job's labels, owner, conditions and completion time.
  [jobs, { labelSelector: Label.pipeline, transform: transformOf({ spec: [], status: 'all', annotations: false }) }],
  // model-deployment/observe.ts: a revision's replicas, progress deadline, ready replicas and conditions.
  [deployments, { labelSelector: Label.deployment, transform: transformOf({ spec: ['replicas', 'progressDeadlineSeconds'], status: 'all', annotations: false }) }],
  // model-deployment/observe.ts: a Service's selector (which revision it sends to) and ports (server.port, grpcPort).
  [services, { labelSelector: Label.deployment, transform: transformOf({ spec: ['selector', 'ports'], status: [], annotations: false }) }],
].map(([ref, shape]) => [id(ref as ResourceRef), shape as InformerShape]));

function id(ref: ResourceRef): string {
  return `${ref.plural}.${ref.group}`;
}

/** What the informer of this resource keeps; undefined: every object, as the server sends it. */
export function cacheShape(ref: ResourceRef): InformerShape | undefined {
  return shapes.get(id(ref));
}
