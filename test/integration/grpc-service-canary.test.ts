// gRPC clients behind a plain Service during a canary (trafficRouting Replicas), on the real node: kube-proxy picks a
// pod per connection, and a gRPC client keeps one connection for as long as its channel lives, so without a connection
// age it stays on the pod it first reached whatever the weight. spec.server.grpcMaxConnectionAge makes each server
// send GOAWAY at that age; grpc-js reconnects through the Service and lands where kube-proxy sends it. The client here
// is one grpc-js channel to the Service's ClusterIP, as an in-cluster client would hold it, calling ModelInfer in a
// loop; the answers' model_version say which revision took each call.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServiceError } from '@grpc/grpc-js';
import { aDeployment } from '../../src/api/testing/builders.js';
import { grpcCall, oipStub } from '../../src/server/testing/oip-grpc-client.js';
import { eventually } from '../support/eventually.js';
import { LoopStack } from '../support/loop-stack.js';
import { imageTags } from '../support/node-cluster.js';
import { trainWeatherModel, weatherInstances, quickTraining } from '../support/served-model.js';
import { storeFor } from './trainer-harness.js';

const namespace = 'ml';
const bucket = 'perennial-grpc';
const uri = (version: string): string => `s3://${bucket}/pipelines/${namespace}/weather/versions/${version}`;

/** One weather row as OIP inputs, a tensor per feature (FP64 numbers, BYTES strings). */
function weatherInputs(): unknown[] {
  const row = weatherInstances('Seattle').instances[0] ?? {};
  return Object.entries(row).map(([name, v]) => (typeof v === 'number'
    ? { name, datatype: 'FP64', shape: [1], contents: { fp64_contents: [v] } }
    : { name, datatype: 'BYTES', shape: [1], contents: { bytes_contents: [Buffer.from(String(v))] } }));
}

describe('gRPC through a Service during a canary (real node, kube-proxy, grpc-js)', () => {
  let stack: LoopStack;

  before(async () => {
    stack = await LoopStack.start({ name: 'grpc-canary', namespace, bucket, log: (l) => console.log(`# ${l}`) });
    const store = storeFor(stack.cluster.info);
    await trainWeatherModel(stack.cluster.info, store, bucket, 'v1', quickTraining);
    await trainWeatherModel(stack.cluster.info, store, bucket, 'v2', quickTraining);
  });

  after(async () => {
    await stack?.stop();
  });

  it('one channel to the Service reaches both versions at a 50% step: each connection ends at grpcMaxConnectionAge and the client is placed again', async () => {
    await stack.create('modeldeployments', aDeployment('weather').inNamespace(namespace).servingUri(uri('v1'))
      .withServer({ image: imageTags.server, replicas: 2, grpcMaxConnectionAge: '1s' })
      .withCanarySteps({ setWeight: 50 }, { pause: {} }).build());
    await stack.untilMd('weather', 'v1 to serve on 2 pods', (x) => x.status?.phase === 'Healthy' && x.status.stableReadyReplicas === 2, 240_000);
    await stack.patchMd('weather', { spec: { model: { uri: uri('v2') } } });
    await stack.untilMd('weather', 'v2 at 50%, a ready pod each', (x) => x.status?.canaryVersion === 'v2' && x.status.canaryWeight === 50 &&
      x.status.canaryReadyReplicas === 1 && x.status.stableReadyReplicas === 1, 240_000);
    // The Service's endpoints follow the pods' readiness: both revisions' pods behind it before the client starts.
    await eventually('both pods behind the Service', async () => ((await stack.endpoints('weather')).length === 2 ? true : undefined), 60_000);

    const svc = await stack.core.readNamespacedService({ name: 'weather', namespace });
    const grpcPort = svc.spec?.ports?.find((p) => p.name === 'grpc')?.port;
    assert.equal(grpcPort, 9000);
    const stub = oipStub(`${svc.spec?.clusterIP ?? ''}:${grpcPort}`);
    const byVersion = new Map<string, number>();
    const failures: string[] = [];
    const inputs = weatherInputs();
    try {
      const until = Date.now() + 15_000;
      while (Date.now() < until) {
        const answer = await grpcCall(stub, 'ModelInfer', { model_name: 'weather', inputs }).catch((e: ServiceError) => e);
        if ('code' in answer) failures.push(`${String(answer.code)} ${String(answer.details)}`);
        else byVersion.set(String(answer['model_version']), (byVersion.get(String(answer['model_version'])) ?? 0) + 1);
        await sleep(10);
      }
    } finally {
      stub.close();
    }
    const counts = Object.fromEntries(byVersion);
    const total = [...byVersion.values()].reduce((a, b) => a + b, 0);
    console.log(`# answers by version over 15 s on one channel: ${JSON.stringify(counts)}; failed calls: ${failures.length}`);
    assert.ok(total > 100, JSON.stringify({ counts, failures: failures.slice(0, 5) }));
    // GOAWAY lets calls in flight finish; a call sent as the connection closes is retried by grpc-js: none fail.
    assert.deepEqual(failures, []);
    // Each version takes a share of one client's calls: 15 s of connections aged about 1 s (grpc-js jitters it by a
    // tenth) are some 15 placements by kube-proxy at 50/50; one version with none of them is a 1-in-16,000 chance.
    for (const v of ['v1', 'v2']) assert.ok((byVersion.get(v) ?? 0) >= total * 0.05, `${v} took ${byVersion.get(v) ?? 0} of ${total}: ${JSON.stringify(counts)}`);
  });
});
