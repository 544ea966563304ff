// Operands and exponents for the numeric differential test and benchmark: tiny, huge, long, near 1, negative, zero.
import { numericExp, numericLn, numericLog, numericLog10, numericSqrt } from '../../src/values/numeric-funcs.js';
import type { NumericValue } from '../../src/values/types.js';

/** Deterministic digits (a fixed LCG), so the cases are the same on every run. */
function digits(n: number, seed: number): string {
  let s = seed >>> 0;
  let out = '';
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out += String(Math.floor((s / 2 ** 32) * 10));
  }
  return out.replace(/^0/, '7');
}

const LONG = [
  digits(20, 1),
  '0.' + digits(50, 2),
  '1.' + digits(200, 3),
  digits(300, 4) + '.' + digits(700, 5),
  digits(1000, 6),
  '0.' + '0'.repeat(400) + digits(600, 7),
  '1.' + '0'.repeat(990) + '1',
  '0.' + '9'.repeat(999),
];

export const OPERANDS: readonly string[] = [
  '0',
  '0.000',
  '1',
  '-1',
  '2',
  '3',
  '-2',
  '0.5',
  '-0.5',
  '1.1',
  '0.9',
  '9.99',
  '10',
  '100',
  '0.001',
  '123.456',
  '-123.456',
  '1.000001',
  '0.999999',
  '75000000000',
  '0.00000000000000000001',
  '12345678901234567890.123456789',
  '3.14159265358979323846264338327950288',
  '-' + LONG[2],
  ...LONG,
];

export const EXPONENTS: readonly string[] = [
  '0',
  '1',
  '-1',
  '2',
  '3',
  '-3',
  '7',
  '-7',
  '10',
  '16',
  '100',
  '-100',
  '333',
  '1000',
  '-1000',
  '4096',
  '12000',
  '-12000',
  '100000',
  '-100000',
  '2147483647',
  '-2147483648',
  '2147483648',
  '100000000000000000000',
  '0.5',
  '-0.5',
  '0.333',
  '1.1',
  '2.5',
  '-2.5',
  '12.34',
  '0.0001',
  '100000.5',
  '-100000.5',
  '3.14159265358979',
  '2.000',
];

const cross = (as: readonly string[], bs: readonly string[]): [string, string][] =>
  as.flatMap((a) => bs.map((b): [string, string] => [a, b]));

/** NaN and the infinities, which the functions treat specially. */
const SPECIAL = ['NaN', 'Infinity', '-Infinity'];

/** Arguments around exp's limits (its result overflows past e^6000-ish, and underflows to zero below −6000). */
const EXP_ARGS = [
  '0.01',
  '-0.01',
  '0.0100001',
  '2.5',
  '-2.5',
  '100',
  '-100',
  '1000.5',
  '-1000.5',
  '5000',
  '-5000',
  '5999.9',
  '-5999.9',
  '6000',
  '-6000',
  '13815.5',
  '1e-1000',
];

const LOG_BASES = [
  '2',
  '10',
  '0.5',
  '1',
  '0',
  '-2',
  '1.1',
  '0.9',
  '1.000001',
  '100000.5',
  '0.001',
  LONG[0] as string,
  LONG[3] as string,
  LONG[6] as string,
  ...SPECIAL,
];

const unary = (as: readonly string[]): [string, string][] => as.map((a): [string, string] => [a, '0']);

/** Cases per operation: [left, right] (right is ignored by unary operations). */
export const NUMERIC_CASES: Record<string, [string, string][]> = {
  '^': cross(OPERANDS, EXPONENTS),
  '/': cross(OPERANDS, OPERANDS),
  '%': cross(OPERANDS, OPERANDS),
  sqrt: unary([...OPERANDS, ...SPECIAL, '1e-1000', '1e+1000', '0.0001', '99999999']),
  exp: unary([...OPERANDS, ...SPECIAL, ...EXP_ARGS]),
  ln: unary([...OPERANDS, ...SPECIAL, '1e-1000', '1e+100000', '0.00010000']),
  log10: unary([...OPERANDS, ...SPECIAL, '1e-1000', '1000', '0.001']),
  log: cross(LOG_BASES, [...OPERANDS, ...SPECIAL]),
};

/** Each operation as SQL over columns `a` and `b` (the benchmark evaluates it per row on both sides). */
export const NUMERIC_SQL: Record<string, string> = {
  '^': 'a ^ b',
  '/': 'a / b',
  '%': 'a % b',
  sqrt: 'sqrt(a)',
  exp: 'exp(a)',
  ln: 'ln(a)',
  log10: 'log(a)',
  log: 'log(a, b)',
};

/** Operations beyond + - * / % ^ (functions), keyed as the differential test names them. */
export const NUMERIC_OPERATIONS: Record<string, (a: NumericValue, b: NumericValue) => NumericValue> = {
  sqrt: (a) => numericSqrt(a),
  exp: (a) => numericExp(a),
  ln: (a) => numericLn(a),
  log10: (a) => numericLog10(a),
  log: (a, b) => numericLog(a, b),
};
