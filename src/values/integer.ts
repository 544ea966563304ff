// int2/int4/int8: Postgres 15 text input, overflow-checked arithmetic and bitwise operators, and their codecs.
import { ErrorCode, ValueError, divisionByZero, invalidInput, outOfRange } from '../errors/index.js';
import type { Codec } from './codec.js';

export type IntWidth = 2 | 4 | 8;
export type IntArithOp = '+' | '-' | '*' | '/' | '%';
export type IntBitOp = '&' | '|' | '#' | '<<' | '>>';

const INPUT_NAME = { 2: 'smallint', 4: 'integer', 8: 'bigint' } as const;
const RANGE_NAME = INPUT_NAME;
const MIN = { 2: -32768, 4: -2147483648 } as const;
const MAX = { 2: 32767, 4: 2147483647 } as const;
const INT8_MIN = -9223372036854775808n;
const INT8_MAX = 9223372036854775807n;

/** Postgres's isspace(): space, \t, \n, \v, \f, \r. */
export function isPgSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/**
 * Validates `[space] [+-] digits [space]` and returns [start of sign-or-digits, end] or null. PG15 has no
 * underscores, hex or exponents in integer input.
 */
function scanInteger(text: string): [number, number] | null {
  let i = 0;
  let end = text.length;
  while (i < end && isPgSpace(text.charCodeAt(i))) i++;
  while (end > i && isPgSpace(text.charCodeAt(end - 1))) end--;
  const start = i;
  const c0 = text.charCodeAt(i);
  if (c0 === 43 || c0 === 45) i++;
  if (i === end) return null;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return null;
  }
  return [start, end];
}

function parseSmall(text: string, width: 2 | 4): number {
  // Fast path: up to 9 plain digits can neither overflow a double nor need trimming.
  const n = text.length;
  if (n > 0 && n <= 9) {
    let v = 0;
    let i = 0;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
    }
    if (i === n) {
      if (v > MAX[width]) throw rangeInput(text, width);
      return v;
    }
  }
  const span = scanInteger(text);
  if (span === null) throw invalidInput(INPUT_NAME[width], text);
  // Number() on a digit string of any length is exact enough to range-check; in-range values are exact.
  const v = Number(text.slice(span[0], span[1]));
  if (v < MIN[width] || v > MAX[width]) throw rangeInput(text, width);
  return v === 0 ? 0 : v;
}

function rangeInput(text: string, width: IntWidth): ValueError {
  return new ValueError(ErrorCode.OutOfRange, `value "${text}" is out of range for type ${INPUT_NAME[width]}`);
}

export function parseInt2(text: string): number {
  return parseSmall(text, 2);
}

export function parseInt4(text: string): number {
  return parseSmall(text, 4);
}

export function parseInt8(text: string): bigint {
  const n = text.length;
  if (n > 0 && n <= 15) {
    let v = 0;
    let i = 0;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
    }
    if (i === n) return BigInt(v);
  }
  const span = scanInteger(text);
  if (span === null) throw invalidInput('bigint', text);
  const v = BigInt(text.slice(span[0], span[1]));
  if (v < INT8_MIN || v > INT8_MAX) throw rangeInput(text, 8);
  return v;
}

export function formatInt(v: number | bigint): string {
  return String(v);
}

function checkSmall(v: number, width: 2 | 4): number {
  if (v < MIN[width] || v > MAX[width]) throw outOfRange(RANGE_NAME[width]);
  return v === 0 ? 0 : v;
}

function check8(v: bigint): bigint {
  if (v < INT8_MIN || v > INT8_MAX) throw outOfRange('bigint');
  return v;
}

/** Integer arithmetic of one width; the caller has already widened mixed operands. */
export function intArith(op: IntArithOp, width: 2 | 4, a: number, b: number): number;
export function intArith(op: IntArithOp, width: 8, a: bigint, b: bigint): bigint;
export function intArith(op: IntArithOp, width: IntWidth, a: number | bigint, b: number | bigint): number | bigint;
export function intArith(op: IntArithOp, width: IntWidth, a: number | bigint, b: number | bigint): number | bigint {
  if (width === 8) {
    const x = a as bigint;
    const y = b as bigint;
    switch (op) {
      case '+':
        return check8(x + y);
      case '-':
        return check8(x - y);
      case '*':
        return check8(x * y);
      case '/':
        if (y === 0n) throw divisionByZero();
        return check8(x / y); // bigint division truncates; INT8_MIN / -1 overflows the check
      case '%':
        if (y === 0n) throw divisionByZero();
        return x % y; // sign of the dividend, and INT8_MIN % -1 = 0 as in Postgres
    }
  }
  const x = a as number;
  const y = b as number;
  switch (op) {
    case '+':
      return checkSmall(x + y, width);
    case '-':
      return checkSmall(x - y, width);
    case '*': {
      // int4 products reach 2^62, past double exactness, but any inexact product is far out of range.
      return checkSmall(x * y, width);
    }
    case '/':
      if (y === 0) throw divisionByZero();
      return checkSmall(Math.trunc(x / y), width);
    case '%': {
      if (y === 0) throw divisionByZero();
      const r = x % y;
      return r === 0 ? 0 : r; // avoid -0 (e.g. -4 % 2)
    }
  }
}

export function intNeg(width: 2 | 4, a: number): number;
export function intNeg(width: 8, a: bigint): bigint;
export function intNeg(width: IntWidth, a: number | bigint): number | bigint;
export function intNeg(width: IntWidth, a: number | bigint): number | bigint {
  if (width === 8) return check8(-(a as bigint));
  return checkSmall(-(a as number), width);
}

export function intAbs(width: 2 | 4, a: number): number;
export function intAbs(width: 8, a: bigint): bigint;
export function intAbs(width: IntWidth, a: number | bigint): number | bigint;
export function intAbs(width: IntWidth, a: number | bigint): number | bigint {
  if (width === 8) {
    const x = a as bigint;
    return check8(x < 0n ? -x : x);
  }
  return checkSmall(Math.abs(a as number), width);
}

/**
 * Bitwise operators. For shifts `b` is the int4 shift count (Postgres's shift operators take int4 on the
 * right). Postgres shifts with C semantics on x86: the count is masked to the promoted operand width (31 for
 * int2/int4, which C promotes to int, 63 for int8), and an int2 result is truncated back to 16 bits.
 */
export function intBitwise(op: IntBitOp, width: 2 | 4, a: number, b: number): number;
export function intBitwise(op: IntBitOp, width: 8, a: bigint, b: bigint | number): bigint;
export function intBitwise(op: IntBitOp, width: IntWidth, a: number | bigint, b: number | bigint): number | bigint;
export function intBitwise(op: IntBitOp, width: IntWidth, a: number | bigint, b: number | bigint): number | bigint {
  if (width === 8) {
    const x = a as bigint;
    if (op === '<<' || op === '>>') {
      const n = BigInt(Number(b) & 63);
      return op === '<<' ? BigInt.asIntN(64, x << n) : x >> n;
    }
    const y = b as bigint;
    switch (op) {
      case '&':
        return x & y;
      case '|':
        return x | y;
      case '#':
        return x ^ y;
    }
  }
  const x = a as number;
  const y = b as number;
  let r: number;
  switch (op) {
    case '&':
      r = x & y;
      break;
    case '|':
      r = x | y;
      break;
    case '#':
      r = x ^ y;
      break;
    case '<<':
      r = x << (y & 31); // JS masks the count by 31 too; spelled out for clarity
      break;
    case '>>':
      r = x >> (y & 31);
      break;
  }
  return width === 2 ? (r << 16) >> 16 : r;
}

export function intBitNot(width: 2 | 4, a: number): number;
export function intBitNot(width: 8, a: bigint): bigint;
export function intBitNot(width: IntWidth, a: number | bigint): number | bigint;
export function intBitNot(width: IntWidth, a: number | bigint): number | bigint {
  if (width === 8) return ~(a as bigint);
  return ~(a as number); // ~ of an in-range int2 stays in int2 range
}

/** int8 equality key: a number while exact, else the decimal string (numericKey uses the same convention). */
export function int8Key(v: bigint): string | number {
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v.toString();
}

function cmpNumber(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function cmpBigint(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export const int2Codec: Codec<number> = {
  parse: parseInt2,
  format: formatInt,
  compare: cmpNumber,
  equals: (a, b) => a === b,
  key: (v) => v,
};

export const int4Codec: Codec<number> = {
  parse: parseInt4,
  format: formatInt,
  compare: cmpNumber,
  equals: (a, b) => a === b,
  key: (v) => v,
};

export const int8Codec: Codec<bigint> = {
  parse: parseInt8,
  format: formatInt,
  compare: cmpBigint,
  equals: (a, b) => a === b,
  key: int8Key,
};
