// Confined fail-open: an expression that raises for a row fails open only the entries depending on it (work counters).
import { describe, it, expect } from 'vitest';
import { Router } from '../../src/router/index.js';
import { ShardedRouter } from '../../src/shard/index.js';
import type { Change, RouterCounters } from '../../src/router/index.js';

const SCHEMA = { 'public.events': { user_id: 'int4', n: 'int4', score: 'int4', body: 'text' } };

/** n shapes `user_id = <i>` (one family) plus one shape whose expression key raises when `n = 0`. */
function build(n: number): Router {
  const r = new Router({ schema: SCHEMA });
  for (let i = 0; i < n; i++)
    r.addShape(`u${i}`, { table: 'events', where: 'user_id = $1', params: { '1': String(i) } });
  r.addShape('bad', { table: 'events', where: '1 / n = 1' });
  return r;
}

const insert = (user: number, n: number): Change => ({
  table: 'events',
  op: 'insert',
  record: { user_id: String(user), n: String(n), score: '1', body: 'x' },
});

/** The work one route does: index lookups, candidate entries read, residuals evaluated. */
function work(r: Router, c: Change): { ids: readonly string[]; failedOpen: readonly string[]; work: number } {
  const w = (k: RouterCounters): number => k.lookups + k.postingsProbed + k.residualsEvaluated;
  const before = w(r.stats().counters);
  const res = r.routeChanges([c])[0]!;
  return { ...res, work: w(r.stats().counters) - before };
}

describe('confined fail-open', () => {
  it('a raising expression key costs the same at 1k and 100k shapes and fails open only its own shape', () => {
    const small = build(1_000);
    const large = build(100_000);
    for (const r of [small, large]) {
      const normal = work(r, insert(5, 2)); // 1 / 2 = 0: `bad` is exactly false
      const raising = work(r, insert(5, 0)); // 1 / 0 raises: only `bad` is undecided
      expect(normal.ids).toEqual(['u5']);
      expect(normal.failedOpen).toEqual([]);
      expect([...raising.ids].sort()).toEqual(['bad', 'u5']);
      expect(raising.failedOpen).toEqual(['bad']);
      // at most the raising key's one entry more than a normal row, whatever the number of shapes
      expect(raising.work).toBeLessThanOrEqual(normal.work + 1);
    }
    expect(work(large, insert(5, 0)).work).toBe(work(small, insert(5, 0)).work);
    // two raising rows routed through `large`: one raising expression and one failed-open id each
    expect(large.stats().counters.failOpen).toBe(2);
    expect(large.stats().counters.failedOpenIds).toBe(2);
  });

  it('a raising residual fails open only the entries it guards; a false residual still decides', () => {
    const r = new Router({ schema: SCHEMA });
    r.addShape('guarded', { table: 'events', where: 'user_id = 1 AND 10 / n > 1' });
    r.addShape('guarded-false', { table: 'events', where: 'user_id = 1 AND score > 5 AND 10 / n > 1' });
    r.addShape('unindexed', { table: 'events', where: '10 / n > 1 OR body = n::text' });
    r.addShape('plain', { table: 'events', where: 'user_id = 1' });
    r.addShape('range', { table: 'events', where: 'score >= 0' });
    const [res] = r.routeChanges([insert(1, 0)]);
    expect([...res!.ids].sort()).toEqual(['guarded', 'plain', 'range', 'unindexed']);
    expect([...res!.failedOpen].sort()).toEqual(['guarded', 'unindexed']);
  });

  it('a shape decided by one disjunct is still re-checked when another of its disjuncts raised', () => {
    const r = new Router({ schema: SCHEMA });
    r.addShape('two', { table: 'events', where: 'user_id = 1 OR 1 / n = 1' });
    const [res] = r.routeChanges([insert(1, 0)]);
    expect(res).toEqual({ ids: ['two'], failedOpen: ['two'] });
  });

  it('an undecodable column fails open only the shapes indexed on it', () => {
    const r = new Router({ schema: SCHEMA });
    r.addShape('on-user', { table: 'events', where: 'user_id = 3' });
    r.addShape('on-user-range', { table: 'events', where: 'user_id > 100' });
    r.addShape('on-score', { table: 'events', where: 'score = 1' });
    r.addShape('on-body', { table: 'events', where: "body = 'y'" });
    const [res] = r.routeChanges([
      { table: 'events', op: 'insert', record: { user_id: 'x', n: '1', score: '1', body: 'x' } },
    ]);
    expect([...res!.ids].sort()).toEqual(['on-score', 'on-user', 'on-user-range']);
    expect([...res!.failedOpen].sort()).toEqual(['on-user', 'on-user-range']);
  });

  it('remembers the inputs an expression raised on, and only those', () => {
    const r = new Router({ schema: SCHEMA });
    r.addShape('key', { table: 'events', where: '10 / (n - score) = 5' }); // an expression key over two columns
    r.addShape('residual', { table: 'events', where: 'user_id = 1 AND 10 / n > 1' });
    r.addShape('group', { table: 'events', where: '10 / n > 1 OR body = n::text' });
    const row = (n: string | null, score: string): Change => ({
      table: 'events',
      op: 'insert',
      record: { user_id: '1', n, score, body: 'x' },
    });
    const answer = (c: Change): { ids: string[]; failedOpen: string[] } => {
      const [res] = r.routeChanges([c]);
      return { ids: [...res!.ids].sort(), failedOpen: [...res!.failedOpen].sort() };
    };
    for (let k = 0; k < 2; k++) {
      // n = 0 raises in the residual and the group; n - score = 0 in the key: all three undecided, every time
      expect(answer(row('0', '0'))).toEqual({
        ids: ['group', 'key', 'residual'],
        failedOpen: ['group', 'key', 'residual'],
      });
      // other inputs are evaluated, not taken for the remembered ones
      expect(answer(row('3', '1'))).toEqual({ ids: ['group', 'key', 'residual'], failedOpen: [] });
      expect(answer(row('0', '1'))).toEqual({ ids: ['group', 'residual'], failedOpen: ['group', 'residual'] });
      expect(answer(row('1', '1'))).toEqual({ ids: ['group', 'key', 'residual'], failedOpen: ['key'] });
      expect(answer(row(null, '1'))).toEqual({ ids: [], failedOpen: [] });
    }
    expect(r.stats().lastFailure).toMatch(/division by zero/);
  });

  it('a ShardedRouter reports the same failed-open ids', async () => {
    const r = new ShardedRouter({ schema: SCHEMA, shards: 2, placement: 'replicate' });
    try {
      const shapes = Array.from({ length: 200 }, (_, i) => ({
        id: `u${i}`,
        def: { table: 'events', where: 'user_id = $1', params: { '1': String(i) } },
      }));
      await r.addShapes([...shapes, { id: 'bad', table: 'events', where: '1 / n = 1' }]);
      const [normal, raising] = await r.routeChanges([insert(5, 2), insert(5, 0)]);
      expect(normal).toEqual({ ids: ['u5'], failedOpen: [] });
      expect([...raising!.ids].sort()).toEqual(['bad', 'u5']);
      expect(raising!.failedOpen).toEqual(['bad']);
      await r.stats();
      const s = r.summary();
      expect(s.failOpen).toBe(1);
      expect(s.failedOpenIds).toBe(1);
    } finally {
      await r.close();
    }
  });
});
