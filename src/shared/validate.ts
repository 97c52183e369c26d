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

  /** The same error one level up: paths are built while unwinding, only on failure. */
  under(segment: string): ValidationError {
    const path = this.path ? (this.path.startsWith('[') ? `${segment}${this.path}` : `${segment}.${this.path}`) : segment;
    return new ValidationError(path, this.expected, this.got);
  }
}

/** Run `parse` for a child; on failure, prefix the child's segment to the error's path. */
function within<T>(segment: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    throw e instanceof ValidationError ? e.under(segment) : e;
  }
}

export interface Schema<T> {
  readonly describe: string;
  /** Returns the value typed, or throws ValidationError naming the bad field's path. */
  parse(value: unknown): T;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  return typeof v;
}

function schema<T>(describeText: string, parse: (value: unknown) => T): Schema<T> {
  return { describe: describeText, parse };
}

export const str = schema<string>('string', (v) => {
  if (typeof v !== 'string') throw new ValidationError('', 'string', v);
  return v;
});

/** A finite number (JSON has no NaN or Infinity). */
export const num = schema<number>('number', (v) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ValidationError('', 'finite number', v);
  return v;
});

export const int = schema<number>('integer', (v) => {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ValidationError('', 'integer', v);
  return v;
});

export const bool = schema<boolean>('boolean', (v) => {
  if (typeof v !== 'boolean') throw new ValidationError('', 'boolean', v);
  return v;
});

export function literal<const L extends string | number>(...values: L[]): Schema<L> {
  const text = values.map((v) => JSON.stringify(v)).join(' | ');
  return schema(text, (v) => {
    if (!values.includes(v as L)) throw new ValidationError('', text, v);
    return v as L;
  });
}

export function nullable<T>(inner: Schema<T>): Schema<T | null> {
  return schema(`${inner.describe} | null`, (v) => (v === null ? null : inner.parse(v)));
}

/** An optional field: absent (or undefined) is allowed. */
export function optional<T>(inner: Schema<T>): Schema<T | undefined> & { optional: true } {
  return {
    ...schema(`${inner.describe}?`, (v) => (v === undefined ? undefined : inner.parse(v))),
    optional: true,
  };
}

export function arr<T>(inner: Schema<T>): Schema<T[]> {
  return schema(`${inner.describe}[]`, (v) => {
    if (!Array.isArray(v)) throw new ValidationError('', 'array', v);
    const out = new Array<T>(v.length);
    for (let i = 0; i < v.length; i++) {
      try {
        out[i] = inner.parse(v[i]);
      } catch (e) {
        throw e instanceof ValidationError ? e.under(`[${i}]`) : e;
      }
    }
    return out;
  });
}

/** A fixed-length array of numbers, e.g. a `[tMs, lagMs]` sample. */
export function tupleOfNumbers<N extends number>(length: N): Schema<number[]> {
  return schema(`[number × ${length}]`, (v) => {
    if (!Array.isArray(v) || v.length !== length) throw new ValidationError('', `array of ${length} numbers`, v);
    for (let i = 0; i < length; i++) {
      const x = v[i];
      if (typeof x !== 'number' || !Number.isFinite(x)) throw new ValidationError(`[${i}]`, 'finite number', x);
    }
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
    ...schema('object', (v) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ValidationError('', 'object', v);
      const out: Record<string, unknown> = { ...(v as Record<string, unknown>) };
      for (const [key, field] of Object.entries(shape)) {
        const parsed = within(key, () => field.parse((v as Record<string, unknown>)[key]));
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
  return schema(`one of ${names.join(', ')}`, (v) => {
    if (typeof v !== 'object' || v === null) throw new ValidationError('', 'object', v);
    const tag = (v as { type?: unknown }).type;
    if (typeof tag !== 'string' || !Object.prototype.hasOwnProperty.call(variants, tag)) {
      throw new ValidationError('type', names.map((n) => JSON.stringify(n)).join(' | '), tag);
    }
    return variants[tag].parse(v) as Infer<V[keyof V]>;
  });
}
