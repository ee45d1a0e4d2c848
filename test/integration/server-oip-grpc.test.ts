// OIP v2 gRPC conformance with the clients users have: the real server process (the bundle, its gRPC port on) on
// models the real trainer made from the weather data (one with numeric, date and categorical features; one of
// numeric features only, for the [n, k] FP32 form), driven by tritonclient.grpc and the KServe SDK's
// InferenceGRPCClient from PyPI (test/python/oip_grpc_client.py, in the oip-clients venv `make test` builds). Every
// answer is compared with the model in-process (predictBatch) within 1e-6. Then hostile messages from a grpc-js
// client: each INVALID_ARGUMENT (or RESOURCE_EXHAUSTED past the body limit) with a reason, none a 5xx in the metrics,
// and the server goes on answering.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Client, credentials, status, type ServiceError } from '@grpc/grpc-js';
import { sharedCluster, uniqueName } from '../../localcluster/test-cluster.js';
import { repoRoot, type ClusterInfo } from '../../localcluster/cluster.js';
import { freePort } from '../../localcluster/net.js';
import { matrixInputName } from '../../src/server/oip/inputs.js';
import { grpcCall as call, oipStub } from '../../src/server/testing/oip-grpc-client.js';
import { podEnv } from '../../src/shared/pod-contract.js';
import { parsePrometheusText, serverMetricNames } from '../../src/shared/server-metrics.js';
import type { MinioStore } from '../../src/storage/minio-store.js';
import { storeFor } from './trainer-harness.js';
import { venvPython } from '../support/python-env.js';
import { serverEnv, startServer, waitReady, type RunningServer } from '../support/served-model.js';
import {
  assertMatches, assertTopClasses, conformanceRows, emptyBuckets, inProcessAnswers, numericOipFeatures, oipFeatures, trainConformanceModels, type OipAnswers,
} from '../support/oip-conformance.js';

/** The body limit of the servers here: a message past it is refused before it is decoded. */
const maxBodyBytes = 64 * 1024;

interface Refusal { status: string; message: string }

interface ClientReport {
  triton: Record<string, unknown> & Record<'per_feature' | 'matrix_bytes' | 'selected', OipAnswers> & Record<'unknown_output' | 'unknown_model' | 'missing_input' | 'model_config', Refusal | null>;
  kserve: Record<string, unknown> & Record<'typed' | 'raw', OipAnswers> & { shape_mismatch: Refusal | null };
  numeric: { order: string[]; matrix_fp32: OipAnswers };
}

/** Each client in a process of its own: both register the `inference.*` messages in protobuf's global pool. */
function runClients(job: unknown): ClientReport {
  const run = (client: 'triton' | 'kserve'): Partial<ClientReport> => {
    const r = spawnSync(venvPython('oip-clients'), [join(repoRoot, 'test/python/oip_grpc_client.py'), client], {
      input: JSON.stringify(job), encoding: 'utf8', timeout: 180_000, maxBuffer: 64 << 20,
    });
    if (r.status !== 0) throw new Error(`oip_grpc_client.py ${client} exited ${String(r.status)}: ${r.stderr.slice(-4000)}`);
    return JSON.parse(r.stdout) as Partial<ClientReport>;
  };
  return { ...run('triton'), ...run('kserve') } as ClientReport;
}

async function startGrpcServer(info: ClusterInfo, bucket: string): Promise<{ server: RunningServer; address: string }> {
  const port = await freePort();
  const server = await startServer(serverEnv(info, { bucket, version: 'v1', env: { [podEnv.serverGrpcPort]: String(port), [podEnv.serverMaxBodyBytes]: String(maxBodyBytes) } }));
  return { server, address: `127.0.0.1:${port}` };
}


describe('OIP v2 gRPC conformance: tritonclient and the KServe SDK', () => {
  let info: ClusterInfo;
  let store: MinioStore;
  let server: { server: RunningServer; address: string };
  let numericServer: { server: RunningServer; address: string };
  const bucket = uniqueName('oip-grpc');
  const numericBucket = uniqueName('oip-grpc-num');
  const rows = conformanceRows();

  before(async () => {
    info = await sharedCluster();
    store = storeFor(info);
    await trainConformanceModels(info, store, bucket, numericBucket);
    server = await startGrpcServer(info, bucket);
    numericServer = await startGrpcServer(info, numericBucket);
    await waitReady(server.server);
    await waitReady(numericServer.server);
  });

  after(async () => {
    await server.server.stop('SIGKILL');
    await numericServer.server.stop('SIGKILL');
    await emptyBuckets(store, [bucket, numericBucket]);
  });

  it('answers each client\'s ordinary calls as the model does in-process', async () => {
    const { expected, classes, numericRows, expectedNumeric } = await inProcessAnswers(store, bucket, numericBucket, rows);
    const { triton, kserve, numeric } = runClients({
      address: server.address, model: 'weather', features: oipFeatures, rows, matrix_input: matrixInputName,
      numeric: { address: numericServer.address, model: 'weather', features: numericOipFeatures, rows: numericRows },
    });

    assert.deepEqual([triton['live'], triton['ready'], triton['model_ready']], [true, true, true]);
    const meta = triton['metadata'] as { name: string; versions: string[]; platform: string; inputs: { name: string; datatype: string }[]; outputs: { name: string }[] };
    assert.deepEqual(meta.versions, ['v1']);
    assert.deepEqual(meta.inputs.map((i) => i.name), oipFeatures.map((f) => f.name), 'the [n, k] order is the inputs\' order');
    assert.deepEqual(meta.outputs.map((o) => o.name), ['label', 'probabilities', 'classification', 'prediction_id']);
    assert.deepEqual(triton['metadata_v1'], triton['metadata']);
    assert.deepEqual((triton['server_metadata'] as { extensions: string[] }).extensions, ['binary_tensor_data', 'classification', 'model_repository', 'statistics']);

    assertMatches('tritonclient.grpc per feature', triton.per_feature, expected);
    assert.equal(triton.per_feature.id, 'triton-grpc-1', 'the request id is echoed');
    assert.equal(triton.per_feature.probabilities_datatype, 'FP32');
    assert.equal(new Set(triton.per_feature.prediction_id).size, rows.length, 'a signed id per row');
    assertMatches('tritonclient.grpc [n, 6] BYTES', triton.matrix_bytes, expected);

    const selected = triton.selected;
    assert.deepEqual(Object.keys(selected).filter((k) => !k.includes('_')).sort(), ['id', 'label', 'probabilities'], 'only the outputs asked');
    assert.deepEqual(selected.probabilities_shape, [rows.length, 2]);
    assertTopClasses(selected.probabilities as string[], expected, classes);

    // tritonclient names the status as its StatusCode (StatusCode.INVALID_ARGUMENT).
    assert.match(triton.unknown_output?.status ?? '', /INVALID_ARGUMENT/);
    assert.match(triton.unknown_output?.message ?? '', /unknown output "scores"/);
    assert.match(triton.unknown_model?.status ?? '', /NOT_FOUND/);
    assert.match(triton.missing_input?.status ?? '', /INVALID_ARGUMENT/);
    assert.match(triton.missing_input?.message ?? '', /missing input "wind"/);
    assert.match(triton.model_config?.status ?? '', /UNIMPLEMENTED/, 'RPCs outside the OIP surface are UNIMPLEMENTED');
    assert.deepEqual((triton['repository_index'] as { models: unknown[] }).models, [{ name: 'weather', version: 'v1', state: 'READY' }]);
    const stats = (triton['statistics'] as { model_stats: { name: string; version: string; inference_count: string; inference_stats: { success: { count: string }; fail: { count: string } } }[] }).model_stats;
    assert.equal(stats[0]?.name, 'weather');
    assert.equal(stats[0]?.version, 'v1');
    assert.equal(Number(stats[0]?.inference_count), 3 * rows.length, 'three answered requests of the rows so far');
    assert.equal(Number(stats[0]?.inference_stats.success.count), 3);
    assert.equal(Number(stats[0]?.inference_stats.fail.count), 3, 'the unknown output, the unknown model and the missing input: every refused infer');

    assert.deepEqual([kserve['live'], kserve['ready'], kserve['model_ready']], [true, true, true]);
    assertMatches('kserve gRPC typed contents', kserve.typed, expected);
    assert.equal(kserve.typed.id, 'kserve-grpc-typed');
    assertMatches('kserve gRPC raw contents', kserve.raw, expected);
    assert.equal(kserve.raw.id, 'kserve-grpc-raw');
    assert.equal(kserve.shape_mismatch?.status, 'INVALID_ARGUMENT');
    assert.match(kserve.shape_mismatch?.message ?? '', /holds 40 elements, 1 were sent/);

    assert.deepEqual(numeric.order, numericOipFeatures.map((f) => f.name));
    assertMatches('tritonclient.grpc [n, 4] FP32', numeric.matrix_fp32, expectedNumeric);

    // gRPC calls count as requests of the v2 infer route, as REST's do: what the canary gates read.
    const samples = parsePrometheusText(await (await fetch(`${server.server.url}/metrics`)).text());
    const infers = (code: string): number => samples.filter((s) => s.name === serverMetricNames.requests && s.labels['route'] === 'v2_infer' && s.labels['code'] === code).reduce((a, s) => a + s.value, 0);
    assert.equal(infers('200'), 5, 'three tritonclient and two kserve answers');
    assert.equal(infers('400'), 3);
    assert.equal(infers('404'), 1);
  });

  it('answers hostile messages INVALID_ARGUMENT with a reason, never a 5xx, and goes on answering', async () => {
    const stub = oipStub(server.address);
    const raw = new Client(server.address, credentials.createInsecure());
    try {
      const f64 = (...xs: number[]): Buffer => {
        const b = Buffer.alloc(8 * xs.length);
        xs.forEach((x, i) => b.writeDoubleLE(x, 8 * i));
        return b;
      };
      const row = ['0', '10', '5', '3', '2015-06-01', 'Seattle'].map((v) => Buffer.from(v));
      const matrix = (over: Record<string, unknown>): unknown => ({ model_name: 'weather', inputs: [{ name: matrixInputName, datatype: 'BYTES', shape: [1, 6], contents: { bytes_contents: row }, ...over }] });
      const cases: [string, unknown, status, RegExp][] = [
        ['a raw size that disagrees with the shape', { model_name: 'weather', inputs: [{ name: 'wind', datatype: 'FP64', shape: [2] }], raw_input_contents: [f64(1)] }, status.INVALID_ARGUMENT, /2 FP64 elements take 16 raw bytes, 8 were sent/],
        ['raw contents for fewer inputs than sent', { model_name: 'weather', inputs: [{ name: 'wind', datatype: 'FP64', shape: [1] }, { name: 'temp_max', datatype: 'FP64', shape: [1] }], raw_input_contents: [f64(1)] }, status.INVALID_ARGUMENT, /1 entries for 2 inputs/],
        ['a BYTES length prefix of 4 GB', { model_name: 'weather', inputs: [{ name: 'location', datatype: 'BYTES', shape: [1] }], raw_input_contents: [Buffer.from([0xff, 0xff, 0xff, 0xff])] }, status.INVALID_ARGUMENT, /says 4294967295 bytes, 0 remain/],
        ['an unknown datatype', matrix({ datatype: 'STRING' }), status.INVALID_ARGUMENT, /unknown datatype "STRING"/],
        ['elements in the wrong field', matrix({ contents: { fp32_contents: [0, 10, 5, 3, 1, 2] } }), status.INVALID_ARGUMENT, /BYTES elements go in contents.bytes_contents, not contents.fp32_contents/],
        ['a shape that disagrees with the elements', matrix({ shape: [2, 6] }), status.INVALID_ARGUMENT, /holds 12 elements, 6 were sent/],
        ['a negative dimension', matrix({ shape: [-1, 6] }), status.INVALID_ARGUMENT, /not a non-negative integer/],
        ['missing inputs', { model_name: 'weather', inputs: [{ name: 'wind', datatype: 'FP64', shape: [1], contents: { fp64_contents: [3] } }] }, status.INVALID_ARGUMENT, /precipitation/],
        ['no inputs at all', { model_name: 'weather' }, status.INVALID_ARGUMENT, /./],
        ['NaN', { model_name: 'weather', inputs: [{ name: matrixInputName, datatype: 'FP64', shape: [1, 6], contents: { fp64_contents: [NaN, 1, 1, 1, 1, 1] } }] }, status.INVALID_ARGUMENT, /./],
        ['an int64 past 2^53', { model_name: 'weather', inputs: [{ name: 'wind', datatype: 'INT64', shape: [1], contents: { int64_contents: ['9007199254740993'] } }] }, status.INVALID_ARGUMENT, /not an integer within/],
        ['a message over the body limit', { model_name: 'weather', inputs: [{ name: 'wind', datatype: 'FP64', shape: [10_000], contents: { fp64_contents: new Array<number>(10_000).fill(1) } }] }, status.RESOURCE_EXHAUSTED, /./],
      ];
      for (const [what, req, code, reason] of cases) {
        await assert.rejects(call(stub, 'ModelInfer', req), (e: ServiceError) => {
          assert.equal(status[e.code], status[code], `${what}: ${e.details}`);
          assert.match(e.details, reason, what);
          return true;
        }, what);
      }
      // Bytes that are no ModelInferRequest at all.
      const garbage = new Promise((resolve, reject) => raw.makeUnaryRequest('/inference.GRPCInferenceService/ModelInfer', (x: Buffer) => x, (x: Buffer) => x, Buffer.from([0x2a, 0xff, 0xff, 0xff, 0x0f, 0x01]), (e, r) => (e ? reject(e) : resolve(r))));
      await assert.rejects(garbage, (e: ServiceError) => e.code === status.INVALID_ARGUMENT && /does not parse as protobuf/.test(e.details));

      const good = await call(stub, 'ModelInfer', matrix({}));
      assert.equal((good['outputs'] as unknown[]).length, 3, 'still answering: label, probabilities, prediction_id');
      assert.deepEqual(await call(stub, 'ServerLive', {}), { live: true });
      const samples = parsePrometheusText(await (await fetch(`${server.server.url}/metrics`)).text());
      const fives = samples.filter((s) => s.name === serverMetricNames.requests && (s.labels['code'] ?? '').startsWith('5'));
      assert.deepEqual(fives, [], 'no 5xx counted');
    } finally {
      stub.close();
      raw.close();
    }
  });
});
