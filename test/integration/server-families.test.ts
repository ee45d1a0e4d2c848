// The real model server process (its bundle) serving a gradient-boosting version the real trainer published to the
// shared cluster's MinIO: v1 and OIP v2 answer the same labels and probabilities, and those are the calibrated
// probabilities of the same model in-process (src/ml/predict.ts), not the raw ones; a version of each family loads
// through the one loader, and the server reports ready.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sharedCluster, uniqueName } from '../../localcluster/test-cluster.js';
import type { ClusterInfo } from '../../localcluster/cluster.js';
import { loadTabularModel } from '../../src/ml/load-model.js';
import { predictRows } from '../../src/ml/predict.js';
import { readSavedModel } from '../../src/ml/store-io.js';
import type { TabularModel } from '../../src/ml/tabular-model.js';
import { artifactKey, versionPrefix } from '../../src/shared/artifact-layout.js';
import { parsePreprocessingSpec, transformRows, type PreprocessingSpec } from '../../src/shared/preprocessing.js';
import type { MinioStore } from '../../src/storage/minio-store.js';
import { storeFor } from './trainer-harness.js';
import {
  postJson, serverEnv, startServer, trainWeatherModel, waitReady, weatherInstances, weatherPipeline, type RunningServer,
} from '../support/served-model.js';

function v2Body(rows: readonly Record<string, unknown>[]): unknown {
  const col = (name: string): unknown[] => rows.map((r) => r[name]);
  const numeric = (name: string): unknown => ({ name, datatype: 'FP64', shape: [rows.length], data: col(name) });
  const text = (name: string): unknown => ({ name, datatype: 'BYTES', shape: [rows.length], data: col(name) });
  return { inputs: [numeric('precipitation'), numeric('temp_max'), numeric('temp_min'), numeric('wind'), text('date'), text('location')] };
}

describe('model server on a gradient-boosting weather model', () => {
  let info: ClusterInfo;
  let store: MinioStore;
  let server: RunningServer;
  let spec: PreprocessingSpec;
  let model: TabularModel;
  const bucket = uniqueName('server-trees');
  const rows2015 = weatherInstances('Seattle').instances.filter((r) => String(r['date']).startsWith('2015'));

  before(async () => {
    info = await sharedCluster();
    store = storeFor(info);
    await trainWeatherModel(info, store, bucket, 'v1', { model: { type: 'gradient-boosting' } });
    server = await startServer(serverEnv(info, { bucket, version: 'v1' }));
    await waitReady(server);
    spec = parsePreprocessingSpec((await store.getBuffer(bucket, artifactKey(weatherPipeline, 'v1', 'preprocessing'))).toString('utf8'));
    model = await loadTabularModel(await readSavedModel(store, bucket, versionPrefix(weatherPipeline, 'v1') + 'model/'));
  });

  after(async () => {
    await server.stop('SIGKILL');
    model.dispose();
    for (const o of await store.list(bucket, '')) await store.delete(bucket, o.key);
  });

  it('answers v1 and OIP v2 identically, with the calibrated probabilities of the model in-process', async () => {
    assert.equal(model.family, 'gradient-boosting');
    const temperature = spec.calibration?.temperature;
    assert.ok(temperature !== undefined && temperature !== 1, `a fitted temperature: ${String(temperature)}`);
    const local = predictRows(model, spec, rows2015);
    assert.ok(local.task === 'classification');
    const raw = model.predict(transformRows(spec, rows2015), rows2015.length);
    const classes = spec.label.task === 'classification' ? spec.label.classes : [];
    const k = classes.length;

    const v1 = await postJson(`${server.url}/v1/models/weather:predict`, { instances: rows2015 });
    assert.equal(v1.status, 200, JSON.stringify(v1.body));
    const v2 = await postJson(`${server.url}/v2/models/weather/infer`, v2Body(rows2015));
    assert.equal(v2.status, 200, JSON.stringify(v2.body));
    const outputs = v2.body['outputs'] as { name: string; data: unknown[] }[];
    const out = (name: string): unknown[] => outputs.find((o) => o.name === name)?.data ?? [];
    const v1Probs = v1.body['probabilities'] as number[][];
    const v1Labels = v1.body['predictions'] as string[];
    let rawDiffers = 0;
    local.probabilities.forEach((p, i) => {
      const best = classes[p.indexOf(Math.max(...p))];
      assert.equal(v1Labels[i], best, `row ${i}`);
      assert.equal(out('label')[i], best, `row ${i}`);
      p.forEach((q, c) => {
        assert.ok(Math.abs((v1Probs[i]?.[c] ?? NaN) - q) < 1e-6, `v1 row ${i} class ${c}`);
        assert.ok(Math.abs((out('probabilities')[i * k + c] as number) - q) < 1e-6, `v2 row ${i} class ${c}`);
        if (Math.abs((raw[i * k + c] ?? 0) - q) > 1e-4) rawDiffers++;
      });
    });
    assert.ok(rawDiffers > rows2015.length, `the served probabilities are the calibrated ones (${rawDiffers} values differ from the raw model's)`);
  });

  it('logs the loaded model as ready', () => {
    assert.match(server.output(), /"message":"model ready"/);
  });
});
