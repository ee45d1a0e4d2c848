// TrainingPipeline reconcile: observe (the pipeline from the cache) → plan (pure) → persist status once if it
// changed → events after the write.
import type { TrainingPipeline } from '../../../api/training-pipeline.js';
import type { Clock } from '../../runtime/clock.js';
import type { EventRecorder } from '../../runtime/events.js';
import type { CacheReader } from '../../runtime/informer.js';
import type { Logger } from '../../runtime/log.js';
import type { ObjectKey, ReconcileResult, Reconciler } from '../../runtime/manager.js';
import type { KubeObject } from '../../runtime/resource.js';
import type { StatusWriter } from '../../runtime/status-writer.js';
import { trainingPipelines } from '../../resources.js';
import { planTrainingPipeline } from './plan.js';

export interface TrainingPipelineDeps {
  readonly pipelines: CacheReader<KubeObject>;
  readonly statusWriter: StatusWriter;
  readonly events: EventRecorder;
  readonly clock: Clock;
  readonly logger: Logger;
}

export class TrainingPipelineReconciler implements Reconciler {
  constructor(private readonly deps: TrainingPipelineDeps) {}

  async reconcile(key: ObjectKey): Promise<ReconcileResult> {
    const tp = this.deps.pipelines.get(key.namespace, key.name) as TrainingPipeline | undefined;
    if (!tp) return {}; // deleted; owned objects go with it by garbage collection
    const plan = planTrainingPipeline(tp, this.deps.clock.now());
    const result = await this.deps.statusWriter.write(trainingPipelines, tp, plan.status);
    if (result.written) {
      this.deps.logger.debug('status written', { namespace: key.namespace, name: key.name, generation: tp.metadata.generation });
    }
    for (const e of plan.events) await this.deps.events.event(tp, e.type, e.reason, e.note);
    return {};
  }
}
