import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { c, readDocument, type Field } from './json-contract.js';

function read<T>(field: Field<T>, v: unknown): { value: T; problems: readonly string[] } {
  return readDocument(field, v);
}

describe('json-contract fields', () => {
  const cases: { name: string; field: Field<unknown>; value: unknown; want: unknown; problems?: readonly string[] }[] = [
    { name: 'a string', field: c.string(), value: 'x', want: 'x' },
    { name: 'an empty string', field: c.string(), value: '', want: '', problems: ['$: must be a non-empty string'] },
    { name: 'a name', field: c.name(), value: 'run-1.a_b', want: 'run-1.a_b' },
    { name: 'a name with a slash', field: c.name(), value: 'a/b', want: 'a/b', problems: ['$: only letters, digits, ".", "_" and "-"'] },
    { name: 'a time', field: c.time(), value: '2015-01-01', want: '2015-01-01' },
    { name: 'not a time', field: c.time(), value: 'yesterday', want: 'yesterday', problems: ['$: must be an ISO-8601 date or time'] },
    { name: 'a literal', field: c.literal('v1'), value: 'v1', want: 'v1' },
    { name: 'another literal', field: c.literal('v1'), value: 'v0', want: 'v1', problems: ['$: must be "v1"'] },
    { name: 'an enum value', field: c.enum(['a', 'b']), value: 'b', want: 'b' },
    { name: 'not an enum value', field: c.enum(['a', 'b']), value: 'c', want: 'a', problems: ['$: must be one of a, b'] },
    { name: 'a number in range', field: c.number({ minimum: 0, maximum: 1 }), value: 0.5, want: 0.5 },
    { name: 'a number below', field: c.number({ minimum: 0 }), value: -1, want: -1, problems: ['$: must be ≥ 0'] },
    { name: 'a number above', field: c.number({ maximum: 1 }), value: 2, want: 2, problems: ['$: must be ≤ 1'] },
    { name: 'a number at an exclusive minimum', field: c.number({ exclusiveMinimum: 0 }), value: 0, want: 0, problems: ['$: must be > 0'] },
    { name: 'not a number', field: c.number(), value: '1', want: 0, problems: ['$: must be a number'] },
    { name: 'an infinite number', field: c.number(), value: Infinity, want: 0, problems: ['$: must be a number'] },
    { name: 'a fraction for an integer', field: c.integer(), value: 1.5, want: 1.5, problems: ['$: must be an integer'] },
    { name: 'an array', field: c.array(c.integer()), value: [1, 2], want: [1, 2] },
    { name: 'a short array', field: c.array(c.integer(), { minItems: 2 }), value: [1], want: [1], problems: ['$: needs at least 2 item(s)'] },
    { name: 'a bad item', field: c.array(c.integer()), value: [1, 'x'], want: [1, 0], problems: ['$[1]: must be a number'] },
    { name: 'a repeated item', field: c.array(c.string(), { unique: 'class' }), value: ['a', 'a'], want: ['a', 'a'], problems: ['$: duplicate class'] },
    { name: 'not an array', field: c.array(c.string()), value: 'a', want: [], problems: ['$: must be an array'] },
    { name: 'a record', field: c.record(c.number()), value: { a: 1 }, want: { a: 1 } },
    { name: 'a record with a bad value', field: c.record(c.number()), value: { a: 'x' }, want: { a: 0 }, problems: ['$.a: must be a number'] },
    { name: 'keyed values', field: c.keyed(['a', 'b'], c.number()), value: { b: 1 }, want: { b: 1 } },
    { name: 'an unknown key', field: c.keyed(['a', 'b'], c.number()), value: { z: 1 }, want: {}, problems: ['$.z: unknown field'] },
    { name: 'an object', field: c.object({ a: c.string(), b: c.number().optional(), d: c.number().default(7) }), value: { a: 'x' }, want: { a: 'x', b: undefined, d: 7 } },
    {
      name: 'an object with an unknown and a missing field', field: c.object({ a: c.string() }), value: { z: 1 }, want: { a: '' },
      problems: ['$.z: unknown field', '$.a: must be a non-empty string'],
    },
    { name: 'not an object', field: c.object({ a: c.string().optional() }), value: [], want: { a: undefined }, problems: ['$: must be an object'] },
    { name: 'alternatives, one set', field: c.object({ x: c.number().optional(), y: c.number().optional() }, { atMostOne: true }), value: { y: 1 }, want: { x: undefined, y: 1 } },
    {
      name: 'alternatives, both set', field: c.object({ x: c.number().optional(), y: c.number().optional() }, { atMostOne: true }), value: { x: 1, y: 1 }, want: { x: 1, y: 1 },
      problems: ['$: set either x or y'],
    },
  ];
  for (const t of cases) {
    it(`reads ${t.name}`, () => {
      const got = read(t.field, t.value);
      assert.deepEqual(got.value, t.want);
      assert.deepEqual(got.problems, t.problems ?? []);
    });
  }

  it('reads an absent field by its definition: required, optional, default, or as an empty object', () => {
    const inner = c.object({ n: c.integer().default(3) });
    const f = c.object({ req: c.string(), opt: c.string().optional(), def: c.string().default('d'), empty: inner.orEmpty(), gone: inner.optional() });
    assert.deepEqual(read(f, {}), { value: { req: '', opt: undefined, def: 'd', empty: { n: 3 }, gone: undefined }, problems: ['$.req: must be a non-empty string'] });
  });

  it('checks and transforms the read value, also when it was absent', () => {
    const f = c.object({ n: c.integer().default(0).check((n, path) => (n > 5 ? [`${path}: too big`] : [])).transform((n) => n * 2) });
    assert.deepEqual(read(f, { n: 6 }), { value: { n: 12 }, problems: ['$.n: too big'] });
    assert.deepEqual(read(f, {}), { value: { n: 0 }, problems: [] });
  });

  it('writes the JSON Schema of the definition: required fields, defaults, bounds; no parser-only rule', () => {
    const f = c.object({
      name: c.name(),
      kind: c.enum(['a', 'b']).default('a'),
      size: c.integer({ minimum: 1 }).check(() => []).transform(String).optional(),
      tags: c.array(c.string(), { minItems: 1, unique: 'tag' }).optional(),
      limits: c.keyed(['cpu'], c.number()).orEmpty(),
      extra: c.record(c.time()).orEmpty(),
      pick: c.object({ x: c.number().optional(), y: c.number().optional() }, { atMostOne: true }).optional(),
    });
    assert.deepEqual(f.json, {
      type: 'object',
      additionalProperties: false,
      properties: {
        name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' },
        kind: { enum: ['a', 'b'], default: 'a' },
        size: { type: 'integer', minimum: 1 },
        tags: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', minLength: 1 } },
        limits: { type: 'object', additionalProperties: false, properties: { cpu: { type: 'number' } } },
        extra: { type: 'object', additionalProperties: { type: 'string', description: 'ISO-8601 date or date-time' } },
        pick: { type: 'object', additionalProperties: false, properties: { x: { type: 'number' }, y: { type: 'number' } }, maxProperties: 1 },
      },
      required: ['name'],
    });
  });
});
