// The weather loop that both `make demo` and the closed-loop e2e test run on the local cluster: the weather data as a
// Dataset (dataset.ts) cut into one CSV object per location and year, as a data pipeline would drop them, and the
// TrainingPipeline and ModelDeployment that keep the model fresh.
import { join } from 'node:path';
import { repoRoot } from '../../localcluster/cluster.js';
import { Annotation } from '../../src/api/conditions.js';
import type { TrainingPipelineSpec } from '../../src/api/training-pipeline.js';
import { imageTags } from '../../localcluster/node/images.js';
import { dataPrefix, periodCsv, periods, pipelineSchema, readCsvFile, type Dataset, type Row } from './dataset.js';

const slug = (location: string): string => location.toLowerCase().replace(/\s+/g, '-');

let weatherRows: { columns: string[]; rows: Row[] } | undefined;
const weatherCsv = (): { columns: string[]; rows: Row[] } => (weatherRows ??= readCsvFile(join(repoRoot, 'node_modules/vega-datasets/data/weather.csv')));

/**
 * Daily weather of Seattle and New York, 2012–2015 (vega-datasets): classify the kind of day from precipitation,
 * temperatures and wind. One period per location and year ("seattle-2012", ..., "new-york-2015").
 */
export const weather: Dataset = {
  name: 'weather',
  get columns() { return weatherCsv().columns; },
  get rows() { return weatherCsv().rows; },
  features: [
    { name: 'precipitation', type: 'numeric', min: 0 }, { name: 'temp_max', type: 'numeric' },
    { name: 'temp_min', type: 'numeric' }, { name: 'wind', type: 'numeric', min: 0 },
  ],
  label: { name: 'weather', task: 'classification' },
  timestampColumn: 'date',
  periodOf: (r) => `${slug(r['location'] ?? '')}-${(r['date'] ?? '').slice(0, 4)}`,
  /**
   * A request carries the day's features and its event time (`date`), which the server logs and a fed-back row
   * keeps. New York days are sent 4 years on (2016–2019): in the story the loop plays, New York traffic is what
   * arrives after the Seattle history (as live traffic is always newer than the data a model was trained on), and
   * with event time kept, the retrain's newest rows (its drift reference, a time window) are then the New York
   * traffic, as they would be live. With their own dates (2012–2015) the fed-back New York days would sit among the
   * Seattle years they never followed.
   */
  instance: (r) => {
    const date = r['date'] ?? '';
    const shifted = r['location'] === 'New York' ? `${Number(date.slice(0, 4)) + 4}${date.slice(4)}` : date;
    return { precipitation: Number(r['precipitation']), temp_max: Number(r['temp_max']), temp_min: Number(r['temp_min']), wind: Number(r['wind']), date: shifted };
  },
};

/** The periods of one location ("seattle-2012" ... "seattle-2015"), for LoopStack's data and upload(). */
export function weatherPeriods(location: string): string[] {
  return periods(weather).filter((p) => p.startsWith(`${slug(location)}-`));
}

/** One CSV object per year (2012–2015) of one location's rows, as a data pipeline would drop them. */
export function yearlyCsv(location: string): Map<string, string> {
  return new Map(weatherPeriods(location).map((p) => [p.slice(-4), periodCsv(weather, p)]));
}

/** Where the weather CSVs land: the namespace's own data prefix (all a namespace may read without a grant). */
export function weatherDataPrefix(namespace: string): string {
  return dataPrefix(namespace, weather);
}

/** A TrainingPipeline classifying the kind of day from precipitation, temperatures and wind, fed back by `name`. */
export function weatherPipeline(name: string, triggers: Partial<TrainingPipelineSpec['triggers']>, namespace: string): object {
  return {
    apiVersion: 'perennial.dev/v1alpha1', kind: 'TrainingPipeline', metadata: { name },
    spec: {
      data: {
        sources: [{ prefix: weatherDataPrefix(namespace), format: 'csv' }],
        schema: pipelineSchema(weather),
        feedbackFrom: name,
      },
      validation: { minRows: 200, maxMissingRate: 0.05 },
      triggers,
      trainer: {
        image: imageTags.trainer, // built by `make images` (localcluster/node/images.ts)
        gpu: { count: 1 },
        hyperparameters: { epochs: 20, batchSize: 64, learningRate: 0.01, earlyStoppingPatience: 4 },
        seed: 7,
        warmStart: 'Champion',
      },
      evaluation: { holdout: { fraction: 0.2 }, primaryMetric: 'accuracy', thresholds: [{ metric: 'accuracy', min: 0.6 }], maxRegression: 0.03 },
    },
  };
}

/**
 * The triggers that close the loop: drift or falling live accuracy of the deployment `name` for a short `for`.
 * minInterval keeps them from starting a second run while the first retrain is still being rolled out (they keep
 * firing against the old version until then).
 */
export function loopTriggers(name: string): Partial<TrainingPipelineSpec['triggers']> {
  return {
    minInterval: '75s',
    drift: { deployment: name, psiThreshold: 0.25, for: '10s' },
    performance: { deployment: name, metric: 'accuracy', threshold: 0.6, minSamples: 50, for: '10s' },
  };
}

/** A ModelDeployment serving the champion of pipeline `name` on 2 pods, canarying each new one through live gates. */
export function loopDeployment(name: string, analysisDuration = '15s'): object {
  return {
    apiVersion: 'perennial.dev/v1alpha1', kind: 'ModelDeployment', metadata: { name },
    spec: {
      model: { fromPipeline: name },
      server: { image: imageTags.server, replicas: 2 },
      rollout: {
        strategy: 'Canary',
        canary: { steps: [{ setWeight: 50 }, { analysis: { duration: analysisDuration } }] },
        analysis: { interval: '3s', minSamples: 30, gates: { maxErrorRate: 0.01, minAccuracy: 0.4, maxAccuracyDrop: 0.1 } },
      },
    },
  };
}

/**
 * A merge patch of the pipeline asking for a deliberately bad candidate: one epoch from scratch at a tiny learning
 * rate, the training gates relaxed so it is blessed, the drift/performance triggers removed so this manual run is
 * the only one. The live gates of the deployment must catch it.
 */
export function badCandidatePatch(triggerValue: string): object {
  return {
    metadata: { annotations: { [Annotation.trigger]: triggerValue } },
    spec: {
      triggers: { drift: null, performance: null },
      trainer: { warmStart: 'Scratch', hyperparameters: { epochs: 1, batchSize: 512, learningRate: 0.000001, earlyStoppingPatience: 0 } },
      evaluation: { thresholds: [{ metric: 'accuracy', min: 0 }], maxRegression: 1 },
    },
  };
}
