// The loop's metrics as the operator runs them (loop-metrics.ts): the gauges read the manager's caches, the
// counters hear of ended runs from the TrainingPipeline reconciler (onRunFinished) and of promotions, aborts and
// rollbacks from the event recorder's hook; an object's deletion removes its counters.
import type { TrainingPipeline, TrainingRun } from '../../api/training-pipeline.js';
import { loopEvent, type LoopEvent } from '../notifications/loop-events.js';
import { modelDeployments, trainingPipelines } from '../resources.js';
import type { Manager } from '../runtime/manager.js';
import type { KubeObject } from '../runtime/resource.js';
import { LoopMetrics } from './loop-metrics.js';

export interface MeasuredLoop {
  readonly metrics: LoopMetrics;
  /** For the TrainingPipeline reconciler: a run ended. */
  readonly onRunFinished: (tp: TrainingPipeline, run: TrainingRun) => void;
}

/** Registers the loop's metrics; `onPromotion` is told each promotion (the feedback-loop latency is measured there). */
export function measureLoop(manager: Manager, onPromotion: (e: LoopEvent, metrics: LoopMetrics, md: KubeObject) => void = () => undefined): MeasuredLoop {
  const pipelines = manager.informer(trainingPipelines);
  const deployments = manager.informer(modelDeployments);
  const metrics = new LoopMetrics(manager.metrics.registry, { pipelines, deployments });
  pipelines.onEvent((event, obj) => {
    if (event === 'delete') metrics.pipelineDeleted(obj.metadata?.namespace ?? '', obj.metadata?.name ?? '');
    else if (event === 'add') metrics.pipelineSeen(obj.metadata?.namespace ?? '', obj.metadata?.name ?? '');
  });
  deployments.onEvent((event, obj) => {
    if (event === 'delete') metrics.deploymentDeleted(obj.metadata?.namespace ?? '', obj.metadata?.name ?? '');
    else if (event === 'add') metrics.deploymentSeen(obj.metadata?.namespace ?? '', obj.metadata?.name ?? '');
  });
  manager.events.listen((obj, type, reason, note) => {
    const e = loopEvent(obj, type, reason, note, manager.clock.now());
    if (e === undefined) return;
    metrics.loopEvent(e);
    if (e.type === 'rollout.promoted') onPromotion(e, metrics, obj);
  });
  return { metrics, onRunFinished: (tp, run) => metrics.runFinished(tp, run) };
}
