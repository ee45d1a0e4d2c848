// A small builder for OpenAPI v3 schemas that yields, from one definition, both the TypeScript type and the CRD
// schema (with descriptions, defaults and CEL rules). The CRDs in crds/ are generated from it (scripts/gen-crds.ts)
// and a test fails if they drift, so the types the controllers use and what the API server enforces are one thing.
//
// Types describe objects as the API server stores them: a field with a default is always present.

export interface CelRule {
  readonly rule: string;
  readonly message: string;
  readonly fieldPath?: string;
  readonly reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

export interface JsonSchema {
  type?: 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array';
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema;
  enum?: readonly (string | number)[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  anyOf?: JsonSchema[];
  'x-kubernetes-validations'?: CelRule[];
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
}

/** A schema for values of type T; D records whether it has a default (so the stored field is never absent). */
export class Schema<T, D extends boolean = false> {
  declare readonly _type: T;
  declare readonly _defaulted: D;

  constructor(readonly json: JsonSchema) {}

  /** The API server fills this in when the user leaves it out. */
  default(value: T): Schema<T, true> {
    return new Schema<T, true>({ ...this.json, default: value });
  }

  /** A CEL rule (x-kubernetes-validations) with the message a user sees when it fails. */
  rule(rule: string, message: string, extra: Omit<CelRule, 'rule' | 'message'> = {}): Schema<T, D> {
    const rules = [...(this.json['x-kubernetes-validations'] ?? []), { rule, message, ...extra }];
    return new Schema<T, D>({ ...this.json, 'x-kubernetes-validations': rules });
  }

  with(extra: JsonSchema): Schema<T, D> {
    return new Schema<T, D>({ ...this.json, ...extra });
  }
}

export type Infer<S> = S extends Schema<infer T, boolean> ? T : never;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the widest schema; T only flows out through Infer
type AnySchema = Schema<any, boolean>;
type Props = Record<string, AnySchema>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
type PresentKeys<P extends Props, R extends keyof P> = {
  [K in keyof P]: K extends R ? K : P[K]['_defaulted'] extends true ? K : never;
}[keyof P];
export type ObjectOf<P extends Props, R extends keyof P> = Simplify<
  { [K in PresentKeys<P, R>]: Infer<P[K]> } & { [K in Exclude<keyof P, PresentKeys<P, R>>]?: Infer<P[K]> }
>;

interface StringOpts { minLength?: number; maxLength?: number; pattern?: string; format?: string }
interface NumberOpts { minimum?: number; maximum?: number }
interface ArrayOpts {
  minItems?: number;
  maxItems?: number;
  listType?: 'atomic' | 'set' | 'map';
  mapKeys?: string[];
}

function describe(description: string): JsonSchema {
  if (description.trim() === '') throw new Error('every field needs a description');
  return { description };
}

export const s = {
  string(description: string, opts: StringOpts = {}): Schema<string> {
    return new Schema({ type: 'string', ...describe(description), ...opts });
  },
  integer(description: string, opts: NumberOpts = {}): Schema<number> {
    return new Schema({ type: 'integer', ...describe(description), ...opts });
  },
  number(description: string, opts: NumberOpts = {}): Schema<number> {
    return new Schema({ type: 'number', ...describe(description), ...opts });
  },
  boolean(description: string): Schema<boolean> {
    return new Schema({ type: 'boolean', ...describe(description) });
  },
  enum<const V extends readonly string[]>(description: string, values: V): Schema<V[number]> {
    return new Schema({ type: 'string', ...describe(description), enum: values });
  },
  /** A Kubernetes resource quantity such as 500m, 2Gi or 1. */
  quantity(description: string): Schema<string | number> {
    return new Schema({
      ...describe(description),
      anyOf: [{ type: 'integer' }, { type: 'string' }],
      pattern: '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$',
      'x-kubernetes-int-or-string': true,
    });
  },
  array<I extends AnySchema>(description: string, items: I, opts: ArrayOpts = {}): Schema<Infer<I>[]> {
    const json: JsonSchema = { type: 'array', ...describe(description), items: items.json };
    if (opts.minItems !== undefined) json.minItems = opts.minItems;
    if (opts.maxItems !== undefined) json.maxItems = opts.maxItems;
    if (opts.listType) json['x-kubernetes-list-type'] = opts.listType;
    if (opts.mapKeys) json['x-kubernetes-list-map-keys'] = opts.mapKeys;
    return new Schema(json);
  },
  object<P extends Props, const R extends readonly (keyof P & string)[] = []>(
    description: string,
    properties: P,
    required?: R,
  ): Schema<ObjectOf<P, R[number]>> {
    const json: JsonSchema = { type: 'object', ...describe(description), properties: {} };
    for (const [name, schema] of Object.entries(properties)) {
      (json.properties as Record<string, JsonSchema>)[name] = schema.json;
    }
    if (required && required.length > 0) json.required = [...required];
    return new Schema(json);
  },
  /** A string-keyed map, e.g. labels or a nodeSelector. */
  map<V extends AnySchema>(description: string, values: V, opts: { maxProperties?: number } = {}): Schema<Record<string, Infer<V>>> {
    return new Schema({ type: 'object', ...describe(description), additionalProperties: values.json, ...opts });
  },
  /** Anything, kept as written (for embedded Kubernetes types we pass through untouched). */
  preserve<T>(description: string): Schema<T> {
    return new Schema({ type: 'object', ...describe(description), 'x-kubernetes-preserve-unknown-fields': true });
  },
};

/** Every property at every depth that lacks a description, as JSON paths (for the test that keeps `kubectl explain` useful). */
export function undescribedFields(schema: JsonSchema, path = ''): string[] {
  const out: string[] = [];
  if (!schema.description) out.push(path || '.');
  for (const [name, child] of Object.entries(schema.properties ?? {})) out.push(...undescribedFields(child, `${path}.${name}`));
  if (schema.items) out.push(...undescribedFields(schema.items, `${path}[]`).filter((p) => p !== `${path}[]`));
  if (schema.additionalProperties) {
    out.push(...undescribedFields(schema.additionalProperties, `${path}{}`).filter((p) => p !== `${path}{}`));
  }
  return out;
}
