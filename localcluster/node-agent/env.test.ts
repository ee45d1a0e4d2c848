import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EnvError, expand, loopbackPorts, resolveEnv, type EnvSources, type PodFields } from './env.js';

const pod: PodFields = {
  name: 'p', namespace: 'ns', uid: 'u1', nodeName: 'local', podIP: '127.10.0.2', hostIP: '127.0.0.1',
  serviceAccountName: 'default', labels: { app: 'web' }, annotations: { 'a.b/c': 'd' },
};
const sources: EnvSources = {
  secrets: new Map([['s3', { AWS_ACCESS_KEY_ID: 'ak', AWS_SECRET_ACCESS_KEY: 'sk' }]]),
  configMaps: new Map([['cfg', { MODE: 'fast', LEVEL: 'info' }]]),
};

describe('expand', () => {
  const table: Array<[string, Record<string, string>, string]> = [
    ['http://$(HOST):8080', { HOST: 'h' }, 'http://h:8080'],
    ['$(MISSING)', {}, '$(MISSING)'],
    ['$$(HOST)', { HOST: 'h' }, '$(HOST)'],
    ['plain', {}, 'plain'],
  ];
  for (const [value, defined, want] of table) it(value, () => assert.equal(expand(value, defined), want));
});

describe('resolveEnv', () => {
  it('resolves values, secrets, configmaps, the downward API, envFrom and $(VAR)', () => {
    const env = resolveEnv({
      envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'CFG_' }],
      env: [
        { name: 'A', value: 'x' },
        { name: 'B', value: '$(A)-y' },
        { name: 'KEY', valueFrom: { secretKeyRef: { name: 's3', key: 'AWS_ACCESS_KEY_ID' } } },
        { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'MODE' } } },
        { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'OPT', valueFrom: { secretKeyRef: { name: 'nope', key: 'k', optional: true } } },
      ],
    }, pod, sources);
    assert.deepEqual(env, {
      CFG_MODE: 'fast', CFG_LEVEL: 'info', A: 'x', B: 'x-y', KEY: 'ak', MODE: 'fast', POD: 'p', IP: '127.10.0.2', APP: 'web',
    });
  });
  it('fails like the kubelet on a missing secret or key', () => {
    assert.throws(() => resolveEnv({ env: [{ name: 'K', valueFrom: { secretKeyRef: { name: 'nope', key: 'k' } } }] }, pod, sources), (e: unknown) => e instanceof EnvError && /secret "nope" not found/.test(e.message));
    assert.throws(() => resolveEnv({ env: [{ name: 'K', valueFrom: { secretKeyRef: { name: 's3', key: 'nope' } } }] }, pod, sources), /couldn't find key nope in secret ns\/s3/);
  });
});

describe('loopbackPorts', () => {
  it('finds the loopback services a container is configured to reach', () => {
    assert.deepEqual(loopbackPorts({
      URL: 'http://127.0.0.1:9000/x', PROM: 'localhost:9090', S3: 'https://user@127.0.0.1:443', OTHER: '10.0.0.1:80',
      PERENNIAL_S3_ENDPOINT: '127.0.0.1', PERENNIAL_S3_PORT: '41000', PLAIN: '127.0.0.1',
    }).sort(), [41000, 443, 9000, 9090].sort());
  });
});
