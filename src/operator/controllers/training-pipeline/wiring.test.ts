import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { aDeployment, aPipeline } from '../../../api/testing/builders.js';
import type { KubeObject } from '../../runtime/resource.js';
import { deploymentsReadBy, pipelinesConcerned } from './wiring.js';
import type { TrainingPipeline } from '../../../api/training-pipeline.js';

describe('pipelinesConcerned: the pipelines a ModelDeployment event concerns', () => {
  const pipelines: TrainingPipeline[] = [
    aPipeline('drifting').withTriggers({ drift: { deployment: 'weather', psiThreshold: 0.2, for: '10s' } }).build(),
    aPipeline('falling').withTriggers({ performance: { deployment: 'weather', metric: 'accuracy', threshold: 0.6, minSamples: 50, for: '10s' } }).build(),
    aPipeline('weather').build(),
    aPipeline('other').withTriggers({ drift: { deployment: 'elsewhere', psiThreshold: 0.2, for: '10s' } }).build(),
  ];
  const table: Array<[string, KubeObject, string[]]> = [
    ['the pipelines whose triggers read it, and the one it serves', aDeployment('weather').following('weather').build(), ['drifting', 'falling', 'weather']],
    ['one serving another pipeline: only that one', aDeployment('serving').following('other').build(), ['other']],
    ['one serving a URI, read by nobody: the pipeline of the URI (retention)', aDeployment('solo').servingUri('s3://perennial/pipelines/ml/x/versions/v1').build(), ['x']],
    ['one serving a URI of another namespace: none', aDeployment('solo').servingUri('s3://perennial/pipelines/team/x/versions/v1').build(), []],
  ];
  // The readers as the TrainingPipeline cache's index finds them (deploymentsReadBy).
  const readers = (md: KubeObject) => pipelines.filter((tp) => deploymentsReadBy(tp).includes(md.metadata?.name ?? ''));
  for (const [name, md, want] of table) it(name, () => assert.deepEqual(pipelinesConcerned(md, readers(md)).map((k) => k.name), want));
  it('a pipeline whose two triggers read the same deployment is indexed once', () => {
    const tp = aPipeline('both').withTriggers({ drift: { deployment: 'weather', psiThreshold: 0.2, for: '10s' }, performance: { deployment: 'weather', metric: 'accuracy', threshold: 0.6, minSamples: 50, for: '10s' } }).build();
    assert.deepEqual(deploymentsReadBy(tp), ['weather']);
    assert.deepEqual(deploymentsReadBy(aPipeline('none').build()), []);
  });
});
