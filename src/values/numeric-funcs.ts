// sqrt, exp, ln and log on numeric as Postgres 15's numeric_sqrt/_exp/_ln/_log: special values, result scales, errors.
import { ErrorCode, ValueError } from '../errors/index.js';
import { NUMERIC_NAN, NUMERIC_PINF, finite, finiteSign } from './numeric.js';
import type { FiniteNumeric } from './numeric.js';
import { MAX_DISPLAY_SCALE, MIN_SIG_DIGITS, estimateLnDweight, expVar, lnVar, logVar } from './numeric-transcend.js';
import { DEC_DIGITS, checkVarRange, finiteFromVar, sqrtVar, varFromFinite, varToDouble } from './numeric-var.js';
import type { NumVar } from './numeric-var.js';
import type { NumericValue } from './types.js';

/** NUMERIC_MAX_RESULT_SCALE: numeric_exp clamps its weight estimate to ± this. */
const MAX_RESULT_SCALE = 2000;
const ZERO: FiniteNumeric = finite(0n, 0);
const TEN: FiniteNumeric = finite(10n, 0);

function logError(message: string): ValueError {
  return new ValueError(ErrorCode.EvaluationError, message);
}

/** A display scale between 0 and NUMERIC_MAX_DISPLAY_SCALE, at least `floor` (the input's scale). */
function clampScale(rscale: number, ...floors: number[]): number {
  return Math.min(Math.max(rscale, ...floors, 0), MAX_DISPLAY_SCALE);
}

/** make_result: the range check, then the value at its display scale. */
function result(v: NumVar): FiniteNumeric {
  return finiteFromVar(checkVarRange(v));
}

/** sqrt(numeric): at least 16 significant digits and no fewer decimals than the input. */
export function numericSqrt(v: NumericValue): NumericValue {
  if (v.kind !== 'finite') {
    if (v.kind === 'inf' && v.sign < 0) throw sqrtNegative();
    return v;
  }
  if (finiteSign(v) < 0) throw sqrtNegative();
  const arg = varFromFinite(v);
  // The result's decimal weight is about half the argument's (C integer division truncates towards zero).
  const sweight = Math.trunc(((arg.weight + 1) * DEC_DIGITS) / 2) - 1;
  return result(sqrtVar(arg, clampScale(MIN_SIG_DIGITS - sweight, arg.dscale)));
}

function sqrtNegative(): ValueError {
  return new ValueError(ErrorCode.EvaluationError, 'cannot take square root of a negative number');
}

/** exp(numeric): the scale comes from a double estimate of the result's weight, clamped as Postgres does. */
export function numericExp(v: NumericValue): NumericValue {
  if (v.kind !== 'finite') return v.kind === 'inf' && v.sign < 0 ? ZERO : v;
  const arg = varFromFinite(v);
  let val = varToDouble(arg) * 0.434294481903252;
  val = Math.min(Math.max(val, -MAX_RESULT_SCALE), MAX_RESULT_SCALE);
  return result(expVar(arg, clampScale(MIN_SIG_DIGITS - Math.trunc(val), arg.dscale)));
}

/** ln(numeric): at least 16 significant digits of the logarithm. */
export function numericLn(v: NumericValue): NumericValue {
  if (v.kind !== 'finite') {
    if (v.kind === 'inf' && v.sign < 0) throw logError('cannot take logarithm of a negative number');
    return v;
  }
  const arg = varFromFinite(v);
  return result(lnVar(arg, clampScale(MIN_SIG_DIGITS - estimateLnDweight(arg), arg.dscale)));
}

/** log(base, num) on numeric; log_var picks the result scale. */
export function numericLog(base: NumericValue, num: NumericValue): NumericValue {
  if (base.kind !== 'finite' || num.kind !== 'finite') return logSpecial(base, num);
  return result(logVar(varFromFinite(base), varFromFinite(num)));
}

/** log(numeric) and log10(numeric): Postgres defines them as log(10, x). */
export function numericLog10(v: NumericValue): NumericValue {
  return numericLog(TEN, v);
}

function signOf(v: NumericValue): number {
  if (v.kind === 'finite') return finiteSign(v);
  return v.kind === 'inf' ? v.sign : 0;
}

/** numeric_log with a NaN or infinite argument: the errors log_var would raise, then the limits. */
function logSpecial(base: NumericValue, num: NumericValue): NumericValue {
  if (base.kind === 'nan' || num.kind === 'nan') return NUMERIC_NAN;
  const s1 = signOf(base);
  const s2 = signOf(num);
  if (s1 < 0 || s2 < 0) throw logError('cannot take logarithm of a negative number');
  if (s1 === 0 || s2 === 0) throw logError('cannot take logarithm of zero');
  if (base.kind === 'inf') return num.kind === 'inf' ? NUMERIC_NAN : ZERO;
  return NUMERIC_PINF;
}
