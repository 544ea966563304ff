// Router API: errors, removal, fail-open, routeTransaction, explain, stats, the shadow router.
import { describe, it, expect } from 'vitest';
import { Router, ShadowRouter } from '../../src/router/index.js';
import { ErrorCode, RouterError, WhereError } from '../../src/errors/index.js';

const SCHEMA = {
  'public.items': { id: 'int4', owner: 'text', price: 'numeric', tags: 'text[]' },
  'app.users': { id: 'int8', email: 'text' },
};

describe('Router API', () => {
  it('rejects unknown tables, duplicate ids and bad clauses with typed errors', () => {
    const r = new Router({ schema: SCHEMA });
    r.addShape('a', { table: 'items', where: 'id = 1' });
    expect(() => r.addShape('a', { table: 'items' })).toThrow(RouterError);
    try {
      r.addShape('b', { table: 'nope' });
    } catch (e) {
      expect((e as RouterError).code).toBe(ErrorCode.UnknownTable);
    }
    expect(() => r.addShape('c', { table: 'items', where: 'nmae = 1' })).toThrow(WhereError);
    expect(() => r.addShape('d', { table: 'users', where: 'id = 1' })).toThrow(RouterError); // users lives in schema app
    r.addShape('e', { table: 'app.users', where: 'id = 1' });
    expect(r.shapeCount).toBe(2);
    expect(r.hasShape('c')).toBe(false);
  });

  it('resolves table spellings: unqualified is public, qualified and quoted names', () => {
    const r = new Router({ schema: SCHEMA });
    r.addShape('a', { table: 'public.items', where: 'id = 1' });
    r.addShape('b', { table: '"app"."users"', where: 'id = 1' });
    expect(r.route({ table: 'items', op: 'insert', record: { id: '1' } })).toEqual(['a']);
    expect(r.route({ table: '"public"."items"', op: 'insert', record: { id: '1' } })).toEqual(['a']);
    expect(r.route({ table: 'app.users', op: 'insert', record: { id: '1' } })).toEqual(['b']);
    expect(r.route({ table: 'unknown', op: 'insert', record: { id: '1' } })).toEqual([]);
  });

  it('passes params through ($n substitution lands in different postings)', () => {
    const r = new Router({ schema: SCHEMA });
    r.addShape('a', { table: 'items', where: 'owner = $1', params: { '1': 'alice' } });
    r.addShape('b', { table: 'items', where: 'owner = $1', params: { '1': 'bob' } });
    expect(r.route({ table: 'items', op: 'insert', record: { owner: 'bob' } })).toEqual(['b']);
  });

  it('a removed shape never appears in a later route, and its id can be reused', () => {
    const r = new Router({ schema: SCHEMA });
    r.addShape('a', { table: 'items', where: 'id = 1' });
    r.addShape('b', { table: 'items', where: 'id > 0' });
    r.addShape('c', { table: 'items' });
    expect(r.removeShape('a')).toBe(true);
    expect(r.removeShape('a')).toBe(false);
    expect(r.removeShape('c')).toBe(true);
    expect(r.route({ table: 'items', op: 'insert', record: { id: '1' } })).toEqual(['b']);
    expect(r.route({ table: 'items', op: 'truncate' })).toEqual(['b']);
    r.addShape('a', { table: 'items', where: 'id = 2' });
    expect(r.route({ table: 'items', op: 'insert', record: { id: '1' } })).toEqual(['b']);
  });

  it('fails open only what raised: an undecodable column or an evaluation error, and counts it', () => {
    const r = new Router({ schema: SCHEMA });
    r.addShape('eq', { table: 'items', where: 'id = 1' });
    r.addShape('other', { table: 'items', where: "owner = 'x'" });
    r.addShape('overflow', { table: 'items', where: "owner = 'y' AND id + 1 > 0" });
    // `id` cannot be decoded: the shapes indexed on it are undecided; `other` does not read it, and `overflow` is
    // decided by its false `owner = 'y'` whatever `id` is.
    expect(r.routeChanges([{ table: 'items', op: 'insert', record: { id: 'oops', owner: 'z' } }])).toEqual([
      { ids: ['eq'], failedOpen: ['eq'] },
    ]);
    expect(r.stats().lastFailureKind).toBe('ValueError');
    const before = r.stats().counters.failOpen;
    // id + 1 overflows int4 for this row: Postgres would raise; the router delivers to that shape, flagged.
    expect(r.routeChanges([{ table: 'items', op: 'insert', record: { id: '2147483647', owner: 'y' } }])).toEqual([
      { ids: ['overflow'], failedOpen: ['overflow'] },
    ]);
    expect(r.stats().counters.failOpen).toBe(before + 1);
    expect(r.stats().counters.failedOpenIds).toBe(2);
    expect(r.stats().lastFailure).toMatch(/out of range/);
    // An exact answer has no failed-open ids.
    expect(r.routeChanges([{ table: 'items', op: 'insert', record: { id: '1', owner: 'x' } }])[0]).toEqual({
      ids: ['eq', 'other'],
      failedOpen: [],
    });
  });

  it('routeTransaction maps shape ids to change indices in one pass', () => {
    const r = new Router({ schema: SCHEMA });
    r.addShape('one', { table: 'items', where: 'id = 1' });
    r.addShape('two', { table: 'items', where: 'id = 2' });
    const tx = r.routeTransaction([
      { table: 'items', op: 'insert', record: { id: '1' } },
      { table: 'items', op: 'insert', record: { id: '3' } },
      { table: 'items', op: 'update', oldRecord: { id: '1' }, record: { id: '2' } },
      { table: 'app.users', op: 'insert', record: { id: '1' } },
    ]);
    expect(Object.fromEntries(tx)).toEqual({ one: [0, 2], two: [2] });
  });

  it('explains which index, value and residual decided', () => {
    const r = new Router({ schema: SCHEMA });
    r.addShape('s', { table: 'items', where: "owner = 'alice' AND price <> 10" });
    const yes = r.explain({ table: 'items', op: 'insert', record: { owner: 'alice', price: '12.50' } }, 's');
    expect(yes.matched).toBe(true);
    expect(yes.indexed).toBe(true);
    const d = yes.rows[0]?.disjuncts[0];
    expect(d?.lane).toBe('equality');
    expect(d?.probeValue).toBe('alice');
    expect(d?.residual).toContain('price');
    expect(d?.residualResult).toBe(true);
    const no = r.explain({ table: 'items', op: 'insert', record: { owner: 'alice', price: '10.0' } }, 's');
    expect(no.matched).toBe(false);
    expect(no.rows[0]?.disjuncts[0]?.residualResult).toBe(false);
    // A threshold under an equality key is decided by the key's sorted bounds, not by a residual.
    r.addShape('f', { table: 'items', where: "owner = 'alice' AND price > 10" });
    const fam = r.explain({ table: 'items', op: 'insert', record: { owner: 'alice', price: '12.50' } }, 'f');
    expect(fam.matched).toBe(true);
    expect(fam.rows[0]?.disjuncts[0]?.access).toContain('threshold family');
    expect(fam.rows[0]?.disjuncts[0]?.residual).toBeUndefined();
    const famNo = r.explain({ table: 'items', op: 'insert', record: { owner: 'alice', price: '10' } }, 'f');
    expect(famNo.matched).toBe(false);
    expect(famNo.rows[0]?.disjuncts[0]?.accessMatched).toBe(false);
    expect(() => r.explain({ table: 'items', op: 'truncate' }, 'zz')).toThrow(RouterError);
    // explain does not disturb counters
    const c1 = r.stats().counters.routes;
    r.explain({ table: 'items', op: 'insert', record: { owner: 'alice', price: '9' } }, 's');
    expect(r.stats().counters.routes).toBe(c1);
  });

  it('stats: lanes, indexes, counters, histogram', () => {
    const r = new Router({ schema: SCHEMA });
    r.addShape('a', { table: 'items', where: 'id = 1' });
    r.addShape('b', { table: 'items', where: 'price > 3' });
    r.addShape('c', { table: 'items', where: "owner LIKE 'ab%'" });
    r.addShape('d', { table: 'items', where: "tags @> '{x}'" });
    r.addShape('e', { table: 'items', where: 'id <> 4' });
    r.addShape('f', { table: 'app.users', where: "lower(email) = 'a@b.c'" });
    r.addShape('g', { table: 'items' });
    r.route({ table: 'items', op: 'insert', record: { id: '1', price: '4', owner: 'abc', tags: '{x,y}' } });
    const s = r.stats();
    expect(s.lanes).toMatchObject({
      equality: 1,
      range: 1,
      prefix: 1,
      inclusion: 1,
      unindexed: 1,
      expression: 1,
      always: 1,
    });
    expect(s.shapes).toBe(7);
    expect(s.counters.routes).toBe(1);
    expect(s.counters.matches[6]).toBe(1);
    expect(s.estimatedBytes).toBeGreaterThan(0);
    expect(s.indexes.map((i) => i.kind).sort()).toEqual([
      'always',
      'equality',
      'expression',
      'inclusion',
      'prefix',
      'range',
      'unindexed',
    ]);
  });
});

describe('ShadowRouter', () => {
  it('answers with the primary and samples mismatches', () => {
    const a = new Router({ schema: SCHEMA });
    const b = new Router({ schema: SCHEMA, mode: 'filter' });
    const sh = new ShadowRouter(a, b);
    sh.addShape('x', { table: 'items', where: 'id = 1 OR price > 5' });
    expect(sh.route({ table: 'items', op: 'insert', record: { id: '1', price: '1' } })).toEqual(['x']);
    b.removeShape('x'); // make them disagree on purpose
    expect(sh.route({ table: 'items', op: 'insert', record: { id: '1', price: '1' } })).toEqual(['x']);
    const st = sh.stats();
    expect(st.shadow.compared).toBe(2);
    expect(st.shadow.mismatches).toBe(1);
    expect(st.shadow.samples[0]?.primaryOnly).toEqual(['x']);
    sh.routeTransaction([{ table: 'items', op: 'insert', record: { id: '1', price: '1' } }]);
    expect(sh.stats().shadow.mismatches).toBe(2);
  });
});
