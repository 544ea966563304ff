// The type model and in-memory value representation shared by every layer above values/.
import type { EnumType } from './enum.js';

/** Scalar Postgres types Switchyard evaluates. `unknown` is the type of an untyped literal before resolution. */
export type ScalarName =
  | 'bool'
  | 'int2'
  | 'int4'
  | 'int8'
  | 'numeric'
  | 'float4'
  | 'float8'
  | 'text'
  | 'varchar'
  | 'bpchar'
  | 'name'
  | 'uuid'
  | 'date'
  | 'time'
  | 'timestamp'
  | 'timestamptz'
  | 'interval'
  | 'bytea'
  | 'jsonb'
  | 'json'
  | 'unknown'
  /** A user-defined enum: `enumType` holds its name and labels; values are label strings. */
  | 'enum'
  /** Any other column type (timetz, inet, money…): usable only with IS [NOT] NULL. `opaqueName` keeps its name. */
  | 'opaque';

/** A (possibly array) Postgres type. Arrays are of scalars only; Postgres arrays have no nested array type. */
export interface PgType {
  readonly scalar: ScalarName;
  readonly array: boolean;
  /** Type modifier as Postgres reports it for the user: char(n)/varchar(n) length, numeric (p,s); -1 when none. */
  readonly typmod: number;
  /** For numeric(p,s): the scale; -1 otherwise. typmod holds the precision for numeric. */
  readonly scale: number;
  /** The name of an opaque type (as given in the schema). */
  readonly opaqueName?: string;
  /** The enum of an `enum` type. */
  readonly enumType?: EnumType;
}

/** Exact decimal: value = coef × 10^-scale, scale ≥ 0; or one of the specials. See values/numeric.ts. */
export type NumericValue =
  | { readonly kind: 'finite'; readonly coef: bigint; readonly scale: number }
  | { readonly kind: 'nan' }
  | { readonly kind: 'inf'; readonly sign: 1 | -1 };

/** Interval as Postgres stores it: months, days and microseconds, kept apart (equality normalises). */
export interface IntervalValue {
  readonly months: number;
  readonly days: number;
  readonly micros: bigint;
}

/** A Postgres array: flattened row-major items with per-dimension lengths and lower bounds. */
export interface ArrayValue {
  /** Lengths per dimension; empty for the empty array `{}`. */
  readonly dims: readonly number[];
  /** Lower bound per dimension (1 unless written `[0:1]=…`). */
  readonly lbounds: readonly number[];
  readonly items: readonly (Value | null)[];
}

/** jsonb value: numbers kept exact as NumericValue; objects with keys in jsonb order, duplicates removed. */
export type JsonbValue =
  | { readonly kind: 'null' }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'number'; readonly value: NumericValue }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'array'; readonly items: readonly JsonbValue[] }
  | { readonly kind: 'object'; readonly entries: readonly (readonly [string, JsonbValue])[] };

/**
 * In-memory value of each type (SQL NULL is JS `null`, never a Value):
 * - bool: boolean
 * - int2, int4: number (integral)
 * - int8: bigint
 * - numeric: NumericValue
 * - float4: number rounded by Math.fround; float8: number
 * - text, varchar, name, json, unknown: string; bpchar: string as stored (padded); enum: the label
 * - uuid: canonical lower-case 8-4-4-4-12 string
 * - bytea: lower-case hex string without the `\x` prefix
 * - date: days since 1970-01-01 as number, or ±Infinity
 * - time: microseconds since midnight as number (0 … 86 400 000 000)
 * - timestamp, timestamptz: microseconds since 1970-01-01 00:00 (UTC for tz) as bigint, or ±Infinity (number)
 * - interval: IntervalValue
 * - jsonb: JsonbValue
 * - arrays: ArrayValue
 */
export type Value = boolean | number | bigint | string | NumericValue | IntervalValue | ArrayValue | JsonbValue;

const CACHE = new Map<string, PgType>();
const ENUM_TYPES = new Map<EnumType, Map<boolean, PgType>>();

/** Interned constructor: equal types are the same object, so `===` works for type equality. */
export function pgType(scalar: ScalarName, array = false, typmod = -1, scale = -1, opaqueName?: string): PgType {
  const key = `${scalar}|${array ? 1 : 0}|${typmod}|${scale}|${opaqueName ?? ''}`;
  let t = CACHE.get(key);
  if (t === undefined) {
    t = opaqueName === undefined ? { scalar, array, typmod, scale } : { scalar, array, typmod, scale, opaqueName };
    CACHE.set(key, t);
  }
  return t;
}

/** The (interned) type of an enum, or of an array of it. */
export function enumPgType(e: EnumType, array = false): PgType {
  let byArray = ENUM_TYPES.get(e);
  if (byArray === undefined) {
    byArray = new Map();
    ENUM_TYPES.set(e, byArray);
  }
  let t = byArray.get(array);
  if (t === undefined) {
    t = { scalar: 'enum', array, typmod: -1, scale: -1, enumType: e };
    byArray.set(array, t);
  }
  return t;
}

function withArray(t: PgType, array: boolean, typmod: number, scale: number): PgType {
  if (t.enumType !== undefined) return enumPgType(t.enumType, array);
  return pgType(t.scalar, array, typmod, scale, t.opaqueName);
}

/** The same type without its modifier (what operators and codecs care about). */
export function baseType(t: PgType): PgType {
  return t.typmod === -1 && t.scale === -1 ? t : withArray(t, t.array, -1, -1);
}

export function elementType(t: PgType): PgType {
  return withArray(t, false, t.typmod, t.scale);
}

export function arrayOf(t: PgType): PgType {
  return withArray(t, true, t.typmod, t.scale);
}

/** Postgres's display name of a type, as used in its error messages (`integer`, `text[]`, `character(5)`). */
export function typeDisplayName(t: PgType): string {
  const base = DISPLAY[t.scalar] ?? t.scalar;
  let name = t.scalar === 'opaque' ? (t.opaqueName ?? 'opaque') : t.enumType !== undefined ? t.enumType.sqlName : base;
  if (t.typmod >= 0) {
    if (t.scalar === 'numeric') name += t.scale >= 0 ? `(${t.typmod},${t.scale})` : `(${t.typmod})`;
    else name += `(${t.typmod})`;
  }
  return t.array ? `${name}[]` : name;
}

const DISPLAY: Partial<Record<ScalarName, string>> = {
  bool: 'boolean',
  int2: 'smallint',
  int4: 'integer',
  int8: 'bigint',
  float4: 'real',
  float8: 'double precision',
  varchar: 'character varying',
  bpchar: 'character',
  time: 'time without time zone',
  timestamp: 'timestamp without time zone',
  timestamptz: 'timestamp with time zone',
};

export type TypeCategory =
  'boolean' | 'numeric' | 'string' | 'datetime' | 'timespan' | 'enum' | 'user' | 'array' | 'unknown';

/** Postgres's type category (pg_type.typcategory), which drives implicit-cast resolution. */
export function typeCategory(t: PgType): TypeCategory {
  if (t.array) return 'array';
  switch (t.scalar) {
    case 'bool':
      return 'boolean';
    case 'int2':
    case 'int4':
    case 'int8':
    case 'numeric':
    case 'float4':
    case 'float8':
      return 'numeric';
    case 'text':
    case 'varchar':
    case 'bpchar':
    case 'name':
      return 'string';
    case 'date':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return 'datetime';
    case 'interval':
      return 'timespan';
    case 'unknown':
      return 'unknown';
    case 'enum':
      return 'enum';
    case 'uuid':
    case 'bytea':
    case 'jsonb':
    case 'json':
    case 'opaque':
      return 'user';
  }
}
