// Admission limits: concurrent creations, shape counts (with creations in flight), where-clause bytes and nodes.
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors/index.js';
import { Admission, countNodes, SHED_MIN_RUNNING } from '../../src/shapes/admission.js';
import { ShapeCreationError, ShapeRequestError } from '../../src/shapes/types.js';
import { compileWhere } from '../../src/where.js';

const refusal = (f: () => unknown): ShapeCreationError | ShapeRequestError => {
  try {
    f();
  } catch (e) {
    if (e instanceof ShapeCreationError || e instanceof ShapeRequestError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
};

describe('admission', () => {
  it('refuses a creation beyond the concurrency cap with 429 until one is released', () => {
    const a = new Admission({ maxConcurrentCreations: 2 });
    const r1 = a.begin('public.t', undefined, 0, 0);
    a.begin('public.t', undefined, 0, 0);
    const e = refusal(() => a.begin('public.u', undefined, 0, 0)) as ShapeCreationError;
    expect([e.code, e.httpStatus, e.retryAfterSeconds]).toEqual([ErrorCode.TooManyCreations, 429, 1]);
    r1();
    r1(); // releasing twice frees one slot only
    a.begin('public.u', undefined, 0, 0);
    expect(() => a.begin('public.u', undefined, 0, 0)).toThrow(ShapeCreationError);
    expect(a.counters).toEqual({ tooManyCreations: 2, creationLatency: 0, shapeLimit: 0, whereTooComplex: 0 });
  });

  it('sheds creations with a paced retry-after while 4+ run and recent ones took longer than the latency limit', () => {
    let now = 0;
    const a = new Admission({ maxConcurrentCreations: 6, maxCreationLatencyMs: 5_000 }, () => now);
    // An idle service admits whatever one slow snapshot took: below SHED_MIN_RUNNING nothing is shed.
    const slow = a.begin('public.big', undefined, 0, 0);
    now += 30_000;
    slow(true);
    expect(a.creationLatencyMs).toBe(30_000);
    const running = [0, 1, 2, 3].map(() => a.begin('public.t', undefined, 0, 0));
    expect(running.length).toBe(SHED_MIN_RUNNING);
    const shed = refusal(() => a.begin('public.t', undefined, 0, 0)) as ShapeCreationError;
    expect([shed.code, shed.httpStatus, shed.retryAfterSeconds]).toEqual([ErrorCode.TooManyCreations, 429, 30]);
    expect(shed.message).toMatch(/take 30000 ms at the current pace .*limit is 5000 ms, 4 running/);
    expect(a.counters.creationLatency).toBe(1);
    // Fast creations bring the smoothed latency under the limit again; failed ones do not count.
    now += 100;
    (running[0] as (ok?: boolean) => void)(false);
    expect(a.creationLatencyMs).toBe(30_000);
    for (let i = 0; i < 12; i++) {
      const r = a.begin('public.t', undefined, 0, 0);
      now += 100;
      r(true);
    }
    expect(a.creationLatencyMs).toBeLessThan(5_000);
    // Admitted again: 3 were still running, 6 make the concurrency cap.
    [0, 1, 2].forEach(() => a.begin('public.t', undefined, 0, 0));
    // The concurrency cap's retry-after is when a slot frees: latency / running, at least the configured second.
    const capped = refusal(() => a.begin('public.t', undefined, 0, 0)) as ShapeCreationError;
    expect(capped.retryAfterSeconds).toBe(Math.max(1, Math.ceil(a.creationLatencyMs / 6 / 1000)));
    // 0 turns the latency limit off.
    const off = new Admission({ maxCreationLatencyMs: 0 }, () => now);
    const r = off.begin('public.t', undefined, 0, 0);
    now += 60_000;
    r(true);
    [0, 1, 2, 3, 4].forEach(() => off.begin('public.t', undefined, 0, 0));
  });

  it('counts creations in flight against the total and per-table caps (503, longer retry-after)', () => {
    const a = new Admission({ maxShapes: 10, maxShapesPerTable: 3, maxConcurrentCreations: 0 });
    a.begin('public.t', undefined, 5, 1);
    a.begin('public.t', undefined, 5, 1);
    const perTable = refusal(() => a.begin('public.t', undefined, 5, 1)) as ShapeCreationError;
    expect([perTable.code, perTable.httpStatus, perTable.retryAfterSeconds]).toEqual([ErrorCode.ShapeLimit, 503, 30]);
    expect(perTable.message).toMatch(/public\.t holds its limit of 3/);
    a.begin('public.u', undefined, 7, 0); // 7 + 2 in flight < 10
    expect(refusal(() => a.begin('public.v', undefined, 7, 0)).message).toMatch(/limit of 10 shapes/);
    expect(a.counters.shapeLimit).toBe(2);
  });

  it('rejects where clauses over the byte and node limits with 400 where_too_complex', () => {
    const a = new Admission({ maxWhereBytes: 20, maxWhereNodes: 10 });
    const big = refusal(() => a.begin('public.t', 'v = 1 OR v = 2 OR v = 3', 0, 0)) as ShapeRequestError;
    expect(big.code).toBe(ErrorCode.WhereTooComplex);
    expect(big.errors['where']).toEqual(["where clause too large: 23 bytes (this service's limit is 20)"]);
    expect(big.details).toEqual({ where: { code: 'where_too_complex' } });
    const cols = { v: 'int4' };
    a.checkWhereTree(compileWhere('v = 1 OR v = 2 OR v = 3', cols).expr); // 10 nodes: or + 3 × (compare, col, const)
    const deep = refusal(() => a.checkWhereTree(compileWhere('v = 1 OR v = 2 OR v = 3 OR v = 4', cols).expr));
    expect(deep.code).toBe(ErrorCode.WhereTooComplex);
    expect((deep as ShapeRequestError).details).toEqual({ where: { code: 'where_too_complex' } });
    expect(a.counters.whereTooComplex).toBe(2);
    // 0 turns a limit off.
    new Admission({ maxWhereNodes: 0 }).checkWhereTree(compileWhere('v = 1 OR v = 2 OR v = 3 OR v = 4', cols).expr);
  });

  it('counts nodes iteratively and stops early past the limit', () => {
    const expr = compileWhere(Array.from({ length: 300 }, (_, i) => `v = ${i}`).join(' OR '), { v: 'int4' }).expr;
    expect(countNodes(expr)).toBe(1 + 300 * 3);
    expect(countNodes(expr, 100)).toBe(101);
  });

  it('rejects limits that are not non-negative integers', () => {
    expect(() => new Admission({ maxShapes: -1 })).toThrow(RangeError);
    expect(() => new Admission({ maxWhereNodes: 1.5 })).toThrow(RangeError);
  });
});
