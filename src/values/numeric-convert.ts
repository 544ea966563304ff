// Casts among the numeric types (int2/4/8, numeric, float4/8) with Postgres 15's rounding and range errors.
import { ErrorCode, ValueError, outOfRange } from '../errors/index.js';
import type { IntWidth } from './integer.js';
import { parseFloat4, parseFloat8, overflowError, underflowError } from './float.js';
import {
  NUMERIC_NAN,
  NUMERIC_NINF,
  NUMERIC_PINF,
  finite,
  formatNumeric,
  pow10,
  roundCoefDown,
  stripTrailingZeros,
} from './numeric.js';
import type { FiniteNumeric } from './numeric.js';
import type { NumericValue } from './types.js';

const RANGE_NAME = { 2: 'smallint', 4: 'integer', 8: 'bigint' } as const;
const LIMITS = {
  2: [-32768n, 32767n],
  4: [-2147483648n, 2147483647n],
  8: [-9223372036854775808n, 9223372036854775807n],
} as const;

export function numericFromInt(v: number | bigint): NumericValue {
  return finite(typeof v === 'bigint' ? v : BigInt(v), 0);
}

/** Integer → integer: exact, range-checked when narrowing. int8 results are bigint, int2/int4 numbers. */
export function intToInt(v: number | bigint, width: IntWidth): number | bigint {
  if (width === 8) return typeof v === 'bigint' ? v : BigInt(v);
  const [lo, hi] = LIMITS[width];
  const n = typeof v === 'bigint' ? (v < lo || v > hi ? NaN : Number(v)) : v;
  if (!(n >= Number(lo) && n <= Number(hi))) throw outOfRange(RANGE_NAME[width]);
  return n;
}

/** numeric → integer: round half away from zero; NaN and infinities cannot convert. */
export function numericToInt(v: NumericValue, width: IntWidth): number | bigint {
  if (v.kind === 'nan') throw new ValueError(ErrorCode.EvaluationError, `cannot convert NaN to ${RANGE_NAME[width]}`);
  if (v.kind === 'inf') {
    throw new ValueError(ErrorCode.EvaluationError, `cannot convert infinity to ${RANGE_NAME[width]}`);
  }
  const i = roundCoefDown(v.coef, v.scale);
  const [lo, hi] = LIMITS[width];
  if (i < lo || i > hi) throw outOfRange(RANGE_NAME[width]);
  return width === 8 ? i : Number(i);
}

/** numeric → float8 goes through the decimal text as Postgres does (correctly rounded; overflow is an error). */
export function numericToFloat8(v: NumericValue): number {
  if (v.kind === 'nan') return NaN;
  if (v.kind === 'inf') return v.sign > 0 ? Infinity : -Infinity;
  if (v.scale === 0 && v.coef >= -9007199254740991n && v.coef <= 9007199254740991n) return Number(v.coef);
  return parseFloat8(formatNumeric(v));
}

export function numericToFloat4(v: NumericValue): number {
  if (v.kind === 'nan') return NaN;
  if (v.kind === 'inf') return v.sign > 0 ? Infinity : -Infinity;
  return parseFloat4(formatNumeric(v));
}

/** The exact decimal value of a finite double (every double is a terminating decimal). */
export function float8ToExactNumeric(x: number): FiniteNumeric {
  if (x === 0) return finite(0n, 0);
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const neg = bits >> 63n === 1n;
  const bexp = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & 0xfffffffffffffn;
  let e: number;
  if (bexp === 0) e = -1074;
  else {
    mant |= 1n << 52n;
    e = bexp - 1075;
  }
  let coef: bigint;
  let scale: number;
  if (e >= 0) {
    coef = mant << BigInt(e);
    scale = 0;
  } else {
    // m·2^e = m·5^-e / 10^-e
    coef = mant * 5n ** BigInt(-e);
    scale = -e;
  }
  return stripTrailingZeros(finite(neg ? -coef : coef, scale));
}

/** Rounds to `sig` significant digits half to even (glibc printf), as the minimal-scale numeric %g would print. */
function toSignificant(x: number, sig: number): NumericValue {
  if (Number.isNaN(x)) return NUMERIC_NAN;
  if (x === Infinity) return NUMERIC_PINF;
  if (x === -Infinity) return NUMERIC_NINF;
  const ex = float8ToExactNumeric(x);
  if (ex.coef === 0n) return finite(0n, 0);
  const abs = ex.coef < 0n ? -ex.coef : ex.coef;
  const drop = abs.toString().length - sig;
  let c = ex.coef;
  let scale = ex.scale;
  if (drop > 0) {
    const d = pow10(drop);
    let q = abs / d;
    const r = abs - q * d;
    if (r * 2n > d || (r * 2n === d && (q & 1n) === 1n)) q += 1n;
    c = ex.coef < 0n ? -q : q;
    scale -= drop;
  }
  if (scale < 0) {
    c *= pow10(-scale);
    scale = 0;
  }
  return stripTrailingZeros(finite(c, scale));
}

/** float8 → numeric: Postgres prints the double with %.15g (DBL_DIG) and reads that back. */
export function float8ToNumeric(x: number): NumericValue {
  return toSignificant(x, 15);
}

/** float4 → numeric: %.6g (FLT_DIG). */
export function float4ToNumeric(x: number): NumericValue {
  return toSignificant(x, 6);
}

export function intToFloat8(v: number | bigint): number {
  return Number(v); // Number(bigint) rounds half to even, as the C conversion does
}

/** int → float4 rounded once to 24 bits (Math.fround(Number(big)) would round twice). */
export function intToFloat4(v: number | bigint): number {
  if (typeof v === 'number') return Math.fround(v);
  const neg = v < 0n;
  const a = neg ? -v : v;
  const len = a.toString(2).length;
  if (len <= 24) return Math.fround(Number(v));
  const shift = BigInt(len - 24);
  let q = a >> shift;
  const r = a - (q << shift);
  const half = 1n << (shift - 1n);
  if (r > half || (r === half && (q & 1n) === 1n)) q += 1n;
  const f = Number(q) * 2 ** Number(shift);
  return neg ? -f : f;
}

/** float → integer: rint (half to even), then a range check; NaN is out of range. */
export function float8ToInt(x: number, width: IntWidth): number | bigint {
  const r = roundHalfEven(x);
  const [lo, hi] = LIMITS[width];
  // hi + 1 is a power of two, exact as a double; the int8 upper bound 2^63 itself is out of range.
  if (!(r >= Number(lo) && r < Number(hi) + 1)) throw outOfRange(RANGE_NAME[width]);
  if (width === 8) return BigInt(r);
  return r === 0 ? 0 : r;
}

function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.floor(x);
  const diff = x - f;
  if (diff < 0.5) return f;
  if (diff > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

export function float4ToFloat8(x: number): number {
  return x;
}

/** float8 → float4 (dtof): overflow and underflow are errors unless the input was infinite or zero. */
export function float8ToFloat4(x: number): number {
  const f = Math.fround(x);
  if ((f === Infinity || f === -Infinity) && Number.isFinite(x)) throw overflowError();
  if (f === 0 && x !== 0) throw underflowError();
  return f;
}

/** The float32 adjacent to `f` in the direction of `toward`. */
export function nextFloat4Toward(f: number, toward: number): number {
  const buf = new DataView(new ArrayBuffer(4));
  buf.setFloat32(0, f);
  let bits = buf.getInt32(0);
  if (f === 0) bits = toward > 0 ? 1 : -2147483647;
  else if (toward > f === f > 0) bits += 1;
  else bits -= 1;
  buf.setInt32(0, bits);
  return buf.getFloat32(0);
}
