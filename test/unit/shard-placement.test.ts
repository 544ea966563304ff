// ShardedRouter placement: keyed shapes by the hash of their key, others replicated (or round robin), rows only to
// needed shards, hot keys split; errors as Router raises them.
import { describe, it, expect, afterAll } from 'vitest';
import { ShardedRouter, REPLICATED } from '../../src/shard/index.js';
import { RouterError, WhereError, ErrorCode } from '../../src/errors/index.js';
import type { Change } from '../../src/router/index.js';

const schema = { items: { id: 'int8', user_id: 'int8', score: 'int4', name: 'text', price: 'numeric' } };
const row = (user_id: string | null, score = '0', price = '1'): Change => ({
  table: 'items',
  op: 'insert',
  record: { id: '1', user_id, score, name: 'n', price },
});

describe('ShardedRouter placement', () => {
  const r = new ShardedRouter({ schema, shards: 2, hotKeyThreshold: 3, placement: 'replicate' });
  afterAll(() => r.close());

  it('places equal keys on one shard whatever their spelling', async () => {
    await r.addShape('p1', { table: 'items', where: 'user_id = $1', params: { '1': '42' } });
    await r.addShape('p2', { table: 'items', where: 'user_id = 42' });
    await r.addShape('p3', { table: 'public.items', where: "user_id = '42' AND score > 3" });
    await r.addShape('p4', { table: 'items', where: 'price = 1.50' });
    await r.addShape('p5', { table: 'items', where: 'price = $1', params: { '1': '1.5' } });
    expect(r.shardOf('p2')).toBe(r.shardOf('p1'));
    expect(r.shardOf('p3')).toBe(r.shardOf('p1'));
    expect(r.shardOf('p5')).toBe(r.shardOf('p4'));
    expect((await r.route(row('42', '5'))).sort()).toEqual(['p1', 'p2', 'p3']);
    expect((await r.route(row('42', '1', '1.500'))).sort()).toEqual(['p1', 'p2', 'p4', 'p5']);
    const st = await r.stats();
    expect(st.keyed).toBe(5);
    expect(st.open).toBe(0);
    for (const id of ['p1', 'p2', 'p3', 'p4', 'p5']) await r.removeShape(id);
  });

  it('sends a keyed row only to its key shard, and not at all when no shape has its key', async () => {
    const ids: string[] = [];
    for (let k = 0; k < 20; k++) {
      ids.push(`k${k}`);
      await r.addShape(`k${k}`, { table: 'items', where: 'user_id = $1', params: { '1': String(k) } });
    }
    const before = (await r.stats()).shards.map((s) => s.changesSent);
    expect(await r.routeBatch([row('3'), row('1000'), row(null)])).toEqual([['k3'], [], []]);
    const after = (await r.stats()).shards.map((s) => s.changesSent);
    expect(after.reduce((a, b) => a + b, 0) - before.reduce((a, b) => a + b, 0)).toBe(1);
    expect(after[r.shardOf('k3')]! - before[r.shardOf('k3')]!).toBe(1);
    for (const id of ids) await r.removeShape(id);
  });

  it("placement 'spread': shapes without a routing key go round robin; their rows visit every shard holding them", async () => {
    const sp = new ShardedRouter({ schema, shards: 2, placement: 'spread' });
    try {
      for (let i = 0; i < 4; i++)
        await sp.addShape(`o${i}`, {
          table: 'items',
          where: i % 2 ? 'score > $1' : 'user_id = 1 OR score = 7',
          params: i % 2 ? { '1': String(i) } : undefined,
        });
      const shards = new Set(['o0', 'o1', 'o2', 'o3'].map((id) => sp.shardOf(id)));
      expect(shards.size).toBe(2);
      expect((await sp.route(row('1', '7'))).sort()).toEqual(['o0', 'o1', 'o2', 'o3']);
      const st = await sp.stats();
      expect(st.open).toBe(4);
      expect(st.replicated).toBe(0);
      expect(st.shards.map((s) => s.changesSent)).toEqual([1, 1]);
    } finally {
      await sp.close();
    }
  });

  it("placement 'replicate': every shard holds the open shapes, and each row visits one shard for them", async () => {
    for (let i = 0; i < 4; i++)
      await r.addShape(`o${i}`, {
        table: 'items',
        where: i % 2 ? 'score > $1' : 'user_id = 1 OR score = 7',
        params: i % 2 ? { '1': String(i) } : undefined,
      });
    await r.addShape('k9', { table: 'items', where: 'user_id = 9' });
    expect(['o0', 'o1', 'o2', 'o3'].map((id) => r.shardOf(id))).toEqual([
      REPLICATED,
      REPLICATED,
      REPLICATED,
      REPLICATED,
    ]);
    const st0 = await r.stats();
    expect(st0.replicated).toBe(4);
    expect(Object.values(st0.lanes).reduce((a, b) => a + b, 0)).toBe(r.shapeCount);
    expect(st0.shards.map((s) => s.shapes).sort()).toEqual([4, 5]);
    const sent = (): Promise<number> => r.stats().then((st) => st.shards.reduce((a, s) => a + s.changesSent, 0));
    const before = await sent();
    // rows without a matching key alternate between the shards; a keyed row takes its key's shard for both
    const got = await r.routeBatch([
      row('1', '7'),
      row('2', '2'),
      row('9', '3'),
      row('3', '0'),
      { table: 'items', op: 'truncate' },
    ]);
    expect(got.map((ids) => [...ids].sort())).toEqual([
      ['o0', 'o1', 'o2', 'o3'],
      ['o1'],
      ['k9', 'o1'],
      [],
      ['k9', 'o0', 'o1', 'o2', 'o3'],
    ]);
    // the truncate visits the shard holding k9 (both of its routers): 5 visits for 5 changes
    expect((await sent()) - before).toBe(5);
    const per = (await r.stats()).shards.map((s) => s.changes);
    expect(per[0]! + per[1]!).toBeGreaterThan(0);
    for (let i = 0; i < 4; i++) expect(await r.removeShape(`o${i}`)).toBe(true);
    await r.removeShape('k9');
    const st1 = await r.stats();
    expect(st1.replicated).toBe(0);
    expect(st1.shards.map((s) => s.shapes)).toEqual([0, 0]);
  });

  it("placement 'rows': every shard holds every shape and each batch goes whole to one shard, alternating", async () => {
    const rr = new ShardedRouter({ schema, shards: 2, placement: 'rows' });
    try {
      await rr.addShape('k1', { table: 'items', where: 'user_id = 1' });
      await rr.addShape('o1', { table: 'items', where: 'score > $1', params: { '1': '5' } });
      expect([rr.shardOf('k1'), rr.shardOf('o1')]).toEqual([REPLICATED, REPLICATED]);
      const st = await rr.stats();
      expect(st.shards.map((s) => s.shapes)).toEqual([2, 2]);
      // each shape counted once in the lanes, though both shards hold it
      expect(st.lanes).toMatchObject({ equality: 1, range: 1 });
      expect(Object.values(st.lanes).reduce((a, b) => a + b, 0)).toBe(2);
      const batch = [row('1', '7'), row('2', '2'), row('1', '0')];
      for (let k = 0; k < 4; k++)
        expect((await rr.routeBatch(batch)).map((ids) => [...ids].sort())).toEqual([['k1', 'o1'], [], ['k1']]);
      // four batches of three changes: two whole batches per shard, none split
      expect((await rr.stats()).shards.map((s) => s.changesSent)).toEqual([6, 6]);
      expect(await rr.removeShape('k1')).toBe(true);
      expect((await rr.stats()).shards.map((s) => s.shapes)).toEqual([1, 1]);
    } finally {
      await rr.close();
    }
  });

  it('splits a hot key across shards and sends its rows to all of them', async () => {
    for (let i = 0; i < 10; i++)
      await r.addShape(`h${i}`, {
        table: 'items',
        where: 'user_id = $1 AND score >= $2',
        params: { '1': '7', '2': String(i) },
      });
    const st = await r.stats();
    expect(st.hotKeys).toEqual([{ table: 'public.items', column: 'user_id', key: 7, shapes: 10 }]);
    expect(new Set(Array.from({ length: 10 }, (_, i) => r.shardOf(`h${i}`))).size).toBe(2);
    expect(st.shards.every((s) => s.shapes > 0)).toBe(true);
    expect((await r.route(row('7', '4'))).sort()).toEqual(['h0', 'h1', 'h2', 'h3', 'h4']);
    for (let i = 0; i < 10; i++) await r.removeShape(`h${i}`);
    expect((await r.stats()).hotKeys).toEqual([]);
  });

  it('rejects as Router throws: duplicate id, unknown table, bad clause', async () => {
    await r.addShape('dup', { table: 'items', where: 'score = 1' });
    await expect(r.addShape('dup', { table: 'items' })).rejects.toMatchObject({
      name: 'RouterError',
      code: ErrorCode.DuplicateShape,
    });
    await expect(r.addShape('x', { table: 'nope' })).rejects.toBeInstanceOf(RouterError);
    await expect(r.addShape('y', { table: 'items', where: 'score = ' })).rejects.toBeInstanceOf(WhereError);
    await expect(
      r.addShape('z', { table: 'items', where: 'user_id = $1', params: { '1': 'abc' } }),
    ).rejects.toBeInstanceOf(WhereError);
    expect(r.hasShape('z')).toBe(false);
    expect(await r.removeShape('dup')).toBe(true);
    expect(await r.removeShape('dup')).toBe(false);
    expect(r.shapeCount).toBe(0);
  });

  it('answers routeTransaction as shape → change indices, and a truncate reaches every shape', async () => {
    await r.addShape('t1', { table: 'items', where: 'user_id = 1' });
    await r.addShape('t2', { table: 'items', where: 'score > 5' });
    const tx = await r.routeTransaction([row('1'), row('2', '9'), { table: 'items', op: 'truncate' }, row('1', '9')]);
    expect(new Map([...tx].sort())).toEqual(
      new Map([
        ['t1', [0, 2, 3]],
        ['t2', [1, 2, 3]],
      ]),
    );
    await r.removeShape('t1');
    await r.removeShape('t2');
  });
});
