// Work budgets: compile (constant folding included) is refused past its budget with too_expensive, deterministically;
// row evaluation caps one arbitrary-precision step; Postgres-cheap work such as 10::numeric ^ 100000 always passes.
import { afterEach, describe, expect, it } from 'vitest';
import { compileWhere, ErrorCode, ValueError, WhereError } from '../../src/index.js';
import { numericPow, parseNumeric } from '../../src/values/numeric.js';
import {
  CLOCK_CHECK_UNITS,
  DEFAULT_ROW_OPERATION_LIMIT_MS,
  TooExpensiveError,
  beginEvaluation,
  chargeWork,
  setRowOperationLimitMs,
  withWorkBudget,
  workMeter,
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

  it('an infinite compile budget is not capped by the shape row budget', () => {
    expect(() => compileWhere('price > 9.99 ^ 30000', COLS, { budgetMs: Infinity })).not.toThrow();
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

/**
 * Holds the thread for `ms` of CPU time (so at least as much wall time): work that runs slower than its units say
 * (a miscalibrated loop), whatever else the machine is running.
 */
function spin(ms: number): void {
  const cpu = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const end = cpu() + ms;
  while (cpu() < end);
}

/** Charges CLOCK_CHECK_UNITS per step, each step taking `msPerStep` of real time, until something throws. */
function slowSteps(msPerStep: number, maxSteps: number): { steps: number; error: unknown } {
  let steps = 0;
  try {
    while (steps < maxSteps) {
      chargeWork(CLOCK_CHECK_UNITS);
      spin(msPerStep);
      steps++;
    }
  } catch (error) {
    return { steps, error };
  }
  return { steps, error: undefined };
}

describe('the real-time cap', () => {
  afterEach(() => {
    setRowOperationLimitMs(DEFAULT_ROW_OPERATION_LIMIT_MS);
  });

  it('counts every charged unit in the running total the router attributes from', () => {
    const before = workMeter.total;
    chargeWork(1234);
    withWorkBudget(10, 'x', () => chargeWork(5));
    expect(workMeter.total - before).toBe(1239);
  });

  it('stops a compile whose units under-count its real time, long before its unit budget', () => {
    // 10 ms of units = 100 steps of 0.1 ms nominal; each really takes 1 ms. The cap (18 ms) bites once a quarter of
    // the units is charged: at step 25.
    const r = withWorkBudget(10, 'compiling the where clause', () => slowSteps(1, 1000));
    expect(r.error).toBeInstanceOf(TooExpensiveError);
    expect((r.error as Error).message).toMatch(/work budget of 10 ms \(stopped by its real-time cap of 18 ms\)/);
    expect(r.steps).toBeLessThan(100);
    expect(r.steps).toBeGreaterThan(0);
  });

  it('refuses a step that would pass the cap at the projected rate, before running it', () => {
    const r = withWorkBudget(100, 'folding', () => {
      chargeWork(CLOCK_CHECK_UNITS); // the clock's first reading after this step
      spin(70);
      let ran = false;
      try {
        // 60 M units (within the 100 ms budget) projected at 2 ns a unit: 70 + 120 ms passes the 180 ms cap.
        chargeWork(60_000_000);
        ran = true;
      } catch (error) {
        return { ran, error };
      }
      return { ran, error: undefined };
    });
    expect(r.ran).toBe(false);
    expect(r.error).toBeInstanceOf(TooExpensiveError);
  });

  it("caps one row's evaluation at the row operation limit in real time, and a new row starts afresh", () => {
    setRowOperationLimitMs(5);
    beginEvaluation();
    const r = slowSteps(1, 1000);
    expect(r.error).toBeInstanceOf(ValueError);
    expect((r.error as ValueError).code).toBe(ErrorCode.TooExpensive);
    expect((r.error as Error).message).toMatch(/over 5 ms of real time/);
    expect(r.steps).toBeLessThan(100);
    beginEvaluation();
    expect(() => chargeWork(CLOCK_CHECK_UNITS)).not.toThrow();
  });

  it('lets fast work through: 9.99 ^ 12000 folds within the default budget', () => {
    expect(() => compileWhere('price > 9.99 ^ 12000', COLS)).not.toThrow();
  });
});
