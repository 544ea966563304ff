// Threshold families, bound pairs and conjunctions of ranges pinned by work counters: every candidate is a match
// (postings probed = ids), no residual runs, and the comparisons per row grow with log n or chunks of 256, not with n.
import { describe, it, expect } from 'vitest';
import { Router } from '../../src/router/index.js';
import type { Change } from '../../src/router/index.js';

const SCHEMA = {
  zoo: {
    region: 'int4',
    amount: 'numeric',
    price: 'float8',
    at: 'timestamptz',
    user_id: 'int8',
    day: 'date',
    qty: 'int2',
    flag: 'bool',
  },
};

function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x80000000;
  };
}

const ts = (day: number): string =>
  new Date(Date.UTC(2024, 0, 1 + day)).toISOString().replace('T', ' ').replace('Z', '+00');

interface Cost {
  ids: number;
  probed: number;
  residuals: number;
  lookups: number;
}

function cost(r: Router, record: Record<string, string | null>): Cost {
  const before = r.stats().counters;
  const change: Change = { table: 'zoo', op: 'insert', record };
  const ids = r.route(change).length;
  const after = r.stats().counters;
  return {
    ids,
    probed: after.postingsProbed - before.postingsProbed,
    residuals: after.residualsEvaluated - before.residualsEvaluated,
    lookups: after.lookups - before.lookups,
  };
}

const ROW = {
  region: '7',
  amount: '500.50',
  price: '500',
  at: ts(180),
  user_id: '500',
  day: '2024-07-01',
  qty: '500',
  flag: 't',
};

/** Shapes of one clause with random bounds; the same seed gives the same shapes at every size. */
function build(n: number, where: string, params: (r: () => number) => Record<string, string>): Router {
  const r = new Router({ schema: SCHEMA });
  const rnd = lcg(99);
  for (let i = 0; i < n; i++) r.addShape(`s${i}`, { table: 'zoo', where, params: params(rnd) });
  return r;
}

interface Case {
  name: string;
  where: string;
  params: (r: () => number) => Record<string, string>;
  /** Comparisons allowed per match: a third bound is checked per entry of the runs the first two select. */
  perMatch?: number;
}

const CASES: Case[] = [
  {
    name: 'equality + numeric threshold (family)',
    where: 'region = 7 AND amount > $1',
    params: (r) => ({ '1': (r() * 1000).toFixed(2) }),
  },
  {
    name: 'equality + float and timestamptz thresholds (pairs under the key)',
    where: 'region = 7 AND price < $1 AND at < $2',
    params: (r) => ({ '1': String(Math.floor(r() * 1000)), '2': ts(Math.floor(r() * 365)) }),
  },
  {
    name: 'wide numeric intervals (bound pairs)',
    where: 'amount BETWEEN $1 AND $2',
    params: (r) => {
      const a = r() * 1000;
      const b = r() * 1000;
      return { '1': Math.min(a, b).toFixed(2), '2': Math.max(a, b).toFixed(2) };
    },
  },
  {
    name: 'conjunction of a threshold and a two-sided range (bounds decided together)',
    where: 'at >= $1 AND user_id > $2 AND user_id < $3',
    params: (r) => {
      const a = Math.floor(r() * 1000);
      const b = Math.floor(r() * 1000);
      return { '1': ts(Math.floor(r() * 365)), '2': String(Math.min(a, b)), '3': String(Math.max(a, b)) };
    },
    // The interval selects a run; `at >= $1` (about half of it passes) is compared per entry of the run.
    perMatch: 2.5,
  },
  {
    name: 'conjunction whose one-sided bound is the most selective (the pair holds it, the wide interval is checked)',
    where: 'at >= $1 AND user_id > $2 AND user_id < $3',
    params: (r) => {
      const a = Math.floor(r() * 100);
      const b = 900 + Math.floor(r() * 100);
      return { '1': ts(Math.floor(r() * 365)), '2': String(a), '3': String(b) };
    },
    // Indexed on the interval, `at >= $1` would fail half of each run (two comparisons per match).
    perMatch: 1.3,
  },
  {
    name: 'equality list + numeric interval',
    where: 'region IN (7, 8) AND amount BETWEEN $1 AND $2',
    params: (r) => {
      const a = r() * 1000;
      const b = r() * 1000;
      return { '1': Math.min(a, b).toFixed(2), '2': Math.max(a, b).toFixed(2) };
    },
  },
];

describe('structures of bounds (counters)', () => {
  for (const c of CASES) {
    it(`${c.name}: one candidate per match, no residual, sub-linear comparisons`, () => {
      const small = cost(build(2_000, c.where, c.params), ROW);
      const large = cost(build(20_000, c.where, c.params), ROW);
      for (const x of [small, large]) {
        expect(x.ids).toBeGreaterThan(0);
        expect(x.probed).toBe(x.ids);
        expect(x.residuals).toBe(0);
      }
      // Ten times the shapes: about ten times the matches, but comparisons stay a small fraction of them.
      expect(large.ids).toBeGreaterThan(small.ids * 5);
      expect(large.lookups).toBeLessThan(large.ids * (c.perMatch ?? 0.5) + 600);
    });
  }

  it('a residual every shape of a family shares is checked once per row, not once per candidate', () => {
    const where = 'region = 7 AND qty >= $1 AND qty < $2 AND flag';
    const r = build(5_000, where, (rnd) => {
      const a = Math.floor(rnd() * 1000);
      const b = Math.floor(rnd() * 1000);
      return { '1': String(Math.min(a, b)), '2': String(Math.max(a, b)) };
    });
    const yes = cost(r, ROW);
    expect(yes.ids).toBeGreaterThan(500);
    expect(yes.residuals).toBe(1);
    // The first shape held the residual alone (unguarded): at most its one entry is a candidate more.
    expect(yes.probed).toBeLessThanOrEqual(yes.ids + 1);
    const no = cost(r, { ...ROW, flag: 'f' });
    expect(no.ids).toBe(0);
    expect(no.probed).toBeLessThanOrEqual(1);
    expect(no.residuals).toBe(1);
  });

  it('a row whose bounded value is NULL matches no shape of the family, and costs no emission', () => {
    const r = build(5_000, 'region = 7 AND amount > $1', (rnd) => ({ '1': (rnd() * 1000).toFixed(2) }));
    const x = cost(r, { ...ROW, amount: null });
    expect(x.ids).toBe(0);
    expect(x.probed).toBe(0);
  });

  it('add and remove keep the structures exact and leave nothing behind', () => {
    const r = build(3_000, 'region = 7 AND price < $1 AND at < $2', (rnd) => ({
      '1': String(Math.floor(rnd() * 1000)),
      '2': ts(Math.floor(rnd() * 365)),
    }));
    const before = cost(r, ROW).ids;
    for (let i = 0; i < 3_000; i += 2) r.removeShape(`s${i}`);
    const after = cost(r, ROW);
    expect(after.probed).toBe(after.ids);
    expect(after.ids).toBeLessThan(before);
    for (let i = 1; i < 3_000; i += 2) r.removeShape(`s${i}`);
    expect(r.stats().entries).toBe(0);
    expect(r.stats().indexes).toEqual([]);
  });
});
