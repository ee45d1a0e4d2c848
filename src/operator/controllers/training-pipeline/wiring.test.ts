import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { aDeployment, aPipeline } from '../../../api/testing/builders.js';
import type { KubeObject } from '../../runtime/resource.js';
import { pipelinesReading } from './wiring.js';

describe('pipelinesReading: the pipelines a ModelDeployment event concerns', () => {
  const pipelines: KubeObject[] = [
    aPipeline('drifting').withTriggers({ drift: { deployment: 'weather', psiThreshold: 0.2, for: '10s' } }).build(),
    aPipeline('falling').withTriggers({ performance: { deployment: 'weather', metric: 'accuracy', threshold: 0.6, minSamples: 50, for: '10s' } }).build(),
    aPipeline('weather').build(),
    aPipeline('other').withTriggers({ drift: { deployment: 'elsewhere', psiThreshold: 0.2, for: '10s' } }).build(),
  ];
  const table: Array<[string, KubeObject, string[]]> = [
    ['the pipelines whose triggers read it, and the one it serves', aDeployment('weather').following('weather').build(), ['drifting', 'falling', 'weather']],
    ['one serving another pipeline: only that one', aDeployment('serving').following('other').build(), ['other']],
    ['one serving a URI, read by nobody: none', aDeployment('solo').servingUri('s3://perennial/pipelines/ml/x/versions/v1').build(), []],
  ];
  for (const [name, md, want] of table) it(name, () => assert.deepEqual(pipelinesReading(pipelines, md).map((k) => k.name), want));
});
