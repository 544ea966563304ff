// float4/float8: Postgres 15 input (strtod/strtof rules), shortest round-trip output, ordering and arithmetic.
import { ErrorCode, ValueError, divisionByZero, invalidInput } from '../errors/index.js';
import type { Codec } from './codec.js';
import { isPgSpace } from './integer.js';
import { compareFinite, parseNumeric } from './numeric.js';
import { float8ToExactNumeric, nextFloat4Toward } from './numeric-convert.js';

export type FloatWidth = 4 | 8;
export type FloatArithOp = '+' | '-' | '*' | '/';

const TYPE_NAME = { 4: 'real', 8: 'double precision' } as const;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const HEX = /^([+-]?)0[xX]([0-9a-fA-F]*)\.?([0-9a-fA-F]*)(?:[pP]([+-]?\d+))?$/;
const SPECIAL = /^([+-]?)(?:(nan)(?:\([0-9a-zA-Z_]*\))?|(inf|infinity))$/i;

function floatError(message: string): ValueError {
  return new ValueError(ErrorCode.OutOfRange, message);
}

export const overflowError = (): ValueError => floatError('value out of range: overflow');
export const underflowError = (): ValueError => floatError('value out of range: underflow');

/** float8in: accepts what glibc strtod accepts (decimal, hex, nan, inf[inity]), with surrounding whitespace. */
export function parseFloat8(text: string): number {
  return parseFloat(text, 8);
}

/** float4in: as float8in but rounded once, directly to single precision (strtof). */
export function parseFloat4(text: string): number {
  return parseFloat(text, 4);
}

function parseFloat(text: string, width: FloatWidth): number {
  // Fast path: short plain decimals are exact doubles' nearest, and need no range checks.
  let start = 0;
  let end = text.length;
  while (start < end && isPgSpace(text.charCodeAt(start))) start++;
  while (end > start && isPgSpace(text.charCodeAt(end - 1))) end--;
  const s = start === 0 && end === text.length ? text : text.slice(start, end);
  if (DECIMAL.test(s)) {
    const d = Number(s);
    const v = width === 8 ? d : decimalToFloat4(s, d);
    if (!Number.isFinite(v) || (v === 0 && /[1-9]/.test(s.replace(/[eE].*$/, '')))) {
      throw floatError(`"${s}" is out of range for type ${TYPE_NAME[width]}`);
    }
    return v;
  }
  const sp = SPECIAL.exec(s);
  if (sp !== null) {
    if (sp[2] !== undefined) return NaN;
    return sp[1] === '-' ? -Infinity : Infinity;
  }
  const hx = HEX.exec(s);
  if (hx !== null && (hx[2]!.length > 0 || hx[3]!.length > 0)) {
    const mant = BigInt('0x' + (hx[2]! + hx[3]! || '0'));
    const exp = Number(hx[4] ?? '0') - 4 * hx[3]!.length;
    let v = Number(mant);
    // Scale in steps so that intermediate powers of two stay representable.
    let e = exp;
    while (e > 0 && Number.isFinite(v)) {
      const k = Math.min(e, 1000);
      v *= 2 ** k;
      e -= k;
    }
    while (e < 0 && v !== 0) {
      const k = Math.min(-e, 1000);
      v /= 2 ** k;
      e += k;
    }
    if (width === 4) v = Math.fround(v);
    if (!Number.isFinite(v) || (v === 0 && mant !== 0n)) {
      throw floatError(`"${s}" is out of range for type ${TYPE_NAME[width]}`);
    }
    return hx[1] === '-' ? -v : v;
  }
  throw invalidInput(TYPE_NAME[width], text);
}

/**
 * Decimal → float32 rounded once. Math.fround(Number(s)) rounds twice; that differs only when the double lands
 * exactly on a float32 midpoint, in which case the exact decimal decides.
 */
function decimalToFloat4(s: string, d: number): number {
  const f = Math.fround(d);
  if (f === d || !Number.isFinite(f)) return f;
  const other = nextFloat4Toward(f, d);
  if (d - Math.min(f, other) !== Math.max(f, other) - d) return f;
  const exact = parseNumeric(s);
  if (exact.kind !== 'finite') return f;
  const c = compareFinite(exact, float8ToExactNumeric(d));
  if (c === 0) return f; // a true tie: fround already rounded half to even
  const up = c > 0; // exact value above the midpoint
  return up === other > f ? other : f;
}

// ---------------------------------------------------------------------------------------------------------------
// Output

/** Renders shortest round-trip digits the way Postgres's Ryu output does: fixed for exponents in [-4, limit). */
function render(neg: boolean, digits: string, exp: number, fixedLimit: number): string {
  let out: string;
  if (exp >= -4 && exp < fixedLimit) {
    if (exp < 0) out = '0.' + '0'.repeat(-exp - 1) + digits;
    else if (digits.length <= exp + 1) out = digits + '0'.repeat(exp + 1 - digits.length);
    else out = digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1);
  } else {
    const mant = digits.length === 1 ? digits : digits[0] + '.' + digits.slice(1);
    const ae = Math.abs(exp);
    out = mant + (exp < 0 ? 'e-' : 'e+') + (ae < 10 ? '0' + ae : String(ae));
  }
  return neg ? '-' + out : out;
}

/** Splits a JS number string ("1.5e-7", "123.45", "1e+21") into significant digits and the leading exponent. */
function decompose(s: string): [digits: string, exp: number] {
  let e = 0;
  const ei = s.indexOf('e');
  let m = s;
  if (ei >= 0) {
    e = Number(s.slice(ei + 1));
    m = s.slice(0, ei);
  }
  const pi = m.indexOf('.');
  let intPart = pi >= 0 ? m.slice(0, pi) : m;
  const fracPart = pi >= 0 ? m.slice(pi + 1) : '';
  let all = intPart + fracPart;
  let lead = 0;
  while (lead < all.length - 1 && all[lead] === '0') lead++;
  intPart = intPart.replace(/^0+/, '');
  const exp = intPart.length > 0 ? intPart.length - 1 + e : -(lead - (pi >= 0 ? pi : m.length)) - 1 + e;
  all = all.slice(lead).replace(/0+$/, '');
  return [all === '' ? '0' : all, exp];
}

function special(x: number): string | null {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  return null;
}

/** float8out with extra_float_digits = 1 (shortest exact round-trip, Ryu-style). */
export function formatFloat8(x: number): string {
  const sp = special(x);
  if (sp !== null) return sp;
  const neg = x < 0;
  const ax = neg ? -x : x;
  let [digits, exp] = decompose(String(ax));
  if (onBoundary(ax, digits, exp)) [digits, exp] = shortestStrict(ax, digits.length, 17, 8);
  return render(neg, digits, exp, 15);
}

/** Binary layout per width: mantissa bits (with the hidden bit) and the exponent of the smallest subnormal. */
const LAYOUT = { 8: [53, -1074], 4: [24, -149] } as const;

/**
 * Where digits·10^k lies relative to x's rounding interval, exactly: [distance, half-gap] on one common scale
 * (comparable between candidates with the same k). Candidates on the edge read back to x under ties-to-even,
 * but Postgres's Ryu never emits them (it prints 1e23 as 9.999999999999999e+22), so callers need it strict.
 */
function intervalPosition(ax: number, D: bigint, k: number, width: FloatWidth): [bigint, bigint] {
  const [bits, minExp] = LAYOUT[width];
  let e = Math.max(Math.floor(Math.log2(ax)) - (bits - 1), minExp);
  // log2 can be off by one near powers of two; fix up so that m = ax / 2^e is an integer below 2^bits.
  while (e > minExp && ax / 2 ** e < 2 ** (bits - 1)) e--;
  while (ax / 2 ** e >= 2 ** bits) e++;
  const m = BigInt(ax / 2 ** e);
  const a = Math.max(0, 2 - e);
  const b = Math.max(0, -k);
  const A = D * 10n ** BigInt(k + b) * 2n ** BigInt(a);
  const B = m * 2n ** BigInt(e + a) * 10n ** BigInt(b);
  let H = 2n ** BigInt(e - 1 + a) * 10n ** BigInt(b);
  if (A < B && m === 1n << BigInt(bits - 1) && e > minExp) H /= 2n; // the gap below a power of two is half as wide
  return [A > B ? A - B : B - A, H];
}

function onBoundary(ax: number, digits: string, exp: number): boolean {
  const k = exp - (digits.length - 1);
  const D = BigInt(digits);
  // Only decimals that can be dyadic can sit exactly on an edge.
  if (k < 0 && (-k > 30 || D % 5n ** BigInt(-k) !== 0n)) return false;
  if (k >= 0 && ax < 2 ** 53) return false;
  const [d, h] = intervalPosition(ax, D, k, 8);
  return d === h;
}

/**
 * Shortest digits strictly inside x's rounding interval, from `from` digits up; the nearest wins and an exact
 * tie goes to the even digit (Ryu's rule).
 */
function shortestStrict(ax: number, from: number, max: number, width: FloatWidth): [string, number] {
  for (let p = from; p <= max; p++) {
    const [d0, e0] = decompose(ax.toPrecision(p));
    const n = BigInt(d0.padEnd(p, '0'));
    const k = e0 - p + 1;
    let best: bigint | null = null;
    let bestDist = 0n;
    for (const c of [n - 1n, n, n + 1n]) {
      if (c <= 0n) continue;
      const [d, h] = intervalPosition(ax, c, k, width);
      if (d >= h) continue;
      if (best === null || d < bestDist || (d === bestDist && (c & 1n) === 0n)) {
        best = c;
        bestDist = d;
      }
    }
    if (best !== null) {
      const str = best.toString();
      return [str.replace(/0+$/, '') || '0', k + str.length - 1];
    }
  }
  return decompose(ax.toExponential(max - 1));
}

/** float4out with extra_float_digits = 1: the shortest decimal that reads back as the same float32. */
export function formatFloat4(x: number): string {
  const sp = special(x);
  if (sp !== null) return sp;
  const neg = x < 0;
  const [digits, exp] = shortestStrict(neg ? -x : x, 1, 9, 4);
  return render(neg, digits, exp, 6);
}

// ---------------------------------------------------------------------------------------------------------------
// Ordering and keys

/** Postgres float order: NaN equals NaN and sorts above everything; -0 equals 0. */
export function compareFloat(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (a === b) return 0;
  const an = Number.isNaN(a);
  const bn = Number.isNaN(b);
  return an === bn ? 0 : an ? 1 : -1;
}

export function floatEquals(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

/** Equality key: -0 folds into 0 and every NaN into one key. */
export function floatKey(x: number): string | number {
  if (x === 0) return 0;
  return Number.isNaN(x) ? 'NaN' : x;
}

// ---------------------------------------------------------------------------------------------------------------
// Arithmetic

/** + - * / with Postgres's overflow/underflow checks; float4 results are rounded to single precision. */
export function floatArith(op: FloatArithOp, width: FloatWidth, a: number, b: number): number {
  let r: number;
  let infOk: boolean;
  let zeroOk: boolean;
  switch (op) {
    case '+':
      r = a + b;
      infOk = !Number.isFinite(a) || !Number.isFinite(b);
      zeroOk = true;
      break;
    case '-':
      r = a - b;
      infOk = !Number.isFinite(a) || !Number.isFinite(b);
      zeroOk = true;
      break;
    case '*':
      r = a * b;
      infOk = !Number.isFinite(a) || !Number.isFinite(b);
      zeroOk = a === 0 || b === 0;
      break;
    case '/':
      if (b === 0 && !Number.isNaN(a)) throw divisionByZero();
      r = a / b;
      infOk = a === Infinity || a === -Infinity;
      zeroOk = a === 0 || b === Infinity || b === -Infinity;
      break;
  }
  if (width === 4) r = Math.fround(r);
  if ((r === Infinity || r === -Infinity) && !infOk) throw overflowError();
  if (r === 0 && !zeroOk) throw underflowError();
  return r;
}

export function floatNeg(a: number): number {
  return -a;
}

export function floatAbs(a: number): number {
  return Math.abs(a);
}

function powerError(message: string): ValueError {
  return new ValueError(ErrorCode.EvaluationError, message);
}

/** dpow: POSIX pow() special cases spelled out as Postgres does, then overflow/underflow errors. */
export function floatPow(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) || b !== 0 ? NaN : 1;
  if (Number.isNaN(b)) return a !== 1 ? NaN : 1;
  if (a === 0 && b < 0) throw powerError('zero raised to a negative power is undefined');
  if (a < 0 && Math.floor(b) !== b) {
    throw powerError('a negative number raised to a non-integer power yields a complex result');
  }
  if (b === Infinity || b === -Infinity) {
    const ax = Math.abs(a);
    if (ax === 1) return 1;
    if (b > 0) return ax > 1 ? b : 0;
    return ax > 1 ? 0 : -b;
  }
  if (a === Infinity || a === -Infinity) {
    if (b === 0) return 1;
    if (a > 0) return b > 0 ? a : 0;
    const half = b / 2;
    const odd = Math.floor(half) !== half;
    if (b > 0) return odd ? a : -a;
    return odd ? -0 : 0;
  }
  const r = Math.pow(a, b);
  if (r === Infinity || r === -Infinity) throw overflowError();
  if (r === 0 && a !== 0) throw underflowError();
  return r;
}

/** `|/`: square root; negative input is an error (but -0 gives -0). */
export function floatSqrt(a: number): number {
  if (a < 0) throw powerError('cannot take square root of a negative number');
  return Math.sqrt(a);
}

function makeCodec(width: FloatWidth): Codec<number> {
  return {
    parse: width === 8 ? parseFloat8 : parseFloat4,
    format: width === 8 ? formatFloat8 : formatFloat4,
    compare: compareFloat,
    equals: floatEquals,
    key: floatKey,
  };
}

export const float8Codec: Codec<number> = makeCodec(8);
export const float4Codec: Codec<number> = makeCodec(4);
