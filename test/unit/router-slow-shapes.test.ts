// Slow shapes: the router meters each expression's evaluation work (work counters, deterministic), and one that runs
// out of the shape row budget fails open only its own shapes, without being evaluated again.
import { afterEach, describe, expect, it } from 'vitest';
import { Router } from '../../src/router/index.js';
import type { Change } from '../../src/router/index.js';
import { compileWhere, ErrorCode } from '../../src/index.js';
import {
  SLOW_EVALUATION_UNITS,
  shapeRowBudgetMs,
  setShapeRowBudgetMs,
  workMeter,
} from '../../src/values/work-budget.js';

const SCHEMA = { 'public.items': { id: 'int4', x: 'numeric', flag: 'bool' } };

const insert = (id: number, x: string, flag = true): Change => ({
  table: 'items',
  op: 'insert',
  record: { id: String(id), x, flag: String(flag) },
});

/** The work units evaluating `where` on `x` charges by itself (what the router must attribute). */
function unitsOf(where: string, x: string): number {
  const p = compileWhere(where, { id: 'int4', x: 'numeric', flag: 'bool' });
  const before = workMeter.total;
  p.evaluate({ id: '1', x, flag: 'true' });
  return workMeter.total - before;
}

function build(): Router {
  const r = new Router({ schema: SCHEMA });
  r.addShape('costly-key', { table: 'items', where: 'x ^ 12000 > 0' });
  r.addShape('costly-residual', { table: 'items', where: 'id = 7 AND x ^ 12001 > 0' });
  r.addShape('plain', { table: 'items', where: 'id = 7' });
  r.addShape('range', { table: 'items', where: 'id > 0' });
  return r;
}

const libraryDefault = shapeRowBudgetMs();

afterEach(() => {
  setShapeRowBudgetMs(libraryDefault);
});

describe('slow-shape metering', () => {
  it("attributes each expression key's and residual's work to the router's counters", () => {
    setShapeRowBudgetMs(Infinity);
    const r = build();
    const key = unitsOf('x ^ 12000 > 0', '9.99');
    const residual = unitsOf('x ^ 12001 > 0', '9.99');
    expect(key).toBeGreaterThan(SLOW_EVALUATION_UNITS);
    const [res] = r.routeChanges([insert(7, '9.99')]);
    expect([...res!.ids].sort()).toEqual(['costly-key', 'costly-residual', 'plain', 'range']);
    expect(res!.failedOpen).toEqual([]);
    const c = r.stats().counters;
    expect(c.evaluationWork).toBe(key + residual);
    expect(c.slowEvaluations).toBe(2);
    // A row that does not reach the residual (id ≠ 7) pays for the key only; cheap values charge little.
    r.routeChanges([insert(8, '9.99')]);
    expect(r.stats().counters.evaluationWork).toBe(2 * key + residual);
    r.routeChanges([insert(7, '1')]);
    expect(r.stats().counters.slowEvaluations).toBe(3);
  });

  it('charges nothing for clauses without arbitrary-precision work', () => {
    const r = new Router({ schema: SCHEMA });
    r.addShape('a', { table: 'items', where: 'id = 7 AND x > 1.5' });
    r.addShape('b', { table: 'items', where: 'x * 2 > 3 OR flag' });
    r.routeChanges([insert(7, '9.99'), insert(3, '0.5', false)]);
    expect(r.stats().counters.evaluationWork).toBe(0);
    expect(r.stats().counters.slowEvaluations).toBe(0);
  });
});

describe('the shape row budget', () => {
  it('is off in the library (the service turns it on)', () => {
    expect(libraryDefault).toBe(Infinity);
  });

  it('fails open only the shapes of an expression over budget, and never evaluates it again', () => {
    setShapeRowBudgetMs(5); // x ^ 12000 at 9.99 charges about 9 ms of units
    const r = build();
    const [first] = r.routeChanges([insert(7, '9.99')]);
    expect([...first!.ids].sort()).toEqual(['costly-key', 'costly-residual', 'plain', 'range']);
    expect([...first!.failedOpen].sort()).toEqual(['costly-key', 'costly-residual']);
    const after = r.stats().counters;
    // Each over-budget evaluation stopped at the budget: before the step that would pass it.
    expect(after.evaluationWork).toBeLessThanOrEqual(2 * 5 * 1_000_000);
    // Stopped by its units, or sooner by the real-time cap (1.8 × the budget) on a slow or loaded machine.
    expect(r.stats().lastFailure).toMatch(/shape row budget of 5 ms|over 9 ms of real time/);
    // Later rows, even cheap ones, fail the same shapes open at no cost: they are about to be invalidated.
    const [next] = r.routeChanges([insert(7, '1')]);
    expect([...next!.failedOpen].sort()).toEqual(['costly-key', 'costly-residual']);
    const [other] = r.routeChanges([insert(8, '1')]);
    expect([...other!.ids].sort()).toEqual(['costly-key', 'range']);
    expect(other!.failedOpen).toEqual(['costly-key']);
    expect(r.stats().counters.evaluationWork).toBe(after.evaluationWork);
  });

  it('raises a too_expensive value error from a compiled predicate, deterministically', () => {
    setShapeRowBudgetMs(5);
    const p = compileWhere('x ^ 12000 > 0', { x: 'numeric' });
    const codes = Array.from({ length: 2 }, () => {
      try {
        p.evaluate({ x: '9.99' });
        return 'none';
      } catch (e) {
        return (e as { code: string }).code;
      }
    });
    expect(codes).toEqual([ErrorCode.TooExpensive, ErrorCode.TooExpensive]);
    expect(p.evaluate({ x: '1.5' })).toBe(true); // 1 ms of units: within budget
  });
});
