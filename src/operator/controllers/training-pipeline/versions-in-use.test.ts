import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { aDeployment } from '../../../api/testing/builders.js';
import type { ModelDeployment } from '../../../api/model-deployment.js';
import { pipelinesUsedBy, versionsInUse } from './versions-in-use.js';

const uri = (v: string, bucket = 'models', ns = 'ml', name = 'weather'): string => `s3://${bucket}/pipelines/${ns}/${name}/versions/${v}`;

describe('versionsInUse', () => {
  const table: Array<[string, ModelDeployment[], string[]]> = [
    ['none', [], []],
    ['following: pinned, stable, canary, previous', [aDeployment('a').following('weather', 'v1').withStatus({ stableVersion: 'v2', canaryVersion: 'v3', previousVersion: 'v4' }).build()], ['v1', 'v2', 'v3', 'v4']],
    ['following another pipeline: not ours', [aDeployment('a').following('other').withStatus({ stableVersion: 'v2' }).build()], []],
    ['model.uri of this pipeline, with or without a trailing slash', [aDeployment('a').servingUri(uri('v1')).build(), aDeployment('b').servingUri(`${uri('v7')}/`).build()], ['v1', 'v7']],
    ['stable and canary URIs of a deployment by URI', [aDeployment('a').servingUri(uri('v5')).withStatus({ stableURI: uri('v2'), canaryURI: uri('v3') }).build()], ['v2', 'v3', 'v5']],
    ['a URI of another bucket, namespace or pipeline', [
      aDeployment('a').servingUri(uri('v1', 'other')).build(), aDeployment('b').servingUri(uri('v2', 'models', 'team')).build(),
      aDeployment('c').servingUri(uri('v3', 'models', 'ml', 'traffic')).build(),
    ], []],
  ];
  for (const [name, deployments, want] of table) it(name, () => assert.deepEqual(versionsInUse(deployments, { namespace: 'ml', name: 'weather' }, 'models'), want));
});

describe('pipelinesUsedBy', () => {
  const table: Array<[string, ModelDeployment, string[]]> = [
    ['a URI that names no version', aDeployment('a').servingUri('s3://models/elsewhere/model').build(), []],
    ['the pipeline it follows', aDeployment('a').following('weather').build(), ['weather']],
    ['by default a deployment follows the pipeline of its own name', aDeployment('a').build(), ['a']],
    ['model.uri, stable and canary URIs of its namespace, once each', aDeployment('a').servingUri(uri('v1')).withStatus({ stableURI: uri('v2', 'models', 'ml', 'traffic'), canaryURI: uri('v3') }).build(), ['weather', 'traffic']],
    ['a URI of another namespace, or not a version URI', aDeployment('b').servingUri(uri('v2', 'models', 'team')).withStatus({ stableURI: 's3://models/elsewhere/model' }).build(), []],
    ['another bucket still names the pipeline (versionsInUse checks the bucket)', aDeployment('c').servingUri(uri('v1', 'other')).build(), ['weather']],
  ];
  for (const [name, md, want] of table) it(name, () => assert.deepEqual(pipelinesUsedBy(md), want));
});
