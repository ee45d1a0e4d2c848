// Which of a pipeline's versions the ModelDeployments of its namespace use, so retention never deletes them. Pure.
// A deployment uses a version when it serves or names it, whichever way it found it:
//   following the pipeline (spec.model.fromPipeline): its pinned spec.model.version, and the stable, canary and
//     previous versions its status names;
//   by URI (spec.model.uri, or what its status says it serves: stableURI, canaryURI): a version prefix of this
//     pipeline (s3://<bucket>/pipelines/<namespace>/<pipeline>/versions/<version>) in the bucket the pipeline keeps
//     its versions in. A URI of another pipeline, namespace or bucket names another model.
import type { ModelDeployment } from '../../../api/model-deployment.js';
import type { PipelineRef } from '../../../shared/artifact-layout.js';
import { parseVersionUri } from '../model-deployment/desired-model.js';

export function versionsInUse(deployments: readonly ModelDeployment[], pipeline: PipelineRef, bucket: string): string[] {
  const used = new Set<string>();
  for (const md of deployments) {
    const model = md.spec?.model;
    const st = md.status;
    if (model?.fromPipeline === pipeline.name) {
      for (const v of [model.version, st?.stableVersion, st?.canaryVersion, st?.previousVersion]) if (v !== undefined) used.add(v);
    }
    for (const uri of [model?.uri, st?.stableURI, st?.canaryURI]) {
      const ref = uri === undefined ? undefined : parseVersionUri(uri);
      if (ref && ref.namespace === pipeline.namespace && ref.pipeline === pipeline.name && ref.bucket === bucket) used.add(ref.version);
    }
  }
  return [...used].sort();
}

/**
 * The pipelines of its own namespace whose versions a deployment may use: the one it follows and those its URIs
 * name (whatever the bucket; versionsInUse checks it). The ModelDeployment cache is indexed by these
 * (usedPipelinesIndex), so a pipeline's reconcile reads only the deployments that can matter to it.
 */
export function pipelinesUsedBy(md: ModelDeployment): string[] {
  const names = new Set<string>();
  const model = md.spec?.model;
  if (model?.fromPipeline !== undefined) names.add(model.fromPipeline);
  for (const uri of [model?.uri, md.status?.stableURI, md.status?.canaryURI]) {
    const ref = uri === undefined ? undefined : parseVersionUri(uri);
    if (ref && ref.namespace === md.metadata.namespace) names.add(ref.pipeline);
  }
  return [...names];
}

/** The name of the ModelDeployment cache's index by pipelinesUsedBy. */
export const usedPipelinesIndex = 'perennial.dev/used-pipelines';
