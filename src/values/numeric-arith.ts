// Exact numeric + - * / % abs and negation with Postgres 15's result scales and NaN/Infinity rules.
import { divisionByZero } from '../errors/index.js';
import {
  NUMERIC_NAN,
  NUMERIC_NINF,
  NUMERIC_PINF,
  NUMERIC_ZERO,
  checkNumericRange,
  finite,
  finiteSign,
  pow10,
  roundFinite,
} from './numeric.js';
import type { FiniteNumeric } from './numeric.js';
import { DigitNumeric, numericFromVar, varOf } from './numeric-digits.js';
import type { NumVar } from './numeric-digits.js';
import { addVar, checkVarRange, cmpAbs, divVar, mulVar, roundVar, subVar } from './numeric-var.js';
import type { NumericValue } from './types.js';

/** Largest display scale a numeric may carry (NUMERIC_DSCALE_MAX); products beyond it are rounded. */
const MAX_DSCALE = 16383;
const NUMERIC_MIN_SIG_DIGITS = 16;
const NUMERIC_MAX_DISPLAY_SCALE = 1000;

function sign(v: NumericValue): number {
  if (v.kind === 'finite') return finiteSign(v);
  return v.kind === 'inf' ? v.sign : 0;
}

/**
 * Either operand long (a DigitNumeric): the operation on base-10000 digits, as numeric.c computes it, and
 * make_result's range check. Short operands keep the bigint arithmetic, which is exact and cheaper for them.
 */
function isLong(a: FiniteNumeric, b: FiniteNumeric): boolean {
  return a instanceof DigitNumeric || b instanceof DigitNumeric;
}

function fromVar(v: NumVar): FiniteNumeric {
  return numericFromVar(checkVarRange(v));
}

function inf(s: number): NumericValue {
  return s > 0 ? NUMERIC_PINF : NUMERIC_NINF;
}

export function numericAdd(a: NumericValue, b: NumericValue): NumericValue {
  if (a.kind === 'finite' && b.kind === 'finite') {
    if (isLong(a, b)) return fromVar(addVar(varOf(a), varOf(b)));
    if (a.scale === b.scale) return checkNumericRange(finite(a.coef + b.coef, a.scale));
    if (a.scale < b.scale) return checkNumericRange(finite(a.coef * pow10(b.scale - a.scale) + b.coef, b.scale));
    return checkNumericRange(finite(a.coef + b.coef * pow10(a.scale - b.scale), a.scale));
  }
  if (a.kind === 'nan' || b.kind === 'nan') return NUMERIC_NAN;
  if (a.kind === 'inf' && b.kind === 'inf') return a.sign === b.sign ? a : NUMERIC_NAN;
  return a.kind === 'inf' ? a : b;
}

export function numericNeg(a: NumericValue): NumericValue {
  if (a instanceof DigitNumeric) return new DigitNumeric({ ...a.var, sign: a.var.sign > 0 ? -1 : 1 });
  if (a.kind === 'finite') return a.coef === 0n ? a : finite(-a.coef, a.scale);
  if (a.kind === 'nan') return a;
  return inf(-a.sign);
}

export function numericAbs(a: NumericValue): NumericValue {
  if (a instanceof DigitNumeric) return a.var.sign > 0 ? a : new DigitNumeric({ ...a.var, sign: 1 });
  if (a.kind === 'finite') return a.coef < 0n ? finite(-a.coef, a.scale) : a;
  if (a.kind === 'nan') return a;
  return NUMERIC_PINF;
}

export function numericSub(a: NumericValue, b: NumericValue): NumericValue {
  return numericAdd(a, numericNeg(b));
}

export function numericMul(a: NumericValue, b: NumericValue): NumericValue {
  if (a.kind === 'finite' && b.kind === 'finite') {
    if (isLong(a, b)) {
      // mul_var at the full scale is exact; a scale past NUMERIC_DSCALE_MAX is rounded to it.
      const p = mulVar(varOf(a), varOf(b), a.scale + b.scale);
      if (p.dscale > MAX_DSCALE) roundVar(p, MAX_DSCALE);
      return fromVar(p);
    }
    const r = finite(a.coef * b.coef, a.scale + b.scale);
    return checkNumericRange(r.scale > MAX_DSCALE ? roundFinite(r, MAX_DSCALE) : r);
  }
  if (a.kind === 'nan' || b.kind === 'nan') return NUMERIC_NAN;
  const s = sign(a) * sign(b);
  return s === 0 ? NUMERIC_NAN : inf(s); // Infinity × 0 is NaN
}

/** Weight and first digit of the value in Postgres's base-10000 representation (0, 0 for zero). */
export function nbaseLead(v: FiniteNumeric): [weight: number, first: number] {
  if (v instanceof DigitNumeric) return [v.var.weight, v.var.digits[0] as number];
  if (v.coef === 0n) return [0, 0];
  const s = (v.coef < 0n ? -v.coef : v.coef).toString();
  const e = s.length - 1 - v.scale;
  const weight = Math.floor(e / 4);
  const count = e - 4 * weight + 1;
  const head = s.length >= count ? s.slice(0, count) : s.padEnd(count, '0');
  return [weight, Number(head)];
}

/**
 * select_div_scale: at least 16 significant digits, and no less than either input's scale. The quotient's
 * weight is estimated from the base-10000 leading digits exactly as Postgres does, which is what makes
 * `1/3` show 20 digits but `10/3` 16 decimals.
 */
export function selectDivScale(a: FiniteNumeric, b: FiniteNumeric): number {
  const [w1, f1] = nbaseLead(a);
  const [w2, f2] = nbaseLead(b);
  let qweight = w1 - w2;
  if (f1 <= f2) qweight--;
  let rscale = NUMERIC_MIN_SIG_DIGITS - qweight * 4;
  rscale = Math.max(rscale, a.scale, b.scale, 0);
  return Math.min(rscale, NUMERIC_MAX_DISPLAY_SCALE);
}

/** num/den rounded half away from zero to an integer. */
export function divRound(num: bigint, den: bigint): bigint {
  const q = num / den;
  const r = num - q * den;
  if (r === 0n) return q;
  const ar = r < 0n ? -r : r;
  const ad = den < 0n ? -den : den;
  if (ar * 2n >= ad) return num < 0n !== den < 0n ? q - 1n : q + 1n;
  return q;
}

/** a / b rounded half away from zero to `rscale` fraction digits (Postgres's div_var with rounding). */
export function divFinite(a: FiniteNumeric, b: FiniteNumeric, rscale: number): FiniteNumeric {
  // a/b = (ca·10^sb) / (cb·10^sa); scaled by 10^rscale.
  const num = a.coef * pow10(b.scale + rscale);
  const den = b.coef * pow10(a.scale);
  return finite(divRound(num, den), rscale);
}

export function numericDiv(a: NumericValue, b: NumericValue): NumericValue {
  if (a.kind === 'finite' && b.kind === 'finite') {
    if (finiteSign(b) === 0) throw divisionByZero();
    if (isLong(a, b)) return fromVar(divVar(varOf(a), varOf(b), selectDivScale(a, b), true));
    return checkNumericRange(divFinite(a, b, selectDivScale(a, b)));
  }
  if (a.kind === 'nan' || b.kind === 'nan') return NUMERIC_NAN;
  if (a.kind === 'inf') {
    if (b.kind === 'inf') return NUMERIC_NAN;
    if (sign(b) === 0) throw divisionByZero();
    return inf(a.sign * sign(b));
  }
  return NUMERIC_ZERO; // finite / ±Infinity
}

/** Remainder with the dividend's sign: a − b·trunc(a/b), scale max(sa, sb). */
export function numericMod(a: NumericValue, b: NumericValue): NumericValue {
  if (a.kind === 'finite' && b.kind === 'finite') {
    if (finiteSign(b) === 0) throw divisionByZero();
    if (isLong(a, b)) return fromVar(modVar(varOf(a), varOf(b)));
    const s = Math.max(a.scale, b.scale);
    const x = a.scale === s ? a.coef : a.coef * pow10(s - a.scale);
    const y = b.scale === s ? b.coef : b.coef * pow10(s - b.scale);
    return finite(x % y, s);
  }
  if (a.kind === 'nan' || b.kind === 'nan') return NUMERIC_NAN;
  if (a.kind === 'inf') {
    if (sign(b) === 0) throw divisionByZero();
    return NUMERIC_NAN;
  }
  return a; // finite % ±Infinity is the dividend
}

/** mod_var: a − b · trunc(a / b), exactly (truncated integer quotient, then an exact product and difference). */
function modVar(a: NumVar, b: NumVar): NumVar {
  // |a| < |b|: the quotient is 0 and the remainder a itself (at the larger scale, as a − b·0 has), with no division.
  if (cmpAbs(a, b) < 0) return { ...a, dscale: Math.max(a.dscale, b.dscale) };
  const q = divVar(a, b, 0, false);
  return subVar(a, mulVar(b, q, b.dscale));
}
