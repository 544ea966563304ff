// Overload resolution of sqrt/exp/ln/log/log10/power/pow/|/ as Postgres's, and refusal of the libm-only overloads.
import { describe, expect, it } from 'vitest';
import { compileWhere, ErrorCode, WhereError } from '../../src/index.js';

const COLUMNS = { x: 'numeric', n: 'int4', f: 'float8' };

function refusal(where: string): WhereError {
  try {
    compileWhere(where, COLUMNS);
  } catch (e) {
    if (e instanceof WhereError) return e;
    throw e;
  }
  throw new Error(`${where} compiled`);
}

describe('numeric functions: overload resolution', () => {
  it('takes the numeric overload for numeric arguments and float8 (the preferred type) for integers', () => {
    expect(compileWhere('sqrt(x) > 1', COLUMNS).sql).toBe("(sqrt(x) > '1'::numeric)");
    expect(compileWhere('sqrt(n) > 1', COLUMNS).sql).toBe(
      "(sqrt(CAST(n AS double precision)) > '1'::double precision)",
    );
    expect(compileWhere('log(x, 2.0) > 1', COLUMNS).sql).toBe("(log(x, '2.0'::numeric) > '1'::numeric)");
    expect(compileWhere('pow(n, 2) > 1', COLUMNS).sql).toContain('pow(CAST(n AS double precision)');
    expect(compileWhere('power(x, n) > 1', COLUMNS).sql).toBe("(power(x, CAST(n AS numeric)) > '1'::numeric)");
  });

  it('evaluates per row with the numeric results', () => {
    const p = compileWhere('ln(x) < 0 AND log10(x) > -1 AND exp(x) < 2', COLUMNS);
    expect(p.evaluate({ x: '0.5', n: null, f: null })).toBe(true);
    expect(p.evaluate({ x: '2', n: null, f: null })).toBe(false);
    expect(() => p.evaluate({ x: '0', n: null, f: null })).toThrow('cannot take logarithm of zero');
  });

  it('refuses the float8 overloads Postgres computes with the C library, naming the exact alternative', () => {
    for (const [where, what] of [
      ['exp(n) > 1', 'exp(double precision)'],
      ['ln(f) > 1', 'ln(double precision)'],
      ['log(2) > n', 'log(double precision)'],
      ['log10(f) > 1', 'log10(double precision)'],
      ['cbrt(x) > 1', 'cbrt(double precision)'],
      ['||/ f > 1', '||/ (cube root)'],
    ] as const) {
      const e = refusal(where);
      expect(e.code, where).toBe(ErrorCode.NotSupported);
      expect(e.message, where).toContain(`${what} is not supported`);
    }
    expect(refusal('exp(n) > 1').message).toContain('exp(x::numeric) is exact');
  });

  it('reports constant errors with Postgres messages at compile time', () => {
    expect(refusal('x > sqrt(-2.0)').message).toContain('cannot take square root of a negative number');
    expect(refusal('x > ln(0.0)').message).toContain('cannot take logarithm of zero');
    expect(refusal('x > log(-1.0)').message).toContain('cannot take logarithm of a negative number');
    expect(refusal('x > exp(99999.0)').message).toContain('value overflows numeric format');
  });
});
