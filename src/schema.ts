/**
 * A minimal schema library: each schema checks a value at run time and
 * carries its static type, so a validator and its type cannot drift apart.
 * Used for every message between host and webviews and for every result
 * file read from disk. Free of Node, DOM and vscode imports: it is bundled
 * into the extension host and into the browser bundle alike.
 */

export interface Schema<T> {
  /** Returns null when `v` matches, else a message naming the offending path. */
  readonly check: (v: unknown, at: string) => string | null;
  readonly isOptional?: boolean;
  /** Phantom field carrying the static type; never set at run time. */
  readonly __type?: T;
}
export type Infer<S> = S extends Schema<infer T> ? T : never;

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K]['isOptional'] extends true ? K : never }[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
type ObjectType<S extends Shape> = Simplify<
  { [K in RequiredKeys<S>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> }
>;

/** Caps keep a hostile or buggy peer from making us allocate without bound. */
export const LIMITS = {
  string: 4096,
  path: 4096,
  text: 100_000,
  /** An exported PNG of a large panel, as a data URL. */
  dataUrl: 40 * 1024 * 1024,
  points: 1_000_000,
  list: 10_000,
  bins: 1000,
  tensors: 10_000,
  shapeRank: 8,
} as const;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return typeof v === 'string' ? 'a string' : `${typeof v}`;
}

export const S = {
  string(max: number = LIMITS.string): Schema<string> {
    return {
      check: (v, at) =>
        typeof v !== 'string' ? `${at}: expected a string, got ${describe(v)}` : v.length > max ? `${at}: string longer than ${max}` : null,
    };
  },
  /** A finite number (NaN and ±Infinity do not survive JSON and are refused). */
  number(): Schema<number> {
    return {
      check: (v, at) => (typeof v === 'number' && Number.isFinite(v) ? null : `${at}: expected a finite number, got ${describe(v)}`),
    };
  },
  int(min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): Schema<number> {
    return {
      check: (v, at) =>
        typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
          ? null
          : `${at}: expected a whole number in ${min}..${max}, got ${typeof v === 'number' ? v : describe(v)}`,
    };
  },
  boolean(): Schema<boolean> {
    return { check: (v, at) => (typeof v === 'boolean' ? null : `${at}: expected true or false, got ${describe(v)}`) };
  },
  literal<const L extends string>(value: L): Schema<L> {
    return { check: (v, at) => (v === value ? null : `${at}: expected "${value}"`) };
  },
  oneOf<const L extends readonly string[]>(values: L): Schema<L[number]> {
    return {
      check: (v, at) =>
        typeof v === 'string' && (values as readonly string[]).includes(v) ? null : `${at}: expected one of ${values.join(', ')}`,
    };
  },
  array<T>(item: Schema<T>, max: number = LIMITS.list): Schema<T[]> {
    return {
      check: (v, at) => {
        if (!Array.isArray(v)) return `${at}: expected an array, got ${describe(v)}`;
        if (v.length > max) return `${at}: more than ${max} items`;
        for (let i = 0; i < v.length; i++) {
          const e = item.check(v[i], `${at}[${i}]`);
          if (e) return e;
        }
        return null;
      },
    };
  },
  tuple<A, B>(a: Schema<A>, b: Schema<B>): Schema<[A, B]> {
    return {
      check: (v, at) => {
        if (!Array.isArray(v) || v.length !== 2) return `${at}: expected a pair`;
        return a.check(v[0], `${at}[0]`) ?? b.check(v[1], `${at}[1]`);
      },
    };
  },
  nullable<T>(s: Schema<T>): Schema<T | null> {
    return { check: (v, at) => (v === null ? null : s.check(v, at)) };
  },
  optional<T>(s: Schema<T>): Schema<T> & { readonly isOptional: true } {
    return { check: (v, at) => (v === undefined ? null : s.check(v, at)), isOptional: true };
  },
  /** A plain object with exactly these keys (unknown keys are refused). */
  object<const Sh extends Shape>(shape: Sh): Schema<ObjectType<Sh>> & { readonly shape: Sh } {
    const keys = Object.keys(shape);
    return {
      shape,
      check: (v, at) => {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${at}: expected an object, got ${describe(v)}`;
        const o = v as Record<string, unknown>;
        for (const k of Object.keys(o)) {
          if (!Object.prototype.hasOwnProperty.call(shape, k)) return `${at}: unexpected field "${k}"`;
        }
        for (const k of keys) {
          const s = shape[k];
          if (!(k in o) && !s.isOptional) return `${at}.${k}: missing`;
          const e = s.check(o[k], `${at}.${k}`);
          if (e) return e;
        }
        return null;
      },
    };
  },
  /** A plain object used as a map: any keys (at most `max`), every value matching `value`. */
  record<T>(value: Schema<T>, max: number = LIMITS.list): Schema<Record<string, T>> {
    return {
      check: (v, at) => {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${at}: expected an object, got ${describe(v)}`;
        const keys = Object.keys(v);
        if (keys.length > max) return `${at}: more than ${max} entries`;
        for (const k of keys) {
          const e = value.check((v as Record<string, unknown>)[k], `${at}.${k.slice(0, 60)}`);
          if (e) return e;
        }
        return null;
      },
    };
  },
  /** A union discriminated by `tag`; each variant is an object schema keyed by its tag value. */
  tagged<const K extends string, const V extends Record<string, Schema<unknown>>>(
    tag: K,
    variants: V,
  ): Schema<{ [T in keyof V]: Infer<V[T]> }[keyof V]> & { readonly variants: V } {
    return {
      variants,
      check: (v, at) => {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${at}: expected an object, got ${describe(v)}`;
        const t = (v as Record<string, unknown>)[tag];
        if (typeof t !== 'string' || !Object.prototype.hasOwnProperty.call(variants, t)) {
          return `${at}.${tag}: unknown ${tag} ${typeof t === 'string' ? `"${t.slice(0, 60)}"` : describe(t)}`;
        }
        return variants[t].check(v, at);
      },
    };
  },
};

// ---------------------------------------------------------------------------
// Validation entry points.

export type Validated<T> = { ok: true; value: T } | { ok: false; error: string };

export function validate<T>(schema: Schema<T>, v: unknown, at = 'value'): Validated<T> {
  const e = schema.check(v, at);
  return e === null ? { ok: true, value: v as T } : { ok: false, error: e };
}

/** A short, log-safe preview of an invalid message (never the whole thing: it may be huge). */
export function previewMessage(m: unknown, max = 200): string {
  let s: string;
  try {
    s = JSON.stringify(m) ?? String(m);
  } catch {
    s = String(m);
  }
  return s.length > max ? `${s.slice(0, max)}… (${s.length} chars)` : s;
}
