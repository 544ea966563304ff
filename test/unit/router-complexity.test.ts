// Complexity with deterministic counters, not wall time: a selective row costs the same order of index lookups,
// postings and residuals against 1k and 100k shapes; add and remove touch a constant number of entries.
import { describe, it, expect } from 'vitest';
import { Router } from '../../src/router/index.js';
import type { Change, RouterCounters } from '../../src/router/index.js';

const SCHEMA = {
  items: {
    user_id: 'int8',
    tags: 'text[]',
    score: 'int4',
    name: 'text',
    email: 'text',
    status: 'text',
    tenant_id: 'int4',
    price: 'numeric',
  },
};

/** A mix where shape i of each kind matches exactly the rows built from i (so a row matches one shape per kind). */
function build(n: number, mode: 'indexed' | 'filter' = 'indexed'): Router {
  const r = new Router({ schema: SCHEMA, mode });
  for (let i = 0; i < n; i++) {
    switch (i % 10) {
      case 0:
      case 1:
      case 2:
      case 3:
      case 4:
      case 5:
        r.addShape(`u${i}`, { table: 'items', where: 'user_id = $1', params: { '1': String(i) } });
        break;
      case 6:
        r.addShape(`t${i}`, { table: 'items', where: 'tags @> $1', params: { '1': `{t${i}}` } });
        break;
      case 7:
        r.addShape(`r${i}`, {
          table: 'items',
          where: 'score BETWEEN $1 AND $2',
          params: { '1': String(i * 10), '2': String(i * 10 + 3) },
        });
        break;
      case 8:
        r.addShape(`e${i}`, {
          table: 'items',
          where: 'lower(email) = $1 AND status <> $2',
          params: { '1': `e${i}@x`, '2': 'gone' },
        });
        break;
      default:
        r.addShape(`h${i}`, { table: 'items', where: 'tenant_id = 1 AND user_id = $1', params: { '1': String(i) } });
    }
  }
  // One-sided thresholds that a low score never reaches, and a handful of prefixes.
  for (let i = 0; i < n / 100; i++)
    r.addShape(`g${i}`, { table: 'items', where: 'score > $1', params: { '1': String(10_000_000 + i) } });
  for (let i = 0; i < 20; i++) r.addShape(`p${i}`, { table: 'items', where: `name LIKE 'n${i}-%'` });
  return r;
}

function row(i: number): Change {
  return {
    table: 'items',
    op: 'insert',
    record: {
      user_id: String(i),
      tags: `{t${i + 6},zz}`,
      score: String((i + 7) * 10 + 1),
      name: `n3-${i}`,
      email: `E${i + 8}@X`,
      status: 'ok',
      tenant_id: '1',
      price: '1.00',
    },
  };
}

function cost(r: Router, c: Change): { counters: RouterCounters; ids: string[] } {
  const before = r.stats().counters;
  const ids = r.route(c);
  const after = r.stats().counters;
  return {
    ids,
    counters: {
      ...after,
      lookups: after.lookups - before.lookups,
      postingsProbed: after.postingsProbed - before.postingsProbed,
      residualsEvaluated: after.residualsEvaluated - before.residualsEvaluated,
    },
  };
}

describe('router complexity (counters)', () => {
  const small = build(1_000);
  const large = build(100_000);

  it('a selective row probes the same order of postings and residuals at 1k and 100k shapes', () => {
    for (const i of [10, 500, 990]) {
      const a = cost(small, row(i));
      const b = cost(large, row(i));
      // The same five shapes match in both (user, tags, range, expression key, prefix).
      expect(a.ids.sort()).toEqual(b.ids.sort());
      expect(a.ids.length).toBe(5);
      expect(b.counters.postingsProbed).toBeLessThanOrEqual(a.counters.postingsProbed + 2);
      expect(b.counters.residualsEvaluated).toBeLessThanOrEqual(a.counters.residualsEvaluated + 2);
      // Tree descents grow with log n (≈ 7 more levels), never with n.
      expect(b.counters.lookups).toBeLessThan(a.counters.lookups * 3 + 40);
    }
  });

  it('the hot key is not the access: tenant_id = 1 shapes are reached through user_id', () => {
    const b = cost(large, row(9));
    expect(b.ids).toContain('h9');
    expect(b.counters.postingsProbed).toBeLessThan(20);
  });

  it('a change on a table with no shapes does no index work', () => {
    const r = new Router({ schema: { ...SCHEMA, other: { a: 'int4' } } });
    r.addShape('x', { table: 'items', where: 'user_id = 1' });
    const before = r.stats().counters;
    expect(r.route({ table: 'other', op: 'insert', record: { a: '1' } })).toEqual([]);
    const after = r.stats().counters;
    expect(after.rows).toBe(before.rows);
    expect(after.lookups).toBe(before.lookups);
  });

  it('add and remove touch a constant number of entries, whatever the shape count', () => {
    for (const r of [small, large]) {
      const e0 = r.stats().entries;
      r.addShape('probe-eq', { table: 'items', where: 'user_id = $1', params: { '1': '123456789' } });
      r.addShape('probe-range', { table: 'items', where: 'score BETWEEN 5 AND 6' });
      r.addShape('probe-in', { table: 'items', where: 'user_id IN (1, 2, 3)' });
      expect(r.stats().entries - e0).toBe(1 + 1 + 3);
      expect(r.removeShape('probe-eq')).toBe(true);
      expect(r.removeShape('probe-range')).toBe(true);
      expect(r.removeShape('probe-in')).toBe(true);
      expect(r.stats().entries).toBe(e0);
    }
  });

  it('a LIKE/ILIKE prefix costs one hash probe per distinct prefix length up to the value, whatever the count', () => {
    const r = new Router({ schema: SCHEMA });
    // 1,000 ILIKE prefixes of three lengths (p, 1–3 digits, x: lengths 3, 4, 5).
    for (let i = 0; i < 1_000; i++)
      r.addShape(`i${i}`, { table: 'items', where: 'name ILIKE $1', params: { '1': `P${i}x%` } });
    r.addShape('all', { table: 'items', where: "name LIKE '%'" });
    const probe = (name: string): { counters: RouterCounters; ids: string[] } =>
      cost(r, { table: 'items', op: 'insert', record: { name } });
    const hit = probe('p42xyz');
    expect(hit.ids.sort()).toEqual(['all', 'i42']);
    // Lengths 3, 4 and 5 are at most 6 (`LIKE '%'` is `name IS NOT NULL`: no prefix index).
    expect(hit.counters.lookups).toBe(3);
    expect(probe('p4').counters.lookups).toBe(0);
    expect(probe('P999X').ids.sort()).toEqual(['all', 'i999']);
    expect(probe('q42x').ids).toEqual(['all']);
    for (let i = 0; i < 1_000; i++) r.removeShape(`i${i}`);
    expect(probe('p42xyz').counters.lookups).toBe(0);
  });

  it('integer equality keys on the number: non-canonical integer text reaches the shapes of its value', () => {
    const r = new Router({ schema: SCHEMA });
    r.addShape('seven', { table: 'items', where: 'user_id = 7' });
    r.addShape('zero', { table: 'items', where: 'user_id = 0' });
    r.addShape('neg', { table: 'items', where: 'tenant_id = -12 AND price > 1' });
    r.addShape('big', { table: 'items', where: 'user_id = 9223372036854775807' });
    const at = (rec: Record<string, string>): string[] => r.route({ table: 'items', op: 'insert', record: rec }).sort();
    expect(at({ user_id: '7' })).toEqual(['seven']);
    expect(at({ user_id: '007' })).toEqual(['seven']);
    expect(at({ user_id: '-0' })).toEqual(['zero']);
    expect(at({ user_id: '9223372036854775807' })).toEqual(['big']);
    expect(at({ user_id: '70' })).toEqual([]);
    expect(at({ tenant_id: '-12', price: '2' })).toEqual(['neg']);
    expect(at({ tenant_id: '-12', price: '0.5' })).toEqual([]);
    // Text that is not an integer is decoded: invalid text fails open the shapes of that index (reported for re-checking).
    expect(r.routeChanges([{ table: 'items', op: 'insert', record: { user_id: 'x7' } }])[0]?.failedOpen.length).toBe(3);
  });

  it('filter mode (the baseline) evaluates its unindexed shapes per row: linear, as Electric', () => {
    const a = build(1_000, 'filter');
    const b = build(10_000, 'filter');
    const ca = cost(a, row(10)).counters.residualsEvaluated;
    const cb = cost(b, row(10)).counters.residualsEvaluated;
    expect(cb).toBeGreaterThan(ca * 5);
  });
});
