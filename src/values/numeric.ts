// Exact numeric: Postgres 15 text input/output, ordering, canonical keys, rounding and typmod coercion.
import { ErrorCode, ValueError, invalidInput } from '../errors/index.js';
import type { Codec } from './codec.js';
import { isPgSpace } from './integer.js';
import type { NumericValue } from './types.js';
import {
  DigitNumeric,
  numericFromVar,
  pow10,
  varCoefDigits,
  varFromDecimalText,
  varOf,
  varToText,
} from './numeric-digits.js';
import { cmpVar } from './numeric-var.js';

export { DigitNumeric, pow10 };

export type FiniteNumeric = Extract<NumericValue, { kind: 'finite' }>;

export const NUMERIC_NAN: NumericValue = Object.freeze({ kind: 'nan' });
export const NUMERIC_PINF: NumericValue = Object.freeze({ kind: 'inf', sign: 1 });
export const NUMERIC_NINF: NumericValue = Object.freeze({ kind: 'inf', sign: -1 });
export const NUMERIC_ZERO: FiniteNumeric = Object.freeze({ kind: 'finite', coef: 0n, scale: 0 });

/** Postgres limits: dscale ≤ NUMERIC_DSCALE_MAX; weight ≤ NUMERIC_WEIGHT_MAX base-10000 digits before the point. */
const MAX_DSCALE = 16383;
const MAX_INT_DIGITS = (32767 + 1) * 4;

export function finite(coef: bigint, scale: number): FiniteNumeric {
  return { kind: 'finite', coef, scale };
}

export function overflowError(): ValueError {
  return new ValueError(ErrorCode.OutOfRange, 'value overflows numeric format');
}

/** Raises Postgres's "value overflows numeric format" when a result leaves numeric's storable range. */
export function checkNumericRange(v: FiniteNumeric): FiniteNumeric {
  if (v.scale > MAX_DSCALE) throw overflowError();
  if (v.coef !== 0n && decimalDigits(v.coef) - v.scale > MAX_INT_DIGITS) throw overflowError();
  return v;
}

const LOG10_2 = Math.log10(2);

/**
 * The number of decimal digits of |c| (c ≠ 0) without a decimal conversion, which is quadratic-ish on 100,000-digit
 * values: from the bit length, and one comparison with a power of ten when the bit length leaves two candidates.
 */
export function decimalDigits(c: bigint): number {
  const a = c < 0n ? -c : c;
  if (a < 9007199254740992n) return String(a).length;
  const hex = a.toString(16);
  const bits = (hex.length - 1) * 4 + parseInt(hex[0] as string, 16).toString(2).length;
  // 2^(bits−1) ≤ a < 2^bits
  const lo = Math.floor((bits - 1) * LOG10_2) + 1;
  const hi = Math.floor(bits * LOG10_2) + 1;
  if (lo === hi) return lo;
  return a >= pow10(lo) ? hi : lo;
}

function absDigits(c: bigint): string {
  return (c < 0n ? -c : c).toString();
}

// ---------------------------------------------------------------------------------------------------------------
// Input

/**
 * numeric_in: whitespace, sign, digits with one optional point, optional exponent; or NaN / [+-]Infinity /
 * [+-]inf in any case. The display scale is the number of digits after the point minus the exponent (≥ 0).
 */
export function parseNumeric(text: string): NumericValue {
  const n = text.length;
  let i = 0;
  while (i < n && isPgSpace(text.charCodeAt(i))) i++;
  const start = i;
  let end = n;
  while (end > i && isPgSpace(text.charCodeAt(end - 1))) end--;
  let neg = false;
  let c = text.charCodeAt(i);
  if (c === 43 || c === 45) {
    neg = c === 45;
    i++;
  }
  // Fast path: accumulate up to 15 digits in a double, which stays exact.
  const intStart = i;
  let small = 0;
  let nd = 0;
  let frac = 0;
  let sawPoint = false;
  let pointAt = -1;
  let sawDigit = false;
  for (; i < end; i++) {
    c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      sawDigit = true;
      if (sawPoint) frac++;
      if (nd < 15) small = small * 10 + (c - 48);
      nd++;
    } else if (c === 46 && !sawPoint) {
      sawPoint = true;
      pointAt = i;
    } else break;
  }
  if (!sawDigit) {
    if (!sawPoint) {
      const special = parseSpecial(text.slice(intStart, end), neg, intStart > start);
      if (special !== null) return special;
    }
    throw invalidInput('numeric', text);
  }
  const mantissaEnd = i;
  let exp = 0;
  if (i < end) {
    if (c !== 101 && c !== 69) throw invalidInput('numeric', text);
    i++;
    let eneg = false;
    c = text.charCodeAt(i);
    if (c === 43 || c === 45) {
      eneg = c === 45;
      i++;
    }
    const estart = i;
    let e = 0;
    for (; i < end; i++) {
      c = text.charCodeAt(i);
      if (c < 48 || c > 57) throw invalidInput('numeric', text);
      if (e < 1e9) e = e * 10 + (c - 48);
    }
    if (i === estart) throw invalidInput('numeric', text);
    // Postgres rejects exponents beyond ±(INT_MAX / 2) as syntax errors.
    if (e >= 1073741823) throw invalidInput('numeric', text);
    exp = eneg ? -e : e;
  }
  // Common case (record text): at most 15 digits and no exponent is always in range; skip the digit count.
  if (nd <= 15 && exp === 0) return finite(BigInt(neg ? -small : small), frac);
  const rawScale = frac - exp;
  const scale = Math.max(rawScale, 0);
  // Postgres's range test on input: the display scale, and the digits left of the point.
  if (scale > MAX_DSCALE) throw overflowError();
  const lead = leadingDigitPosition(text, intStart, mantissaEnd, pointAt);
  if (lead !== undefined && lead + exp > MAX_INT_DIGITS) throw overflowError();
  // Long values go straight to base-10000 digits, four characters a digit, with no bigint in between.
  return numericFromVar(varFromDecimalText(text, intStart, mantissaEnd, pointAt, exp, neg, scale));
}

/**
 * The number of digits left of the point, leading zeros not counted (≤ 0 for a fraction: minus the zeros after
 * the point before its first non-zero digit), in the mantissa text[from, to); undefined when it is zero.
 */
function leadingDigitPosition(text: string, from: number, to: number, pointAt: number): number | undefined {
  const end = pointAt < 0 ? to : pointAt;
  let k = from;
  while (k < end && text.charCodeAt(k) === 48) k++;
  if (k < end) return end - k;
  let f = end + 1;
  while (f < to && text.charCodeAt(f) === 48) f++;
  return f < to ? -(f - end - 1) : undefined;
}

function parseSpecial(word: string, neg: boolean, signed: boolean): NumericValue | null {
  const w = word.toLowerCase();
  if (w === 'nan') return signed ? null : NUMERIC_NAN;
  if (w === 'infinity' || w === 'inf') return neg ? NUMERIC_NINF : NUMERIC_PINF;
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// Output, ordering, keys

/** numeric_out: plain notation with exactly `scale` fraction digits. */
export function formatNumeric(v: NumericValue): string {
  if (v.kind === 'nan') return 'NaN';
  if (v.kind === 'inf') return v.sign > 0 ? 'Infinity' : '-Infinity';
  if (v instanceof DigitNumeric) return varToText(v.var);
  const { coef, scale } = v;
  if (scale === 0) return coef.toString();
  let s = absDigits(coef);
  if (s.length <= scale) s = '0'.repeat(scale - s.length + 1) + s;
  const cut = s.length - scale;
  return (coef < 0n ? '-' : '') + s.slice(0, cut) + '.' + s.slice(cut);
}

/** Rank of the kind in Postgres's numeric order: -Infinity < finite < Infinity < NaN. */
function rank(v: NumericValue): number {
  return v.kind === 'finite' ? 0 : v.kind === 'nan' ? 2 : v.sign;
}

export function compareNumeric(a: NumericValue, b: NumericValue): number {
  if (a.kind === 'finite' && b.kind === 'finite') return compareFinite(a, b);
  const ra = rank(a);
  const rb = rank(b);
  return ra < rb ? -1 : ra > rb ? 1 : 0;
}

export function compareFinite(a: FiniteNumeric, b: FiniteNumeric): number {
  if (a instanceof DigitNumeric || b instanceof DigitNumeric) return compareLong(a, b);
  let x = a.coef;
  let y = b.coef;
  if (a.scale !== b.scale) {
    // Signs decide first, which avoids scaling in the common mixed-sign case.
    const sx = x < 0n ? -1 : x > 0n ? 1 : 0;
    const sy = y < 0n ? -1 : y > 0n ? 1 : 0;
    if (sx !== sy) return sx < sy ? -1 : 1;
    if (a.scale < b.scale) x *= pow10(b.scale - a.scale);
    else y *= pow10(a.scale - b.scale);
  }
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Order with a long operand: by sign and decimal exponent when they differ (no conversion), else digit by digit. */
function compareLong(a: FiniteNumeric, b: FiniteNumeric): number {
  const sa = finiteSign(a);
  const sb = finiteSign(b);
  if (sa !== sb || sa === 0) return sa < sb ? -1 : sa > sb ? 1 : 0;
  const ea = leadingExponent(a);
  const eb = leadingExponent(b);
  if (ea !== eb) return (ea < eb ? -1 : 1) * sa;
  return cmpVar(varOf(a), varOf(b));
}

/** The sign of a finite value (−1, 0, 1) without converting a long one. */
export function finiteSign(v: FiniteNumeric): number {
  if (v instanceof DigitNumeric) return v.var.sign;
  return v.coef < 0n ? -1 : v.coef > 0n ? 1 : 0;
}

export function numericEquals(a: NumericValue, b: NumericValue): boolean {
  return compareNumeric(a, b) === 0;
}

/** The value with trailing fraction zeros removed (the canonical form of its equality class). */
export function stripTrailingZeros(v: FiniteNumeric): FiniteNumeric {
  if (v instanceof DigitNumeric) return parseNumeric(String(longKey(varToText(v.var)))) as FiniteNumeric;
  let { coef, scale } = v;
  if (scale === 0) return v;
  if (coef === 0n) return NUMERIC_ZERO;
  while (scale > 0 && coef % 10n === 0n) {
    coef /= 10n;
    scale--;
  }
  return scale === v.scale ? v : finite(coef, scale);
}

/**
 * Canonical equality key: integral values are a number while exactly representable, else their decimal
 * string — the same convention as int8Key, so equal integers and numerics share keys.
 */
export function numericKey(v: NumericValue): string | number {
  if (v.kind !== 'finite') return formatNumeric(v);
  if (v instanceof DigitNumeric) return longKey(varToText(v.var));
  const s = stripTrailingZeros(v);
  if (s.scale === 0) {
    const c = s.coef;
    return c >= -9007199254740991n && c <= 9007199254740991n ? Number(c) : c.toString();
  }
  return formatNumeric(s);
}

/** numericKey of a long value from its text: trailing fraction zeros off; integers as numbers while exact. */
function longKey(text: string): string | number {
  let s = text;
  if (s.includes('.')) {
    let end = s.length;
    while (s.charCodeAt(end - 1) === 48) end--;
    if (s.charCodeAt(end - 1) === 46) end--;
    s = s.slice(0, end);
  }
  if (s.includes('.')) return s;
  const digits = s.length - (s.charCodeAt(0) === 45 ? 1 : 0);
  if (digits < 16) return Number(s);
  if (digits === 16) {
    const b = BigInt(s);
    if (b >= -9007199254740991n && b <= 9007199254740991n) return Number(b);
  }
  return s;
}

/** Decimal digits of a finite value's coefficient (0 for zero), without converting a long value. */
export function coefficientDigits(v: FiniteNumeric): number {
  if (v instanceof DigitNumeric) return varCoefDigits(v.var);
  return v.coef === 0n ? 0 : decimalDigits(v.coef);
}

// ---------------------------------------------------------------------------------------------------------------
// Rounding and typmod

/** Divides coef by 10^k rounding half away from zero (Postgres's round_var). */
export function roundCoefDown(coef: bigint, k: number): bigint {
  if (k <= 0) return coef * pow10(-k);
  const d = pow10(k);
  const q = coef / d;
  const r = coef - q * d;
  const r2 = (r < 0n ? -r : r) * 2n;
  if (r2 >= d) return coef < 0n ? q - 1n : q + 1n;
  return q;
}

/** Sets the value to `scale` fraction digits, rounding half away from zero; negative scales round left of the point. */
export function numericRound(v: NumericValue, scale: number): NumericValue {
  if (v.kind !== 'finite') return v;
  return roundFinite(v, scale);
}

export function roundFinite(v: FiniteNumeric, scale: number): FiniteNumeric {
  if (scale >= v.scale) return scale === v.scale ? v : finite(v.coef * pow10(scale - v.scale), scale);
  if (scale >= 0) return finite(roundCoefDown(v.coef, v.scale - scale), scale);
  const c = roundCoefDown(v.coef, v.scale - scale);
  return finite(c * pow10(-scale), 0);
}

/** Decimal exponent of the leading digit of a non-zero value: floor(log10(|v|)). */
export function leadingExponent(v: FiniteNumeric): number {
  return coefficientDigits(v) - 1 - v.scale;
}

/** Coercion to numeric(precision, scale): round to the scale, then require fewer than precision − scale integer digits. */
export function numericApplyTypmod(v: NumericValue, precision: number, scale: number): NumericValue {
  if (v.kind === 'nan') return v;
  if (v.kind === 'inf') throw new ValueError(ErrorCode.OutOfRange, 'numeric field overflow');
  const r = roundFinite(v, scale);
  if (r.coef !== 0n && leadingExponent(r) + 1 > precision - scale) {
    throw new ValueError(ErrorCode.OutOfRange, 'numeric field overflow');
  }
  return r;
}

export { numericAdd, numericSub, numericMul, numericDiv, numericMod, numericAbs, numericNeg } from './numeric-arith.js';
export { numericPow } from './numeric-pow.js';

export const numericCodec: Codec<NumericValue> = {
  parse: parseNumeric,
  format: formatNumeric,
  compare: compareNumeric,
  equals: numericEquals,
  key: numericKey,
};
