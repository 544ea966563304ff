// Postgres 15's NumericVar arithmetic (base-10000 digits, numeric.c's rounding and truncation rules), digit for digit.
import { ErrorCode, ValueError, divisionByZero } from '../errors/index.js';
import { chargeWork } from './work-budget.js';
import {
  DEC_DIGITS,
  NBASE,
  makeVar,
  numericFromVar,
  pow10,
  stripVar,
  varFromDecimalText,
  varOf,
  varToText,
  zeroVar,
} from './numeric-digits.js';
import type { NumVar } from './numeric-digits.js';
import type { FiniteNumeric } from './numeric.js';

// The approximate routines (mul_var's truncation, div_var_fast) are reproduced exactly: Postgres's power, exp and
// ln results depend on their last-digit behaviour.
export { DEC_DIGITS, NBASE, makeVar, stripVar, zeroVar };
export type { NumVar };

/** Work charged per decimal digit converted between bigint and digits, at least (small conversions). */
const CONVERSION_UNITS_PER_DIGIT = 50;

/**
 * Work units for converting a bigint of `digits` decimal digits to text (`toString`) or, with `parse`, from text.
 * V8's conversions are subquadratic but not linear: measured on the 2-core EPYC (best of 3, warm), `toString` costs
 * 18, 53, 151 and 228 ns a digit at 1k, 10k, 100k and 400k digits, parsing 8, 19, 61 and 90: about 0.8 · d^0.46 and
 * 0.3 · d^0.46 ns a digit. A flat rate under-counted a 100,000-digit power's conversions 3–5×, so a compile that
 * used up its budget had held the thread for twice its budget.
 */
function conversionUnits(digits: number, parse = false): number {
  const perDigit = (parse ? 0.3 : 0.8) * digits ** 0.46;
  return Math.ceil(digits * (parse ? perDigit : Math.max(CONVERSION_UNITS_PER_DIGIT, perDigit)));
}
const HALF_NBASE = 5000;
const MUL_GUARD_DIGITS = 2;
const DIV_GUARD_DIGITS = 4;
const ROUND_POWERS = [0, 1000, 100, 10];
const INT_MAX = 2147483647;

export function copyVar(v: NumVar): NumVar {
  return { sign: v.sign, weight: v.weight, dscale: v.dscale, digits: v.digits.slice() };
}

/** An integer constant (|n| < NBASE^2) as a NumericVar with dscale 0. */
export function intVar(n: number): NumVar {
  if (n === 0) return zeroVar(0);
  const a = Math.abs(n);
  const digits = a >= NBASE ? [Math.floor(a / NBASE), a % NBASE] : [a];
  const v = makeVar(n < 0 ? -1 : 1, digits.length - 1, 0, digits);
  stripVar(v);
  return v;
}

// ---------------------------------------------------------------------------------------------------------------
// Conversion to and from FiniteNumeric

/** The digits of a finite value. Shared with a long value: the routines below copy before changing a var. */
export function varFromFinite(v: FiniteNumeric): NumVar {
  return varOf(v);
}

/** The value at its display scale (digits beyond dscale are dropped, as get_str_from_var does). */
export function finiteFromVar(v: NumVar): FiniteNumeric {
  return numericFromVar(v);
}

/** Base-NBASE digits of a decimal digit string, grouped from the right (the first group may be short). */
function digitsOfString(s: string): number[] {
  const len = s.length;
  const n = Math.ceil(len / DEC_DIGITS);
  const digits = new Array<number>(n);
  let pos = len - n * DEC_DIGITS; // ≤ 0: the missing leading characters count as zeros
  for (let i = 0; i < n; i++) {
    let d = 0;
    for (let k = 0; k < DEC_DIGITS; k++, pos++) d = d * 10 + (pos >= 0 ? s.charCodeAt(pos) - 48 : 0);
    digits[i] = d;
  }
  return digits;
}

/** The decimal digits of `digits` (4 per NBASE digit, zero-padded). */
function digitString(digits: readonly number[]): string {
  // Written as bytes: this conversion runs on every long multiplication, and joining strings was its main cost.
  const buf = Buffer.allocUnsafe(digits.length * DEC_DIGITS);
  let p = 0;
  for (const d of digits) {
    buf[p++] = 48 + Math.floor(d / 1000);
    buf[p++] = 48 + (Math.floor(d / 100) % 10);
    buf[p++] = 48 + (Math.floor(d / 10) % 10);
    buf[p++] = 48 + (d % 10);
  }
  return buf.toString('latin1');
}

/** numericvar_to_double_no_overflow: the value printed at its dscale (truncated) and read back by strtod. */
export function varToDouble(v: NumVar): number {
  return Number(varToText(v));
}

/** A non-negative bigint as the digits of a var whose last digit has weight `lowWeight`. */
function varFromBigInt(x: bigint, lowWeight: number, sign: 1 | -1, dscale: number): NumVar {
  if (x === 0n) return zeroVar(dscale);
  let digits: number[];
  if (x <= MAX_SAFE) {
    // Small values (most intermediate results of ln, exp and sqrt) split by double arithmetic, no text.
    digits = [];
    for (let n = Number(x); n > 0; n = Math.floor(n / NBASE)) digits.push(n % NBASE);
    digits.reverse();
  } else {
    const text = x.toString();
    chargeWork(conversionUnits(text.length));
    digits = digitsOfString(text);
  }
  return makeVar(sign, lowWeight + digits.length - 1, dscale, digits);
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const NBASE3 = BigInt(NBASE ** 3);
/** Up to this many digits a bigint is assembled three digits (< 10^12, exact in a double) at a time, no text. */
const CHUNKED_DIGITS = 48;

/** The integer of digits[0, count) (missing digits are zero). */
function digitsInt(d: readonly number[], count = d.length): bigint {
  if (count > CHUNKED_DIGITS) {
    const ds = d.length >= count ? d.slice(0, count) : d.concat(new Array<number>(count - d.length).fill(0));
    chargeWork(conversionUnits(DEC_DIGITS * count, true));
    return BigInt(digitString(ds));
  }
  const at = (i: number): number => (i < d.length ? (d[i] as number) : 0);
  // A first chunk of count % 3 digits, then whole chunks.
  let i = 0;
  let head = 0;
  for (; i < count % 3; i++) head = head * NBASE + at(i);
  let acc = BigInt(head);
  for (; i < count; i += 3) acc = acc * NBASE3 + BigInt((at(i) * NBASE + at(i + 1)) * NBASE + at(i + 2));
  return acc;
}

/** The first `count` digits of v as an integer (missing digits are zero). */
function leadingInt(v: NumVar, count: number): bigint {
  return digitsInt(v.digits, count);
}

function pow10000(k: number): bigint {
  return pow10(DEC_DIGITS * k);
}

// ---------------------------------------------------------------------------------------------------------------
// Normalisation: round_var, trunc_var, strip_var

/** round_var: half away from zero at rscale decimal digits (rscale < 0 rounds left of the point). */
export function roundVar(v: NumVar, rscale: number): void {
  v.dscale = rscale;
  let di = (v.weight + 1) * DEC_DIGITS + rscale;
  if (di < 0) {
    v.digits = [];
    v.weight = 0;
    v.sign = 1;
    return;
  }
  let ndigits = Math.floor((di + DEC_DIGITS - 1) / DEC_DIGITS);
  di %= DEC_DIGITS;
  const d = v.digits;
  if (!(ndigits < d.length || (ndigits === d.length && di > 0))) return;
  let carry: number;
  if (di === 0) carry = (d[ndigits] as number) >= HALF_NBASE ? 1 : 0;
  else {
    let p = ROUND_POWERS[di] as number;
    ndigits--;
    const extra = (d[ndigits] as number) % p;
    d[ndigits] = (d[ndigits] as number) - extra;
    carry = 0;
    if (extra >= p / 2) {
      p += d[ndigits] as number;
      if (p >= NBASE) {
        p -= NBASE;
        carry = 1;
      }
      d[ndigits] = p;
    }
    ndigits++;
  }
  d.length = ndigits;
  let i = ndigits - (di === 0 ? 0 : 1);
  while (carry) {
    i--;
    if (i < 0) {
      d.unshift(1);
      v.weight++;
      break;
    }
    const c = (d[i] as number) + carry;
    if (c >= NBASE) {
      d[i] = c - NBASE;
      carry = 1;
    } else {
      d[i] = c;
      carry = 0;
    }
  }
}

/** trunc_var: towards zero at rscale decimal digits. */
export function truncVar(v: NumVar, rscale: number): void {
  v.dscale = rscale;
  let di = (v.weight + 1) * DEC_DIGITS + rscale;
  if (di <= 0) {
    v.digits = [];
    v.weight = 0;
    v.sign = 1;
    return;
  }
  const ndigits = Math.floor((di + DEC_DIGITS - 1) / DEC_DIGITS);
  const d = v.digits;
  if (ndigits > d.length) return;
  d.length = ndigits;
  di %= DEC_DIGITS;
  if (di > 0) {
    const p = ROUND_POWERS[di] as number;
    d[ndigits - 1] = (d[ndigits - 1] as number) - ((d[ndigits - 1] as number) % p);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Comparison, addition, subtraction

export function cmpAbs(a: NumVar, b: NumVar): number {
  const d1 = a.digits;
  const d2 = b.digits;
  let w1 = a.weight;
  let w2 = b.weight;
  let i1 = 0;
  let i2 = 0;
  while (w1 > w2 && i1 < d1.length) {
    if (d1[i1++] !== 0) return 1;
    w1--;
  }
  while (w2 > w1 && i2 < d2.length) {
    if (d2[i2++] !== 0) return -1;
    w2--;
  }
  if (w1 === w2) {
    while (i1 < d1.length && i2 < d2.length) {
      const stat = (d1[i1++] as number) - (d2[i2++] as number);
      if (stat !== 0) return stat > 0 ? 1 : -1;
    }
  }
  while (i1 < d1.length) if (d1[i1++] !== 0) return 1;
  while (i2 < d2.length) if (d2[i2++] !== 0) return -1;
  return 0;
}

export function cmpVar(a: NumVar, b: NumVar): number {
  const sa = a.digits.length === 0 ? 0 : a.sign;
  const sb = b.digits.length === 0 ? 0 : b.sign;
  if (sa !== sb) return sa < sb ? -1 : 1;
  if (sa === 0) return 0;
  return sa > 0 ? cmpAbs(a, b) : -cmpAbs(a, b);
}

function addAbs(a: NumVar, b: NumVar, sign: 1 | -1): NumVar {
  const resWeight = Math.max(a.weight, b.weight) + 1;
  const resDscale = Math.max(a.dscale, b.dscale);
  const resRscale = Math.max(a.digits.length - a.weight - 1, b.digits.length - b.weight - 1);
  const n = Math.max(resRscale + resWeight + 1, 1);
  const out = new Array<number>(n);
  let i1 = resRscale + a.weight + 1;
  let i2 = resRscale + b.weight + 1;
  let carry = 0;
  for (let i = n - 1; i >= 0; i--) {
    i1--;
    i2--;
    if (i1 >= 0 && i1 < a.digits.length) carry += a.digits[i1] as number;
    if (i2 >= 0 && i2 < b.digits.length) carry += b.digits[i2] as number;
    if (carry >= NBASE) {
      out[i] = carry - NBASE;
      carry = 1;
    } else {
      out[i] = carry;
      carry = 0;
    }
  }
  const r = makeVar(sign, resWeight, resDscale, out);
  stripVar(r);
  return r;
}

/** |a| − |b| for |a| ≥ |b|. */
function subAbs(a: NumVar, b: NumVar, sign: 1 | -1): NumVar {
  const resWeight = a.weight;
  const resDscale = Math.max(a.dscale, b.dscale);
  const resRscale = Math.max(a.digits.length - a.weight - 1, b.digits.length - b.weight - 1);
  const n = Math.max(resRscale + resWeight + 1, 1);
  const out = new Array<number>(n);
  let i1 = resRscale + a.weight + 1;
  let i2 = resRscale + b.weight + 1;
  let borrow = 0;
  for (let i = n - 1; i >= 0; i--) {
    i1--;
    i2--;
    if (i1 >= 0 && i1 < a.digits.length) borrow += a.digits[i1] as number;
    if (i2 >= 0 && i2 < b.digits.length) borrow -= b.digits[i2] as number;
    if (borrow < 0) {
      out[i] = borrow + NBASE;
      borrow = -1;
    } else {
      out[i] = borrow;
      borrow = 0;
    }
  }
  const r = makeVar(sign, resWeight, resDscale, out);
  stripVar(r);
  return r;
}

/** add_var: a + b, exact, dscale max of the inputs'. */
export function addVar(a: NumVar, b: NumVar): NumVar {
  if (a.sign === b.sign) return addAbs(a, b, a.sign);
  const c = cmpAbs(a, b);
  if (c === 0) return zeroVar(Math.max(a.dscale, b.dscale));
  return c > 0 ? subAbs(a, b, a.sign) : subAbs(b, a, b.sign);
}

export function subVar(a: NumVar, b: NumVar): NumVar {
  return addVar(a, { sign: b.sign > 0 ? -1 : 1, weight: b.weight, dscale: b.dscale, digits: b.digits });
}

// ---------------------------------------------------------------------------------------------------------------
// Multiplication and division

/**
 * mul_var: the product rounded to rscale, computed as Postgres does — partial products that would land more than
 * MUL_GUARD_DIGITS digits right of rscale are skipped, so on long operands the result can differ from the exact
 * product in the last digit, and Postgres's power/exp/ln inherit that.
 */
export function mulVar(x: NumVar, y: NumVar, rscale: number): NumVar {
  const [a, b] = x.digits.length > y.digits.length ? [y, x] : [x, y];
  const n1 = a.digits.length;
  const n2 = b.digits.length;
  if (n1 === 0 || n2 === 0) return zeroVar(rscale);
  const sign: 1 | -1 = a.sign === b.sign ? 1 : -1;
  const resWeight = a.weight + b.weight + 2;
  const maxdigits = resWeight + 1 + Math.floor((rscale + DEC_DIGITS - 1) / DEC_DIGITS) + MUL_GUARD_DIGITS;
  const resN = Math.min(n1 + n2 + 1, maxdigits);
  if (resN < 3) return zeroVar(rscale);
  // The digit loop's multiply-adds: zero digits of the shorter operand are skipped (as in mul_var, so
  // `1.000…0001 ^ n` stays cheap) and partial products right of the guard digits are never formed.
  const i1max = Math.min(n1 - 1, resN - 3);
  const ad = a.digits;
  const paired = n1 <= PAIRED_MAX_DIGITS;
  const ops = digitLoopOps(ad, i1max, n2, resN, paired);
  // Through bigint the product is subquadratic but the operands and the result are converted to and from
  // decimal text, which costs about BIG_MUL_UNITS_PER_DIGIT multiply-adds per base-10000 digit.
  const conversion = BIG_MUL_UNITS_PER_DIGIT * (n1 + n2 + resN);
  if (ops > conversion) {
    // Charged before it runs, so a budget can refuse it: the result's decimal printing grows with the square of
    // its length (100,000 digits: ~100 ms), which n1·n2/4 tracks on long operands; conversion on shorter ones.
    chargeWork(Math.max(conversion, (n1 * n2) / 4));
    const r = mulVarBig(a, b, resN, resWeight, rscale, sign);
    if (r !== undefined) return r;
  }
  // The carry pass, the copy out and round_var cost several units a result digit (sparse products are mostly that).
  chargeWork(ops + RESULT_DIGIT_UNITS * resN);
  const dig = scratch(resN);
  const bd = b.digits;
  let i1 = 0;
  if (paired) {
    // Two digits of the shorter operand at a time, as one multiplier hi·NBASE + lo landing one position lower:
    // the same partial products as mul_var's (hi's one extra product where its range is one longer), in half
    // the multiply-adds. Sums stay exact: fewer than PAIRED_MAX_DIGITS / 2 terms below 10^12 per position.
    for (; i1 < i1max; i1 += 2) {
      const hi = ad[i1] as number;
      const lo = ad[i1 + 1] as number;
      if (hi === 0 && lo === 0) continue;
      const limLo = Math.min(n2, resN - i1 - 3);
      const d = hi * NBASE + lo;
      const base = i1 + 3;
      for (let i2 = 0; i2 < limLo; i2++) dig[base + i2] = (dig[base + i2] as number) + d * (bd[i2] as number);
      if (limLo < n2 && hi !== 0)
        dig[base + limLo - 1] = (dig[base + limLo - 1] as number) + hi * (bd[limLo] as number);
    }
  }
  // Every partial sum stays below 2^53 (at most ~10^5 terms of < 10^8), so one carry pass at the end suffices.
  for (; i1 <= i1max; i1++) {
    const d1 = ad[i1] as number;
    if (d1 === 0) continue;
    const lim = Math.min(n2, resN - i1 - 2);
    const base = i1 + 2;
    for (let i2 = 0; i2 < lim; i2++) dig[base + i2] = (dig[base + i2] as number) + d1 * (bd[i2] as number);
  }
  let carry = 0;
  for (let i = resN - 1; i >= 0; i--) {
    const v = (dig[i] as number) + carry;
    carry = Math.floor(v / NBASE);
    dig[i] = v - carry * NBASE;
  }
  // Only the non-zero span is copied out, and no further than round_var looks (one digit past rscale's).
  let start = 0;
  while (start < resN && dig[start] === 0) start++;
  if (start === resN) return zeroVar(rscale);
  const di = (resWeight + 1) * DEC_DIGITS + rscale;
  let end = di < 0 ? start + 1 : Math.min(resN, Math.floor((di + DEC_DIGITS - 1) / DEC_DIGITS) + 1);
  while (end > start + 1 && dig[end - 1] === 0) end--;
  const out = new Array<number>(end - start);
  for (let i = start; i < end; i++) out[i - start] = dig[i] as number;
  const r = makeVar(sign, resWeight - start, rscale, out);
  roundVar(r, rscale);
  stripVar(r);
  return r;
}

/** Work units per result digit of mulVar's digit loop, beyond its multiply-adds. */
const RESULT_DIGIT_UNITS = 8;

/** Up to this many digits in the shorter operand, mul_var's digit loop takes them in pairs (sums stay below 2^53). */
const PAIRED_MAX_DIGITS = 16000;

/** The multiply-adds of mulVar's digit loop (paired or not) for these operands. */
function digitLoopOps(ad: readonly number[], i1max: number, n2: number, resN: number, paired: boolean): number {
  let ops = 0;
  let i1 = 0;
  if (paired) {
    for (; i1 < i1max; i1 += 2) if (ad[i1] !== 0 || ad[i1 + 1] !== 0) ops += Math.min(n2, resN - i1 - 2);
  }
  for (; i1 <= i1max; i1++) if (ad[i1] !== 0) ops += Math.min(n2, resN - i1 - 2);
  return ops;
}

let scratchBuf = new Float64Array(256);

/**
 * A zeroed Float64Array of at least n elements, reused across calls: allocating one per product (and collecting
 * it) cost more than the sparse products of power_var_int themselves. Callers finish with it before returning.
 */
function scratch(n: number): Float64Array {
  if (scratchBuf.length < n) scratchBuf = new Float64Array(Math.max(n, 2 * scratchBuf.length));
  scratchBuf.fill(0, 0, n);
  return scratchBuf;
}

/**
 * Multiply-adds of the digit loop that cost as much as converting one base-10000 digit between digits and bigint
 * (measured: ~2.4 ns a multiply-add, ~60 ns a converted digit, operands ~50–400 digits).
 */
const BIG_MUL_UNITS_PER_DIGIT = 25;
/** Dropped diagonals summed exactly before the rest is bounded (the bound is then < 1e-8 of a rounding unit). */
const EXACT_DIAGONALS = 2;

/** Sum of a[i1]·b[i2] over i1 + i2 = k. */
function diagonal(a: readonly number[], b: readonly number[], k: number): number {
  let c = 0;
  const lo = Math.max(0, k - b.length + 1);
  const hi = Math.min(a.length - 1, k);
  for (let i1 = lo; i1 <= hi; i1++) c += (a[i1] as number) * (b[k - i1] as number);
  return c;
}

/** a/d rounded half up (a, d > 0). */
function roundHalfUpDiv(a: bigint, d: bigint): bigint {
  const q = a / d;
  return (a - q * d) * 2n >= d ? q + 1n : q;
}

/**
 * mul_var's truncated product with bigint multiplication: the exact product minus the skipped partial products,
 * of which the first EXACT_DIAGONALS diagonals are summed exactly and the rest bounded. When the bound leaves
 * the rounding undecided (about once in 10^8 products) this returns undefined and the caller multiplies digit by
 * digit.
 */
function mulVarBig(
  a: NumVar,
  b: NumVar,
  resN: number,
  resWeight: number,
  rscale: number,
  sign: 1 | -1,
): NumVar | undefined {
  const n1 = a.digits.length;
  const n2 = b.digits.length;
  const ia = digitsInt(a.digits);
  // Squares (power_var_int, exp_var's final squarings) convert their operand once.
  const full = ia * (a === b ? ia : digitsInt(b.digits));
  // The kept integer T has its last digit at index resN − 1, of NBASE weight resWeight − resN + 1; the full
  // product's last digit sits E = n1 + n2 + 1 − resN positions lower, and exactly E diagonals are skipped.
  const E = n1 + n2 + 1 - resN;
  const m = Math.min(E, EXACT_DIAGONALS);
  let dropped = 0n;
  for (let j = 0; j < m; j++) dropped = dropped * 10000n + BigInt(diagonal(a.digits, b.digits, resN - 2 + j));
  // X = T · NBASE^m lies in [hi − tail, hi].
  const hi = (E > m ? full / pow10000(E - m) : full) - dropped;
  const tail = E > m ? BigInt(n1) * 9999n + 1n : 0n;
  const lowWeight = resWeight - resN + 1 - m;
  const s = DEC_DIGITS * lowWeight + rscale;
  if (s >= 0) {
    // Nothing to round: keep the digits where they are (scaling to rscale would append zeros by the thousand).
    if (tail !== 0n) return undefined;
    const r = varFromBigInt(hi, lowWeight, sign, rscale);
    stripVar(r);
    return r;
  }
  const d = pow10(-s);
  const coef = roundHalfUpDiv(hi, d);
  if (tail !== 0n && roundHalfUpDiv(hi - tail, d) !== coef) return undefined;
  return varAtScale(coef, rscale, sign);
}

/**
 * div_var (and div_var_int, which it delegates to for short divisors): the exact quotient truncated or rounded
 * half away from zero at rscale digits. Both of Postgres's routines compute exact digits, so a bigint division
 * gives the same result.
 */
export function divVar(a: NumVar, b: NumVar, rscale: number, round: boolean): NumVar {
  if (b.digits.length === 0 || b.digits[0] === 0) throw divisionByZero();
  if (a.digits.length === 0) return zeroVar(rscale);
  if (b.digits.length <= 2) {
    const ival =
      b.digits.length === 2 ? (b.digits[0] as number) * NBASE + (b.digits[1] as number) : (b.digits[0] as number);
    return shortDiv(a, b.sign * ival, b.weight - (b.digits.length - 1), rscale, round);
  }
  const sign: 1 | -1 = a.sign === b.sign ? 1 : -1;
  const A = leadingInt(a, a.digits.length);
  const B = leadingInt(b, b.digits.length);
  chargeWork((a.digits.length + 4) * (b.digits.length + 4));
  // |a|/|b| = A/B · 10^(4·((wa − na) − (wb − nb))); we want it times 10^rscale, plus one digit when rounding.
  const roundDigit = round ? 1 : 0;
  const e = DEC_DIGITS * (a.weight - a.digits.length - (b.weight - b.digits.length)) + rscale + roundDigit;
  if (e >= roundDigit && a.digits.length <= b.digits.length + 2) {
    // A short exact quotient (x / x, a small multiple): its few digits, shifted into place, instead of a quotient
    // scaled to rscale whose thousand trailing zeros would all be printed and parsed again.
    const q0 = A / B;
    if (q0 * B === A) {
      const text = q0.toString();
      return varFromDecimalText(text, 0, text.length, -1, e - roundDigit - rscale, sign < 0, rscale);
    }
  }
  const q = e >= 0 ? (A * pow10(e)) / B : A / (B * pow10(-e));
  let coef = q;
  if (round) {
    coef = q / 10n;
    if (q % 10n >= 5n) coef += 1n;
  }
  return varAtScale(coef, rscale, sign);
}

/** The var for coef · 10^-scale (scale may be negative). */
function varAtScale(coef: bigint, scale: number, sign: 1 | -1): NumVar {
  if (coef === 0n) return zeroVar(scale);
  // Align to a whole NBASE digit below the lowest decimal digit.
  const pad =
    ((scale % DEC_DIGITS) + DEC_DIGITS) % DEC_DIGITS === 0
      ? 0
      : DEC_DIGITS - (((scale % DEC_DIGITS) + DEC_DIGITS) % DEC_DIGITS);
  const low = -(scale + pad) / DEC_DIGITS;
  const r = varFromBigInt(coef * pow10(pad), low, sign, scale);
  stripVar(r);
  return r;
}

/**
 * div_var_int: a / (ival · NBASE^ivalWeight) by short division over the digits, exact to rscale. Linear in the
 * quotient's digits, which matters when a tiny divisor gives a quotient with tens of thousands of digits.
 */
function shortDiv(a: NumVar, ival: number, ivalWeight: number, rscale: number, round: boolean): NumVar {
  const sign: 1 | -1 = a.sign > 0 === ival > 0 ? 1 : -1;
  const divisor = Math.abs(ival);
  const resWeight = a.weight - ivalWeight;
  let n = Math.max(resWeight + 1 + Math.floor((rscale + DEC_DIGITS - 1) / DEC_DIGITS), 1);
  if (round) n++;
  chargeWork(n);
  const out = new Array<number>(n);
  const ad = a.digits;
  let carry = 0;
  // carry < divisor ≤ NBASE², so carry · NBASE + digit < 10^12 stays exact in a double.
  for (let i = 0; i < n; i++) {
    carry = carry * NBASE + (i < ad.length ? (ad[i] as number) : 0);
    const q = Math.floor(carry / divisor);
    out[i] = q;
    carry -= q * divisor;
  }
  const r = makeVar(sign, resWeight, rscale, out);
  if (round) roundVar(r, rscale);
  else truncVar(r, rscale);
  stripVar(r);
  return r;
}

/** div_var_int with a small integer divisor (|ival| < NBASE^2, weight 0): exact, like div_var. */
export function divVarInt(a: NumVar, ival: number, rscale: number, round: boolean): NumVar {
  if (a.digits.length === 0) return zeroVar(rscale);
  return shortDiv(a, ival, 0, rscale, round);
}

/** make_result's range test on a var: more than 32767 NBASE digits before the point, or a scale past 16383. */
export function checkVarRange(v: NumVar): NumVar {
  if ((v.digits.length > 0 && v.weight > 32767) || v.dscale > 16383) throw overflowVar();
  return v;
}

/**
 * div_var_fast: the "FM" division with floating-point quotient-digit estimates and deferred carries. Its result can
 * be off in the guard digits, and Postgres uses it inside ln/log/negative powers, so it is reproduced step by step.
 */
export function divVarFast(a: NumVar, b: NumVar, rscale: number, round: boolean): NumVar {
  const n1 = a.digits.length;
  const n2 = b.digits.length;
  const d2 = b.digits;
  if (n2 === 0 || d2[0] === 0) throw divisionByZero();
  if (n2 <= 2) {
    // Postgres delegates to div_var_int, which is exact.
    return divVar(a, b, rscale, round);
  }
  if (n1 === 0) return zeroVar(rscale);
  const sign: 1 | -1 = a.sign === b.sign ? 1 : -1;
  const resWeight = a.weight - b.weight + 1;
  let divN = resWeight + 1 + Math.floor((rscale + DEC_DIGITS - 1) / DEC_DIGITS) + DIV_GUARD_DIGITS;
  if (divN < DIV_GUARD_DIGITS) divN = DIV_GUARD_DIGITS;
  const load = Math.min(divN, n1);
  // Sparse operands (`1 / 1.000…0003`, negative powers of `1.000…0001`) leave almost every quotient digit zero,
  // and the loop only works on the others, as Postgres's does: cheaper than the bigint division and its conversions.
  const sparse =
    n2 >= SPARSE_MIN_DIGITS &&
    nonZeroDigits(d2, n2) * SPARSE_RATIO <= n2 &&
    nonZeroDigits(a.digits, load) * SPARSE_RATIO <= Math.max(load, n2);
  if (sparse) chargeWork(divN * 8);
  else {
    const quick = divFastByBigInt(a, b, resWeight, divN, rscale, round, sign);
    if (quick !== undefined) return quick;
    chargeWork(divN * n2 * 5);
  }
  const div = new Float64Array(divN + 1);
  for (let i = 0; i < load; i++) div[i + 1] = a.digits[i] as number;
  let fdivisor = d2[0] as number;
  for (let i = 1; i < 4; i++) {
    fdivisor *= NBASE;
    if (i < n2) fdivisor += d2[i] as number;
  }
  const finv = 1.0 / fdivisor;
  const normLimit = Math.trunc((INT_MAX - Math.trunc(INT_MAX / NBASE) - 1) / (NBASE - 1));
  let maxdiv = 1;
  let qi = 0;
  const estimate = (): number => {
    let fd = div[qi] as number;
    for (let i = 1; i < 4; i++) {
      fd *= NBASE;
      if (qi + i <= divN) fd += div[qi + i] as number;
    }
    const fq = fd * finv;
    return fq >= 0 ? Math.trunc(fq) : Math.trunc(fq) - 1;
  };
  for (qi = 0; qi < divN; qi++) {
    let qdigit = estimate();
    if (qdigit !== 0) {
      maxdiv += Math.abs(qdigit);
      if (maxdiv > normLimit) {
        let carry = 0;
        for (let i = Math.min(qi + n2 - 2, divN); i > qi; i--) {
          let nd = (div[i] as number) + carry;
          if (nd < 0) {
            carry = -Math.trunc((-nd - 1) / NBASE) - 1;
            nd -= carry * NBASE;
          } else if (nd >= NBASE) {
            carry = Math.trunc(nd / NBASE);
            nd -= carry * NBASE;
          } else carry = 0;
          div[i] = nd;
        }
        div[qi] = (div[qi] as number) + carry;
        maxdiv = 1;
        qdigit = estimate();
        maxdiv += Math.abs(qdigit);
      }
      if (qdigit !== 0) {
        const istop = Math.min(n2, divN - qi + 1);
        if (sparse) chargeWork(istop * 5);
        for (let i = 0; i < istop; i++) div[qi + i] = (div[qi + i] as number) - qdigit * (d2[i] as number);
      }
    }
    div[qi + 1] = (div[qi + 1] as number) + (div[qi] as number) * NBASE;
    div[qi] = qdigit;
  }
  // The last quotient digit.
  let fd = div[qi] as number;
  for (let i = 1; i < 4; i++) fd *= NBASE;
  const fq = fd * finv;
  div[qi] = fq >= 0 ? Math.trunc(fq) : Math.trunc(fq) - 1;
  const out = new Array<number>(divN + 1);
  let carry = 0;
  for (let i = divN; i >= 0; i--) {
    let nd = (div[i] as number) + carry;
    if (nd < 0) {
      carry = -Math.trunc((-nd - 1) / NBASE) - 1;
      nd -= carry * NBASE;
    } else if (nd >= NBASE) {
      carry = Math.trunc(nd / NBASE);
      nd -= carry * NBASE;
    } else carry = 0;
    out[i] = nd;
  }
  const r = makeVar(sign, resWeight, rscale, out);
  if (round) roundVar(r, rscale);
  else truncVar(r, rscale);
  stripVar(r);
  return r;
}

/**
 * div_var_fast's answer without its digit loop: the quotient digits it estimates are within a couple of units of
 * the exact quotient of the dividend it loads (the first divN digits), at its last digit. When every value in
 * that window rounds (or truncates) to the same result at rscale — all but about one case in 10^15 — that result is
 * div_var_fast's; otherwise undefined, and the caller runs the loop itself.
 */
function divFastByBigInt(
  a: NumVar,
  b: NumVar,
  resWeight: number,
  divN: number,
  rscale: number,
  round: boolean,
  sign: 1 | -1,
): NumVar | undefined {
  const load = Math.min(divN, a.digits.length);
  chargeWork((load + 4) * (b.digits.length + 4));
  const A = leadingInt(a, load);
  const C = leadingInt(b, b.digits.length);
  // Quotient in units of the digit at index divN (weight resWeight − divN).
  const e = a.weight - load + 1 - (b.weight - b.digits.length + 1) - (resWeight - divN);
  const q = e >= 0 ? (A * pow10000(e)) / C : A / (C * pow10000(-e));
  const s = DEC_DIGITS * (resWeight - divN) + rscale;
  if (s >= 0 || q < DIV_FAST_SLACK) return undefined;
  const d = pow10(-s);
  const at = (x: bigint): bigint => (round ? roundHalfUpDiv(x, d) : x / d);
  const coef = at(q);
  if (at(q - DIV_FAST_SLACK) !== coef || at(q + DIV_FAST_SLACK) !== coef) return undefined;
  return varAtScale(coef, rscale, sign);
}

/** div_var_fast runs its own loop when both operands have at most one non-zero digit in SPARSE_RATIO. */
const SPARSE_MIN_DIGITS = 16;
const SPARSE_RATIO = 8;

/** The number of non-zero digits among d[0, n). */
function nonZeroDigits(d: readonly number[], n: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) if (d[i] !== 0) k++;
  return k;
}

/** How far (in units of its last digit) div_var_fast's estimate may stray from the exact quotient, with margin. */
const DIV_FAST_SLACK = 4n;

/** floor(√n) for n ≥ 0 (Newton's method from a floating-point estimate). */
function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  const f = Number(n);
  let x: bigint;
  // Below 2^1000 a double holds n to 2^-53: its root, raised by 2^-50, is above √n (no bit count, no text).
  if (f < 1e300) x = BigInt(Math.ceil(Math.sqrt(f) * (1 + 2 ** -50))) + 1n;
  else {
    const bits = n.toString(2).length;
    const shift = BigInt((bits - 52) & ~1);
    x = (BigInt(Math.floor(Math.sqrt(Number(n >> shift)))) + 1n) << (shift / 2n);
  }
  // Make x ≥ √n, then descend monotonically.
  while (x * x < n) x += 1n;
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) break;
    x = y;
  }
  while (x * x > n) x -= 1n;
  return x;
}

/**
 * sqrt_var: Postgres's Karatsuba square root yields the exact integer square root of the input's leading
 * src_ndigits digits, then rounds it to rscale; the same integer root is computed here directly.
 */
export function sqrtVar(arg: NumVar, rscale: number): NumVar {
  const stat = cmpVar(arg, zeroVar(0));
  if (stat === 0) return zeroVar(rscale);
  if (stat < 0) throw new ValueError(ErrorCode.EvaluationError, 'cannot take square root of a negative number');
  const resWeight = arg.weight >= 0 ? Math.trunc(arg.weight / 2) : -(Math.trunc((-arg.weight - 1) / 2) + 1);
  let resN: number;
  if (rscale + 1 >= 0) resN = resWeight + 1 + Math.trunc((rscale + DEC_DIGITS) / DEC_DIGITS);
  else resN = resWeight + 1 - Math.trunc((-rscale - 1) / DEC_DIGITS);
  resN = Math.max(resN, 1);
  const srcN = Math.max(arg.weight + 1 + (resN - resWeight - 1) * 2, 1);
  chargeWork(srcN * srcN);
  const s = isqrt(leadingInt(arg, srcN));
  const r = varFromBigInt(s, resWeight - resN + 1, 1, rscale);
  roundVar(r, rscale);
  stripVar(r);
  return r;
}

export { pow10000 };

export function overflowVar(): ValueError {
  return new ValueError(ErrorCode.OutOfRange, 'value overflows numeric format');
}
