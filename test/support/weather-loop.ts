// The weather loop that both `make demo` and the closed-loop e2e test run on the local cluster: the data as a
// pipeline would drop it, the operator's local configuration, and the TrainingPipeline that keeps the model fresh.
import { Annotation } from '../../src/api/conditions.js';
import type { S3Info } from '../../localcluster/cluster.js';
import type { TrainingPipelineSpec } from '../../src/api/training-pipeline.js';
import { weatherLines } from '../integration/trainer-harness.js';
import { imageTags } from '../../localcluster/node/images.js';

/** The Secret (in the workload namespace) the operator references for store credentials in the pods it creates. */
export const credentialsSecret = 'perennial-s3';

/** One CSV object per year (2012–2015) of one location's rows, as a data pipeline would drop them. */
export function yearlyCsv(location: string): Map<string, string> {
  const { header, rows } = weatherLines();
  const out = new Map<string, string>();
  for (const year of ['2012', '2013', '2014', '2015']) {
    const lines = rows.filter((r) => r.startsWith(`${location},${year}`));
    out.set(year, [header, ...lines].join('\n') + '\n');
  }
  return out;
}

/** The environment an in-process operator gets on the local cluster (what the chart sets in a real one). */
export function localOperatorEnv(namespace: string, s3: S3Info, bucket: string): Record<string, string> {
  return {
    PERENNIAL_WATCH_NAMESPACE: namespace, PERENNIAL_LEADER_ELECT: 'false', PERENNIAL_LOG_LEVEL: 'warn', PERENNIAL_HEALTH_PORT: '0',
    PERENNIAL_S3_ENDPOINT: s3.endPoint, PERENNIAL_S3_PORT: String(s3.port), PERENNIAL_S3_TLS: 'false', PERENNIAL_S3_REGION: s3.region,
    PERENNIAL_S3_BUCKET: bucket, AWS_ACCESS_KEY_ID: s3.accessKey, AWS_SECRET_ACCESS_KEY: s3.secretKey,
    PERENNIAL_S3_CREDENTIALS_SECRET: credentialsSecret,
  };
}

/** Where the weather CSVs land: the namespace's own data prefix (all a namespace may read without a grant). */
export function weatherDataPrefix(namespace: string): string {
  return `data/${namespace}/weather/`;
}

/** A TrainingPipeline classifying the kind of day from precipitation, temperatures and wind, fed back by `name`. */
export function weatherPipeline(name: string, triggers: Partial<TrainingPipelineSpec['triggers']>, namespace: string): object {
  return {
    apiVersion: 'perennial.dev/v1alpha1', kind: 'TrainingPipeline', metadata: { name },
    spec: {
      data: {
        sources: [{ prefix: weatherDataPrefix(namespace), format: 'csv' }],
        schema: {
          features: [
            { name: 'precipitation', type: 'numeric', min: 0 }, { name: 'temp_max', type: 'numeric' },
            { name: 'temp_min', type: 'numeric' }, { name: 'wind', type: 'numeric', min: 0 },
          ],
          label: { name: 'weather', task: 'classification' },
          timestampColumn: 'date',
        },
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
