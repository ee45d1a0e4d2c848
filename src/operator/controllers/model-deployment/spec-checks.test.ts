import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelDeploymentSpec } from '../../../api/model-deployment.js';
import { checkModelDeploymentSpec, parseS3Uri } from './spec-checks.js';

function spec(edit: (s: ModelDeploymentSpec) => void = () => undefined): ModelDeploymentSpec {
  const s: ModelDeploymentSpec = {
    model: { fromPipeline: 'weather' },
    server: { image: 'server:dev', replicas: 2, port: 8080, maxBatchSize: 32, maxBatchDelayMs: 2, logPredictions: true, driftWindow: '1h' },
    rollout: {
      strategy: 'Canary',
      canary: { steps: [{ setWeight: 50 }] },
      trafficRouting: { type: 'Replicas' },
      analysis: { interval: '30s', minSamples: 100, inconclusiveLimit: 10, gates: { maxErrorRate: 0.01 } },
      rollbackWindow: '1h',
      paused: false,
      abort: false,
    },
  };
  edit(s);
  return s;
}

describe('parseS3Uri', () => {
  const table: Array<[string, { bucket: string; prefix: string } | undefined]> = [
    ['s3://models/weather/v1', { bucket: 'models', prefix: 'weather/v1' }],
    ['s3://models/weather/v1/', { bucket: 'models', prefix: 'weather/v1' }],
    ['s3://models/', undefined],
    ['s3://Models/x', undefined],
    ['s3://a/x', undefined],
    ['https://models/x', undefined],
  ];
  for (const [uri, want] of table) it(uri, () => assert.deepEqual(parseS3Uri(uri), want));
});

describe('checkModelDeploymentSpec', () => {
  const table: Array<[string, (s: ModelDeploymentSpec) => void, RegExp | undefined]> = [
    ['a valid spec has no problems', () => undefined, undefined],
    ['a drift window of a few minutes is fine', (s) => { s.server.driftWindow = '5m'; }, undefined],
    ['a drift window shorter than 10s', (s) => { s.server.driftWindow = '5s'; }, /spec\.server\.driftWindow: 5s is outside 10s–7d/],
    ['a drift window longer than a week', (s) => { s.server.driftWindow = '200h'; }, /spec\.server\.driftWindow: 200h is outside 10s–7d/],
    ['a fixed model URI is fine', (s) => { s.model = { uri: 's3://models/pipelines/ml/weather/versions/v3' }; }, undefined],
    ['a fixed model URI that is not a published version', (s) => { s.model = { uri: 's3://models/weather/v3' }; }, /is not a published version/],
    ['a URI without a prefix', (s) => { s.model = { uri: 's3://models' }; }, /spec.model.uri: "s3:\/\/models" is not s3:\/\/<bucket>\/<prefix>/],
    ['a Prometheus URL that is not one', (s) => { s.rollout.analysis.provider = { type: 'Prometheus', prometheusURL: 'prometheus:9090' }; }, /prometheusURL: "prometheus:9090" is not an http\(s\) URL/],
    ['shadow without a router that mirrors', (s) => { s.rollout.shadow = { percent: 100, duration: '1m', minAgreement: 0.9 }; }, /mirroring needs spec.rollout.trafficRouting.type GatewayAPI/],
    ['a real Prometheus URL', (s) => { s.rollout.analysis.provider = { type: 'Prometheus', prometheusURL: 'http://prometheus.monitoring:9090' }; }, undefined],
  ];
  for (const [name, edit, want] of table) {
    it(name, () => {
      const problems = checkModelDeploymentSpec(spec(edit));
      if (want === undefined) assert.deepEqual(problems, []);
      else assert.ok(problems.some((p) => want.test(p)), problems.join('; '));
    });
  }
});
