import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { aDeployment, aPipeline } from '../../../api/testing/builders.js';
import type { KubeObject } from '../../runtime/resource.js';
import { deploymentsFollowing } from './wiring.js';

describe('deploymentsFollowing: the ModelDeployments a TrainingPipeline event concerns', () => {
  const deployments: KubeObject[] = [
    aDeployment('weather').following('weather').build(),
    aDeployment('pinned').following('weather', 'v3').build(),
    aDeployment('other').following('other').build(),
    aDeployment('solo').servingUri('s3://perennial/pipelines/ml/weather/versions/v1').build(),
  ];
  const table: Array<[string, string, string[]]> = [
    ['those following its champion or a version of it', 'weather', ['weather', 'pinned']],
    ['none for a pipeline nobody follows', 'unfollowed', []],
  ];
  for (const [name, pipeline, want] of table) it(name, () => assert.deepEqual(deploymentsFollowing(deployments, aPipeline(pipeline).build()).map((k) => k.name), want));
});
