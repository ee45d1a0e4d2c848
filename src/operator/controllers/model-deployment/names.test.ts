import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { maxModelDeploymentNameLength, maxTrainingPipelineNameLength, nameProblems, nameRules } from '../../../api/object-names.js';
import { runName } from '../training-pipeline/names.js';
import { aDeployment } from '../../../api/testing/builders.js';
import { feedbackSecretName, revisionHash, revisionName, serverTemplate, serviceNames } from './names.js';

const dns1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const server = { feedback: { port: 8081 } } as Parameters<typeof feedbackSecretName>[1];

/** Every name the operator derives from a ModelDeployment's, with the rule Kubernetes holds it to. */
function derived(md: string): Array<[string, string, RegExp, number]> {
  const hash = revisionHash('v1', 'ml/weather@v1', {});
  return [
    ['stable Service', serviceNames.stable(md), dns1035, 63],
    ['canary Service', serviceNames.canary(md), dns1035, 63],
    ['preview Service', serviceNames.preview(md), dns1035, 63],
    ['feedback Service', serviceNames.feedback(md), dns1035, 63],
    ['feedback Secret', feedbackSecretName(md, server), dns1123Label, 253],
    ['server Deployment', revisionName(md, hash), dns1123Label, 253],
    ['perennial.dev/deployment label value', md, dns1123Label, 63],
  ];
}

const invalid = (list: Array<[string, string, RegExp, number]>): string[] =>
  list.filter(([, name, pattern, max]) => !pattern.test(name) || name.length > max).map(([what]) => what);

describe('ModelDeployment names', () => {
  it(`at ${maxModelDeploymentNameLength} characters every derived name is valid; one more breaks the feedback Service`, () => {
    assert.equal(maxModelDeploymentNameLength, 54);
    assert.deepEqual(invalid(derived('w'.repeat(maxModelDeploymentNameLength))), []);
    assert.deepEqual(invalid(derived('w'.repeat(maxModelDeploymentNameLength + 1))), ['feedback Service']);
  });
  const table: Array<[string, string, number]> = [
    ['a plain name', 'weather-prod', 0],
    ['the longest', 'w'.repeat(54), 0],
    ['one too long', 'w'.repeat(55), 1],
    ['a dot (a valid object name, not a Service name)', 'weather.prod', 1],
    ['a leading digit (DNS-1035 starts with a letter)', '1weather', 1],
  ];
  for (const [name, md, problems] of table) {
    it(`${name}: ${problems} problem(s), as the API server says them; the derived names agree`, () => {
      assert.equal(nameProblems(nameRules.ModelDeployment, md).length, problems);
      assert.equal(invalid(derived(md)).length > 0, problems > 0);
    });
  }
  it('says what limits the length and why', () => {
    assert.deepEqual(nameProblems(nameRules.ModelDeployment, 'w'.repeat(55)), [
      'metadata.name must be at most 54 characters: the deployment\'s Services are named after it, the longest <name>-feedback, and a Service name has at most 63',
    ]);
  });
});

describe('TrainingPipeline names', () => {
  it(`at ${maxTrainingPipelineNameLength} characters a run's Job name fits up to run 9,999,999,999`, () => {
    assert.equal(runName('p'.repeat(maxTrainingPipelineNameLength), 9_999_999_999).length, 63);
  });
  const table: Array<[string, string, number]> = [
    ['a plain name', 'weather', 0],
    ['a leading digit is fine', '1weather', 0],
    ['the longest', 'p'.repeat(52), 0],
    ['one too long', 'p'.repeat(53), 1],
    ['a dot (fromPipeline and triggers could not name it)', 'weather.daily', 1],
  ];
  for (const [name, tp, problems] of table) it(name, () => assert.equal(nameProblems(nameRules.TrainingPipeline, tp).length, problems));
});

describe('the revision hash', () => {
  const hashOf = (edit: Parameters<ReturnType<typeof aDeployment>['withServer']>[0]): string =>
    revisionHash('v1', 'ml/weather@v1', serverTemplate(aDeployment('weather').withServer(edit).buildSpec()));
  it('changes with what the pods are made of (image, port, batching)', () => {
    assert.notEqual(hashOf({ image: 'server:2' }), hashOf({}));
    assert.notEqual(hashOf({ maxBatchSize: 8 }), hashOf({}));
  });
  it('not with replicas or logPredictions: those apply in place, no new revision, no canary of the same version', () => {
    assert.equal(hashOf({ replicas: 7 }), hashOf({}));
    assert.equal(hashOf({ logPredictions: false }), hashOf({}));
  });
  it('server.workers of 1 (the default the API server fills in) hashes as before the field existed; another count does not', () => {
    const spec = aDeployment('weather').withServer({ workers: 1 }).buildSpec();
    // serverTemplate as it was before workers: the server without replicas, logPredictions a constant (and without
    // the connection ages, which came after and hash only when not their defaults).
    const { replicas: _replicas, workers: _workers, maxConnectionAge: _age, grpcMaxConnectionAge: _grpcAge, ...before } = spec.server;
    assert.equal(hashOf({ workers: 1 }), revisionHash('v1', 'ml/weather@v1', { ...before, logPredictions: true }));
    assert.notEqual(hashOf({ workers: 2 }), hashOf({ workers: 1 }));
    assert.notEqual(hashOf({ workers: 4 }), hashOf({ workers: 2 }));
  });
  it('the connection ages at the server\'s defaults (5s, 30s) hash as before the fields existed; other ages do not', () => {
    const spec = aDeployment('weather').buildSpec();
    const { replicas: _replicas, workers: _workers, maxConnectionAge: _age, grpcMaxConnectionAge: _grpcAge, ...before } = spec.server;
    const old = revisionHash('v1', 'ml/weather@v1', { ...before, logPredictions: true });
    assert.equal(hashOf({ maxConnectionAge: '5s', grpcMaxConnectionAge: '30s' }), old);
    assert.equal(hashOf({ maxConnectionAge: '5000ms', grpcMaxConnectionAge: '0.5m' }), old, 'the same ages written otherwise');
    assert.notEqual(hashOf({ grpcMaxConnectionAge: '2s' }), old);
    assert.notEqual(hashOf({ maxConnectionAge: '0s' }), old);
    assert.notEqual(hashOf({ maxConnectionAge: '2s' }), hashOf({ grpcMaxConnectionAge: '2s' }));
  });
});
