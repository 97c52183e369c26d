/**
 * A small parse-don't-cast validator. Each schema both checks an unknown value and
 * names its TypeScript type (`Infer<typeof S>`), so every message and report type is
 * written once. Errors carry the JSON path of the first bad field.
 */

export class ValidationError extends Error {
  constructor(readonly path: string, readonly expected: string, readonly got: unknown) {
    super(`${path || '<root>'}: expected ${expected}, got ${describe(got)}`);
    this.name = 'ValidationError';
  }
}

export interface Schema<T> {
  readonly describe: string;
  /** Returns the value typed, or throws ValidationError. */
  parse(value: unknown, path?: string): T;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  return typeof v;
}

function schema<T>(describeText: string, parse: (value: unknown, path: string) => T): Schema<T> {
  return { describe: describeText, parse: (value, path = '') => parse(value, path) };
}

export const str = schema<string>('string', (v, p) => {
  if (typeof v !== 'string') throw new ValidationError(p, 'string', v);
  return v;
});

/** A finite number (JSON has no NaN or Infinity). */
export const num = schema<number>('number', (v, p) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ValidationError(p, 'finite number', v);
  return v;
});

export const int = schema<number>('integer', (v, p) => {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ValidationError(p, 'integer', v);
  return v;
});

export const bool = schema<boolean>('boolean', (v, p) => {
  if (typeof v !== 'boolean') throw new ValidationError(p, 'boolean', v);
  return v;
});

export function literal<const L extends string | number>(...values: L[]): Schema<L> {
  const text = values.map((v) => JSON.stringify(v)).join(' | ');
  return schema(text, (v, p) => {
    if (!values.includes(v as L)) throw new ValidationError(p, text, v);
    return v as L;
  });
}

export function nullable<T>(inner: Schema<T>): Schema<T | null> {
  return schema(`${inner.describe} | null`, (v, p) => (v === null ? null : inner.parse(v, p)));
}

/** An optional field: absent (or undefined) is allowed. */
export function optional<T>(inner: Schema<T>): Schema<T | undefined> & { optional: true } {
  return {
    ...schema(`${inner.describe}?`, (v, p) => (v === undefined ? undefined : inner.parse(v, p))),
    optional: true,
  };
}

export function arr<T>(inner: Schema<T>): Schema<T[]> {
  return schema(`${inner.describe}[]`, (v, p) => {
    if (!Array.isArray(v)) throw new ValidationError(p, 'array', v);
    return v.map((item, i) => inner.parse(item, `${p}[${i}]`));
  });
}

/** A fixed-length array of numbers, e.g. a `[tMs, lagMs]` sample. */
export function tupleOfNumbers<N extends number>(length: N): Schema<number[]> {
  return schema(`[number × ${length}]`, (v, p) => {
    if (!Array.isArray(v) || v.length !== length) throw new ValidationError(p, `array of ${length} numbers`, v);
    for (let i = 0; i < length; i++) num.parse(v[i], `${p}[${i}]`);
    return v as number[];
  });
}

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends { optional: true } ? K : never }[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
export type ObjectOf<S extends Shape> = { [K in RequiredKeys<S>]: Infer<S[K]> } & {
  [K in OptionalKeys<S>]?: Infer<S[K]>;
};

/** An object with known fields; unknown extra fields are kept (readers ignore what they do not know). */
export function obj<S extends Shape>(shape: S): Schema<ObjectOf<S>> & { shape: S } {
  return {
    shape,
    ...schema('object', (v, p) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ValidationError(p, 'object', v);
      const out: Record<string, unknown> = { ...(v as Record<string, unknown>) };
      for (const [key, field] of Object.entries(shape)) {
        const parsed = field.parse((v as Record<string, unknown>)[key], p ? `${p}.${key}` : key);
        if (parsed === undefined) delete out[key];
        else out[key] = parsed;
      }
      return out as ObjectOf<S>;
    }),
  };
}

/** A union tagged by its `type` field, so errors name the variant that failed. */
export function tagged<V extends Record<string, Schema<{ type: string }>>>(
  variants: V,
): Schema<Infer<V[keyof V]>> {
  const names = Object.keys(variants);
  return schema(`one of ${names.join(', ')}`, (v, p) => {
    if (typeof v !== 'object' || v === null) throw new ValidationError(p, 'object', v);
    const tag = (v as { type?: unknown }).type;
    if (typeof tag !== 'string' || !(tag in variants)) {
      throw new ValidationError(p ? `${p}.type` : 'type', names.map((n) => JSON.stringify(n)).join(' | '), tag);
    }
    return variants[tag].parse(v, p) as Infer<V[keyof V]>;
  });
}
