import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  deploymentDenials, describeGrants, imageAllowed, isPlainPrefix, metricSource, modelUriDenial, permits, pipelineDenials,
  type PipelineSpecView, type TenancyPolicy,
} from './tenancy.js';

const policy: TenancyPolicy = {
  defaultBucket: 'perennial',
  storeGrants: [
    { namespace: 'ml', bucket: 'shared', prefix: 'public/', access: 'Read' },
    { namespace: 'ml', bucket: 'ml-models', prefix: '', access: 'ReadWrite' },
    { namespace: '*', bucket: 'datasets', prefix: 'open/', access: 'Read' },
  ],
  trainerImages: ['ghcr.io/perennial-dev/perennial-trainer', 'registry.internal/ml/'],
  serverImages: ['ghcr.io/perennial-dev/perennial-server'],
  prometheusURL: 'http://prometheus.monitoring:9090',
  prometheusAllowedURLs: ['https://thanos.monitoring/'],
};

describe('permits: a namespace\'s own prefixes in the default bucket and its grants', () => {
  const table: Array<[string, string, string, string, 'Read' | 'ReadWrite', boolean]> = [
    ['its own data', 'ml', 'perennial', 'data/ml/weather/', 'Read', true],
    ['its own data prefix itself', 'ml', 'perennial', 'data/ml/', 'Read', true],
    ['its own models, read-write', 'ml', 'perennial', 'pipelines/ml/weather/', 'ReadWrite', true],
    ['its own logs, read-write', 'ml', 'perennial', 'deployments/ml/weather/', 'ReadWrite', true],
    ['its data is read-only', 'ml', 'perennial', 'data/ml/', 'ReadWrite', false],
    ['another namespace\'s data', 'ml', 'perennial', 'data/other/', 'Read', false],
    ['a namesake prefix of its own (data/ml-x/)', 'ml', 'perennial', 'data/ml-x/', 'Read', false],
    ['data/ml without the slash covers data/ml-x/', 'ml', 'perennial', 'data/ml', 'Read', false],
    ['another namespace\'s models', 'ml', 'perennial', 'pipelines/other/weather/', 'Read', false],
    ['the whole default bucket', 'ml', 'perennial', '', 'Read', false],
    ['a granted prefix', 'ml', 'shared', 'public/weather/', 'Read', true],
    ['a granted prefix is read-only', 'ml', 'shared', 'public/weather/', 'ReadWrite', false],
    ['beside a granted prefix', 'ml', 'shared', 'private/', 'Read', false],
    ['a grant to another namespace', 'other', 'shared', 'public/', 'Read', false],
    ['a grant to every namespace', 'other', 'datasets', 'open/x/', 'Read', true],
    ['a whole-bucket read-write grant', 'ml', 'ml-models', 'pipelines/ml/w/', 'ReadWrite', true],
    ['".." out of its own prefix', 'ml', 'perennial', 'data/ml/../other/', 'Read', false],
    ['"." segment', 'ml', 'perennial', 'data/ml/./x/', 'Read', false],
    ['an empty segment', 'ml', 'perennial', 'data/ml//x/', 'Read', false],
  ];
  for (const [name, ns, bucket, prefix, need, want] of table) {
    it(name, () => assert.equal(permits(policy, ns, bucket, prefix, need), want));
  }
});

describe('isPlainPrefix', () => {
  const table: Array<[string, boolean]> = [
    ['data/ml/', true], ['data/ml/x.csv', true], ['data/ml/.hidden/', true], ['data/ml/..x/', true],
    ['/data/ml/', false], ['data/../x/', false], ['data/./x/', false], ['data//x/', false], ['data\\x/', false], ['..', false],
  ];
  for (const [prefix, want] of table) it(JSON.stringify(prefix), () => assert.equal(isPlainPrefix(prefix), want));
});

describe('describeGrants', () => {
  it('lists what a namespace may read, its own prefixes first', () => {
    assert.equal(describeGrants(policy, 'ml', 'Read'),
      's3://perennial/pipelines/ml/, s3://perennial/deployments/ml/, s3://perennial/data/ml/, s3://shared/public/, s3://ml-models/, s3://datasets/open/');
  });
  it('lists only read-write grants for writes, and never another namespace\'s', () => {
    assert.equal(describeGrants(policy, 'team-b', 'ReadWrite'), 's3://perennial/pipelines/team-b/, s3://perennial/deployments/team-b/');
  });
});

describe('imageAllowed', () => {
  const prefixes = ['ghcr.io/perennial-dev/perennial-trainer', 'registry.internal/ml/', 'example.com/x:'];
  const table: Array<[string, boolean]> = [
    ['ghcr.io/perennial-dev/perennial-trainer', true],
    ['ghcr.io/perennial-dev/perennial-trainer:0.1.0', true],
    [`ghcr.io/perennial-dev/perennial-trainer@sha256:${'a'.repeat(64)}`, true],
    ['ghcr.io/perennial-dev/perennial-trainer/gpu:1', true],
    ['ghcr.io/perennial-dev/perennial-trainer-evil:1', false],
    ['ghcr.io/perennial-dev/perennial-server:0.1.0', false],
    ['registry.internal/ml/trainer:2', true],
    ['registry.internal/ml/', false],
    ['registry.internal/mlx/trainer:2', false],
    ['example.com/x:1', true],
    ['docker.io/library/busybox', false],
  ];
  for (const [image, want] of table) it(image, () => assert.equal(imageAllowed(image, prefixes), want));
  it('no prefixes allow nothing', () => assert.equal(imageAllowed('anything', []), false));
});

const spec = (edit: Partial<PipelineSpecView> = {}): PipelineSpecView => ({
  data: { sources: [{ prefix: 'data/ml/weather/' }] },
  trainer: { image: 'ghcr.io/perennial-dev/perennial-trainer:0.1.0' },
  ...edit,
});

describe('pipelineDenials', () => {
  const table: Array<[string, PipelineSpecView, RegExp[]]> = [
    ['its own data with an allowed image', spec(), []],
    ['a granted source in another bucket', spec({ data: { sources: [{ bucket: 'shared', prefix: 'public/w/' }] } }), []],
    ['another namespace\'s data', spec({ data: { sources: [{ prefix: 'data/other/' }] } }),
      [/^spec\.data\.sources\[0\]: s3:\/\/perennial\/data\/other\/ is outside what namespace "ml" may read \(s3:\/\/perennial\/pipelines\/ml\/, .*s3:\/\/perennial\/data\/ml\/.*; wider grants are set at install time\)$/]],
    ['the operator\'s whole bucket', spec({ data: { sources: [{ prefix: 'data/ml/' }, { bucket: 'perennial', prefix: 'pipelines/' }] } }),
      [/^spec\.data\.sources\[1\]: s3:\/\/perennial\/pipelines\/ is outside/]],
    ['a bucket nobody granted', spec({ data: { sources: [{ bucket: 'secrets', prefix: 'x/' }] } }), [/^spec\.data\.sources\[0\]: s3:\/\/secrets\/x\/ is outside/]],
    ['a ".." escape', spec({ data: { sources: [{ prefix: 'data/ml/../other/' }] } }), [/spec\.data\.sources\[0\]: prefix "data\/ml\/\.\.\/other\/" has an empty, "\." or "\.\." segment/]],
    ['models in a bucket that is not granted', spec({ storage: { bucket: 'victim' } }),
      [/^spec\.storage\.bucket: bucket "victim" is not granted to namespace "ml" for its models and logs \(pipelines\/ml\/ml-pipeline\/ and deployments\/ml\/, read-write\); it may write s3:\/\/perennial\/pipelines\/ml\/, s3:\/\/perennial\/deployments\/ml\/, s3:\/\/ml-models\/ .*credentialsSecret$/,
        /^spec\.data\.sources\[0\]: s3:\/\/victim\/data\/ml\/weather\/ is outside/]],
    ['models in a granted read-write bucket, data from the default one', spec({ storage: { bucket: 'ml-models' }, data: { sources: [{ bucket: 'perennial', prefix: 'data/ml/' }] } }), []],
    ['models in a read-only granted bucket', spec({ storage: { bucket: 'shared' }, data: { sources: [{ bucket: 'perennial', prefix: 'data/ml/' }] } }),
      [/^spec\.storage\.bucket: bucket "shared" is not granted/]],
    ['an image outside the prefixes', spec({ trainer: { image: 'docker.io/evil/miner:1' } }),
      [/^spec\.trainer\.image: "docker\.io\/evil\/miner:1" is not under the image prefixes this operator runs \(ghcr\.io\/perennial-dev\/perennial-trainer, registry\.internal\/ml\/; set at install time\)$/]],
    ['its own credentials: the store decides about buckets and prefixes', spec({ storage: { bucket: 'anything', credentialsSecret: 'mine' }, data: { sources: [{ bucket: 'other', prefix: 'x/' }] } }), []],
    ['its own credentials do not lift the image rule', spec({ storage: { credentialsSecret: 'mine' }, trainer: { image: 'evil:1' } }), [/^spec\.trainer\.image:/]],
  ];
  for (const [name, s, want] of table) {
    it(name, () => {
      const denied = pipelineDenials(policy, 'ml', 'ml-pipeline', s);
      assert.equal(denied.length, want.length, denied.join('\n'));
      want.forEach((re, i) => assert.match(denied[i] ?? '', re));
    });
  }
});

describe('deploymentDenials and modelUriDenial', () => {
  const server = { server: { image: 'ghcr.io/perennial-dev/perennial-server:0.1.0' } };
  it('an allowed image, a pipeline in the default bucket', () => {
    assert.deepEqual(deploymentDenials(policy, 'ml', server, { name: 'w', storage: undefined }), []);
  });
  it('an image outside the prefixes', () => {
    assert.match(deploymentDenials(policy, 'ml', { server: { image: 'evil/server' } }, undefined)[0] ?? '', /^spec\.server\.image: "evil\/server" is not under/);
  });
  it('following a pipeline whose bucket the namespace may not write', () => {
    assert.match(deploymentDenials(policy, 'team-b', server, { name: 'w', storage: { bucket: 'ml-models' } })[0] ?? '',
      /^spec\.model\.fromPipeline \(TrainingPipeline w's spec\.storage\.bucket\): bucket "ml-models" is not granted to namespace "team-b"/);
  });
  it('following a pipeline with its own credentials', () => {
    assert.deepEqual(deploymentDenials(policy, 'team-b', server, { name: 'w', storage: { bucket: 'ml-models', credentialsSecret: 's' } }), []);
  });
  it('a model of its own namespace', () => {
    assert.deepEqual(modelUriDenial(policy, 'ml', 'perennial', 'pipelines/ml/w/versions/v1/', 'u'), []);
  });
  it('another namespace\'s model', () => {
    assert.match(modelUriDenial(policy, 'ml', 'perennial', 'pipelines/other/w/versions/v1/', 's3://perennial/pipelines/other/w/versions/v1')[0] ?? '',
      /^spec\.model\.uri: s3:\/\/perennial\/pipelines\/other\/w\/versions\/v1 is outside what namespace "ml" may read/);
  });
});

describe('metricSource: Prometheus only as configured at install time', () => {
  const none: TenancyPolicy = { ...policy, prometheusURL: undefined, prometheusAllowedURLs: [] };
  const table: Array<[string, TenancyPolicy, Parameters<typeof metricSource>[1], ReturnType<typeof metricSource> | RegExp]> = [
    ['no provider: the pods', policy, undefined, { kind: 'pods' }],
    ['Pods', policy, { type: 'Pods' }, { kind: 'pods' }],
    ['Prometheus without a URL: the default', policy, { type: 'Prometheus' }, { kind: 'prometheus', url: 'http://prometheus.monitoring:9090' }],
    ['the default named', policy, { type: 'Prometheus', prometheusURL: 'http://prometheus.monitoring:9090/' }, { kind: 'prometheus', url: 'http://prometheus.monitoring:9090' }],
    ['an allowed one', policy, { type: 'Prometheus', prometheusURL: 'https://thanos.monitoring' }, { kind: 'prometheus', url: 'https://thanos.monitoring/' }],
    ['anywhere else', policy, { type: 'Prometheus', prometheusURL: 'http://169.254.169.254/latest' },
      /^spec\.rollout\.analysis\.provider\.prometheusURL: "http:\/\/169\.254\.169\.254\/latest" is not a Prometheus server this operator may query \(http:\/\/prometheus\.monitoring:9090, https:\/\/thanos\.monitoring\/; set at install time\)$/],
    ['a longer path of an allowed one', policy, { type: 'Prometheus', prometheusURL: 'http://prometheus.monitoring:9090/x' }, /is not a Prometheus server/],
    ['Prometheus with none configured', none, { type: 'Prometheus' }, /^spec\.rollout\.analysis\.provider: type Prometheus needs a Prometheus server, and this operator has none configured/],
    ['a URL with none configured', none, { type: 'Prometheus', prometheusURL: 'http://p:9090' }, /\(none is configured; set at install time\)/],
  ];
  for (const [name, p, provider, want] of table) {
    it(name, () => {
      const got = metricSource(p, provider);
      if (want instanceof RegExp) assert.match(got.kind === 'denied' ? got.problem : JSON.stringify(got), want);
      else assert.deepEqual(got, want);
    });
  }
});
