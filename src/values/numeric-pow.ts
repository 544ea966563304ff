// numeric ^ numeric as Postgres 15's numeric_power/power_var: its special cases, result scales and errors.
import { ErrorCode, ValueError, divisionByZero } from '../errors/index.js';
import { divFinite, nbaseLead } from './numeric-arith.js';
import {
  NUMERIC_NAN,
  NUMERIC_NINF,
  NUMERIC_PINF,
  checkNumericRange,
  finite,
  overflowError,
  pow10,
  roundCoefDown,
  roundFinite,
} from './numeric.js';
import type { FiniteNumeric } from './numeric.js';
import type { NumericValue } from './types.js';

const MIN_SIG_DIGITS = 16;
const MAX_DISPLAY_SCALE = 1000;
const MAX_RESULT_SCALE = 2000;
/** Exact integer powers beyond this many coefficient digits switch to the ln/exp evaluation. */
const EXACT_DIGIT_BUDGET = 20000;

const ONE: FiniteNumeric = finite(1n, 0);

function powerError(message: string): ValueError {
  return new ValueError(ErrorCode.EvaluationError, message);
}

function signOf(v: NumericValue): number {
  if (v.kind === 'finite') return v.coef < 0n ? -1 : v.coef > 0n ? 1 : 0;
  return v.kind === 'inf' ? v.sign : 0;
}

function isOne(v: NumericValue, s: 1 | -1 = 1): boolean {
  return v.kind === 'finite' && v.coef === BigInt(s) * pow10(v.scale);
}

function isIntegral(v: FiniteNumeric): boolean {
  return v.scale === 0 || v.coef % pow10(v.scale) === 0n;
}

/** The integer value of an integral finite numeric. */
function intPart(v: FiniteNumeric): bigint {
  return v.scale === 0 ? v.coef : v.coef / pow10(v.scale);
}

function isOddInteger(v: FiniteNumeric): boolean {
  return isIntegral(v) && (intPart(v) & 1n) === 1n;
}

export function numericPow(a: NumericValue, b: NumericValue): NumericValue {
  if (a.kind !== 'finite' || b.kind !== 'finite') return powSpecial(a, b);
  const s1 = signOf(a);
  const s2 = signOf(b);
  if (s1 === 0 && s2 < 0) throw powerError('zero raised to a negative power is undefined');
  return checkNumericRange(powerVar(a, b));
}

/** POSIX pow() rules for NaN and infinite inputs, in Postgres's order of checks. */
function powSpecial(a: NumericValue, b: NumericValue): NumericValue {
  if (a.kind === 'nan') return b.kind === 'finite' && b.coef === 0n ? ONE : NUMERIC_NAN;
  if (b.kind === 'nan') return isOne(a) ? ONE : NUMERIC_NAN;
  const s1 = signOf(a);
  const s2 = signOf(b);
  if (s1 === 0 && s2 < 0) throw powerError('zero raised to a negative power is undefined');
  if (s1 < 0 && b.kind === 'finite' && !isIntegral(b)) {
    throw powerError('a negative number raised to a non-integer power yields a complex result');
  }
  if (isOne(a)) return ONE;
  if (s2 === 0) return ONE;
  if (s1 === 0 && s2 > 0) return finite(0n, 0);
  if (b.kind === 'inf') {
    let absGtOne = true;
    if (a.kind === 'finite') {
      if (isOne(a, -1)) return ONE;
      const c = a.coef < 0n ? -a.coef : a.coef;
      absGtOne = c > pow10(a.scale);
    }
    return absGtOne === s2 > 0 ? NUMERIC_PINF : finite(0n, 0);
  }
  // a is ±Infinity, b finite non-zero.
  if (a.kind === 'inf' && a.sign > 0) return s2 > 0 ? NUMERIC_PINF : finite(0n, 0);
  if (s2 < 0) return finite(0n, 0);
  return b.kind === 'finite' && isOddInteger(b) ? NUMERIC_NINF : NUMERIC_PINF;
}

function powerVar(base: FiniteNumeric, exp: FiniteNumeric): FiniteNumeric {
  if (isIntegral(exp)) {
    const e = intPart(exp);
    if (e >= -2147483648n && e <= 2147483647n) {
      const rscale = Math.min(Math.max(MIN_SIG_DIGITS, base.scale, 0), MAX_DISPLAY_SCALE);
      return powerInt(base, Number(e), rscale);
    }
  }
  // 0 ^ non-integer (or huge integer) is zero at 16 digits; avoids ln(0).
  if (base.coef === 0n) return finite(0n, MIN_SIG_DIGITS);
  let resNeg = false;
  let b = base;
  if (base.coef < 0n) {
    if (!isIntegral(exp)) throw powerError('a negative number raised to a non-integer power yields a complex result');
    resNeg = (intPart(exp) & 1n) === 1n;
    b = finite(-base.coef, base.scale);
  }
  // Postgres picks the result scale from a low-precision estimate of exp·ln(base); we replay that estimate.
  const lnDweight = estimateLnDweight(b);
  const lowScale = Math.max(8 - lnDweight, 0);
  const lnLow = roundCoefDown(lnFixed(b, lowScale + 12), 12);
  const lnNumLow = roundFinite(finite(lnLow * exp.coef, lowScale + exp.scale), lowScale);
  let val = Number(formatFixed(lnNumLow.coef, lnNumLow.scale));
  if (Math.abs(val) > MAX_RESULT_SCALE * 3.01) {
    if (val > 0) throw overflowError();
    return finite(0n, MAX_DISPLAY_SCALE);
  }
  val *= 0.434294481903252;
  let rscale = MIN_SIG_DIGITS - Math.trunc(val);
  rscale = Math.min(Math.max(rscale, b.scale, exp.scale, 0), MAX_DISPLAY_SCALE);
  const r = expOfProduct(b, exp, rscale, val);
  return resNeg && r.coef !== 0n ? finite(-r.coef, r.scale) : r;
}

function formatFixed(coef: bigint, scale: number): string {
  const neg = coef < 0n;
  let s = (neg ? -coef : coef).toString();
  if (scale === 0) return (neg ? '-' : '') + s;
  if (s.length <= scale) s = '0'.repeat(scale - s.length + 1) + s;
  return (neg ? '-' : '') + s.slice(0, s.length - scale) + '.' + s.slice(s.length - scale);
}

/** Postgres's estimate_ln_dweight: the decimal weight of ln(var), used to size the low-precision pass. */
function estimateLnDweight(v: FiniteNumeric): number {
  // 0.9 ≤ v ≤ 1.1: ln(v) ≈ v − 1.
  const c = v.coef;
  const p = pow10(v.scale);
  if (c * 10n >= 9n * p && c * 10n <= 11n * p) {
    const x = c - p;
    if (x === 0n) return 0;
    const ax = x < 0n ? -x : x;
    return ax.toString().length - 1 - v.scale;
  }
  // Otherwise from the first two base-10000 digits.
  const [weight, first] = nbaseLead(v);
  let digits = first;
  let dweight = weight * 4;
  const s = c.toString();
  const e = s.length - 1 - v.scale;
  const count = e - 4 * weight + 1;
  const next = s.slice(count, count + 4);
  if (next.length > 0 && /[1-9]/.test(s.slice(count))) {
    digits = digits * 10000 + Number(next.padEnd(4, '0'));
    dweight -= 4;
  }
  const lnVar = Math.log(digits) + dweight * 2.302585092994046;
  return Math.trunc(Math.log10(Math.abs(lnVar)));
}

// ---------------------------------------------------------------------------------------------------------------
// Fixed-point arithmetic: x is represented by X = x·10^p.

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  // Newton from above: 2^ceil(bits/2) ≥ √n, and the iteration decreases monotonically to ⌊√n⌋.
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** 2·atanh(num/den) at precision p (|num/den| small). */
function atanh2(num: bigint, den: bigint, p: number): bigint {
  const one = pow10(p);
  const z = (num * one) / den;
  const z2 = (z * z) / one;
  let term = z;
  let sum = z;
  for (let k = 3n; ; k += 2n) {
    term = (term * z2) / one;
    const t = term / k;
    if (t === 0n) break;
    sum += t;
  }
  return 2n * sum;
}

const LN10_CACHE = new Map<number, bigint>();
/** ln 10 = 3·ln 2 + ln 1.25, each from a fast atanh series. */
function ln10Fixed(p: number): bigint {
  let v = LN10_CACHE.get(p);
  if (v === undefined) {
    const q = p + 10;
    const ln2 = atanh2(1n, 3n, q);
    const ln125 = atanh2(1n, 9n, q);
    v = (3n * ln2 + ln125) / pow10(10);
    LN10_CACHE.set(p, v);
  }
  return v;
}

/** ln(v) for v > 0 at precision p: v = m·10^k with m ∈ [0.1, 1), then square roots bring m near 1. */
function lnFixed(v: FiniteNumeric, p: number): bigint {
  const q = p + 12;
  const one = pow10(q);
  const s = v.coef.toString();
  const k = s.length - v.scale;
  let m = s.length <= q ? v.coef * pow10(q - s.length) : v.coef / pow10(s.length - q);
  const R = 10;
  for (let i = 0; i < R; i++) m = isqrt(m * one);
  const lnm = atanh2(m - one, m + one, q) << BigInt(R);
  const total = lnm + BigInt(k) * ln10Fixed(q);
  return total / pow10(12);
}

/** e^(exp·ln(base)) rounded half away from zero to rscale digits; `val` is the estimated decimal exponent. */
function expOfProduct(base: FiniteNumeric, exp: FiniteNumeric, rscale: number, val: number): FiniteNumeric {
  const expDigits = (exp.coef < 0n ? -exp.coef : exp.coef).toString().length - exp.scale;
  const k0 = Math.ceil(Math.abs(val)) + 2;
  const p = Math.max(rscale + Math.ceil(val), 0) + 24 + Math.max(expDigits, 0) + String(k0).length;
  const lnb = lnFixed(base, p);
  const y = (lnb * exp.coef) / pow10(exp.scale); // exp·ln(base) at precision p
  const ln10 = ln10Fixed(p);
  const k = divRoundInt(y, ln10);
  const r = y - k * ln10; // |r| ≤ ln(10)/2
  const one = pow10(p);
  const R = 8n;
  const rr = r >> R;
  // Taylor series of e^rr.
  let term = one;
  let sum = one;
  for (let n = 1n; ; n++) {
    term = (term * rr) / (one * n);
    if (term === 0n) break;
    sum += term;
  }
  for (let i = 0n; i < R; i++) sum = (sum * sum) / one;
  // Result = sum/10^p · 10^k.
  const shift = Number(k) + rscale - p;
  const coef = shift >= 0 ? sum * pow10(shift) : roundCoefDown(sum, -shift);
  return finite(coef, rscale);
}

function divRoundInt(a: bigint, b: bigint): bigint {
  const q = a / b;
  const r = a - q * b;
  if (2n * (r < 0n ? -r : r) >= b) return a < 0n ? q - 1n : q + 1n;
  return q;
}

/** power_var_int: integer exponents in int32 range, exact where the digit budget allows. */
function powerInt(base: FiniteNumeric, e: number, rscale: number): FiniteNumeric {
  switch (e) {
    case 0:
      return finite(pow10(rscale), rscale);
    case 1:
      return roundFinite(base, rscale);
    case -1:
      if (base.coef === 0n) throw divisionByZero();
      return divFinite(ONE, base, rscale);
    case 2:
      return roundFinite(finite(base.coef * base.coef, base.scale * 2), rscale);
  }
  if (base.coef === 0n) {
    if (e < 0) throw divisionByZero();
    return finite(0n, rscale);
  }
  // Postgres's crude early overflow/underflow test, from the leading 16 digits of the base.
  const s = (base.coef < 0n ? -base.coef : base.coef).toString();
  const lead = Number(s.slice(0, 17));
  const log10Base = Math.log10(lead) + (s.length - Math.min(s.length, 17)) - base.scale;
  const f = e * log10Base;
  if (f > 3 * 32767 * 4) throw overflowError();
  if (f + 1 < -rscale || f + 1 < -MAX_DISPLAY_SCALE) return finite(0n, rscale);
  const ae = Math.abs(e);
  if (s.length * ae <= EXACT_DIGIT_BUDGET) {
    const p = finite(base.coef ** BigInt(ae), base.scale * ae);
    if (e > 0) return roundFinite(p, rscale);
    return divFinite(ONE, p, rscale);
  }
  const absBase = base.coef < 0n ? finite(-base.coef, base.scale) : base;
  const r = expOfProduct(absBase, finite(BigInt(e), 0), rscale, f);
  return base.coef < 0n && ae % 2 === 1 && r.coef !== 0n ? finite(-r.coef, r.scale) : r;
}
