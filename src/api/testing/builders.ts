// Fluent builders of the two resources for tests (after jobset's pkg/util/testing/wrappers.go): a valid object to
// start from, and one method per part a test cares about, so a test says only what matters to it:
//
//   aPipeline('weather').inNamespace('ml').withTriggers({ newData: { minRows: 3 } }).build()
//   aDeployment('weather').following('weather').withCanarySteps({ setWeight: 50 }).build()
//
// The controllers' unit tests and the integration tests build their objects here. Each build() returns a fresh
// copy: a builder can be built again after more edits. `edit` is the escape hatch for a shape no method names.
import { apiVersion } from '../common.js';
import type { ObjectMeta } from '../common.js';
import type { ModelDeployment, ModelDeploymentSpec, ModelDeploymentStatus } from '../model-deployment.js';
import type { TrainingPipeline, TrainingPipelineSpec, TrainingPipelineStatus } from '../training-pipeline.js';

type PipelineSpec = TrainingPipelineSpec;
type Trainer = PipelineSpec['trainer'];
/** The trainer's model and hyperparameters are optional in the API (the CRD defaults them); the builder always sets them. */
type Model = NonNullable<Trainer['model']>;
type Hyperparameters = NonNullable<Trainer['hyperparameters']>;
type DeploymentSpec = ModelDeploymentSpec;
type Rollout = DeploymentSpec['rollout'];

/** The default pipeline: a small valid classifier of one numeric feature, reading its namespace's data prefix. */
function defaultPipelineSpec(namespace: string): PipelineSpec {
  return {
    data: {
      sources: [{ prefix: `data/${namespace}/`, format: 'csv' }],
      schema: { features: [{ name: 'x', type: 'numeric' }], label: { name: 'y', task: 'classification' } },
      replayFraction: 0,
      maxFeedbackShare: 0.5,
      feedbackDuplicates: 'DropFeedbackCopy',
    },
    validation: { minRows: 100, maxMissingRate: 0.1, allowUnseenCategories: false },
    triggers: { minInterval: '10m', concurrencyPolicy: 'Forbid' },
    trainer: {
      image: 'trainer:dev',
      model: { type: 'MLP', hiddenUnits: [8], activation: 'relu', dropout: 0, calibration: 'Temperature' },
      hyperparameters: { epochs: 5, batchSize: 32, learningRate: 0.01, earlyStoppingPatience: 2, validationSplit: 0.1 },
      seed: 1, warmStart: 'Scratch', activeDeadlineSeconds: 600, imagePullTimeout: '5m', backoffLimit: 1,
    },
    evaluation: { maxRegression: 0.01, refit: false },
    retention: { keepVersions: 3, onDelete: 'Retain' },
    suspend: false,
    historyLimit: 5,
  };
}

/** The Seattle weather data's columns (vega-datasets): four numeric measurements, the kind of day, its date. */
export const seattleWeatherSchema: PipelineSpec['data']['schema'] = {
  features: [
    { name: 'precipitation', type: 'numeric', min: 0 }, { name: 'temp_max', type: 'numeric' },
    { name: 'temp_min', type: 'numeric' }, { name: 'wind', type: 'numeric', min: 0 },
  ],
  label: { name: 'weather', task: 'classification' },
  timestampColumn: 'date',
};

export class PipelineBuilder {
  private readonly tp: TrainingPipeline;

  constructor(name: string) {
    this.tp = { apiVersion, kind: 'TrainingPipeline', metadata: { name, namespace: 'ml' }, spec: defaultPipelineSpec('ml') };
  }

  /** Moves the pipeline, and the default data prefix with it (data/<namespace>/). */
  inNamespace(namespace: string): this {
    const defaultSources = JSON.stringify(defaultPipelineSpec(this.tp.metadata.namespace ?? '').data.sources);
    if (JSON.stringify(this.tp.spec.data.sources) === defaultSources) this.tp.spec.data.sources = defaultPipelineSpec(namespace).data.sources;
    this.tp.metadata.namespace = namespace;
    return this;
  }

  withMetadata(meta: Partial<ObjectMeta>): this {
    Object.assign(this.tp.metadata, meta);
    return this;
  }

  withAnnotations(annotations: Record<string, string>): this {
    this.tp.metadata.annotations = { ...this.tp.metadata.annotations, ...annotations };
    return this;
  }

  readingFrom(...sources: PipelineSpec['data']['sources']): this {
    this.tp.spec.data.sources = sources;
    return this;
  }

  withSchema(schema: PipelineSpec['data']['schema']): this {
    this.tp.spec.data.schema = structuredClone(schema);
    return this;
  }

  withData(data: Partial<PipelineSpec['data']>): this {
    Object.assign(this.tp.spec.data, data);
    return this;
  }

  withValidation(validation: Partial<PipelineSpec['validation']>): this {
    Object.assign(this.tp.spec.validation, validation);
    return this;
  }

  withTriggers(triggers: Partial<PipelineSpec['triggers']>): this {
    Object.assign(this.tp.spec.triggers, triggers);
    return this;
  }

  /** The trainer's fields; `model` and `hyperparameters` are merged into the defaults. */
  withTrainer(trainer: Partial<Omit<Trainer, 'model' | 'hyperparameters'>> & { model?: Partial<Model>; hyperparameters?: Partial<Hyperparameters> }): this {
    const { model, hyperparameters, ...rest } = trainer;
    const current = this.tp.spec.trainer;
    this.tp.spec.trainer = {
      ...current, ...rest,
      model: { ...current.model, ...model } as Model,
      hyperparameters: { ...current.hyperparameters, ...hyperparameters } as Hyperparameters,
    };
    return this;
  }

  withEvaluation(evaluation: Partial<PipelineSpec['evaluation']>): this {
    Object.assign(this.tp.spec.evaluation, evaluation);
    return this;
  }

  withRetention(retention: Partial<PipelineSpec['retention']>): this {
    Object.assign(this.tp.spec.retention, retention);
    return this;
  }

  withStorage(storage: NonNullable<PipelineSpec['storage']>): this {
    this.tp.spec.storage = storage;
    return this;
  }

  withHistoryLimit(historyLimit: number): this {
    this.tp.spec.historyLimit = historyLimit;
    return this;
  }

  suspended(suspend = true): this {
    this.tp.spec.suspend = suspend;
    return this;
  }

  withStatus(status: TrainingPipelineStatus): this {
    this.tp.status = status;
    return this;
  }

  edit(change: (tp: TrainingPipeline) => void): this {
    change(this.tp);
    return this;
  }

  build(): TrainingPipeline {
    return structuredClone(this.tp);
  }
}

/** The default deployment: follows the champion of a pipeline of its own name, 2 pods, a two-step canary. */
function defaultDeploymentSpec(pipeline: string): DeploymentSpec {
  return {
    model: { fromPipeline: pipeline },
    server: { image: 'perennial-server:dev', replicas: 2, workers: 1, port: 8080, grpcPort: 9000, maxConnectionAge: '5s', grpcMaxConnectionAge: '30s', maxBatchSize: 32, maxBatchDelayMs: 2, logPredictions: true, feedback: { port: 8081 }, driftWindow: '1h' },
    rollout: {
      strategy: 'Canary',
      canary: { steps: [{ setWeight: 50 }, { analysis: { duration: '1m' } }] },
      trafficRouting: { type: 'Replicas' },
      analysis: { interval: '30s', minSamples: 100, inconclusiveLimit: 3, gates: { maxErrorRate: 0.01 } },
      rollbackWindow: '10m', progressDeadline: '10m', paused: false, abort: false,
    },
  };
}

export class DeploymentBuilder {
  private readonly md: ModelDeployment;

  constructor(name: string) {
    this.md = { apiVersion, kind: 'ModelDeployment', metadata: { name, namespace: 'ml' }, spec: defaultDeploymentSpec(name) };
  }

  inNamespace(namespace: string): this {
    this.md.metadata.namespace = namespace;
    return this;
  }

  withMetadata(meta: Partial<ObjectMeta>): this {
    Object.assign(this.md.metadata, meta);
    return this;
  }

  withAnnotations(annotations: Record<string, string>): this {
    this.md.metadata.annotations = { ...this.md.metadata.annotations, ...annotations };
    return this;
  }

  /** Serves the champion of the pipeline (or a pinned version of it). */
  following(pipeline: string, version?: string): this {
    this.md.spec.model = version === undefined ? { fromPipeline: pipeline } : { fromPipeline: pipeline, version };
    return this;
  }

  /** Serves the published version at this URI. */
  servingUri(uri: string): this {
    this.md.spec.model = { uri };
    return this;
  }

  withServer(server: Partial<DeploymentSpec['server']>): this {
    Object.assign(this.md.spec.server, server);
    return this;
  }

  withImage(image: string): this {
    return this.withServer({ image });
  }

  withReplicas(replicas: number): this {
    return this.withServer({ replicas });
  }

  withRollout(rollout: Partial<Rollout>): this {
    Object.assign(this.md.spec.rollout, rollout);
    return this;
  }

  withCanarySteps(...steps: Rollout['canary']['steps']): this {
    this.md.spec.rollout.canary = { steps };
    return this;
  }

  /** The analysis settings; `gates` replace the default gates when given. */
  withAnalysis(analysis: Partial<Rollout['analysis']>): this {
    Object.assign(this.md.spec.rollout.analysis, analysis);
    return this;
  }

  blueGreen(blueGreen: NonNullable<Rollout['blueGreen']> = {}): this {
    return this.withRollout({ strategy: 'BlueGreen', blueGreen });
  }

  /** HTTPRoute routing through these Gateways (the gatewayAPI router: exact weights, mirroring). */
  throughGateway(gatewayAPI: NonNullable<Rollout['trafficRouting']['gatewayAPI']> = { parentRefs: [{ name: 'gw' }], pathPrefix: '/' }): this {
    return this.withRollout({ trafficRouting: { type: 'GatewayAPI', gatewayAPI } });
  }

  withStatus(status: ModelDeploymentStatus): this {
    this.md.status = status;
    return this;
  }

  edit(change: (md: ModelDeployment) => void): this {
    change(this.md);
    return this;
  }

  build(): ModelDeployment {
    return structuredClone(this.md);
  }

  /** The spec alone (for a create that sets metadata itself, or a spec-checks table). */
  buildSpec(): DeploymentSpec {
    return structuredClone(this.md.spec);
  }
}

export const aPipeline = (name: string): PipelineBuilder => new PipelineBuilder(name);
export const aDeployment = (name: string): DeploymentBuilder => new DeploymentBuilder(name);
