// ModelDeployment reconcile: observe (the deployment from the cache) → plan (pure) → persist status once if it
// changed → events after the write.
import type { ModelDeployment } from '../../../api/model-deployment.js';
import type { ObjectKey, ReconcileResult, Reconciler } from '../../runtime/manager.js';
import { modelDeployments } from '../../resources.js';
import type { TrainingPipelineDeps } from '../training-pipeline/reconciler.js';
import { planModelDeployment } from './plan.js';

export interface ModelDeploymentDeps extends Omit<TrainingPipelineDeps, 'pipelines'> {
  readonly deployments: TrainingPipelineDeps['pipelines'];
}

export class ModelDeploymentReconciler implements Reconciler {
  constructor(private readonly deps: ModelDeploymentDeps) {}

  async reconcile(key: ObjectKey): Promise<ReconcileResult> {
    const md = this.deps.deployments.get(key.namespace, key.name) as ModelDeployment | undefined;
    if (!md) return {};
    const plan = planModelDeployment(md, this.deps.clock.now());
    await this.deps.statusWriter.write(modelDeployments, md, plan.status);
    for (const e of plan.events) await this.deps.events.event(md, e.type, e.reason, e.note);
    return {};
  }
}
