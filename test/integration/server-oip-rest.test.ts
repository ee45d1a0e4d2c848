// OIP v2 REST conformance with the clients users have: the real server on models the real trainer made from the
// weather data (one with the usual numeric, date and categorical features; one of numeric features only, for the
// [n, k] FP32 form), driven by tritonclient.http and the KServe SDK's InferenceRESTClient from PyPI
// (test/python/oip_rest_client.py, in the oip-clients venv `make test` builds). Every answer is compared with the
// model in-process (predictBatch) within 1e-6. Then hostile bodies over raw HTTP: each a 4xx with a reason, none a 5xx.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { sharedCluster, uniqueName } from '../../localcluster/test-cluster.js';
import { repoRoot, type ClusterInfo } from '../../localcluster/cluster.js';
import { encodeTensorBytes } from '../../src/server/oip/rest-binary.js';
import { parsePrometheusText, serverMetricNames } from '../../src/shared/server-metrics.js';
import type { MinioStore } from '../../src/storage/minio-store.js';
import { storeFor } from './trainer-harness.js';
import { venvPython } from '../support/python-env.js';
import { serverEnv, startServer, waitReady, type RunningServer } from '../support/served-model.js';
import {
  assertMatches, assertTopClasses, conformanceRows, emptyBuckets, inProcessAnswers, numericOipFeatures, oipFeatures, trainConformanceModels, type OipAnswers,
} from '../support/oip-conformance.js';

interface ClientReport {
  triton: Record<string, unknown> & Record<'triton_json' | 'triton_binary' | 'triton_matrix_bytes' | 'triton_selected', OipAnswers>;
  kserve: Record<string, unknown> & Record<'kserve_json' | 'kserve_binary', OipAnswers>;
  numeric: { order: string[]; json: OipAnswers; binary: OipAnswers };
}

function runClients(job: unknown): ClientReport {
  const r = spawnSync(venvPython('oip-clients'), [join(repoRoot, 'test/python/oip_rest_client.py')], {
    input: JSON.stringify(job), encoding: 'utf8', timeout: 180_000, maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`oip_rest_client.py exited ${String(r.status)}: ${r.stderr.slice(-4000)}`);
  return JSON.parse(r.stdout) as ClientReport;
}

describe('OIP v2 REST conformance: tritonclient and the KServe SDK', () => {
  let info: ClusterInfo;
  let store: MinioStore;
  let server: RunningServer;
  let numericServer: RunningServer;
  const bucket = uniqueName('oip-rest');
  const numericBucket = uniqueName('oip-rest-num');
  const rows = conformanceRows();

  before(async () => {
    info = await sharedCluster();
    store = storeFor(info);
    await trainConformanceModels(info, store, bucket, numericBucket);
    server = await startServer(serverEnv(info, { bucket, version: 'v1' }));
    numericServer = await startServer(serverEnv(info, { bucket: numericBucket, version: 'v1' }));
    await waitReady(server);
    await waitReady(numericServer);
  });

  after(async () => {
    await server.stop('SIGKILL');
    await numericServer.stop('SIGKILL');
    await emptyBuckets(store, [bucket, numericBucket]);
  });

  it('answers each client\'s ordinary calls as the model does in-process', async () => {
    const { expected, classes, numericRows, expectedNumeric } = await inProcessAnswers(store, bucket, numericBucket, rows);
    const report = runClients({
      url: server.url, model: 'weather', features: oipFeatures, rows,
      numeric: { url: numericServer.url, model: 'weather', features: numericOipFeatures, rows: numericRows },
    });
    const { triton, kserve, numeric } = report;

    assert.equal(triton['live'], true);
    assert.equal(triton['ready'], true);
    assert.equal(triton['model_ready'], true);
    const meta = triton['metadata'] as { name: string; versions: string[]; inputs: { name: string }[]; parameters: Record<string, string> };
    assert.deepEqual(meta.versions, ['v1']);
    assert.deepEqual(meta.inputs.map((i) => i.name), oipFeatures.map((f) => f.name));
    assert.deepEqual(meta.parameters['features']?.split(','), oipFeatures.map((f) => f.name), 'the [n, k] order is published');
    assert.equal(meta.parameters['matrix_datatype'], 'BYTES', 'a model with a categorical feature takes BYTES [n, k]');
    assert.deepEqual(triton['metadata_v1'], triton['metadata']);
    assert.deepEqual((triton['server_metadata'] as { extensions: string[] }).extensions, ['binary_tensor_data', 'classification', 'model_repository', 'statistics']);

    assertMatches('tritonclient JSON', triton.triton_json, expected);
    assert.equal(triton.triton_json.id, 'triton-json-1', 'the request id is echoed');
    assert.equal(new Set(triton.triton_json.prediction_id).size, rows.length, 'a signed id per row');
    assertMatches('tritonclient binary', triton.triton_binary, expected);
    assert.equal(triton.triton_binary.prediction_id?.length, rows.length);
    assertMatches('tritonclient [n, 6] BYTES', triton.triton_matrix_bytes, expected);

    const selected = triton.triton_selected;
    assert.deepEqual(Object.keys(selected).sort(), ['id', 'label', 'label_shape', 'probabilities', 'probabilities_shape'], 'only the outputs asked');
    assert.deepEqual(selected.probabilities_shape, [rows.length, 2]);
    assertTopClasses(selected.probabilities as string[], expected, classes);
    assert.deepEqual(selected.label, expected.map((p) => ('label' in p ? p.label : '')));

    assert.match(String(triton['unknown_output_error']), /unknown output "scores" \(outputs: label, probabilities, classification, prediction_id\)/);
    assert.match(String(triton['priority_error']), /parameter "priority" is not understood/);
    assert.match(String(triton['load_error']), /read-only/);
    assert.deepEqual(triton['repository_index'], [{ name: 'weather', version: 'v1', state: 'READY', reason: '' }]);
    const stats = (triton['statistics'] as { model_stats: { name: string; version: string; inference_count: number; inference_stats: { success: { count: number }; fail: { count: number } } }[] }).model_stats;
    assert.equal(stats[0]?.name, 'weather');
    assert.equal(stats[0]?.version, 'v1');
    assert.equal(stats[0]?.inference_count, 4 * rows.length, 'four answered requests of the rows so far');
    assert.equal(stats[0]?.inference_stats.success.count, 4);
    assert.equal(stats[0]?.inference_stats.fail.count, 2, 'the refused output and parameter');
    assert.deepEqual(triton['statistics_all'], triton['statistics']);

    assert.equal(kserve['live'], true);
    assert.equal(kserve['ready'], true);
    assert.equal(kserve['model_ready'], true);
    assertMatches('kserve JSON', kserve.kserve_json, expected);
    assert.equal(kserve.kserve_json.id, 'kserve-json-1');
    assertMatches('kserve binary', kserve.kserve_binary, expected);
    assert.equal(kserve.kserve_binary.id, 'kserve-binary-1');

    assert.deepEqual(numeric.order, numericOipFeatures.map((f) => f.name));
    assertMatches('tritonclient [n, 4] FP32, JSON', numeric.json, expectedNumeric);
    assertMatches('tritonclient [n, 4] FP32, binary', numeric.binary, expectedNumeric);
  });

  it('answers hostile bodies over raw HTTP with a 4xx and a reason, never a 5xx, and goes on answering', async () => {
    const url = `${server.url}/v2/models/weather/infer`;
    const binary = (header: unknown, ...blobs: Buffer[]): { body: Buffer; headers: Record<string, string> } => {
      const h = Buffer.from(JSON.stringify(header));
      return { body: Buffer.concat([h, ...blobs]), headers: { 'inference-header-content-length': String(h.length) } };
    };
    const one = (t: Record<string, unknown>): unknown => ({ inputs: [t] });
    const fp64 = encodeTensorBytes('FP64', [1, 2]);
    const cases: [string, { body: Buffer | string; headers: Record<string, string> }, number, RegExp][] = [
      ['a header length past the body', { body: binary(one({ name: 'input', datatype: 'FP64', shape: [1, 2], parameters: { binary_data_size: 16 } }), fp64).body, headers: { 'inference-header-content-length': '100000' } }, 400, /longer than the body/],
      ['a header length that is not a number', { body: '{}', headers: { 'content-type': 'application/json', 'inference-header-content-length': '12x' } }, 400, /is not a byte count/],
      ['a truncated binary tensor', binary(one({ name: 'input', datatype: 'FP64', shape: [1, 2], parameters: { binary_data_size: 16 } }), fp64.subarray(0, 9)), 400, /only 9 bytes of binary data remain/],
      ['a binary size that disagrees with the shape', binary(one({ name: 'input', datatype: 'FP64', shape: [1, 6], parameters: { binary_data_size: 16 } }), fp64), 400, /16 bytes of FP64, its shape says 6 elements/],
      ['bytes after the last tensor', binary(one({ name: 'input', datatype: 'FP64', shape: [1, 2], parameters: { binary_data_size: 16 } }), fp64, Buffer.from('junk')), 400, /4 bytes of binary data after the JSON header belong to no input/],
      ['a BYTES length prefix of 4 GB', binary(one({ name: 'location', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 4 } }), Buffer.from([0xff, 0xff, 0xff, 0xff])), 400, /says 4294967295 bytes, only 0 remain/],
      ['invalid UTF-8', binary(one({ name: 'location', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 6 } }), Buffer.from([2, 0, 0, 0, 0xc3, 0x28])), 400, /not valid UTF-8/],
      ['NaN in a binary tensor', binary({ inputs: [{ name: 'precipitation', datatype: 'FP64', shape: [1], parameters: { binary_data_size: 8 } }] }, encodeTensorBytes('FP64', [NaN])), 400, /NaN is not a finite float32 number/],
      ['a negative shape', { body: JSON.stringify(one({ name: 'input', datatype: 'BYTES', shape: [-1, 6], data: [] })), headers: { 'content-type': 'application/json' } }, 400, /not a non-negative integer/],
      ['a huge shape', { body: JSON.stringify(one({ name: 'input', datatype: 'BYTES', shape: [2 ** 31, 2 ** 31, 2 ** 31], data: [] })), headers: { 'content-type': 'application/json' } }, 413, /too large/],
      ['a count that disagrees with the shape', { body: JSON.stringify(one({ name: 'input', datatype: 'BYTES', shape: [2, 6], data: ['1', '2'] })), headers: { 'content-type': 'application/json' } }, 400, /says 12 elements, data has 2/],
      ['FP32 [n, k] for a model with a categorical feature', { body: JSON.stringify(one({ name: 'input', datatype: 'FP32', shape: [1, 6], data: [0, 1, 2, 3, 4, 5] })), headers: { 'content-type': 'application/json' } }, 400, /feature "location" is categorical/],
      ['a datatype OIP does not have', { body: JSON.stringify(one({ name: 'wind', datatype: 'FLOAT64', shape: [1], data: [1] })), headers: { 'content-type': 'application/json' } }, 400, /datatype must be one of/],
      ['binary data without the header', { body: Buffer.concat([Buffer.from('{"inputs":[]}'), fp64]), headers: { 'content-type': 'application/octet-stream' } }, 400, /malformed JSON/],
      ['a form', { body: 'a=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, /not supported/],
    ];
    for (const [what, { body, headers }, status, reason] of cases) {
      const r = await fetch(url, { method: 'POST', headers, body });
      assert.equal(r.status, status, what);
      assert.match(r.headers.get('content-type') ?? '', /application\/json/, what);
      assert.match(((await r.json()) as { error: string }).error, reason, what);
    }
    const good = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(one({ name: 'input', datatype: 'BYTES', shape: [1, 6], data: ['0', '10', '5', '3', '2015-06-01', 'Seattle'] })) });
    assert.equal(good.status, 200, 'still answering');
    const samples = parsePrometheusText(await (await fetch(`${server.url}/metrics`)).text());
    // (The readiness polls before the model was loaded were 503s of the health route, as they should be.)
    const fives = samples.filter((s) => s.name === serverMetricNames.requests && s.labels['route'] === 'v2_infer' && (s.labels['code'] ?? '').startsWith('5'));
    assert.deepEqual(fives, [], 'no 5xx counted on the infer route');
    assert.ok(samples.some((s) => s.name === serverMetricNames.requests && s.labels['route'] === 'v2_infer' && s.labels['code'] === '400' && s.value >= 13), 'the refusals are counted as 400s of v2_infer');
  });
});
