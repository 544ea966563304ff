// planQuals: a WHERE's conditions in the order Postgres's planner runs them, so rows raise exactly where it raises.
import { describe, expect, it } from 'vitest';
import { compileWhere, ValueError } from '../../src/index.js';
import { qualCost } from '../../src/eval/qual-cost.js';
import { renderSql } from '../../src/sql/render.js';

const COLS = { n: 'int4', score: 'int4', flag: 'bool', big: 'int8', s: 'text', arr: 'int4[]', x: 'int2' };

/** The planned conditions as SQL, in evaluation order. */
function plan(where: string): string[] {
  return compileWhere(where, COLS).quals.map(renderSql);
}

/** 'raises' or the verdict, from the compiler and the interpreter (which must agree). */
function verdict(where: string, record: Record<string, string | null>): boolean | null | 'raises' {
  const p = compileWhere(where, COLS);
  const run = (f: () => boolean | null): boolean | null | 'raises' => {
    try {
      return f();
    } catch (e) {
      if (e instanceof ValueError) return 'raises';
      throw e;
    }
  };
  const compiled = run(() => p.evaluate(record));
  expect(run(() => p.interpret(record))).toBe(compiled);
  return compiled;
}

describe('planQuals orders conditions as order_qual_clauses does (checked against EXPLAIN in Postgres 15)', () => {
  it('the issue case: the cheap ALL runs first, is NULL, and abs(n) is never computed', () => {
    const w = '(abs(n) = -1 OR score BETWEEN 0 AND 3) AND n <= ALL (ARRAY[1, NULL])';
    expect(plan(w)[0]).toContain('ALL');
    expect(verdict(w, { n: '-2147483648', score: '1' })).toBe(null);
  });

  it('a bare boolean column costs nothing and guards an overflowing product in either order', () => {
    for (const w of ['flag AND big * big > 0', 'big * big > 0 AND flag']) {
      expect(plan(w)).toEqual(['flag', `((big * big) > '0'::bigint)`]);
      expect(verdict(w, { flag: 'f', big: '9223372036854775807' })).toBe(false);
      expect(verdict(w, { flag: 't', big: '9223372036854775807' })).toBe('raises');
    }
  });

  it('equalities go into equivalence classes and run after other conditions of the same cost', () => {
    // EXPLAIN: Filter: ((score > 3) AND (big > 2) AND (n = 5))
    expect(plan('score > 3 AND n = 5 AND big > 2').map((q) => q.replace(/'(\d+)'::bigint/, '$1'))).toEqual([
      '(score > 3)',
      '(big > 2)',
      '(n = 5)',
    ]);
    // EXPLAIN: Filter: ((n = 5) AND (score = 5) AND ((1 / (n - 5)) > 0))
    expect(plan('n = 5 AND score = n AND 1/(n-5) > 0')).toEqual(['(n = 5)', '(score = 5)', '((1 / (n - 5)) > 0)']);
  });

  it('two different constants in one equivalence class: Postgres reads no row (One-Time Filter: false)', () => {
    expect(plan('n = 5 AND n = 6 AND 1/(n-5) > 0')).toEqual(['false']);
    expect(verdict('n = 5 AND n = 6 AND 1/(n-5) > 0', { n: '5' })).toBe(false);
  });

  it('conditions common to every arm of an OR move out of it', () => {
    expect(plan('(n > 0 AND 10/n > 1) OR (n > 0 AND flag)')).toEqual(['(n > 0)', '(((10 / n) > 1) OR flag)']);
    expect(verdict('(n > 0 AND 10/n > 1) OR (n > 0 AND flag)', { n: '0', flag: 't' })).toBe(false);
    // (A AND B) OR A is A.
    expect(plan('(n > 0 AND 10/n > 1) OR n > 0')).toEqual(['(n > 0)']);
  });

  it('a NULL constant inside a WHERE skeleton is FALSE: nothing else is evaluated', () => {
    expect(plan('1/n > 0 AND NULL::bool')).toEqual(['false']);
    expect(verdict('1/n > 0 AND NULL::bool', { n: '0' })).toBe(false);
    expect(plan('1/n > 0 OR NULL::bool')).toEqual(['((1 / n) > 0)']);
  });

  it('x = true is x (simplify_boolean_equality), which makes it free', () => {
    expect(plan('n + 1 > 1 AND flag = true')).toEqual(['flag', '((n + 1) > 1)']);
    expect(plan('n + 1 > 1 AND flag <> true')).toEqual(['(NOT flag)', '((n + 1) > 1)']);
  });

  it('the first condition that is not TRUE stops evaluation even when it is NULL', () => {
    expect(verdict('n <> 0 AND 10 / n > 1', { n: null })).toBe(null);
    expect(verdict('10 / n > 1 AND n <> 0', { n: '0' })).toBe(false);
  });
});

describe('qualCost follows cost_qual_eval (cpu_operator_cost 0.0025 per function)', () => {
  const cost = (w: string): number => qualCost(compileWhere(w, COLS).expr);
  it.each([
    ['flag', 0],
    ['n > 1', 0.0025],
    ['n + 1 > 1', 0.005],
    // Cross-type int4 + int8 is one operator (int48pl), no cast.
    ['n + big > 1', 0.005],
    // text → int4 is an I/O conversion: input plus output function.
    ['s::int4 > 3', 0.0075],
    ['arr[1] = 1', 0.0025],
    ['GREATEST(n, 1) > 1', 0.005],
    ['COALESCE(n, 1) > 1', 0.0025],
    ["s LIKE 'a%'", 0.0025],
    ["s LIKE s ESCAPE '!'", 0.005],
    // About half of a non-hashed array compared; nine or more constants are one hash probe.
    ['n = ANY (arr)', 0.0125],
    ['n IN (1, 2, 3, 4, 5, 6)', 0.0075],
    ['n IN (1, 2, 3, 4, 5, 6, 7, 8, 9)', 0.005],
  ])('%s costs %f', (w, c) => {
    expect(cost(w)).toBeCloseTo(c, 10);
  });
});

describe('cross-type operators: Postgres reads the narrower operand as it is', () => {
  it('i2 IN (nine or more int4 constants) is int24eq = ANY: not hashed, so it costs half the list', () => {
    const p = compileWhere('x IN (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)', COLS);
    // EXPLAIN: Filter: (x = ANY ('{1,2,3,4,5,6,7,8,9,10}'::integer[])), after ((((n + 1) + 1) + 1) + 1) > 1.
    expect(p.sql).toBe('(x IN (1, 2, 3, 4, 5, 6, 7, 8, 9, 10))');
    expect(qualCost(p.expr)).toBeCloseTo(0.0125, 10);
    expect(plan('n + 1 + 1 + 1 + 1 > 1 AND x IN (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)')[0]).toContain('n + 1');
  });
});
