// Unit tests of sorted bound lists and order keys: exact against a brute-force model across chunk splits and merges,
// with Postgres's orders (NaN highest, ±Infinity, exact numeric, code-point text), and O(log n) comparisons per stab.
import { describe, it, expect } from 'vitest';
import { BoundList } from '../../src/index/bound-list.js';
import { BoundPairs } from '../../src/index/bound-pairs.js';
import { EntryTable } from '../../src/index/entries.js';
import { projectionFor, type KeyOrder } from '../../src/index/order-key.js';
import { codecFor } from '../../src/values/registry.js';
import { pgType, type Value } from '../../src/values/types.js';

function lcg(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s % n;
  };
}

function orderOf(type: string): KeyOrder {
  const t = pgType(type as 'int4');
  const codec = codecFor(t);
  return { cmp: codec.compare as (a: Value, b: Value) => number, project: projectionFor(t) };
}

const POOLS: Record<string, string[]> = {
  float8: ['-Infinity', '-1e300', '-2.5', '-0', '0', '1e-300', '1', '1.0000000000000002', '3', 'Infinity', 'NaN'],
  numeric: [
    '-Infinity',
    '-12345678901234567890.5',
    '-1',
    '0',
    '0.1',
    '0.10000000000000000001',
    '0.3',
    '9007199254740993',
    '9007199254740993.5',
    '1e400',
    'Infinity',
    'NaN',
  ],
  int8: ['-9223372036854775808', '-1', '0', '9007199254740992', '9007199254740993', '9223372036854775807'],
  text: ['', 'a', 'a\u0000', 'ab', 'abc', 'abd', 'b', 'é', '\uffff', '😀', '😀a', '\ue000'],
  timestamptz: ['-infinity', '2024-01-01 00:00:00+00', '2024-01-01 00:00:00.000001+00', 'infinity'],
  date: ['-infinity', '2024-01-01', '2024-01-02', 'infinity'],
};

describe('order keys', () => {
  it('never reverse the type order (projection is monotone)', () => {
    for (const [type, texts] of Object.entries(POOLS)) {
      const { cmp, project } = orderOf(type);
      const codec = codecFor(pgType(type as 'int4'));
      const vals = texts.map((t) => codec.parse(t));
      for (const a of vals)
        for (const b of vals) {
          const pa = project(a);
          const pb = project(b);
          expect(Number.isNaN(pa), type).toBe(false);
          if (pa < pb) expect(cmp(a, b), `${type} ${String(pa)} < ${String(pb)}`).toBeLessThan(0);
        }
    }
  });
});

describe('BoundList', () => {
  for (const [type, texts] of Object.entries(POOLS)) {
    it(`${type}: stab = brute force through adds and removes (chunks split and merge)`, () => {
      const order = orderOf(type);
      const codec = codecFor(pgType(type as 'int4'));
      const vals = texts.map((t) => codec.parse(t));
      const rnd = lcg(7 + type.length);
      const table = new EntryTable();
      const list = new BoundList(order);
      const live = new Map<number, { v: Value; strict: boolean }>();
      const check = (): void => {
        for (const v of vals) {
          const got: number[] = [];
          list.stab(v, (e) => got.push(e));
          const want = [...live]
            .filter(([, b]) => {
              const c = order.cmp(b.v, v);
              return c < 0 || (c === 0 && !b.strict);
            })
            .map(([e]) => e);
          expect(got.sort((a, b) => a - b)).toEqual(want.sort((a, b) => a - b));
        }
      };
      for (let step = 0; step < 4000; step++) {
        // Grow to ~1500 bounds (several chunks), then shrink to a few (merges), twice.
        const growing = step % 2000 < 1200;
        if (live.size > 0 && rnd(growing ? 5 : 1) === 0) {
          const ids = [...live.keys()];
          const e = ids[rnd(ids.length)] as number;
          table.release(e);
          live.delete(e);
        } else {
          const e = table.alloc(0, -1);
          const b = { v: vals[rnd(vals.length)] as Value, strict: rnd(2) === 0 };
          list.add(e, b.v, b.strict, table);
          live.set(e, b);
        }
        if (step % 250 === 0) check();
        expect(list.size).toBe(live.size);
      }
      check();
    });
  }

  it('a stab makes O(log n) comparisons however many bounds it emits', () => {
    const order = orderOf('int4');
    const table = new EntryTable();
    const list = new BoundList(order);
    const n = 100_000;
    for (let i = 0; i < n; i++) list.add(table.alloc(i, -1), i, i % 2 === 0, table);
    let emitted = 0;
    const steps = list.stab(n / 2 + 1, () => emitted++);
    // Every c ≤ 50000 passes, and c = 50001 too: odd bounds are inclusive (x >= c), even ones strict (x > c).
    expect(emitted).toBe(n / 2 + 2);
    expect(steps).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(n)));
    let none = 0;
    expect(list.stab(-1, () => none++)).toBeLessThanOrEqual(Math.ceil(Math.log2(n)) + 1);
    expect(none).toBe(0);
  });
});

describe('BoundPairs', () => {
  for (const [type, texts] of Object.entries(POOLS)) {
    it(`${type}: intervals, pairs and further bounds = brute force through adds and removes`, () => {
      const order = orderOf(type);
      const mirrored: KeyOrder = { cmp: (a, b) => order.cmp(b, a), project: (v) => -order.project(v) };
      const codec = codecFor(pgType(type as 'int4'));
      const vals = texts.map((t) => codec.parse(t));
      const rnd = lcg(11 + type.length);
      const table = new EntryTable();
      const moreTable = new EntryTable();
      // First bound: x > a (or >=); second: y < b (or <=); in `more`, further bounds z > c and w < d (flat per entry).
      const pairs = new BoundPairs(order, mirrored);
      const more = new BoundPairs(order, mirrored, null, [order, mirrored]);
      type Live = { a: Value; sa: boolean; b: Value; sb: boolean; c: Value; sc: boolean; d: Value; sd: boolean };
      const live = new Map<number, Live>();
      const above = (bound: Value, strict: boolean, v: Value): boolean => {
        const c = order.cmp(bound, v);
        return c < 0 || (c === 0 && !strict);
      };
      const below = (bound: Value, strict: boolean, v: Value): boolean => {
        const c = order.cmp(bound, v);
        return c > 0 || (c === 0 && !strict);
      };
      const passes = (p: Live, x: Value, y: Value): boolean => above(p.a, p.sa, x) && below(p.b, p.sb, y);
      const check = (): void => {
        for (const x of vals)
          for (const y of [x, vals[rnd(vals.length)] as Value]) {
            const got: number[] = [];
            pairs.stab(x, y, (e) => got.push(e));
            const want = [...live].filter(([, p]) => passes(p, x, y)).map(([e]) => e);
            expect(got.sort((a, b) => a - b)).toEqual(want.sort((a, b) => a - b));
            const z = [vals[rnd(vals.length)] as Value, vals[rnd(vals.length)] as Value] as const;
            const got2: number[] = [];
            more.stab(x, y, (e) => got2.push(e), z);
            const want2 = [...live]
              .filter(([, p]) => passes(p, x, y) && above(p.c, p.sc, z[0]) && below(p.d, p.sd, z[1]))
              .map(([e]) => e);
            expect(got2.sort((a, b) => a - b)).toEqual(want2.sort((a, b) => a - b));
          }
      };
      for (let step = 0; step < 4000; step++) {
        const growing = step % 2000 < 1200;
        if (live.size > 0 && rnd(growing ? 5 : 1) === 0) {
          const ids = [...live.keys()];
          const e = ids[rnd(ids.length)] as number;
          table.release(e);
          moreTable.release(e);
          live.delete(e);
        } else {
          const e = table.alloc(0, -1);
          // Both tables allocate in lockstep, so an entry has one id in both.
          expect(moreTable.alloc(0, -1)).toBe(e);
          const pick = (): Value => vals[rnd(vals.length)] as Value;
          const p: Live = {
            a: pick(),
            sa: rnd(2) === 0,
            b: pick(),
            sb: rnd(2) === 0,
            c: pick(),
            sc: rnd(2) === 0,
            d: pick(),
            sd: rnd(2) === 0,
          };
          pairs.add(e, p.a, p.sa, p.b, p.sb, table);
          more.add(e, p.a, p.sa, p.b, p.sb, moreTable, more.extraOf([p.c, p.d], [p.sc, p.sd]));
          live.set(e, p);
        }
        if (step % 250 === 0) check();
        expect(pairs.size).toBe(live.size);
        expect(more.size).toBe(live.size);
      }
      check();
    });
  }

  it('wide intervals are emitted in copied runs: comparisons grow with chunks, not with matches', () => {
    const order = orderOf('numeric');
    const mirrored: KeyOrder = { cmp: (a, b) => order.cmp(b, a), project: (v) => -order.project(v) };
    const codec = codecFor(pgType('numeric'));
    const table = new EntryTable();
    const pairs = new BoundPairs(order, mirrored);
    const n = 20_000;
    // [i, i + n): every interval with i ≤ v contains v = n - 1.
    for (let i = 0; i < n; i++)
      pairs.add(table.alloc(i, -1), codec.parse(String(i)), false, codec.parse(String(i + n)), true, table);
    let emitted = 0;
    const v = codec.parse(String(n - 1));
    const steps = pairs.stab(v, v, () => emitted++);
    expect(emitted).toBe(n);
    // One binary search per chunk of ≤ 256 (at least 78 chunks here) plus the boundary chunk's checks.
    expect(steps).toBeLessThan((n / 128) * 10 + 256);
    expect(steps * 10).toBeLessThan(emitted);
  });
});
