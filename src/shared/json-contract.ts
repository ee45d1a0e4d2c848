// A small builder for the JSON documents the programs exchange (the trainer config first): one definition gives
// the TypeScript type of the parsed document, the reader that checks a document and names every problem by its
// JSON path, and the JSON Schema (draft 2020-12) published in docs/contracts for tools in other languages.
//
// Reading collects problems instead of stopping at the first, so a bad document is reported whole. An absent
// field is read by what its definition says: required (the type's own message, e.g. "must be a non-empty
// string"), optional (undefined), a default, or orEmpty (an absent object reads as {}, so its fields' defaults
// apply). transform() and check() are the parser's alone: rules JSON Schema cannot express, listed in the contract doc.

export type JsonSchema = Readonly<Record<string, unknown>>;

/** Reads a present value at `path`, adding problems; on a problem it returns a best-effort value. */
type Read<T> = (v: unknown, path: string, problems: string[]) => T;

export class Field<T> {
  declare readonly _type: T;

  /** `absent` reads a missing field; without it the field is required. */
  constructor(readonly json: JsonSchema, readonly read: Read<T>, readonly absent?: (path: string, problems: string[]) => T) {}

  get required(): boolean {
    return this.absent === undefined;
  }

  optional(): Field<T | undefined> {
    return new Field<T | undefined>(this.json, this.read, () => undefined);
  }

  default(value: T): Field<T> {
    return new Field<T>({ ...this.json, default: value }, this.read, () => value);
  }

  /** An absent object or map reads as {} (the fields' own defaults apply); the JSON Schema is unchanged. */
  orEmpty(): Field<T> {
    return new Field<T>(this.json, this.read, (path, problems) => this.read({}, path, problems));
  }

  /** A rule on the read value; `rule` returns problems as full messages. */
  check(rule: (value: T, path: string) => readonly string[]): Field<T> {
    return this.then((value, path, problems) => {
      problems.push(...rule(value, path));
      return value;
    });
  }

  /** The parsed form of the value (e.g. a tagged union); what the document says is unchanged. */
  transform<U>(to: (value: T) => U): Field<U> {
    return this.then((value) => to(value));
  }

  private then<U>(next: (value: T, path: string, problems: string[]) => U): Field<U> {
    const absent = this.absent;
    return new Field<U>(
      this.json,
      (v, path, problems) => next(this.read(v, path, problems), path, problems),
      absent && ((path, problems) => next(absent(path, problems), path, problems)),
    );
  }
}

export type Infer<F> = F extends Field<infer T> ? T : never;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the widest field; T only flows out through Infer
type AnyField = Field<any>;
type Props = Readonly<Record<string, AnyField>>;
type ObjectOf<P extends Props> = { readonly [K in keyof P]: Infer<P[K]> };

function isObject(v: unknown): v is Readonly<Record<string, unknown>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface NumberOpts {
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
}

function number(type: 'number' | 'integer', opts: NumberOpts): Field<number> {
  return new Field<number>({ type, ...opts }, (v, path, problems) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      problems.push(`${path}: must be a number`);
      return 0;
    }
    if (type === 'integer' && !Number.isInteger(v)) problems.push(`${path}: must be an integer`);
    if (opts.minimum !== undefined && v < opts.minimum) problems.push(`${path}: must be ≥ ${opts.minimum}`);
    if (opts.exclusiveMinimum !== undefined && v <= opts.exclusiveMinimum) problems.push(`${path}: must be > ${opts.exclusiveMinimum}`);
    if (opts.maximum !== undefined && v > opts.maximum) problems.push(`${path}: must be ≤ ${opts.maximum}`);
    return v;
  });
}

function readString(v: unknown, path: string, problems: string[]): string {
  if (typeof v !== 'string' || v.length === 0) {
    problems.push(`${path}: must be a non-empty string`);
    return '';
  }
  return v;
}

const namePattern = '^[A-Za-z0-9][A-Za-z0-9._-]*$';

export const c = {
  /** A non-empty string. */
  string(): Field<string> {
    return new Field<string>({ type: 'string', minLength: 1 }, readString);
  },

  /** A name that is safe in an object key: letters, digits, ".", "_" and "-", not starting with a symbol. */
  name(): Field<string> {
    return new Field<string>({ type: 'string', pattern: namePattern }, (v, path, problems) => {
      const s = readString(v, path, problems);
      if (s !== '' && !new RegExp(namePattern).test(s)) problems.push(`${path}: only letters, digits, ".", "_" and "-"`);
      return s;
    });
  },

  /** An ISO-8601 date or date-time, kept as written. */
  time(): Field<string> {
    return new Field<string>({ type: 'string', description: 'ISO-8601 date or date-time' }, (v, path, problems) => {
      const s = readString(v, path, problems);
      if (s !== '' && Number.isNaN(Date.parse(s))) problems.push(`${path}: must be an ISO-8601 date or time`);
      return s;
    });
  },

  literal<const V extends string>(value: V): Field<V> {
    return new Field<V>({ const: value }, (v, path, problems) => {
      if (v !== value) problems.push(`${path}: must be "${value}"`);
      return value;
    });
  },

  enum<const V extends readonly [string, ...string[]]>(values: V): Field<V[number]> {
    return new Field<V[number]>({ enum: values }, (v, path, problems) => {
      if (typeof v !== 'string' || !values.includes(v)) {
        problems.push(`${path}: must be one of ${values.join(', ')}`);
        return values[0];
      }
      return v;
    });
  },

  number(opts: NumberOpts = {}): Field<number> {
    return number('number', opts);
  },

  boolean(): Field<boolean> {
    return new Field<boolean>({ type: 'boolean' }, (v, path, problems) => {
      if (typeof v !== 'boolean') problems.push(`${path}: must be true or false`);
      return v === true;
    });
  },

  integer(opts: NumberOpts = {}): Field<number> {
    return number('integer', opts);
  },

  /** `unique` names an item in the message about a repeated one ("duplicate class"). */
  array<T>(items: Field<T>, opts: { readonly minItems?: number; readonly unique?: string } = {}): Field<readonly T[]> {
    const json = { type: 'array', ...(opts.minItems !== undefined ? { minItems: opts.minItems } : {}), ...(opts.unique !== undefined ? { uniqueItems: true } : {}), items: items.json };
    return new Field<readonly T[]>(json, (v, path, problems) => {
      if (!Array.isArray(v)) {
        problems.push(`${path}: must be an array`);
        return [];
      }
      if (opts.minItems !== undefined && v.length < opts.minItems) problems.push(`${path}: needs at least ${opts.minItems} item(s)`);
      const out = (v as readonly unknown[]).map((x, i) => items.read(x, `${path}[${i}]`, problems));
      if (opts.unique !== undefined && new Set(out).size !== out.length) problems.push(`${path}: duplicate ${opts.unique}`);
      return out;
    });
  },

  /** Unknown fields are problems. `atMostOne`: the fields are alternatives (at most one may be set). */
  object<const P extends Props>(properties: P, opts: { readonly atMostOne?: boolean } = {}): Field<ObjectOf<P>> {
    const names = Object.keys(properties);
    const required = names.filter((k) => properties[k]?.required === true);
    const json = {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(names.map((k) => [k, properties[k]?.json])),
      ...(required.length > 0 ? { required } : {}),
      ...(opts.atMostOne === true ? { maxProperties: 1 } : {}),
    };
    return new Field<ObjectOf<P>>(json, (v, path, problems) => {
      const o = isObject(v) ? v : {};
      if (!isObject(v)) problems.push(`${path}: must be an object`);
      for (const k of Object.keys(o)) if (!names.includes(k)) problems.push(`${path}.${k}: unknown field`);
      if (opts.atMostOne === true && names.filter((k) => o[k] !== undefined).length > 1) problems.push(`${path}: set either ${names.join(' or ')}`);
      const out: Record<string, unknown> = {};
      for (const [k, field] of Object.entries(properties)) {
        const at = `${path}.${k}`;
        out[k] = o[k] === undefined && field.absent !== undefined ? field.absent(at, problems) : field.read(o[k], at, problems);
      }
      return out as ObjectOf<P>;
    });
  },

  /** An object of values under any keys. */
  record<T>(values: Field<T>): Field<Readonly<Record<string, T>>> {
    return new Field<Readonly<Record<string, T>>>({ type: 'object', additionalProperties: values.json }, (v, path, problems) => {
      if (!isObject(v)) {
        problems.push(`${path}: must be an object`);
        return {};
      }
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, values.read(x, `${path}.${k}`, problems)]));
    });
  },

  /** An object of values under some of `keys`: only the keys present are read, others are unknown fields. */
  keyed<const K extends string, T>(keys: readonly K[], values: Field<T>): Field<Readonly<Partial<Record<K, T>>>> {
    const json = { type: 'object', additionalProperties: false, properties: Object.fromEntries(keys.map((k) => [k, values.json])) };
    return new Field<Readonly<Partial<Record<K, T>>>>(json, (v, path, problems) => {
      const out: Partial<Record<K, T>> = {};
      if (!isObject(v)) {
        problems.push(`${path}: must be an object`);
        return out;
      }
      for (const [k, x] of Object.entries(v)) {
        if ((keys as readonly string[]).includes(k)) out[k as K] = values.read(x, `${path}.${k}`, problems);
        else problems.push(`${path}.${k}: unknown field`);
      }
      return out;
    });
  },
};

/** Reads a whole document: the value and every problem found (the value is meaningful only without problems). */
export function readDocument<T>(field: Field<T>, doc: unknown): { readonly value: T; readonly problems: readonly string[] } {
  const problems: string[] = [];
  const value = doc === undefined && field.absent !== undefined ? field.absent('$', problems) : field.read(doc, '$', problems);
  return { value, problems };
}
