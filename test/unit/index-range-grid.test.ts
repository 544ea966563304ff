// RangeGrid against brute force: random ranges of every width class, inclusive and strict bounds, churn, odd values.
import { describe, expect, it } from 'vitest';
import { rng } from '../../bench/router-workloads.js';
import { gridEligible, RangeGrid, type GridRec } from '../../src/index/range-grid.js';

describe('RangeGrid', () => {
  it('finds exactly the ranges containing a value, through adds and removes', () => {
    for (const seed of [1, 2, 3, 4]) {
      const r = rng(seed);
      const g = new RangeGrid();
      const live = new Map<number, GridRec>();
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
      const value = (): number =>
        pick([
          () => Math.floor(r() * 200) - 100,
          () => (r() - 0.5) * 1e6,
          () => (r() - 0.5) * 1e-3,
          () => pick([0, -0, 1, -1, 0.5, -0.5, 1e15, -1e15, 2 ** 53, 1e300, -1e300]),
        ])();
      let next = 0;
      for (let step = 0; step < 4000; step++) {
        if (r() < 0.6 || live.size === 0) {
          const a = value();
          const width = pick([0, 0.25, 1, 3, 10, 1000, 1e6, Math.abs(value())]);
          const lo = r() < 0.1 ? a + width : a; // some empty ranges (lo > hi)
          const hi = r() < 0.1 ? a : a + width;
          if (!gridEligible(lo, hi)) continue;
          const e = next++;
          live.set(e, g.add(e, lo, r() < 0.5, hi, r() < 0.5));
        } else {
          const keys = [...live.keys()];
          const e = keys[Math.floor(r() * keys.length)] as number;
          g.remove(live.get(e) as GridRec);
          live.delete(e);
        }
        if (step % 20 === 0) {
          for (const v of [value(), value(), NaN, Infinity, -Infinity, -0]) {
            const got: number[] = [];
            g.stab(v, (e) => got.push(e));
            const want = [...live.values()]
              .filter((x) => (x.loIncl ? x.lo <= v : x.lo < v) && (x.hiIncl ? v <= x.hi : v < x.hi))
              .map((x) => x.entry);
            expect(got.sort((a, b) => a - b)).toEqual(want.sort((a, b) => a - b));
          }
          expect(g.size).toBe(live.size);
        }
      }
    }
  });

  it('probes two buckets per width class, whatever the number of ranges', () => {
    const g = new RangeGrid();
    for (let i = 0; i < 10_000; i++) g.add(i, i * 100, true, i * 100 + 10, true);
    const got: number[] = [];
    expect(g.stab(500_005, (e) => got.push(e))).toBe(2);
    expect(got).toEqual([5000]);
  });

  it('leaves non-finite, tiny and extremely wide bounds to the treap', () => {
    expect(gridEligible(0, 1)).toBe(true);
    expect(gridEligible(-Infinity, 1)).toBe(false);
    expect(gridEligible(NaN, 1)).toBe(false);
    expect(gridEligible(5e-324, 1)).toBe(false);
    expect(gridEligible(-1e308, 1e308)).toBe(false);
  });
});
