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

  it('filter mode (the baseline) evaluates its unindexed shapes per row: linear, as Electric', () => {
    const a = build(1_000, 'filter');
    const b = build(10_000, 'filter');
    const ca = cost(a, row(10)).counters.residualsEvaluated;
    const cb = cost(b, row(10)).counters.residualsEvaluated;
    expect(cb).toBeGreaterThan(ca * 5);
  });
});
