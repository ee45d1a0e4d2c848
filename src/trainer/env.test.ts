import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { podEnv } from '../shared/pod-contract.js';
import { InvalidConfigError } from '../shared/trainer-config.js';
import { readTrainerEnv } from './env.js';

const base = {
  [podEnv.trainerConfig]: '{"a":1}', [podEnv.storeEndpoint]: 'minio', [podEnv.storeBucket]: 'models',
  [podEnv.accessKeyId]: 'key', [podEnv.secretAccessKey]: 'secret',
};

describe('readTrainerEnv', () => {
  it('reads the pod contract with its defaults', () => {
    const e = readTrainerEnv(base);
    assert.equal(e.configText, '{"a":1}');
    assert.deepEqual(e.store, { endPoint: 'minio', port: undefined, useSSL: true, accessKey: 'key', secretKey: 'secret', region: undefined, caFile: undefined });
    assert.deepEqual([e.bucket, e.codeVersion, e.logLevel, e.forcedBackend, e.terminationMessagePath], ['models', 'dev', 'info', undefined, undefined]);
  });

  it('reads the store port, TLS switch and a forced backend', () => {
    const e = readTrainerEnv({ ...base, [podEnv.storePort]: '9000', [podEnv.storeUseTls]: 'false', [podEnv.tfBackend]: 'wasm' });
    assert.deepEqual([e.store.port, e.store.useSSL, e.forcedBackend], [9000, false, 'wasm']);
  });

  it('reports every problem at once, never a secret', () => {
    assert.throws(() => readTrainerEnv({ [podEnv.storePort]: '99999', [podEnv.tfBackend]: 'tpu', [podEnv.secretAccessKey]: 'hunter2' }), (e: unknown) => {
      assert.ok(e instanceof InvalidConfigError);
      assert.match(e.message, /PERENNIAL_TRAINER_CONFIG or PERENNIAL_TRAINER_CONFIG_FILE/);
      assert.match(e.message, /PERENNIAL_S3_PORT must be an integer in \[1, 65535\]/);
      assert.match(e.message, /must be one of tensorflow-gpu/);
      assert.match(e.message, /PERENNIAL_S3_ENDPOINT is not set/);
      assert.doesNotMatch(e.message, /hunter2/);
      return true;
    });
  });
});
