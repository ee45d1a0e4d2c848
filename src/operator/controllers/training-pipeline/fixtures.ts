// Builders for the controller's tests (plan, triggers, reconciler): a valid pipeline (the shared builders of
// src/api/testing), an observation of it, the Jobs and ModelDeployments around it. Kept beside the tests that use
// them; nothing in the operator imports this.
import { aPipeline } from '../../../api/testing/builders.js';
import type { ModelDeploymentStatus } from '../../../api/model-deployment.js';
import type { TrainingPipeline, TrainingRun } from '../../../api/training-pipeline.js';
import type { EvaluationReport } from '../../../shared/evaluation-report.js';
import type { Manifest } from '../../../shared/artifact-layout.js';
import type { TenancyPolicy } from '../tenancy.js';
import type { JobState, Observed, ObservedJob } from './observed.js';

export const t0 = Date.parse('2026-11-21T10:00:00Z');

/** The shared builder's pipeline `weather` in `ml`, as the API server returns it (uid, generation, creation time). */
export function pipeline(edit: (tp: TrainingPipeline) => void = () => undefined): TrainingPipeline {
  return aPipeline('weather')
    .withMetadata({ uid: 'uid-tp', generation: 3, resourceVersion: '10', creationTimestamp: '2026-11-20T00:00:00Z' })
    .edit(edit)
    .build();
}

export const store = {
  endPoint: 'minio.perennial-system.svc', port: 9000, useSSL: false, region: 'us-east-1', bucket: 'models', credentialsSecret: 'perennial-s3',
} as const;

/** The install-time policy the fixtures live under: the fixture's bucket and trainer image, no grants. */
export const tenancy: TenancyPolicy = {
  defaultBucket: store.bucket, storeGrants: [], trainerImages: ['trainer'], serverImages: ['server'], prometheusURL: undefined, prometheusAllowedURLs: [],
};

export function observed(tp: TrainingPipeline, edit: Partial<Observed> = {}): Observed {
  return {
    pipeline: tp, nowMs: t0, jobs: [], deployments: {}, following: [], followers: [], servedVersions: [], store, data: undefined, result: undefined, runPods: undefined,
    versions: undefined, cleanupKeys: undefined, dataPollMs: 60_000, jobTtlSeconds: 86_400, tenancy, ...edit,
  };
}

/** A pipeline with run n in progress (claimed in status) and a champion, as after an earlier blessing. */
export function running(n: number, champion: string | undefined, edit: (tp: TrainingPipeline) => void = () => undefined): TrainingPipeline {
  return pipeline((tp) => {
    const run: TrainingRun = { name: `weather-${n}`, version: `v${n}`, trigger: 'Manual', reason: 'because', startTime: '2026-11-21T09:00:00Z', outcome: 'Running' };
    tp.status = {
      observedGeneration: 3, phase: 'Running', runCount: n, currentRun: run.name, runs: [run], lastTriggerTime: '2026-11-21T09:00:00Z',
      ...(champion ? { championVersion: champion, championMetrics: { accuracy: 0.8 } } : {}),
    };
    edit(tp);
  });
}

export function job(name: string, state: JobState): ObservedJob {
  return { name, uid: `uid-${name}`, run: name, state };
}

export const succeeded: JobState = { phase: 'Succeeded', completionTime: '2026-11-21T09:30:00Z' };

export function report(candidate: Record<string, number>, champion?: { version: string; metrics: Record<string, number> }, extra: Partial<EvaluationReport> = {}): EvaluationReport {
  return {
    version: 1, task: 'classification', primaryMetric: 'accuracy', holdout: { kind: 'lastFraction', rows: 200 },
    candidate: { rows: 200, metrics: candidate, slices: [] },
    champion: champion ? { rows: 200, metrics: champion.metrics, slices: [], version: champion.version } : undefined,
    baseline: { kind: 'majority-class', metrics: { accuracy: 0.4 } }, gates: [], gatesPassed: true, training: {}, ...extra,
  };
}

export function manifest(version: string): Manifest {
  return { schemaVersion: 1, pipeline: { namespace: 'ml', name: 'weather' }, version, runId: `weather-${version.slice(1)}`, createdAt: '2026-11-21T09:29:00Z', task: 'classification', artifacts: [] };
}

export function liveMetrics(m: NonNullable<ModelDeploymentStatus['liveMetrics']>): ModelDeploymentStatus {
  return { liveMetrics: m };
}
