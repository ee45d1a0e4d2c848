import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { aPipeline } from '../../api/testing/builders.js';
import { NotificationFormatError, parseEvent, pipelinesReading } from './events.js';
import { authorized } from './webhook-server.js';

const record = (bucket: string, key: string) => ({ eventName: 's3:ObjectCreated:Put', s3: { bucket: { name: bucket }, object: { key } } });

describe('parseEvent', () => {
  it('reads bucket and URL-decoded key of every record (MinIO and S3 send the same records)', () => {
    assert.deepEqual(parseEvent({ EventName: 's3:ObjectCreated:Put', Key: 'b/k', Records: [record('b', 'data/ml/a+b%2Cc.csv'), record('b', 'x')] }), [
      { bucket: 'b', key: 'data/ml/a b,c.csv' }, { bucket: 'b', key: 'x' },
    ]);
  });
  const bad: Array<[string, unknown, RegExp]> = [
    ['not an object', [1], /not a JSON object/],
    ['no Records', { EventName: 'x' }, /no Records list/],
    ['a record without its object', { Records: [{ s3: { bucket: { name: 'b' } } }] }, /Records\[0\] has no/],
    ['a key that is not URL-encoded', { Records: [record('b', '%E0%A4%A')] }, /not URL-encoded/],
  ];
  for (const [name, body, message] of bad) {
    it(`refuses ${name}`, () => assert.throws(() => parseEvent(body), (e: unknown) => e instanceof NotificationFormatError && message.test(e.message)));
  }
});

describe('pipelinesReading', () => {
  const withNewData = (name: string, prefix: string, bucket?: string) => aPipeline(name).inNamespace('ml')
    .readingFrom({ prefix, format: 'csv', ...(bucket === undefined ? {} : { bucket }) }).withTriggers({ newData: { minObjects: 1 } }).build();
  const noNewData = aPipeline('schedule-only').inNamespace('ml').readingFrom({ prefix: 'data/ml/a/', format: 'csv' }).build();
  const pipelines = [withNewData('a', 'data/ml/a/'), withNewData('b', 'data/ml/b/'), withNewData('other-bucket', 'data/ml/a/', 'elsewhere'), noNewData];
  const table: Array<[string, Array<{ bucket: string; key: string }>, string[]]> = [
    ['an object under a source prefix in the default bucket', [{ bucket: 'perennial', key: 'data/ml/a/part-1.csv' }], ['a']],
    ['the same key in another bucket', [{ bucket: 'elsewhere', key: 'data/ml/a/part-1.csv' }], ['other-bucket']],
    ['a key under no source', [{ bucket: 'perennial', key: 'data/ml/c/part-1.csv' }], []],
    ['two objects, two pipelines, once each', [{ bucket: 'perennial', key: 'data/ml/a/1' }, { bucket: 'perennial', key: 'data/ml/a/2' }, { bucket: 'perennial', key: 'data/ml/b/1' }], ['a', 'b']],
  ];
  for (const [name, changes, want] of table) {
    it(name, () => assert.deepEqual(pipelinesReading(pipelines, changes, 'perennial').map((k) => k.name), want));
  }
});

describe('authorized', () => {
  const table: Array<[string | undefined, string, boolean]> = [
    ['Bearer s3cret-token-0123456789', 's3cret-token-0123456789', true],
    [undefined, 's3cret-token-0123456789', false],
    ['s3cret-token-0123456789', 's3cret-token-0123456789', false],
    ['Bearer s3cret-token-012345678', 's3cret-token-0123456789', false],
    ['Bearer ', '', false],
  ];
  for (const [header, token, want] of table) {
    it(`${header ?? '(no header)'} → ${want}`, () => assert.equal(authorized(header, token), want));
  }
});
