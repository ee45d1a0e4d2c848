// The one list of model-quality metric names: what the trainer measures on a holdout, what a TrainingPipeline may
// gate on, what metrics.json and a run's status carry, and which live metrics a server reports from feedback
// labels. Every other list (the CRD's enums and CEL rules, the trainer config, the evaluation report) is derived
// from these arrays.

export const tasks = ['classification', 'regression'] as const;
export type Task = (typeof tasks)[number];

export const classificationMetrics = ['accuracy', 'macroF1', 'rocAuc', 'logLoss'] as const;
export const regressionMetrics = ['rmse', 'mae', 'r2'] as const;
export type ClassificationMetric = (typeof classificationMetrics)[number];
export type RegressionMetric = (typeof regressionMetrics)[number];

export const metricNames = [...classificationMetrics, ...regressionMetrics] as const;
export type MetricName = (typeof metricNames)[number];

/** The metrics of one task, in report order. */
export function metricsOf(task: Task): readonly MetricName[] {
  return task === 'classification' ? classificationMetrics : regressionMetrics;
}

/** The metric that ranks candidates when a pipeline or trainer config names none. */
export const defaultPrimaryMetric: Readonly<Record<Task, MetricName>> = { classification: 'accuracy', regression: 'rmse' };

/** Metrics where lower is better; gates and comparisons flip for them. */
export const lowerIsBetter: ReadonlySet<MetricName> = new Set<MetricName>(['logLoss', 'rmse', 'mae']);

/**
 * The live metrics a performance trigger can watch (status.liveMetrics): those the model servers measure from feedback
 * labels (perennial_server_live_accuracy, _live_log_loss and _live_rmse, see server-metrics.ts), and the accuracy they
 * estimate without labels from the model's own confidence (perennial_server_estimated_accuracy).
 */
export const liveMetricNames = ['accuracy', 'logLoss', 'rmse', 'estimatedAccuracy'] as const;
export type LiveMetricName = (typeof liveMetricNames)[number];

/** Whether a live metric is bad above its threshold (log loss, RMSE) rather than below it (the accuracies). */
export function liveLowerIsBetter(m: LiveMetricName): boolean {
  return m !== 'estimatedAccuracy' && lowerIsBetter.has(m);
}

export function isMetricName(v: unknown): v is MetricName {
  return typeof v === 'string' && (metricNames as readonly string[]).includes(v);
}
