import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { aDeployment, aPipeline } from '../../../api/testing/builders.js';
import type { ModelDeployment } from '../../../api/model-deployment.js';
import type { TrainingPipeline } from '../../../api/training-pipeline.js';
import type { TenancyPolicy } from '../tenancy.js';
import { resolveDesiredModel, withLogBucket } from './desired-model.js';
import type { ModelRef } from './server-deployment.js';

const policy: TenancyPolicy = {
  defaultBucket: 'perennial', trainerImages: [], serverImages: [], prometheusURL: undefined, prometheusAllowedURLs: [],
  storeGrants: [
    { namespace: 'ml', bucket: 'team-models', prefix: 'pipelines/ml/', access: 'ReadWrite' },
    { namespace: 'ml', bucket: 'team-models', prefix: 'deployments/ml/', access: 'ReadWrite' },
    { namespace: '*', bucket: 'open-models', prefix: '', access: 'Read' },
  ],
};

const champion = (tp: TrainingPipeline): TrainingPipeline => ({ ...tp, status: { championVersion: 'v3' } });

/** Where the servers read the model and write their logs: [model bucket, log bucket, credentials Secret]. */
function where(md: ModelDeployment, tp: TrainingPipeline | undefined): [string, string, string | undefined] | string {
  const d = resolveDesiredModel(md, tp, 'perennial');
  if (d.kind !== 'ready') return d.message;
  const m: ModelRef = withLogBucket(d.model, 'ml', policy);
  const logs = m.storage?.bucket ?? 'perennial';
  return [m.bucket ?? logs, logs, m.storage?.credentialsSecret];
}

describe('where a deployment\'s servers read the model and write their logs', () => {
  const md = (): ReturnType<typeof aDeployment> => aDeployment('weather').inNamespace('ml');
  const tp = (): ReturnType<typeof aPipeline> => aPipeline('weather').inNamespace('ml');
  const table: Array<[string, ModelDeployment, TrainingPipeline | undefined, ReturnType<typeof where>]> = [
    ['following a pipeline in the operator\'s bucket', md().following('weather').build(), champion(tp().build()), ['perennial', 'perennial', undefined]],
    ['following a pipeline with storage.bucket: its bucket for both (where its trainer publishes and reads feedback)',
      md().following('weather').build(), champion(tp().withStorage({ bucket: 'team-models' }).build()), ['team-models', 'team-models', undefined]],
    ['...a pinned version of it too', md().following('weather', 'v1').build(), tp().withStorage({ bucket: 'team-models' }).build(), ['team-models', 'team-models', undefined]],
    ['following a pipeline with its own Secret: its bucket and Secret', md().following('weather').build(),
      champion(tp().withStorage({ bucket: 'team-models', credentialsSecret: 'team-s3' }).build()), ['team-models', 'team-models', 'team-s3']],
    ['model.uri in the operator\'s bucket', md().servingUri('s3://perennial/pipelines/ml/weather/versions/v1').build(), undefined, ['perennial', 'perennial', undefined]],
    ['model.uri of this namespace\'s pipeline in a bucket it may write its logs to: that bucket for both',
      md().servingUri('s3://team-models/pipelines/ml/weather/versions/v1').build(), undefined, ['team-models', 'team-models', undefined]],
    ['model.uri in a bucket it may only read: the model from there, the logs in the operator\'s bucket',
      md().servingUri('s3://open-models/pipelines/ml/weather/versions/v1').build(), undefined, ['open-models', 'perennial', undefined]],
    ['model.uri of another namespace\'s pipeline: the logs stay in the operator\'s bucket',
      md().servingUri('s3://team-models/pipelines/other/weather/versions/v1').build(), undefined, ['team-models', 'perennial', undefined]],
  ];
  for (const [name, deployment, pipeline, want] of table) it(name, () => assert.deepEqual(where(deployment, pipeline), want));
});
