import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig, parseStoreGrants } from './config.js';

describe('tenancy configuration', () => {
  it('defaults to Perennial\'s own images, no grants and no Prometheus', () => {
    assert.deepEqual(loadConfig({}).tenancy, {
      storeGrants: [],
      trainerImages: ['ghcr.io/perennial-dev/perennial-trainer'],
      serverImages: ['ghcr.io/perennial-dev/perennial-server'],
      prometheusURL: undefined,
      prometheusAllowedURLs: [],
    });
  });

  it('reads the lists and URLs the chart sets', () => {
    const t = loadConfig({
      PERENNIAL_TRAINER_IMAGES: 'a/trainer, b/', PERENNIAL_SERVER_IMAGES: 'a/server', PERENNIAL_PROMETHEUS_URL: 'http://p:9090',
      PERENNIAL_PROMETHEUS_ALLOWED_URLS: 'https://t/,http://q',
      PERENNIAL_STORE_GRANTS: '[{"namespace":"ml","bucket":"shared","prefix":"public/"},{"namespace":"*","bucket":"b2b","access":"ReadWrite"}]',
    }).tenancy;
    assert.deepEqual(t, {
      storeGrants: [
        { namespace: 'ml', bucket: 'shared', prefix: 'public/', access: 'Read' },
        { namespace: '*', bucket: 'b2b', prefix: '', access: 'ReadWrite' },
      ],
      trainerImages: ['a/trainer', 'b/'],
      serverImages: ['a/server'],
      prometheusURL: 'http://p:9090',
      prometheusAllowedURLs: ['https://t/', 'http://q'],
    });
  });

  const bad: Array<[string, Record<string, string>, RegExp]> = [
    ['grants that are not JSON', { PERENNIAL_STORE_GRANTS: 'ml:shared' }, /PERENNIAL_STORE_GRANTS: must be a JSON list/],
    ['a grant without a namespace', { PERENNIAL_STORE_GRANTS: '[{"bucket":"shared"}]' }, /\[0\]\.namespace must be a namespace name or "\*"/],
    ['a bad bucket', { PERENNIAL_STORE_GRANTS: '[{"namespace":"ml","bucket":"S"}]' }, /\[0\]\.bucket must be a bucket name/],
    ['a prefix without its slash', { PERENNIAL_STORE_GRANTS: '[{"namespace":"ml","bucket":"shared","prefix":"public"}]' }, /\[0\]\.prefix must be "" \(the whole bucket\) or end in "\/"/],
    ['an unknown access', { PERENNIAL_STORE_GRANTS: '[{"namespace":"ml","bucket":"shared","access":"Admin"}]' }, /\[0\]\.access must be Read or ReadWrite/],
    ['a Prometheus URL that is not http', { PERENNIAL_PROMETHEUS_URL: 'file:///etc/passwd' }, /PERENNIAL_PROMETHEUS_URL: "file:\/\/\/etc\/passwd" is not an http\(s\) URL/],
    ['a Prometheus URL with credentials', { PERENNIAL_PROMETHEUS_ALLOWED_URLS: 'http://u:p@q' }, /must be a base URL without credentials/],
  ];
  for (const [name, env, want] of bad) {
    it(`refuses ${name}`, () => assert.throws(() => loadConfig(env), (e: unknown) => e instanceof ConfigError && want.test(e.message)));
  }

  it('an empty grants value is no grants', () => assert.deepEqual(parseStoreGrants(''), []));
});

describe('sharding and store notifications configuration', () => {
  it('defaults to no shards (one leader), no notification endpoint and 50 listings a second', () => {
    const c = loadConfig({});
    assert.equal(c.shards, 0);
    assert.equal(c.storeNotifications, undefined);
    assert.equal(c.storeListingsPerSecond, 50);
  });

  it('reads the shard count, and the notification port with its token', () => {
    const c = loadConfig({ PERENNIAL_SHARDS: '4', PERENNIAL_STORE_NOTIFY_PORT: '8082', PERENNIAL_STORE_NOTIFY_TOKEN: 'a-token-of-24-characters' });
    assert.equal(c.shards, 4);
    assert.deepEqual(c.storeNotifications, { port: 8082, host: '0.0.0.0', token: 'a-token-of-24-characters' });
  });

  it('refuses a notification port without a token long enough, and a shard count out of range', () => {
    assert.throws(() => loadConfig({ PERENNIAL_STORE_NOTIFY_PORT: '8082' }), (e: unknown) => e instanceof ConfigError && /PERENNIAL_STORE_NOTIFY_TOKEN/.test(e.message));
    assert.throws(() => loadConfig({ PERENNIAL_STORE_NOTIFY_PORT: '8082', PERENNIAL_STORE_NOTIFY_TOKEN: 'short' }), ConfigError);
    assert.throws(() => loadConfig({ PERENNIAL_SHARDS: '-1' }), ConfigError);
  });
});
