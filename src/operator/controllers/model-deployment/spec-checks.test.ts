import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelDeploymentSpec } from '../../../api/model-deployment.js';
import { aDeployment } from '../../../api/testing/builders.js';
import { tenancy } from './fixtures.js';
import { checkModelDeploymentSpec, parseS3Uri, reviewModelDeployment } from './spec-checks.js';

/** The shared builder's deployment with a one-step canary and a 1h rollback window. */
function spec(edit: (s: ModelDeploymentSpec) => void = () => undefined): ModelDeploymentSpec {
  const s = aDeployment('weather').withImage('server:dev').withCanarySteps({ setWeight: 50 })
    .withAnalysis({ inconclusiveLimit: 10 }).withRollout({ rollbackWindow: '1h' }).buildSpec();
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
    ['a drift window shorter than 10s', (s) => { s.server.driftWindow = '5s'; }, /^spec\.server\.driftWindow: 5s must be between 10s and 168h$/],
    ['a drift window longer than a week', (s) => { s.server.driftWindow = '200h'; }, /^spec\.server\.driftWindow: 200h must be between 10s and 168h$/],
    // Objects stored before the CRD refused these (the API server checks the same bounds on create and update).
    ['an analysis interval of 1ms', (s) => { s.rollout.analysis.interval = '1ms'; }, /^spec\.rollout\.analysis\.interval: 1ms must be at least 2s$/],
    ['an analysis interval of 2s is fine', (s) => { s.rollout.analysis.interval = '2s'; }, undefined],
    ['a progress deadline of 30s is fine', (s) => { s.rollout.progressDeadline = '30s'; }, undefined],
    ['a progress deadline of 1s', (s) => { s.rollout.progressDeadline = '1s'; }, /^spec\.rollout\.progressDeadline: 1s must be at least 10s$/],
    ['an analysis step of 100ms', (s) => { s.rollout.canary.steps = [{ setWeight: 10 }, { analysis: { duration: '100ms' } }]; }, /^spec\.rollout\.canary\.steps\[1\]\.analysis\.duration: 100ms must be at least 2s$/],
    ['a shadow phase of 1s', (s) => { s.rollout.trafficRouting = { type: 'GatewayAPI', gatewayAPI: { parentRefs: [{ name: 'gw' }], pathPrefix: '/' } }; s.rollout.shadow = { percent: 100, duration: '1s', minAgreement: 0.9 }; }, /^spec\.rollout\.shadow\.duration: 1s must be at least 2s$/],
    ['a fixed model URI is fine', (s) => { s.model = { uri: 's3://models/pipelines/ml/weather/versions/v3' }; }, undefined],
    ['a fixed model URI that is not a published version', (s) => { s.model = { uri: 's3://models/weather/v3' }; }, /is not a published version/],
    ['a URI without a prefix', (s) => { s.model = { uri: 's3://models' }; }, /spec.model.uri: "s3:\/\/models" is not s3:\/\/<bucket>\/<prefix>/],
    ['analysis.maxWindow of an hour is fine', (s) => { s.rollout.analysis.maxWindow = '1h'; }, undefined],
    ['analysis.maxWindow shorter than the interval', (s) => { s.rollout.analysis.maxWindow = '10s'; }, /^spec\.rollout\.analysis\.maxWindow: analysis\.maxWindow must be at least analysis\.interval/],
    ['analysis.maxWindow shorter than an analysis step', (s) => { s.rollout.analysis.maxWindow = '1m'; s.rollout.canary.steps = [{ setWeight: 10 }, { analysis: { duration: '2m' } }]; },
      /^spec\.rollout\.analysis\.maxWindow: analysis\.maxWindow must be at least the duration of every analysis step/],
    ['analysis.maxWindow shorter than autoPromoteAfter', (s) => { s.rollout.analysis.maxWindow = '1m'; s.rollout.strategy = 'BlueGreen'; s.rollout.blueGreen = { autoPromoteAfter: '10m' }; },
      /^spec\.rollout\.analysis\.maxWindow: analysis\.maxWindow must be at least blueGreen\.autoPromoteAfter/],
    ['analysis.maxWindow of 1s', (s) => { s.rollout.analysis.maxWindow = '1s'; }, /^spec\.rollout\.analysis\.maxWindow: 1s must be at least 2s$/],
    ['liveMetrics of 6h and 30 labels is fine', (s) => { s.liveMetrics = { minSamples: 30, maxWindow: '6h' }; }, undefined],
    ['liveMetrics.maxWindow shorter than the interval', (s) => { s.liveMetrics = { minSamples: 30, maxWindow: '10s' }; }, /^spec\.liveMetrics\.maxWindow: liveMetrics\.maxWindow must be at least rollout\.analysis\.interval/],
    ['shadow without a router that mirrors', (s) => { s.rollout.shadow = { percent: 100, duration: '1m', minAgreement: 0.9 }; }, /mirroring needs spec.rollout.trafficRouting.type GatewayAPI/],
  ];
  for (const [name, edit, want] of table) {
    it(name, () => {
      const problems = checkModelDeploymentSpec(spec(edit));
      if (want === undefined) assert.deepEqual(problems, []);
      else assert.ok(problems.some((p) => want.test(p)), problems.join('; '));
    });
  }
});

describe('reviewModelDeployment: the name', () => {
  // Stored before the API server refused such names: not accepted, naming the limit, instead of Services that fail.
  const table: Array<[string, string, RegExp | undefined]> = [
    ['a plain name', 'weather', undefined],
    ['a dot', 'weather.prod', /^metadata\.name must be a DNS-1035 label/],
    ['55 characters', 'w'.repeat(55), /^metadata\.name must be at most 54 characters/],
  ];
  for (const [name, mdName, want] of table) {
    it(name, () => {
      const md = aDeployment(mdName).withImage('perennial-server:dev').build();
      const { problems } = reviewModelDeployment(md, undefined, tenancy);
      if (want === undefined) assert.deepEqual(problems, []);
      else assert.ok(problems.some((p) => want.test(p)), problems.join('; '));
    });
  }
});
