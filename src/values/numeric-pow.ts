// numeric ^ numeric as Postgres 15's numeric_power: its special cases, then power_var / power_var_int / exp_var / ln_var.
import { ErrorCode, ValueError } from '../errors/index.js';
import { NUMERIC_NAN, NUMERIC_NINF, NUMERIC_PINF, finite, finiteSign, overflowError, pow10 } from './numeric.js';
import { DigitNumeric } from './numeric-digits.js';
import type { FiniteNumeric } from './numeric.js';
import { MAX_DISPLAY_SCALE, MIN_SIG_DIGITS, estimateLnDweight, expVar, lnVar } from './numeric-transcend.js';
import {
  DEC_DIGITS,
  checkVarRange,
  cmpAbs,
  copyVar,
  divVar,
  divVarFast,
  finiteFromVar,
  intVar,
  mulVar,
  roundVar,
  varFromFinite,
  varToDouble,
  zeroVar,
} from './numeric-var.js';
import type { NumVar } from './numeric-var.js';
import type { NumericValue } from './types.js';

const SHRT_MAX = 32767;
const MAX_RESULT_SCALE = 2000;

const ONE: FiniteNumeric = finite(1n, 0);

export function powerError(message: string): ValueError {
  return new ValueError(ErrorCode.EvaluationError, message);
}

function signOf(v: NumericValue): number {
  if (v.kind === 'finite') return finiteSign(v);
  return v.kind === 'inf' ? v.sign : 0;
}

function isOne(v: NumericValue, s: 1 | -1 = 1): boolean {
  if (v instanceof DigitNumeric)
    return v.var.sign === s && v.var.weight === 0 && v.var.digits.length === 1 && v.var.digits[0] === 1;
  return v.kind === 'finite' && v.coef === BigInt(s) * pow10(v.scale);
}

function isIntegral(v: FiniteNumeric): boolean {
  if (v instanceof DigitNumeric) return v.var.digits.length <= v.var.weight + 1;
  return v.scale === 0 || v.coef % pow10(v.scale) === 0n;
}

function isOddInteger(v: FiniteNumeric): boolean {
  if (!isIntegral(v)) return false;
  if (v instanceof DigitNumeric) {
    const d = v.var.digits;
    return d.length === v.var.weight + 1 && ((d[d.length - 1] as number) & 1) === 1;
  }
  const i = v.scale === 0 ? v.coef : v.coef / pow10(v.scale);
  return (i & 1n) === 1n;
}

export function numericPow(a: NumericValue, b: NumericValue): NumericValue {
  if (a.kind !== 'finite' || b.kind !== 'finite') return powSpecial(a, b);
  const s1 = signOf(a);
  const s2 = signOf(b);
  if (s1 === 0 && s2 < 0) throw powerError('zero raised to a negative power is undefined');
  if (s1 < 0 && !isIntegral(b)) {
    throw powerError('a negative number raised to a non-integer power yields a complex result');
  }
  return finiteFromVar(checkVarRange(powerVar(varFromFinite(a), varFromFinite(b))));
}

/** POSIX pow() rules for NaN and infinite inputs, in Postgres's order of checks. */
function powSpecial(a: NumericValue, b: NumericValue): NumericValue {
  if (a.kind === 'nan') return b.kind === 'finite' && finiteSign(b) === 0 ? ONE : NUMERIC_NAN;
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
      absGtOne = cmpAbs(varFromFinite(a), intVar(1)) > 0;
    }
    return absGtOne === s2 > 0 ? NUMERIC_PINF : finite(0n, 0);
  }
  // a is ±Infinity, b finite non-zero.
  if (a.kind === 'inf' && a.sign > 0) return s2 > 0 ? NUMERIC_PINF : finite(0n, 0);
  if (s2 < 0) return finite(0n, 0);
  return b.kind === 'finite' && isOddInteger(b) ? NUMERIC_NINF : NUMERIC_PINF;
}

/** The exponent as an int32 when it is an integer in range (numericvar_to_int64 + the int32 test). */
function int32Exponent(exp: NumVar): number | undefined {
  const n = exp.digits.length;
  if (n !== 0 && n > exp.weight + 1) return undefined;
  if (exp.weight > 4) return undefined; // ≥ 10^20: beyond int64, so beyond int32
  let v = 0;
  for (let i = 0; i <= exp.weight; i++) v = v * 10000 + (i < n ? (exp.digits[i] as number) : 0);
  v *= exp.sign;
  return v >= -2147483648 && v <= 2147483647 ? v : undefined;
}

/** power_var: integer exponents go to power_var_int; otherwise exp(exp · ln(base)) at a scale from a first estimate. */
export function powerVar(base: NumVar, exp: NumVar): NumVar {
  const e = int32Exponent(exp);
  if (e !== undefined) {
    const rscale = Math.min(Math.max(MIN_SIG_DIGITS, base.dscale, 0), MAX_DISPLAY_SCALE);
    return powerVarInt(base, e, rscale);
  }
  if (base.digits.length === 0) return zeroVar(MIN_SIG_DIGITS);
  let resNeg = false;
  let b = base;
  if (base.sign < 0) {
    const n = exp.digits.length;
    if (n > 0 && n > exp.weight + 1) {
      throw powerError('a negative number raised to a non-integer power yields a complex result');
    }
    resNeg = n > 0 && n === exp.weight + 1 && ((exp.digits[n - 1] as number) & 1) === 1;
    b = { ...base, sign: 1 };
  }
  const lnDweight = estimateLnDweight(b);
  let localRscale = Math.max(8 - lnDweight, 0);
  let lnBase = lnVar(b, localRscale);
  let lnNum = mulVar(lnBase, exp, localRscale);
  let val = varToDouble(lnNum);
  if (Math.abs(val) > MAX_RESULT_SCALE * 3.01) {
    if (val > 0) throw overflowError();
    return zeroVar(MAX_DISPLAY_SCALE);
  }
  val *= 0.434294481903252;
  let rscale = MIN_SIG_DIGITS - Math.trunc(val);
  rscale = Math.min(Math.max(rscale, b.dscale, exp.dscale, 0), MAX_DISPLAY_SCALE);
  const sigDigits = Math.max(rscale + Math.trunc(val), 0);
  localRscale = Math.max(sigDigits - lnDweight + 8, 0);
  lnBase = lnVar(b, localRscale);
  lnNum = mulVar(lnBase, exp, localRscale);
  const r = expVar(lnNum, rscale);
  if (resNeg && r.digits.length > 0) r.sign = -1;
  return r;
}

/** power_var_int: repeated squaring at a working precision sized from an estimate of the result's weight. */
export function powerVarInt(base: NumVar, exp: number, rscale: number): NumVar {
  switch (exp) {
    case 0:
      return { ...intVar(1), dscale: rscale };
    case 1: {
      const r = copyVar(base);
      roundVar(r, rscale);
      return r;
    }
    case -1:
      return divVar(intVar(1), base, rscale, true);
    case 2:
      return mulVar(base, base, rscale);
  }
  if (base.digits.length === 0) {
    if (exp < 0) throw new ValueError(ErrorCode.DivisionByZero, 'division by zero');
    return zeroVar(rscale);
  }
  let f = base.digits[0] as number;
  let p = base.weight * DEC_DIGITS;
  for (let i = 1; i < base.digits.length && i * DEC_DIGITS < 16; i++) {
    f = f * 10000 + (base.digits[i] as number);
    p -= DEC_DIGITS;
  }
  f = exp * (Math.log10(f) + p);
  if (f > 3 * SHRT_MAX * DEC_DIGITS) throw overflowError();
  if (f + 1 < -rscale || f + 1 < -MAX_DISPLAY_SCALE) return zeroVar(rscale);
  let sigDigits = 1 + rscale + Math.trunc(f);
  sigDigits += Math.trunc(Math.log(Math.abs(exp))) + 8;
  let neg = exp < 0;
  let mask = Math.abs(exp);
  let baseProd = copyVar(base);
  let result = mask & 1 ? copyVar(base) : intVar(1);
  while ((mask = Math.floor(mask / 2)) > 0) {
    let local = sigDigits - 2 * baseProd.weight * DEC_DIGITS;
    local = Math.max(Math.min(local, 2 * baseProd.dscale), 0);
    baseProd = mulVar(baseProd, baseProd, local);
    if (mask & 1) {
      local = sigDigits - (baseProd.weight + result.weight) * DEC_DIGITS;
      local = Math.max(Math.min(local, baseProd.dscale + result.dscale), 0);
      result = mulVar(baseProd, result, local);
    }
    // Past an int16 weight the result certainly overflows (or underflows for a negative exponent).
    if (baseProd.weight > SHRT_MAX || result.weight > SHRT_MAX) {
      if (!neg) throw overflowError();
      result = zeroVar(0);
      neg = false;
      break;
    }
  }
  if (neg) return divVarFast(intVar(1), result, rscale, true);
  roundVar(result, rscale);
  return result;
}
