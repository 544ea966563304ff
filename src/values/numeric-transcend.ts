// Postgres 15's exp_var, ln_var, log_var and estimate_ln_dweight on NumericVars: same series, scales and rounding.
import { ErrorCode, ValueError } from '../errors/index.js';
import {
  DEC_DIGITS,
  addVar,
  cmpVar,
  copyVar,
  divVarFast,
  divVarInt,
  intVar,
  makeVar,
  mulVar,
  overflowVar,
  roundVar,
  sqrtVar,
  subVar,
  varToDouble,
  zeroVar,
} from './numeric-var.js';
import type { NumVar } from './numeric-var.js';

export const MIN_SIG_DIGITS = 16;
export const MAX_DISPLAY_SCALE = 1000;
const MAX_RESULT_SCALE = 2000;

const ONE = intVar(1);
const TWO = intVar(2);
const POINT_NINE = makeVar(1, -1, 1, [9000]);
const ONE_POINT_ONE = makeVar(1, 0, 1, [1, 1000]);

/** exp_var: e^arg to rscale digits (range reduction by 2^ndiv2, Taylor series, repeated squaring). */
export function expVar(arg: NumVar, rscale: number): NumVar {
  let x = copyVar(arg);
  let val = varToDouble(x);
  if (Math.abs(val) >= MAX_RESULT_SCALE * 3) {
    if (val > 0) throw overflowVar();
    return zeroVar(rscale);
  }
  const dweight = Math.trunc(val * 0.434294481903252);
  let ndiv2 = 0;
  if (Math.abs(val) > 0.01) {
    ndiv2 = 1;
    val /= 2;
    while (Math.abs(val) > 0.01) {
      ndiv2++;
      val /= 2;
    }
    x = divVarInt(x, 2 ** ndiv2, x.dscale + ndiv2, true);
  }
  let sigDigits = 1 + dweight + rscale + Math.trunc(ndiv2 * 0.301029995663981);
  sigDigits = Math.max(sigDigits, 0) + 8;
  let local = sigDigits - 1;
  let result = addVar(ONE, x);
  let elem = mulVar(x, x, local);
  let ni = 2;
  elem = divVarInt(elem, ni, local, true);
  while (elem.digits.length !== 0) {
    result = addVar(result, elem);
    elem = mulVar(elem, x, local);
    ni++;
    elem = divVarInt(elem, ni, local, true);
  }
  while (ndiv2-- > 0) {
    local = Math.max(sigDigits - result.weight * 2 * DEC_DIGITS, 0);
    result = mulVar(result, result, local);
  }
  roundVar(result, rscale);
  return result;
}

/** estimate_ln_dweight: the decimal weight of ln(v), from v − 1 near 1 or from v's two leading digits. */
export function estimateLnDweight(v: NumVar): number {
  if (v.sign !== 1) return 0;
  if (cmpVar(v, POINT_NINE) >= 0 && cmpVar(v, ONE_POINT_ONE) <= 0) {
    const x = subVar(v, ONE);
    if (x.digits.length === 0) return 0;
    return x.weight * DEC_DIGITS + Math.trunc(Math.log10(x.digits[0] as number));
  }
  if (v.digits.length === 0) return 0;
  let digits = v.digits[0] as number;
  let dweight = v.weight * DEC_DIGITS;
  if (v.digits.length > 1) {
    digits = digits * 10000 + (v.digits[1] as number);
    dweight -= DEC_DIGITS;
  }
  const lnVal = Math.log(digits) + dweight * 2.302585092994046;
  return Math.trunc(Math.log10(Math.abs(lnVal)));
}

function logError(message: string): ValueError {
  return new ValueError(ErrorCode.EvaluationError, message);
}

/** ln_var: square roots bring the argument into (0.9, 1.1), then the atanh series, then the 2^(nsqrt+1) factor. */
export function lnVar(arg: NumVar, rscale: number): NumVar {
  const c = cmpVar(arg, zeroVar(0));
  if (c === 0) throw logError('cannot take logarithm of zero');
  if (c < 0) throw logError('cannot take logarithm of a negative number');
  let x = copyVar(arg);
  let fact = TWO;
  let nsqrt = 0;
  while (cmpVar(x, POINT_NINE) <= 0) {
    x = sqrtVar(x, rscale - x.weight * 2 + 8);
    fact = mulVar(fact, TWO, 0);
    nsqrt++;
  }
  while (cmpVar(x, ONE_POINT_ONE) >= 0) {
    x = sqrtVar(x, rscale - x.weight * 2 + 8);
    fact = mulVar(fact, TWO, 0);
    nsqrt++;
  }
  const local = rscale + Math.trunc((nsqrt + 1) * 0.301029995663981) + 8;
  let result = divVarFast(subVar(x, ONE), addVar(x, ONE), local, true);
  let xx = result;
  const z2 = mulVar(result, result, local);
  let ni = 1;
  for (;;) {
    ni += 2;
    xx = mulVar(xx, z2, local);
    const elem = divVarInt(xx, ni, local, true);
    if (elem.digits.length === 0) break;
    result = addVar(result, elem);
    if (elem.weight < result.weight - Math.trunc((local * 2) / DEC_DIGITS)) break;
  }
  return mulVar(result, fact, rscale);
}

/** log_var: log of num in base `base`, at a result scale chosen from the estimated weights (as Postgres). */
export function logVar(base: NumVar, num: NumVar): NumVar {
  const lnBaseDweight = estimateLnDweight(base);
  const lnNumDweight = estimateLnDweight(num);
  const resultDweight = lnNumDweight - lnBaseDweight;
  let rscale = MIN_SIG_DIGITS - resultDweight;
  rscale = Math.min(Math.max(rscale, base.dscale, num.dscale, 0), MAX_DISPLAY_SCALE);
  const lnBaseRscale = Math.max(rscale + resultDweight - lnBaseDweight + 8, 0);
  const lnNumRscale = Math.max(rscale + resultDweight - lnNumDweight + 8, 0);
  const lnBase = lnVar(base, lnBaseRscale);
  const lnNum = lnVar(num, lnNumRscale);
  return divVarFast(lnNum, lnBase, rscale, true);
}
