// Comparable keys: a value as one double whose JS order and equality are exactly the type's, where that is possible
// without loss, read straight from Postgres text output (no decoding, no allocation). NaN means "no exact key here":
// the caller then compares the decoded values the ordinary way, so exactness never depends on the key.
//
// Why a double is exact: integers are exact up to 2^53; two distinct decimals of at most 15 significant digits round
// to distinct doubles (15 digits < DBL_DIG's guarantee), and rounding is monotone, so their order survives too; an
// exact integer against such a decimal cannot tie by rounding (the decimal's distance to any integer exceeds its ulp).
// Timestamps are µs as exact integers (within ±285 years of 2000), dates and times are already numbers, floats are
// themselves (NaN, which Postgres orders above everything, has no key). Text has no numeric key (compared as is).
// Unlike the order keys of the index layer (a monotone projection that may merge values), these keys are exact.
import { canonicalTimestampMicros } from './datetime-parse.js';
import { DigitNumeric } from './numeric.js';
import type { NumericValue, PgType, Value } from './types.js';

/** Text → comparable key (NaN when the text is not in the simple canonical form, or the value has no exact key). */
export type Keyer = (raw: string) => number;

/** 10^0 … 10^22: each exact in a double, so `m / POW10[f]` is one correctly rounded division. */
const POW10: readonly number[] = Array.from({ length: 23 }, (_, i) => 10 ** i);
const MAX_SIG = 15;

/** Canonical integer text `-?(0|[1-9]d*)` of at most 15 digits within [lo, hi] → its value; NaN otherwise. */
export function intKey(s: string, lo: number, hi: number): number {
  const n = s.length;
  let i = 0;
  let neg = false;
  if (n > 0 && s.charCodeAt(0) === 45) {
    neg = true;
    i = 1;
  }
  if (n - i < 1 || n - i > MAX_SIG || (s.charCodeAt(i) === 48 && n - i > 1)) return NaN;
  let v = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  if (neg) v = -v;
  return v >= lo && v <= hi ? v : NaN;
}

const int2Key: Keyer = (s) => intKey(s, -32768, 32767);
const int4Key: Keyer = (s) => intKey(s, -2147483648, 2147483647);
const int8Key: Keyer = (s) => intKey(s, -Infinity, Infinity);

/** Canonical numeric text `-?D+(.D+)?` of at most 15 significant digits and 22 fraction digits → nearest double. */
const numericKey: Keyer = (s) => {
  const n = s.length;
  let i = 0;
  let neg = false;
  if (n > 0 && s.charCodeAt(0) === 45) {
    neg = true;
    i = 1;
  }
  if (i >= n) return NaN;
  let m = 0;
  let sig = 0;
  let frac = -1;
  let digits = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (frac >= 0 || digits === 0) return NaN;
      frac = 0;
      continue;
    }
    const d = c - 48;
    if (d < 0 || d > 9) return NaN;
    digits++;
    if (frac >= 0) frac++;
    if (m === 0 && d === 0) continue; // leading zeros are not significant
    if (++sig > MAX_SIG) return NaN;
    m = m * 10 + d;
  }
  if (digits === 0 || frac === 0 || frac > 22) return NaN;
  const v = frac > 0 ? m / (POW10[frac] as number) : m;
  return neg ? -v : v;
};

const timestamptzKey: Keyer = (s) => {
  const n = s.length - 3;
  // Postgres prints a UTC timestamptz with the offset `+00`; other offsets are decoded the ordinary way.
  if (n < 19 || s.charCodeAt(n) !== 43 || s.charCodeAt(n + 1) !== 48 || s.charCodeAt(n + 2) !== 48) return NaN;
  return canonicalTimestampMicros(s, n) ?? NaN;
};

const timestampKey: Keyer = (s) => canonicalTimestampMicros(s, s.length) ?? NaN;

/**
 * The keyer of a column of type `t` (scalars only), or undefined when its values have no comparable key. `decode`
 * is the column's decoder: types that decode to a plain number (floats, date, time) key on the decoded number.
 */
export function keyerFor(t: PgType, decode: (text: string) => Value): Keyer | undefined {
  if (t.array) return undefined;
  switch (t.scalar) {
    case 'int2':
      return int2Key;
    case 'int4':
      return int4Key;
    case 'int8':
      return int8Key;
    case 'numeric':
      // numeric(p,s) input rounds to the column's scale (and may raise): only a plain numeric keys on its text.
      return t.typmod >= 0 ? undefined : numericKey;
    case 'timestamptz':
      return t.typmod >= 0 ? undefined : timestamptzKey;
    case 'timestamp':
      return t.typmod >= 0 ? undefined : timestampKey;
    case 'float4':
    case 'float8':
    case 'date':
    case 'time':
      return t.typmod >= 0 ? undefined : decodedNumber(decode);
    default:
      return undefined;
  }
}

/** Keys on the decoded number (NaN stays NaN: no key); text the decoder rejects has no key (decoded, it raises). */
function decodedNumber(decode: (text: string) => Value): Keyer {
  return (s) => {
    try {
      return decode(s) as number;
    } catch {
      return NaN;
    }
  };
}

/**
 * The comparable key of a constant compared as type `t` (the operator's operand type), NaN when it has none. Keys of
 * a column and a constant are comparable when the column's values widen to `t` exactly (int2/int4/int8 → int8 or
 * numeric) or the column is of type `t`.
 */
export function constantKey(t: PgType, v: Value): number {
  if (t.array || t.typmod >= 0) return NaN;
  switch (t.scalar) {
    case 'int2':
    case 'int4':
    case 'float4':
    case 'float8':
    case 'date':
    case 'time':
      return v as number;
    case 'int8':
    case 'timestamp':
    case 'timestamptz': {
      // Timestamps are bigint µs (finite) or ±Infinity; every finite key above is below 2^53 in magnitude.
      if (typeof v === 'number') return v === Infinity || v === -Infinity ? v : NaN;
      const b = v as bigint;
      return b <= 9007199254740991n && b >= -9007199254740991n ? Number(b) : NaN;
    }
    case 'numeric': {
      const nv = v as NumericValue;
      if (nv.kind === 'inf') return nv.sign * Infinity;
      // A long value (DigitNumeric) has at least 16 significant digits: never an exact double, and no conversion.
      if (
        nv.kind !== 'finite' ||
        nv instanceof DigitNumeric ||
        nv.scale > 22 ||
        nv.coef >= 1000000000000000n ||
        nv.coef <= -1000000000000000n
      )
        return NaN;
      return Number(nv.coef) / (POW10[nv.scale] as number);
    }
    default:
      return NaN;
  }
}
