// Work budgets: compile (constant folding included) is refused past its budget with too_expensive, deterministically;
// row evaluation caps one arbitrary-precision step; Postgres-cheap work such as 10::numeric ^ 100000 always passes.
import { afterEach, describe, expect, it } from 'vitest';
import { compileWhere, ErrorCode, ValueError, WhereError } from '../../src/index.js';
import { numericPow, parseNumeric } from '../../src/values/numeric.js';
import {
  DEFAULT_ROW_OPERATION_LIMIT_MS,
  TooExpensiveError,
  chargeWork,
  setRowOperationLimitMs,
  withWorkBudget,
} from '../../src/values/work-budget.js';

const COLS = { price: 'numeric', x: 'numeric' };

function rejection(where: string, budgetMs?: number): WhereError {
  try {
    compileWhere(where, COLS, budgetMs === undefined ? {} : { budgetMs });
  } catch (e) {
    if (e instanceof WhereError) return e;
    throw e;
  }
  throw new Error(`compiled: ${where}`);
}

describe('compile budget', () => {
  it('refuses folding beyond the default budget with too_expensive at the costly subexpression', () => {
    const e = rejection('price > 9.99 ^ 100000');
    expect(e.code).toBe(ErrorCode.TooExpensive);
    expect(e.position).toBe(13); // the `^`, where Postgres places an operator's errors
    expect(e.message).toMatch(/exceeds its work budget of 50 ms/);
  });

  it('is deterministic: the same clause gets the same verdict every time', () => {
    const verdicts = Array.from({ length: 3 }, () => rejection('price > 123.456 ^ 100000', 50).code);
    expect(verdicts).toEqual([ErrorCode.TooExpensive, ErrorCode.TooExpensive, ErrorCode.TooExpensive]);
  });

  it('accepts what Postgres computes cheaply, and evaluates it exactly', () => {
    const p = compileWhere('price > 10::numeric ^ 100000', COLS);
    expect(p.evaluate({ price: '5' })).toBe(false);
    expect(p.evaluate({ price: '1' + '0'.repeat(100000) + '.5' })).toBe(true);
    expect(compileWhere('price < 9.99 ^ 12000', COLS).evaluate({ price: '1e11000' })).toBe(true);
  });

  it('a budget is configurable per call', () => {
    expect(rejection('price > 9.99 ^ 12000', 1).code).toBe(ErrorCode.TooExpensive);
    expect(() => compileWhere('price > 9.99 ^ 12000', COLS, { budgetMs: 50 })).not.toThrow();
  });

  it('a value error while folding stays a constant_error, not a budget error', () => {
    expect(rejection('price > 10::numeric ^ 1000000').code).toBe(ErrorCode.ConstantError);
  });

  it('budgets nest without extending the outer one', () => {
    expect(() => withWorkBudget(1, 'outer', () => withWorkBudget(1000, 'inner', () => chargeWork(2_000_000)))).toThrow(
      TooExpensiveError,
    );
    expect(() => withWorkBudget(5, 'outer', () => chargeWork(2_000_000))).not.toThrow();
  });
});

describe('row evaluation', () => {
  afterEach(() => {
    setRowOperationLimitMs(DEFAULT_ROW_OPERATION_LIMIT_MS);
  });

  it('a column raised to a large power costs what Postgres spends and is exact', () => {
    const p = compileWhere('x ^ 12000 > 0', COLS);
    expect(p.evaluate({ x: '9.99' })).toBe(true);
    expect(p.evaluate({ x: '-9.99' })).toBe(true);
    expect(p.evaluate({ x: '0' })).toBe(false);
  });

  it('one step over the row operation limit raises a too_expensive value error', () => {
    setRowOperationLimitMs(0.5);
    const p = compileWhere('x ^ 12000 > 0', COLS);
    let err: unknown;
    try {
      p.evaluate({ x: '9.99' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValueError);
    expect((err as ValueError).code).toBe(ErrorCode.TooExpensive);
    expect(() => numericPow(parseNumeric('2'), parseNumeric('10'))).not.toThrow();
  });
});
