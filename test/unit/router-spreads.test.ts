// Selectivity estimates of one-sided bounds from probe spreads: constants until rows are seen, then the rows' range.
import { describe, it, expect } from 'vitest';
import { Spread, mostSelectiveFirst, pairPass } from '../../src/router/spreads.js';
import type { Value } from '../../src/values/types.js';

const num = (v: Value): number => v as number;

describe('probe spreads', () => {
  it('estimate a bound against the constants, then against the rows once enough are seen', () => {
    const s = new Spread(num);
    expect(s.pass(5, false)).toBe(0.5);
    for (const c of [80, 100]) s.noteConstant(c);
    expect(s.pass(90, false)).toBeCloseTo(0.5);
    expect(s.pass(90, true)).toBeCloseTo(0.5);
    // Rows spread over 0…100: `x > 90` passes a tenth of them, not half.
    for (let i = 0; i <= 100; i += 5) s.noteRow(i);
    expect(s.pass(90, false)).toBeCloseTo(0.1);
    expect(s.pass(90, true)).toBeCloseTo(0.9);
    expect(s.pass(200, false)).toBeGreaterThan(0);
  });

  it('an interval passes the overlap of its halves; bounds on two probes multiply', () => {
    const a = new Spread(num);
    const b = new Spread(num);
    for (const c of [0, 100]) {
      a.noteConstant(c);
      b.noteConstant(c);
    }
    expect(pairPass({ spread: a, value: 40, upper: false }, { spread: a, value: 60, upper: true })).toBeCloseTo(0.2);
    expect(pairPass({ spread: a, value: 40, upper: false }, { spread: b, value: 60, upper: true })).toBeCloseTo(0.36);
  });

  it('puts the most selective pair first and keeps the rest in order', () => {
    const at = new Spread(num);
    const user = new Spread(num);
    for (const c of [0, 100]) {
      at.noteConstant(c);
      user.noteConstant(c);
    }
    const bounds = [
      { name: 'user>', spread: user, value: 5, upper: false },
      { name: 'user<', spread: user, value: 95, upper: true },
      { name: 'at>', spread: at, value: 90, upper: false },
    ];
    expect(mostSelectiveFirst(bounds).map((b) => b.name)).toEqual(['user>', 'at>', 'user<']);
    // A narrow interval wins over a selective threshold.
    const narrow = [
      { name: 'user>', spread: user, value: 50, upper: false },
      { name: 'user<', spread: user, value: 52, upper: true },
      { name: 'at>', spread: at, value: 90, upper: false },
    ];
    expect(mostSelectiveFirst(narrow).map((b) => b.name)).toEqual(['user>', 'user<', 'at>']);
  });
});
