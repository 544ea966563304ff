// Postgres's numeric representation (base-10000 digits, weight, sign, display scale) and long values held in it.
import type { NumericValue } from './types.js';

/**
 * A value as numeric.c's NumericVar: sign, weight of digits[0] in base NBASE, display scale, base-NBASE digits.
 * Stripped vars have no leading or trailing zero digits; zero has no digits and sign 1.
 */
export interface NumVar {
  sign: 1 | -1;
  weight: number;
  dscale: number;
  digits: number[];
}

export const NBASE = 10000;
export const DEC_DIGITS = 4;

export function makeVar(sign: 1 | -1, weight: number, dscale: number, digits: number[]): NumVar {
  return { sign, weight, dscale, digits };
}

export function zeroVar(dscale: number): NumVar {
  return { sign: 1, weight: 0, dscale, digits: [] };
}

/** strip_var: drops leading and trailing zero digits (zero becomes the canonical empty var). */
export function stripVar(v: NumVar): void {
  const d = v.digits;
  let start = 0;
  let end = d.length;
  while (start < end && d[start] === 0) start++;
  while (end > start && d[end - 1] === 0) end--;
  if (start === end) {
    v.sign = 1;
    v.weight = 0;
    v.digits = [];
    return;
  }
  if (start > 0 || end < d.length) v.digits = d.slice(start, end);
  v.weight -= start;
}

const POW10: bigint[] = [1n];
const BIG_POW10 = new Map<number, bigint>();

/** 10^n as bigint, cached (scale alignment is on every hot path). */
export function pow10(n: number): bigint {
  if (n < 64) {
    while (POW10.length <= n) POW10.push(POW10[POW10.length - 1]! * 10n);
    return POW10[n]!;
  }
  let v = BIG_POW10.get(n);
  if (v === undefined) {
    v = 10n ** BigInt(n);
    // A few recent large powers: range checks and scale alignment of one huge value ask for the same one repeatedly.
    if (BIG_POW10.size >= 16) BIG_POW10.delete(BIG_POW10.keys().next().value as number);
    BIG_POW10.set(n, v);
  }
  return v;
}

// ---------------------------------------------------------------------------------------------------------------
// Text ↔ digits

/**
 * The stripped var of a decimal mantissa text[from, to) (digits with at most one '.', already validated) times
 * 10^exp, with display scale `dscale`: set_var_from_str, grouping four characters per digit around the point.
 */
export function varFromDecimalText(
  text: string,
  from: number,
  to: number,
  pointAt: number,
  exp: number,
  neg: boolean,
  dscale: number,
): NumVar {
  const intChars = (pointAt < 0 ? to : pointAt) - from;
  // Decimal exponent of the text's first digit, after the exponent; its group has that weight in base NBASE, and
  // `pad` phantom zeros precede the digit within the group.
  const e1 = intChars + exp - 1;
  const weight = Math.floor(e1 / DEC_DIGITS);
  const pad = DEC_DIGITS - 1 - (e1 - DEC_DIGITS * weight);
  const total = to - from - (pointAt < 0 ? 0 : 1);
  const n = Math.ceil((total + pad) / DEC_DIGITS);
  const digits = new Array<number>(n);
  let d = 0;
  let k = pad;
  let out = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) continue;
    d = d * 10 + (c - 48);
    if (++k === DEC_DIGITS) {
      digits[out++] = d;
      d = 0;
      k = 0;
    }
  }
  if (k > 0) {
    while (k++ < DEC_DIGITS) d *= 10;
    digits[out++] = d;
  }
  const v = makeVar(neg ? -1 : 1, weight, dscale, digits);
  stripVar(v);
  return v;
}

/** Four decimal characters per digit, zero-padded, as bytes (joining strings cost more than the arithmetic). */
function digitChars(digits: readonly number[], from: number, to: number): string {
  const buf = Buffer.allocUnsafe((to - from) * DEC_DIGITS);
  let p = 0;
  for (let i = from; i < to; i++) {
    const d = i >= 0 && i < digits.length ? (digits[i] as number) : 0;
    buf[p++] = 48 + Math.floor(d / 1000);
    buf[p++] = 48 + (Math.floor(d / 100) % 10);
    buf[p++] = 48 + (Math.floor(d / 10) % 10);
    buf[p++] = 48 + (d % 10);
  }
  return buf.toString('latin1');
}

/**
 * |v| · 10^dscale in decimal without leading zeros ('0' for zero); digits beyond dscale are dropped, as
 * get_str_from_var does. `zeros` (≥ 0) more trailing zeros are left off and reported instead of written.
 */
function coefText(v: NumVar): { text: string; zeros: number } {
  const n = v.digits.length;
  // Groups from digits[0] down to the one holding the 10^-dscale position.
  const groups = v.weight + 1 + Math.ceil(v.dscale / DEC_DIGITS);
  if (n === 0 || groups <= 0) return { text: '0', zeros: 0 };
  const stop = Math.min(n, groups);
  let s = digitChars(v.digits, 0, stop);
  // Groups past the last digit are zeros (counted, not written); characters below 10^-dscale are dropped.
  let zeros = DEC_DIGITS * (groups - stop) - (DEC_DIGITS * Math.ceil(v.dscale / DEC_DIGITS) - v.dscale);
  if (zeros < 0) {
    s = s.slice(0, s.length + zeros);
    zeros = 0;
  }
  let z = 0;
  while (z < s.length - 1 && s.charCodeAt(z) === 48) z++;
  if (z > 0) s = s.slice(z);
  return s === '0' ? { text: s, zeros: 0 } : { text: s, zeros };
}

/** get_str_from_var: plain notation with exactly dscale fraction digits. */
export function varToText(v: NumVar): string {
  const { text, zeros } = coefText(v);
  let s = zeros > 0 ? text + '0'.repeat(zeros) : text;
  const neg = v.sign < 0 && text !== '0';
  const scale = v.dscale;
  if (scale > 0) {
    if (s.length <= scale) s = '0'.repeat(scale - s.length + 1) + s;
    const cut = s.length - scale;
    s = s.slice(0, cut) + '.' + s.slice(cut);
  }
  return neg ? '-' + s : s;
}

/** The coefficient (value · 10^dscale, truncated) as a bigint; trailing integer zeros by a cached power of ten. */
export function varCoef(v: NumVar): bigint {
  const { text, zeros } = coefText(v);
  let c = BigInt(text);
  if (zeros > 0) c *= pow10(zeros);
  return v.sign < 0 ? -c : c;
}

/** The var of coef · 10^-scale (scale ≥ 0). */
export function varOfCoef(coef: bigint, scale: number): NumVar {
  if (coef === 0n) return zeroVar(scale);
  const neg = coef < 0n;
  const s = (neg ? -coef : coef).toString();
  return varFromDecimalText(s, 0, s.length, -1, -scale, neg, scale);
}

// ---------------------------------------------------------------------------------------------------------------
// Long values

/** Coefficients below 10^15 stay plain {coef, scale} objects: exact doubles, and the fast paths key on them. */
const PLAIN_LIMIT = 1000000000000000n;

/**
 * A finite numeric whose coefficient has 16 or more digits, held as Postgres holds it (base-10000 digits), so
 * arithmetic on long operands needs no decimal ↔ bigint conversion. `coef` is computed on first use (ordering
 * against plain values, casts); everything else reads the digits.
 */
export class DigitNumeric {
  readonly kind = 'finite' as const;
  readonly scale: number;
  /** Stripped, no digits beyond the display scale; never zero. Shared: callers must copy before changing it. */
  readonly var: NumVar;
  #coef: bigint | undefined;

  constructor(v: NumVar) {
    this.var = v;
    this.scale = v.dscale;
  }

  get coef(): bigint {
    if (this.#coef === undefined) this.#coef = varCoef(this.var);
    return this.#coef;
  }
}

type Finite = Extract<NumericValue, { kind: 'finite' }>;

/** Decimal digits in the coefficient of a stripped var (no digits beyond dscale), 0 for zero. */
export function varCoefDigits(v: NumVar): number {
  if (v.digits.length === 0) return 0;
  const first = v.digits[0] as number;
  const lead = first >= 1000 ? 4 : first >= 100 ? 3 : first >= 10 ? 2 : 1;
  return DEC_DIGITS * v.weight + lead + v.dscale;
}

/** Drops digits beyond dscale (get_str_from_var prints none of them) from a var that may have some. */
function truncatedToScale(v: NumVar): NumVar {
  const keep = v.weight + 1 + Math.ceil(v.dscale / DEC_DIGITS);
  const rem = v.dscale % DEC_DIGITS;
  if (keep >= v.digits.length && (rem === 0 || keep > v.digits.length)) return v;
  if (keep <= 0) return zeroVar(v.dscale);
  const digits = v.digits.slice(0, keep);
  if (rem !== 0 && keep === digits.length) {
    const p = [1, 1000, 100, 10][rem] as number;
    const last = digits[keep - 1] as number;
    digits[keep - 1] = last - (last % p);
  }
  const out = makeVar(v.sign, v.weight, v.dscale, digits);
  stripVar(out);
  return out;
}

/** The value of a var as a NumericValue: plain when its coefficient is short, else a DigitNumeric. */
export function numericFromVar(v: NumVar): Finite {
  const t = truncatedToScale(v);
  if (t.digits.length === 0) return { kind: 'finite', coef: 0n, scale: t.dscale };
  if (varCoefDigits(t) < 16) {
    const c = varCoef(t);
    if (c < PLAIN_LIMIT && c > -PLAIN_LIMIT) return { kind: 'finite', coef: c, scale: t.dscale };
  }
  return new DigitNumeric(t);
}

/** The digits of a finite value (its own when it is a DigitNumeric; then shared, so copy before changing). */
export function varOf(v: Finite): NumVar {
  return v instanceof DigitNumeric ? v.var : varOfCoef(v.coef, v.scale);
}
