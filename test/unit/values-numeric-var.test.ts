// mul_var's truncated product and sqrt_var against plain reference computations, across the digit loop's paired
// and single forms and the bigint path.
import { describe, expect, it } from 'vitest';
import { copyVar, divVar, divVarFast, mulVar, roundVar, sqrtVar, stripVar } from '../../src/values/numeric-var.js';
import type { NumVar } from '../../src/values/numeric-var.js';

/** Deterministic pseudo-random integers (an LCG), so failures reproduce. */
function rng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.floor((s / 2 ** 32) * n);
  };
}

/** A stripped var of `n` digits; `density` is the chance that a digit is non-zero (sparse operands skip work). */
function randomVar(r: (n: number) => number, n: number, density: number): NumVar {
  const digits = Array.from({ length: n }, () => (r(1000) < density * 1000 ? 1 + r(9999) : 0));
  digits[0] = 1 + r(9999);
  digits[n - 1] = 1 + r(9999);
  const weight = r(7) - 3;
  return { sign: r(2) === 0 ? 1 : -1, weight, dscale: Math.max(4 * (n - weight - 1), 0), digits };
}

/** numeric.c's mul_var loop as written there: one digit of var1 at a time, same truncation, same rounding. */
function referenceMul(x: NumVar, y: NumVar, rscale: number): NumVar {
  const [a, b] = x.digits.length > y.digits.length ? [y, x] : [x, y];
  const n1 = a.digits.length;
  const n2 = b.digits.length;
  const resWeight = a.weight + b.weight + 2;
  const maxdigits = resWeight + 1 + Math.floor((rscale + 3) / 4) + 2;
  const resN = Math.min(n1 + n2 + 1, maxdigits);
  if (resN < 3) return { sign: 1, weight: 0, dscale: rscale, digits: [] };
  const dig = new Array<bigint>(resN).fill(0n);
  for (let i1 = Math.min(n1 - 1, resN - 3); i1 >= 0; i1--) {
    const d1 = BigInt(a.digits[i1] as number);
    const lim = Math.min(n2, resN - i1 - 2);
    for (let i2 = 0; i2 < lim; i2++)
      dig[i1 + 2 + i2] = (dig[i1 + 2 + i2] as bigint) + d1 * BigInt(b.digits[i2] as number);
  }
  let carry = 0n;
  const out = new Array<number>(resN);
  for (let i = resN - 1; i >= 0; i--) {
    const v = (dig[i] as bigint) + carry;
    carry = v / 10000n;
    out[i] = Number(v % 10000n);
  }
  const v: NumVar = { sign: a.sign === b.sign ? 1 : -1, weight: resWeight, dscale: rscale, digits: out };
  roundVar(v, rscale);
  stripVar(v);
  return v;
}

describe('mulVar', () => {
  it('matches mul_var digit for digit: dense and sparse operands, full and truncated products', () => {
    const r = rng(7);
    for (let k = 0; k < 400; k++) {
      const a = randomVar(r, 1 + r(k < 300 ? 40 : 400), [1, 0.5, 0.05][k % 3] as number);
      const b = randomVar(r, 1 + r(k < 300 ? 40 : 400), [1, 0.3, 0.02][(k >> 1) % 3] as number);
      // From a handful of digits to the exact product's full scale.
      const rscale = [0, 8, 20 + r(60), a.dscale + b.dscale, r(4 * (a.digits.length + b.digits.length))][
        k % 5
      ] as number;
      expect(mulVar(a, b, rscale), `case ${k}`).toEqual(referenceMul(a, b, rscale));
    }
  });

  it('squares exactly like a product of two equal copies', () => {
    const r = rng(11);
    for (let k = 0; k < 40; k++) {
      const a = randomVar(r, 20 + r(300), 1);
      const copy: NumVar = { ...a, digits: a.digits.slice() };
      const rscale = r(2) === 0 ? 2 * a.dscale : 16 + r(200);
      expect(mulVar(a, a, rscale)).toEqual(referenceMul(a, copy, rscale));
    }
  });
});

describe('divVar and divVarFast', () => {
  it('give exact quotients (x / x, multiples) at rscale, however many zeros that scale holds', () => {
    const r = rng(5);
    for (let k = 0; k < 60; k++) {
      const b = randomVar(r, 3 + r(300), [1, 0.05][k % 2] as number);
      const q = randomVar(r, 1 + r(3), 1);
      const a = mulVar(q, b, q.dscale + b.dscale);
      const rscale = [0, 16, 1000][k % 3] as number;
      const expected = copyVar(q);
      roundVar(expected, rscale);
      stripVar(expected);
      expect(divVar(a, b, rscale, k % 2 === 0), `case ${k}`).toEqual({ ...expected, dscale: rscale });
    }
  });

  it('agree on sparse operands, where div_var_fast runs its own digit loop (the exact quotient, rounded)', () => {
    const r = rng(9);
    for (let k = 0; k < 60; k++) {
      const a = randomVar(r, 1 + r(200), 0.03);
      const b = randomVar(r, 20 + r(250), 0.03);
      const rscale = 20 + r(1000);
      expect(divVarFast(a, b, rscale, true), `case ${k}`).toEqual(divVar(a, b, rscale, true));
    }
  });
});

describe('sqrtVar', () => {
  it('is within one unit of the last place of the true root, for short and long arguments', () => {
    const r = rng(3);
    for (let k = 0; k < 200; k++) {
      const arg = randomVar(r, 1 + r(k < 150 ? 12 : 120), 1);
      arg.sign = 1;
      const rscale = r(40);
      // In integers: (R − 1)² ≤ arg · 10^(2·rscale) ≤ (R + 1)², with R = root · 10^rscale, both sides · 10^dscale.
      const R = toScaled(sqrtVar(arg, rscale), rscale);
      const T = toScaled(arg, arg.dscale) * 10n ** BigInt(2 * rscale);
      const unit = 10n ** BigInt(arg.dscale);
      const low = R > 0n ? R - 1n : 0n;
      expect(low ** 2n * unit <= T && T <= (R + 1n) ** 2n * unit, `case ${k}`).toBe(true);
    }
  });
});

/** v · 10^scale as an exact integer (v must have no digits below 10^-scale). */
function toScaled(v: NumVar, scale: number): bigint {
  let x = 0n;
  for (const d of v.digits) x = x * 10000n + BigInt(d);
  // x has its last digit at weight v.weight − n + 1 (base 10000).
  const e = 4 * (v.weight - v.digits.length + 1) + scale;
  const s = e >= 0 ? x * 10n ** BigInt(e) : x / 10n ** BigInt(-e);
  return v.sign < 0 ? -s : s;
}
