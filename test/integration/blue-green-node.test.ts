// Blue-green autoPromoteAfter on the real node (kubelet, containerd, the server image), with the operator in this
// process and the pods metric provider scraping the real pods: a preview nobody sends traffic to is promoted once it
// has been ready for autoPromoteAfter (as Argo Rollouts' autoPromotionSeconds); the analysis gates would judge
// whatever reached the preview Service (canary-steps.ts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelDeployment } from '../../src/api/model-deployment.js';
import { aDeployment } from '../../src/api/testing/builders.js';
import { LoopStack } from '../support/loop-stack.js';
import { imageTags } from '../support/node-cluster.js';
import { quickTraining, trainWeatherModel } from '../support/served-model.js';
import { storeFor } from './trainer-harness.js';

const namespace = 'ml';
const bucket = 'perennial-bluegreen';
const md = 'weather';

describe('blue-green on the real node: a preview without traffic is promoted after autoPromoteAfter', () => {
  let stack: LoopStack;

  const untilMd = (what: string, ok: (x: ModelDeployment) => boolean, timeoutMs?: number): Promise<ModelDeployment> => stack.untilMd(md, what, ok, timeoutMs);

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'the local node needs root: run the tests as root');
    stack = await LoopStack.start({ name: 'blue-green', namespace, bucket, log: (l) => console.log(`# ${l}`) });
    await trainWeatherModel(stack.cluster.info, storeFor(stack.cluster.info), bucket, 'v1', quickTraining);
    await stack.create('modeldeployments', aDeployment(md).inNamespace(namespace)
      .servingUri(`s3://${bucket}/pipelines/${namespace}/weather/versions/v1`).withServer({ image: imageTags.server, replicas: 1 })
      .blueGreen({ autoPromoteAfter: '10s' }).withAnalysis({ interval: '5s', minSamples: 20 }).build());
  });

  after(async () => {
    await stack?.stop();
  });

  it('a new revision behind the preview Service, never sent a request, is promoted after autoPromoteAfter', async () => {
    await untilMd('v1 to serve', (x) => x.status?.phase === 'Healthy');
    // A server-template edit is a new revision: a blue-green rollout of it.
    await stack.patchMd(md, { spec: { server: { maxBatchSize: 16 } } });
    const previewing = await untilMd('the preview to start', (x) => x.status?.canaryRevision !== undefined);
    const preview = previewing.status?.canaryRevision ?? '';
    const started = Date.now();
    const done = await untilMd('the preview promoted', (x) => x.status?.stableRevision === preview && x.status.canaryRevision === undefined, 180_000);
    console.log(`# promoted ${Math.round((Date.now() - started) / 1000)} s after the preview started: ${done.status?.message ?? ''}`);
    assert.equal(done.status?.phase, 'Healthy');
    assert.equal(done.status?.analysis?.[0]?.verdict, 'Inconclusive', 'judged with no samples');
    assert.equal(done.status?.analysis?.[0]?.measurements?.['samples'] ?? 0, 0);
  });
});
