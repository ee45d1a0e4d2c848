// The CRDs on the real API server: the examples apply (and get their defaults), invalid manifests are rejected at
// admission with a message that names the field and the rule, and `kubectl explain` teaches the API.
// The table below edits example YAML into shapes no type allows, on purpose; hence the untyped edits.
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-explicit-any */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ApiException, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import yaml from 'js-yaml';
import { kubeconfigYaml, repoRoot, type ClusterInfo } from '../../localcluster/cluster.js';
import { kubeConfigFor, sharedCluster, uniqueName } from '../../localcluster/test-cluster.js';
import { installCrds } from '../support/crds.js';

type Manifest = Record<string, unknown> & { metadata: { name: string }; spec: Record<string, unknown> };

function example(file: string): Manifest {
  return yaml.load(readFileSync(join(repoRoot, 'examples', file), 'utf8')) as Manifest;
}

const plural = { TrainingPipeline: 'trainingpipelines', ModelDeployment: 'modeldeployments' } as const;

interface BadCase {
  readonly name: string;
  readonly kind: keyof typeof plural;
  readonly mutate: (spec: any) => void;
  /** Substrings the API server's message must contain: the field path and the rule's words. */
  readonly expect: readonly string[];
}

const bad: readonly BadCase[] = [
  { name: 'a pipeline without a trainer', kind: 'TrainingPipeline', mutate: (s) => { delete s.trainer; },
    expect: ['spec.trainer', 'Required value'] },
  { name: 'zero GPUs', kind: 'TrainingPipeline', mutate: (s) => { s.trainer.gpu.count = 0; },
    expect: ['spec.trainer.gpu.count', 'gpu.count must be greater than 0'] },
  { name: 'a cron that is words', kind: 'TrainingPipeline', mutate: (s) => { s.triggers.schedule.cron = 'every monday'; },
    expect: ['spec.triggers.schedule.cron', 'must be a 5-field cron expression'] },
  { name: 'a cron minute out of range', kind: 'TrainingPipeline', mutate: (s) => { s.triggers.schedule.cron = '61 3 * * *'; },
    expect: ['spec.triggers.schedule.cron', 'must be a 5-field cron expression'] },
  { name: 'a cron with six fields', kind: 'TrainingPipeline', mutate: (s) => { s.triggers.schedule.cron = '0 0 3 * * *'; },
    expect: ['spec.triggers.schedule.cron', 'must be a 5-field cron expression'] },
  { name: 'the label is also a feature', kind: 'TrainingPipeline',
    mutate: (s) => { s.data.schema.features.push({ name: 'weather', type: 'categorical' }); },
    expect: ['spec.data.schema.label.name', 'the label column must not also be a feature'] },
  { name: 'both window kinds', kind: 'TrainingPipeline', mutate: (s) => { s.data.window.lastRows = 1000; },
    expect: ['spec.data.window', 'set either lastRows or duration, not both'] },
  { name: 'a duration in words', kind: 'TrainingPipeline', mutate: (s) => { s.data.window.duration = '3 days'; },
    expect: ['spec.data.window.duration', 'must be a duration such as 30s, 10m or 1h30m'] },
  { name: 'a window duration without a timestamp column', kind: 'TrainingPipeline',
    mutate: (s) => { delete s.data.schema.timestampColumn; },
    expect: ['spec.data.window.duration', 'a window duration needs schema.timestampColumn'] },
  { name: 'a replay fraction above 1', kind: 'TrainingPipeline', mutate: (s) => { s.data.replayFraction = 1.5; },
    expect: ['spec.data.replayFraction', 'less than or equal to 1'] },
  { name: 'an unknown feature type', kind: 'TrainingPipeline', mutate: (s) => { s.data.schema.features[0].type = 'text'; },
    expect: ['spec.data.schema.features[0].type', 'Unsupported value: "text"'] },
  { name: 'categories on a numeric feature', kind: 'TrainingPipeline',
    mutate: (s) => { s.data.schema.features[0].categories = ['a']; },
    expect: ['spec.data.schema.features[0].categories', 'categories only apply to categorical features'] },
  { name: 'min above max', kind: 'TrainingPipeline', mutate: (s) => { s.data.schema.features[1].min = 70; },
    expect: ['spec.data.schema.features[1]', 'min must not be greater than max'] },
  { name: 'a threshold without bounds', kind: 'TrainingPipeline',
    mutate: (s) => { s.evaluation.thresholds = [{ metric: 'accuracy' }]; },
    expect: ['spec.evaluation.thresholds[0]', 'set min, max or both'] },
  { name: 'a regression metric on a classifier', kind: 'TrainingPipeline',
    mutate: (s) => { s.evaluation.thresholds = [{ metric: 'rmse', max: 1 }]; },
    expect: ['spec.evaluation.thresholds', 'classification pipelines can gate on accuracy, macroF1, rocAuc or logLoss only'] },
  { name: 'slices by a numeric column', kind: 'TrainingPipeline', mutate: (s) => { s.evaluation.slices.column = 'wind'; },
    expect: ['spec.evaluation.slices.column', 'must name a categorical feature'] },
  { name: 'an empty newData trigger', kind: 'TrainingPipeline', mutate: (s) => { s.triggers.newData = {}; },
    expect: ['spec.triggers.newData', 'set minObjects or minRows'] },
  { name: 'a feedback source that is no object name', kind: 'TrainingPipeline', mutate: (s) => { s.data.feedbackFrom = 'Weather_Prod'; },
    expect: ['spec.data.feedbackFrom', 'must be a lowercase DNS-1123 label'] },
  { name: 'a learning rate of 0', kind: 'TrainingPipeline', mutate: (s) => { s.trainer.hyperparameters.learningRate = 0; },
    expect: ['spec.trainer.hyperparameters.learningRate', 'learningRate must be greater than 0'] },
  { name: 'an unknown concurrency policy', kind: 'TrainingPipeline', mutate: (s) => { s.triggers.concurrencyPolicy = 'Allow'; },
    expect: ['spec.triggers.concurrencyPolicy', 'Unsupported value: "Allow"'] },
  // Bringing your own data (issue 16): the row id column, the drift reference, the data poll interval, the gates.
  { name: 'a row id column that is a feature', kind: 'TrainingPipeline', mutate: (s) => { s.data.schema.rowIdColumn = 'wind'; },
    expect: ['spec.data.schema.rowIdColumn', 'the row id column must be a column of its own: not a feature, the label or the timestamp column'] },
  { name: 'a row id column that is the label', kind: 'TrainingPipeline', mutate: (s) => { s.data.schema.rowIdColumn = 'weather'; },
    expect: ['spec.data.schema.rowIdColumn', 'the row id column must be a column of its own'] },
  { name: 'a row id column that is the timestamp column', kind: 'TrainingPipeline', mutate: (s) => { s.data.schema.rowIdColumn = 'date'; },
    expect: ['spec.data.schema.rowIdColumn', 'the row id column must be a column of its own'] },
  { name: 'a drift reference span without a timestamp column', kind: 'TrainingPipeline',
    mutate: (s) => { delete s.data.schema.timestampColumn; delete s.data.window; s.data.driftReference = { duration: '8760h' }; },
    expect: ['spec.data.driftReference.duration', 'a driftReference duration needs schema.timestampColumn (event time); without one, set driftReference.lastRows'] },
  { name: 'an empty drift reference', kind: 'TrainingPipeline', mutate: (s) => { s.data.driftReference = {}; },
    expect: ['spec.data.driftReference', 'set lastRows, duration or both'] },
  { name: 'a drift reference span under an hour', kind: 'TrainingPipeline', mutate: (s) => { s.data.driftReference = { duration: '30m' }; },
    expect: ['spec.data.driftReference.duration', 'must be at least 1h'] },
  { name: 'a drift reference of 5 rows', kind: 'TrainingPipeline', mutate: (s) => { s.data.driftReference = { lastRows: 5 }; },
    expect: ['spec.data.driftReference.lastRows', 'greater than or equal to 10'] },
  { name: 'an unknown duplicates policy', kind: 'TrainingPipeline', mutate: (s) => { s.data.feedbackDuplicates = 'Dedupe'; },
    expect: ['spec.data.feedbackDuplicates', 'Unsupported value: "Dedupe"'] },
  { name: 'a data poll every 5s', kind: 'TrainingPipeline', mutate: (s) => { s.triggers.newData.pollInterval = '5s'; },
    expect: ['spec.triggers.newData.pollInterval', 'must be at least 10s'] },
  { name: 'a negative margin over the baseline', kind: 'TrainingPipeline', mutate: (s) => { s.evaluation.minImprovementOverBaseline = -0.1; },
    expect: ['spec.evaluation.minImprovementOverBaseline', 'greater than or equal to 0'] },
  // Hyperparameter search (issue 18): the space must suit the model family, and each parameter is a range or values.
  { name: 'a learning rate searched for a random forest', kind: 'TrainingPipeline',
    mutate: (s) => { s.trainer.model.type = 'RandomForest'; s.trainer.search = { trials: 4, parameters: [{ name: 'learningRate', min: 0.01, max: 0.1 }] }; },
    expect: ['spec.trainer.search.parameters', 'search.parameters: model type RandomForest can vary treeCount, maxDepth, minRowsPerLeaf, rowSubsample and featureSubsample'] },
  { name: 'a tree count searched for an MLP', kind: 'TrainingPipeline',
    mutate: (s) => { s.trainer.search = { trials: 4, parameters: [{ name: 'treeCount', min: 10, max: 100 }] }; },
    expect: ['spec.trainer.search.parameters', 'search.parameters: model type MLP can vary learningRate, batchSize, hiddenUnits, dropout and l2'] },
  { name: 'a tree count searched without a model (an MLP by default)', kind: 'TrainingPipeline',
    mutate: (s) => { delete s.trainer.model; s.trainer.search = { trials: 4, parameters: [{ name: 'maxDepth', values: ['3'] }] }; },
    expect: ['spec.trainer.search.parameters', 'model type MLP can vary'] },
  { name: 'a dropout searched for gradient boosting', kind: 'TrainingPipeline',
    mutate: (s) => { s.trainer.model.type = 'GradientBoosting'; s.trainer.search = { trials: 4, parameters: [{ name: 'dropout', min: 0, max: 0.5 }] }; },
    expect: ['spec.trainer.search.parameters', 'model type GradientBoosting can vary learningRate, l2, treeCount'] },
  { name: 'a search range with min above max', kind: 'TrainingPipeline',
    mutate: (s) => { s.trainer.search = { trials: 4, parameters: [{ name: 'dropout', min: 0.5, max: 0.1 }] }; },
    expect: ['spec.trainer.search.parameters[0]', 'min must not be greater than max'] },
  { name: 'a search parameter with both values and a range', kind: 'TrainingPipeline',
    mutate: (s) => { s.trainer.search = { trials: 4, parameters: [{ name: 'dropout', min: 0, max: 0.5, values: ['0.1'] }] }; },
    expect: ['spec.trainer.search.parameters[0]', 'give either min and max, or values'] },
  { name: 'a search parameter with values and a min', kind: 'TrainingPipeline',
    mutate: (s) => { s.trainer.search = { trials: 4, parameters: [{ name: 'dropout', min: 0, values: ['0.1'] }] }; },
    expect: ['spec.trainer.search.parameters[0]', 'give either min and max, or values'] },
  { name: 'a search parameter with a min only', kind: 'TrainingPipeline',
    mutate: (s) => { s.trainer.search = { trials: 4, parameters: [{ name: 'dropout', min: 0.1 }] }; },
    expect: ['spec.trainer.search.parameters[0]', 'give either min and max, or values'] },
  { name: 'hidden units searched as a range', kind: 'TrainingPipeline',
    mutate: (s) => { s.trainer.search = { trials: 4, parameters: [{ name: 'hiddenUnits', min: 8, max: 64 }] }; },
    expect: ['spec.trainer.search.parameters[0]', 'hiddenUnits takes values such as "64,32", not a range'] },
  { name: 'a Log search scale from 0', kind: 'TrainingPipeline',
    mutate: (s) => { s.trainer.search = { trials: 4, parameters: [{ name: 'learningRate', min: 0, max: 0.1, scale: 'Log' }] }; },
    expect: ['spec.trainer.search.parameters[0]', 'a Log scale needs min > 0'] },
  { name: 'a search of 0 trials', kind: 'TrainingPipeline',
    mutate: (s) => { s.trainer.search = { trials: 0, parameters: [{ name: 'dropout', values: ['0.1'] }] }; },
    expect: ['spec.trainer.search.trials', 'greater than or equal to 1'] },
  { name: 'a search time budget of 0s', kind: 'TrainingPipeline',
    mutate: (s) => { s.trainer.search = { trials: 4, timeBudget: '0s', parameters: [{ name: 'dropout', values: ['0.1'] }] }; },
    expect: ['spec.trainer.search.timeBudget', 'must be at least 1s'] },
  { name: 'both a URI and a pipeline', kind: 'ModelDeployment', mutate: (s) => { s.model.uri = 's3://models/weather/v1'; },
    expect: ['spec.model', 'set exactly one of model.uri and model.fromPipeline'] },
  { name: 'neither a URI nor a pipeline', kind: 'ModelDeployment', mutate: (s) => { s.model = {}; },
    expect: ['spec.model', 'set exactly one of model.uri and model.fromPipeline'] },
  { name: 'a pinned version without a pipeline', kind: 'ModelDeployment',
    mutate: (s) => { s.model = { uri: 's3://models/weather/v1', version: 'v1' }; },
    expect: ['spec.model.version', 'model.version pins a version of model.fromPipeline and needs it'] },
  { name: 'a URI that is not s3', kind: 'ModelDeployment', mutate: (s) => { s.model = { uri: 'https://example.com/m' }; },
    expect: ['spec.model.uri', 'must be an s3://bucket/prefix URI'] },
  { name: 'weights that go down', kind: 'ModelDeployment',
    mutate: (s) => { s.rollout.canary.steps = [{ setWeight: 50 }, { setWeight: 20 }]; },
    expect: ['spec.rollout.canary.steps', 'setWeight values must increase from step to step'] },
  { name: 'a weight repeated', kind: 'ModelDeployment',
    mutate: (s) => { s.rollout.canary.steps = [{ setWeight: 20 }, { pause: {} }, { setWeight: 20 }]; },
    expect: ['spec.rollout.canary.steps', 'no repeats'] },
  { name: 'a weight above 100', kind: 'ModelDeployment', mutate: (s) => { s.rollout.canary.steps = [{ setWeight: 150 }]; },
    expect: ['spec.rollout.canary.steps[0].setWeight', 'less than or equal to 100'] },
  { name: 'a step that both sets a weight and pauses', kind: 'ModelDeployment',
    mutate: (s) => { s.rollout.canary.steps = [{ setWeight: 10, pause: {} }]; },
    expect: ['spec.rollout.canary.steps[0]', 'each step sets exactly one of setWeight, pause or analysis'] },
  { name: 'Gateway API routing without a gateway', kind: 'ModelDeployment',
    mutate: (s) => { s.rollout.trafficRouting = { type: 'GatewayAPI' }; },
    expect: ['spec.rollout.trafficRouting', 'set trafficRouting.gatewayAPI exactly when type is GatewayAPI'] },
  // Minimums that keep a tenant from hot-looping the operator (CEL duration(), the same Go durations as the pattern).
  { name: 'an analysis every millisecond', kind: 'ModelDeployment', mutate: (s) => { s.rollout.analysis.interval = '1ms'; },
    expect: ['spec.rollout.analysis.interval', 'must be at least 2s'] },
  { name: 'an analysis step shorter than 2s', kind: 'ModelDeployment', mutate: (s) => { s.rollout.canary.steps[1].analysis.duration = '1500ms'; },
    expect: ['spec.rollout.canary.steps[1].analysis.duration', 'must be at least 2s'] },
  { name: 'a shadow phase of a second', kind: 'ModelDeployment', mutate: (s) => { s.rollout.shadow.duration = '1s'; },
    expect: ['spec.rollout.shadow.duration', 'must be at least 2s'] },
  { name: 'a drift window of 5s', kind: 'ModelDeployment', mutate: (s) => { s.server.driftWindow = '5s'; },
    expect: ['spec.server.driftWindow', 'must be between 10s and 168h'] },
  { name: 'a drift window of 8 days', kind: 'ModelDeployment', mutate: (s) => { s.server.driftWindow = '192h'; },
    expect: ['spec.server.driftWindow', 'must be between 10s and 168h'] },
  { name: 'an interval in words (the pattern speaks, not the bound)', kind: 'ModelDeployment', mutate: (s) => { s.rollout.analysis.interval = '1 minute'; },
    expect: ['spec.rollout.analysis.interval', 'must be a duration such as 30s, 10m or 1h30m'] },
  // Batch traffic (issue 16): windows that grow while short of samples, and their bounds.
  { name: 'an analysis window bounded below its interval', kind: 'ModelDeployment', mutate: (s) => { s.rollout.analysis.maxWindow = '10s'; },
    expect: ['spec.rollout.analysis.maxWindow', 'analysis.maxWindow must be at least analysis.interval'] },
  { name: 'an analysis window bounded below an analysis step', kind: 'ModelDeployment', mutate: (s) => { s.rollout.analysis.maxWindow = '1m'; },
    expect: ['spec.rollout.analysis.maxWindow', 'analysis.maxWindow must be at least the duration of every analysis step'] },
  { name: 'an analysis window bounded below the shadow phase', kind: 'ModelDeployment', mutate: (s) => { s.rollout.analysis.maxWindow = '3m'; },
    expect: ['spec.rollout.analysis.maxWindow', 'analysis.maxWindow must be at least shadow.duration'] },
  { name: 'a live label window bounded below the interval', kind: 'ModelDeployment', mutate: (s) => { s.liveMetrics = { maxWindow: '10s' }; },
    expect: ['spec.liveMetrics.maxWindow', 'liveMetrics.maxWindow must be at least rollout.analysis.interval'] },
  { name: 'gRPC connections aged half a second', kind: 'ModelDeployment', mutate: (s) => { s.server.grpcMaxConnectionAge = '500ms'; },
    expect: ['spec.server.grpcMaxConnectionAge', 'must be 0s (never) or at least 1s'] },
  { name: 'HTTP connections aged two days', kind: 'ModelDeployment', mutate: (s) => { s.server.maxConnectionAge = '48h'; },
    expect: ['spec.server.maxConnectionAge', 'must be at most 24h'] },
  { name: 'a drift window of 5 rows', kind: 'ModelDeployment', mutate: (s) => { s.server.driftWindowRows = 5; },
    expect: ['spec.server.driftWindowRows', 'greater than or equal to 10'] },
  { name: 'runs less than a second apart', kind: 'TrainingPipeline', mutate: (s) => { s.triggers.minInterval = '500ms'; },
    expect: ['spec.triggers.minInterval', 'must be at least 1s'] },
  { name: 'zero replicas', kind: 'ModelDeployment', mutate: (s) => { s.server.replicas = 0; },
    expect: ['spec.server.replicas', 'greater than or equal to 1'] },
  { name: 'zero workers', kind: 'ModelDeployment', mutate: (s) => { s.server.workers = 0; },
    expect: ['spec.server.workers', 'greater than or equal to 1'] },
  { name: 'negative workers', kind: 'ModelDeployment', mutate: (s) => { s.server.workers = -2; },
    expect: ['spec.server.workers', 'greater than or equal to 1'] },
  { name: '65 workers', kind: 'ModelDeployment', mutate: (s) => { s.server.workers = 65; },
    expect: ['spec.server.workers', 'less than or equal to 64'] },
  { name: 'a fraction of a worker', kind: 'ModelDeployment', mutate: (s) => { s.server.workers = 1.5; },
    expect: ['spec.server.workers', 'must be of type integer'] },
  { name: 'an error-rate gate above 1', kind: 'ModelDeployment', mutate: (s) => { s.rollout.analysis.gates.maxErrorRate = 2; },
    expect: ['spec.rollout.analysis.gates.maxErrorRate', 'less than or equal to 1'] },
];

/** Names the operator could not derive valid children's names from (src/api/object-names.ts), with the words of the refusal. */
const badNames: ReadonlyArray<{ kind: keyof typeof plural; name: string; expect: readonly string[] }> = [
  { kind: 'ModelDeployment', name: 'weather.prod', expect: ['metadata.name must be a DNS-1035 label', 'no dots'] },
  { kind: 'ModelDeployment', name: '2weather', expect: ['metadata.name must be a DNS-1035 label', 'starting with a letter'] },
  { kind: 'ModelDeployment', name: `w${'x'.repeat(54)}`, expect: ['metadata.name must be at most 54 characters', '<name>-feedback'] },
  { kind: 'TrainingPipeline', name: 'weather.daily', expect: ['metadata.name must be a DNS-1123 label', 'no dots'] },
  { kind: 'TrainingPipeline', name: `w${'x'.repeat(52)}`, expect: ['metadata.name must be at most 52 characters', '<name>-<run number>'] },
];

describe('CRDs on the API server', () => {
  let info: ClusterInfo;
  let custom: CustomObjectsApi;
  const namespace = uniqueName('crd');

  before(async () => {
    info = await sharedCluster();
    const kc = kubeConfigFor(info);
    await installCrds(kc);
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
    custom = kc.makeApiClient(CustomObjectsApi);
  });

  const create = (kind: keyof typeof plural, body: Manifest) => custom.createNamespacedCustomObject({
    group: 'perennial.dev', version: 'v1alpha1', namespace, plural: plural[kind], body,
  }) as Promise<Manifest>;

  it('applies both examples and fills in the defaults', async () => {
    const tp = await create('TrainingPipeline', example('training-pipeline.yaml'));
    const trainer = tp.spec['trainer'] as Record<string, Record<string, unknown>>;
    assert.equal(trainer['gpu']?.['resourceName'], 'nvidia.com/gpu', 'gpu.resourceName defaulted');
    assert.deepEqual(tp.spec['retention'], { keepVersions: 10, onDelete: 'Retain' });
    const md = await create('ModelDeployment', example('model-deployment.yaml'));
    const rollout = md.spec['rollout'] as Record<string, Record<string, unknown>>;
    assert.equal(rollout['analysis']?.['minSamples'], 200);
    assert.equal(rollout['paused'], false, 'paused defaulted');
    assert.equal((md.spec['server'] as any).workers, 1, 'server.workers defaulted: one serving process per pod');
    assert.deepEqual([(md.spec['server'] as any).maxConnectionAge, (md.spec['server'] as any).grpcMaxConnectionAge], ['5s', '30s'], 'the connection ages defaulted');
  });

  it('takes connection ages of 0s (never) and of 1s', async () => {
    const manifest = example('model-deployment.yaml');
    manifest.metadata.name = uniqueName('ages');
    Object.assign(manifest.spec['server'] as Record<string, unknown>, { maxConnectionAge: '0s', grpcMaxConnectionAge: '1s' });
    const md = await create('ModelDeployment', manifest);
    assert.deepEqual([(md.spec['server'] as any).maxConnectionAge, (md.spec['server'] as any).grpcMaxConnectionAge], ['0s', '1s']);
  });

  it('takes a pipeline with every bring-your-own-data field, and defaults the duplicates policy and refit', async () => {
    const manifest = example('training-pipeline.yaml');
    manifest.metadata.name = uniqueName('byod');
    const spec = manifest.spec as {
      data: { schema: Record<string, unknown> } & Record<string, unknown>;
      triggers: { newData: Record<string, unknown> };
      evaluation: Record<string, unknown>;
    };
    spec.data.schema['rowIdColumn'] = 'id';
    spec.data['driftReference'] = { lastRows: 5000, duration: '8760h' };
    spec.triggers.newData['pollInterval'] = '10s';
    spec.evaluation['minImprovementOverBaseline'] = 0.05;
    const tp = await create('TrainingPipeline', manifest);
    const data = tp.spec['data'] as Record<string, unknown>;
    assert.equal(data['feedbackDuplicates'], 'DropFeedbackCopy');
    assert.deepEqual(data['driftReference'], { lastRows: 5000, duration: '8760h' });
    assert.equal((tp.spec['evaluation'] as Record<string, unknown>)['refit'], false);
    const bare = example('training-pipeline.yaml');
    bare.metadata.name = uniqueName('noeval');
    delete (bare.spec as any).evaluation;
    const defaulted = await create('TrainingPipeline', bare);
    assert.deepEqual(defaulted.spec['evaluation'], { maxRegression: 0.01, refit: false });
  });

  it('takes a deployment with batch-friendly windows, and defaults the live label window\'s minSamples', async () => {
    const manifest = example('model-deployment.yaml');
    manifest.metadata.name = uniqueName('batch');
    const spec = manifest.spec as { rollout: { analysis: Record<string, unknown> }; server: Record<string, unknown>; liveMetrics?: unknown };
    spec.rollout.analysis['maxWindow'] = '6h';
    spec.liveMetrics = { maxWindow: '24h' };
    spec.server['driftWindow'] = '168h';
    spec.server['driftWindowRows'] = 2000;
    const md = await create('ModelDeployment', manifest);
    assert.deepEqual(md.spec['liveMetrics'], { minSamples: 100, maxWindow: '24h' });
    assert.equal((md.spec['rollout'] as any).analysis.maxWindow, '6h');
    assert.equal((md.spec['server'] as any).driftWindowRows, 2000);
  });

  it('takes a search for each model family and defaults the scale', async () => {
    const spaces = {
      MLP: [{ name: 'learningRate', min: 1e-4, max: 1e-2, scale: 'Log' }, { name: 'hiddenUnits', values: ['64,32', '128', ''] }, { name: 'batchSize', values: ['32', '128'] }],
      GradientBoosting: [{ name: 'learningRate', min: 0.02, max: 0.3 }, { name: 'treeCount', min: 50, max: 500, scale: 'Log' }, { name: 'l2', values: ['0', '1'] }],
      RandomForest: [{ name: 'maxDepth', min: 4, max: 16 }, { name: 'featureSubsample', min: 0.3, max: 1 }],
    };
    for (const [type, parameters] of Object.entries(spaces)) {
      const manifest = example('training-pipeline.yaml');
      manifest.metadata.name = uniqueName('search');
      const trainer = manifest.spec['trainer'] as Record<string, any>;
      trainer['model'] = { type };
      trainer['search'] = { trials: 8, timeBudget: '20m', parameters };
      const tp = await create('TrainingPipeline', manifest);
      const search = (tp.spec['trainer'] as any).search as { parameters: Array<{ scale: string }> };
      assert.deepEqual(search.parameters.map((p) => p.scale), parameters.map((p) => ('scale' in p ? p.scale : 'Linear')), type);
    }
  });

  it('fills in a whole rollout for a minimal ModelDeployment', async () => {
    const md = await create('ModelDeployment', {
      apiVersion: 'perennial.dev/v1alpha1', kind: 'ModelDeployment', metadata: { name: 'minimal' },
      spec: { model: { uri: 's3://models/weather/v1' }, server: { image: 'perennial-server:dev' } },
    });
    const rollout = md.spec['rollout'] as Record<string, unknown>;
    assert.equal(rollout['strategy'], 'Canary');
    assert.deepEqual((rollout['canary'] as { steps: unknown[] }).steps.length, 4);
  });

  /** The API server's 422 Invalid, its message naming every expected phrase. */
  const invalidSaying = (expect: readonly string[]) => (e: unknown): boolean => {
    assert.ok(e instanceof ApiException, `expected an ApiException, got ${String(e)}`);
    assert.equal(e.code, 422, `expected 422 Invalid, got ${e.code}`);
    const body = (typeof e.body === 'string' ? JSON.parse(e.body) : e.body) as { message: string };
    for (const want of expect) assert.ok(body.message.includes(want), `message lacks "${want}": ${body.message}`);
    return true;
  };

  for (const c of bad) {
    it(`rejects ${c.name}`, async () => {
      const file = c.kind === 'TrainingPipeline' ? 'training-pipeline.yaml' : 'model-deployment.yaml';
      const manifest = example(file);
      manifest.metadata.name = uniqueName('bad');
      c.mutate(manifest.spec);
      await assert.rejects(create(c.kind, manifest), invalidSaying(c.expect));
    });
  }

  for (const c of badNames) {
    it(`refuses a ${c.kind} named ${c.name.length > 20 ? `with ${c.name.length} characters` : c.name}`, async () => {
      const manifest = example(c.kind === 'TrainingPipeline' ? 'training-pipeline.yaml' : 'model-deployment.yaml');
      manifest.metadata.name = c.name;
      await assert.rejects(create(c.kind, manifest), invalidSaying(c.expect));
    });
  }

  it('takes the longest names whose derived names fit', async () => {
    const md = example('model-deployment.yaml');
    md.metadata.name = `w${'x'.repeat(53)}`;
    await create('ModelDeployment', md);
    const tp = example('training-pipeline.yaml');
    tp.metadata.name = `w${'x'.repeat(51)}`;
    await create('TrainingPipeline', tp);
  });

  it('teaches the API through kubectl explain', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'perennial-kubectl-'));
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigYaml(info.server, info.caData, info.adminToken, 'admin'));
    const { stdout } = await promisify(execFile)(join(info.binDir, 'kubectl'),
      ['--kubeconfig', kubeconfig, 'explain', 'trainingpipeline.spec.trainer.warmStart']);
    assert.match(stdout, /Champion: start from the champion's weights/);
    const md = await promisify(execFile)(join(info.binDir, 'kubectl'),
      ['--kubeconfig', kubeconfig, 'explain', 'md.spec.rollout.canary.steps.setWeight']);
    assert.match(md.stdout, /Percent \(0-100\) of traffic the candidate gets/);
  });
});
