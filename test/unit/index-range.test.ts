// Unit tests of the range index: one-sided thresholds and two-sided intervals against a brute-force model.
import { describe, it, expect } from 'vitest';
import { EntryTable } from '../../src/index/entries.js';
import { RangeIndex } from '../../src/index/range-index.js';

/** Float order as Postgres sorts it: NaN above everything, -0 = 0. */
const floatCmp = (a: number, b: number): number => {
  const an = Number.isNaN(a);
  const bn = Number.isNaN(b);
  if (an || bn) return an && bn ? 0 : an ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0;
};

interface R {
  lo: number | undefined;
  loIncl: boolean;
  hi: number | undefined;
  hiIncl: boolean;
}
const contains = (r: R, v: number): boolean =>
  (r.lo === undefined || floatCmp(r.lo, v) < 0 || (floatCmp(r.lo, v) === 0 && r.loIncl)) &&
  (r.hi === undefined || floatCmp(r.hi, v) > 0 || (floatCmp(r.hi, v) === 0 && r.hiIncl));

function lcg(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s % n;
  };
}

describe('RangeIndex', () => {
  it('matches a brute-force model under random inserts and deletes (with NaN, -0, ±Infinity)', () => {
    const rnd = lcg(42);
    const values = [-Infinity, -5, -1, -0, 0, 1, 2, 3, 5, 8, 100, Infinity, NaN];
    const pick = (): number => values[rnd(values.length)] as number;
    const t = new EntryTable();
    const ix = new RangeIndex<number>(floatCmp);
    const live = new Map<number, R>();
    for (let step = 0; step < 3000; step++) {
      if (live.size > 0 && rnd(4) === 0) {
        const ids = [...live.keys()];
        const e = ids[rnd(ids.length)] as number;
        t.release(e);
        live.delete(e);
      } else {
        const kind = rnd(3);
        const r: R = {
          lo: kind === 1 ? undefined : pick(),
          loIncl: rnd(2) === 0,
          hi: kind === 0 ? undefined : pick(),
          hiIncl: rnd(2) === 0,
        };
        const e = t.alloc(step, -1);
        ix.add(e, r.lo, r.loIncl, r.hi, r.hiIncl, t);
        live.set(e, r);
      }
      if (step % 100 === 0) {
        for (const v of values) {
          const got: number[] = [];
          ix.stab(v, (e) => got.push(e));
          const want = [...live].filter(([, r]) => contains(r, v)).map(([e]) => e);
          expect(got.sort((a, b) => a - b)).toEqual(want.sort((a, b) => a - b));
        }
      }
    }
    for (const e of [...live.keys()]) t.release(e);
    expect(ix.size).toBe(0);
  });

  it('is output-sensitive: a stab visits O(log n + matches) nodes for one-sided and narrow ranges', () => {
    const visitsAt = (n: number): { lower: number; narrow: number } => {
      const t = new EntryTable();
      const lower = new RangeIndex<number>(floatCmp);
      const narrow = new RangeIndex<number>(floatCmp);
      for (let i = 0; i < n; i++) {
        lower.add(t.alloc(i, -1), i * 10, false, undefined, false, t);
        narrow.add(t.alloc(i, -1), i * 10, true, i * 10 + 5, true, t);
      }
      let sink = 0;
      const emit = (): void => {
        sink++;
      };
      // v = 25 matches three thresholds (0, 10, 20) and one interval ([20, 25]).
      const lv = lower.stab(25, emit);
      const nv = narrow.stab(25, emit);
      expect(sink).toBe(4);
      return { lower: lv, narrow: nv };
    };
    const small = visitsAt(1000);
    const large = visitsAt(100_000);
    // log2 grows by ~6.6 between the two sizes; a linear scan would grow 100×.
    expect(large.lower).toBeLessThan(small.lower * 4 + 40);
    expect(large.narrow).toBeLessThan(small.narrow * 4 + 40);
    expect(large.narrow).toBeLessThan(200);
  });

  it('orders with any comparator (code-point text)', () => {
    const cp = (a: string, b: string): number => (a === b ? 0 : [a, b].sort()[0] === a ? -1 : 1);
    const t = new EntryTable();
    const ix = new RangeIndex<string>(cp);
    const e = t.alloc(0, -1);
    ix.add(e, undefined, false, 'a', false, t); // x < 'a'
    const got: number[] = [];
    ix.stab('B', (x) => got.push(x));
    ix.stab('b', (x) => got.push(x));
    expect(got).toEqual([e]);
  });
});
