// Shard failure: a dead worker is restarted and rebuilt from the registry; a batch in flight is retried on the new
// worker or rejected whole (ShardFailureError), never answered partially.
import { describe, it, expect } from 'vitest';
import { ShardedRouter, ShardFailureError, type OpenPlacement } from '../../src/shard/index.js';
import { Router } from '../../src/router/index.js';
import type { Change, ShapeDef } from '../../src/router/index.js';

const schema = { items: { id: 'int8', user_id: 'int8', score: 'int4' } };
const shapes: { id: string; def: ShapeDef }[] = [];
for (let i = 0; i < 300; i++) {
  shapes.push({
    id: `s${i}`,
    def:
      i % 3 === 0
        ? { table: 'items', where: 'score BETWEEN $1 AND $2', params: { '1': String(i), '2': String(i + 20) } }
        : { table: 'items', where: 'user_id = $1', params: { '1': String(i % 50) } },
  });
}
function changes(n: number, seed: number): Change[] {
  const out: Change[] = [];
  for (let i = 0; i < n; i++) {
    const k = (i * 7919 + seed * 104729) % 1000;
    out.push({
      table: 'items',
      op: 'insert',
      record: { id: String(i), user_id: String(k % 60), score: String(k % 320) },
    });
  }
  return out;
}
const sorted = (rs: string[][]): string[][] => rs.map((r) => [...r].sort());

function oracle(): Router {
  const r = new Router({ schema });
  for (const s of shapes) r.addShape(s.id, s.def);
  return r;
}

/** Shapes the two workers hold together: a replicated shape (open ones under 'replicate', all under 'rows') counts once per shard. */
function held(placement: OpenPlacement, ids: Iterable<number>): number {
  let n = 0;
  for (const i of ids) n += placement === 'rows' || (placement === 'replicate' && i % 3 === 0) ? 2 : 1;
  return n;
}
const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, i) => a + i);

describe.each(['replicate', 'spread', 'rows'] as const)('ShardedRouter shard failure (placement %s)', (placement) => {
  it('restarts a terminated worker, rebuilds it from the registry and routes exactly as before', async () => {
    const restarts: number[] = [];
    const r = new ShardedRouter({ schema, shards: 2, placement, onRestart: (s) => restarts.push(s) });
    try {
      await r.addShapes(shapes);
      const one = oracle();
      const batch = changes(200, 1);
      const want = sorted(batch.map((c) => one.route(c)));
      expect(sorted(await r.routeBatch(batch))).toEqual(want);
      await r.killShard(1);
      expect(sorted(await r.routeBatch(batch))).toEqual(want);
      const st = await r.stats();
      expect(restarts).toEqual([1]);
      expect(st.shards[1]!.restarts).toBe(1);
      expect(st.shards[0]!.shapes + st.shards[1]!.shapes).toBe(held(placement, range(0, 300)));
    } finally {
      await r.close();
    }
  });

  it('retries the batches in flight when a worker exits mid-stream (process.exit inside it)', async () => {
    const r = new ShardedRouter({ schema, shards: 2, placement });
    try {
      await r.addShapes(shapes);
      const one = oracle();
      const batches = Array.from({ length: 12 }, (_, i) => changes(100, i + 2));
      // shard 0 exits on receiving its 4th batch from now: batches 4.. are in flight and must be retried
      await r.crashShard(0, 4);
      const got = await Promise.all(batches.map((b) => r.routeBatch(b)));
      for (let i = 0; i < batches.length; i++)
        expect(sorted(got[i]!)).toEqual(sorted(batches[i]!.map((c) => one.route(c))));
      expect((await r.stats()).shards[0]!.restarts).toBe(1);
    } finally {
      await r.close();
    }
  });

  it('rejects a batch loudly when its retry budget is spent, and serves the next batch after the restart', async () => {
    const r = new ShardedRouter({ schema, shards: 2, placement, maxRetries: 0 });
    try {
      await r.addShapes(shapes);
      const one = oracle();
      // Under 'rows' the first batch goes whole to shard 0; otherwise this batch visits shard 1.
      await r.crashShard(placement === 'rows' ? 0 : 1, 1);
      const batch = changes(50, 9);
      await expect(r.routeBatch(batch)).rejects.toBeInstanceOf(ShardFailureError);
      const want = sorted(batch.map((c) => one.route(c)));
      // twice: under 'rows' the two batches go to different shards, so the restarted one serves one of them
      expect(sorted(await r.routeBatch(batch))).toEqual(want);
      expect(sorted(await r.routeBatch(batch))).toEqual(want);
    } finally {
      await r.close();
    }
  });

  it('keeps adds and removes still in flight when the worker dies: the rebuild replays them in order', async () => {
    const r = new ShardedRouter({ schema, shards: 2, placement });
    try {
      await r.addShapes(shapes.slice(0, 150));
      const ops: Promise<unknown>[] = [];
      for (const s of shapes.slice(150)) ops.push(r.addShape(s.id, s.def));
      for (let i = 0; i < 150; i += 2) ops.push(r.removeShape(`s${i}`));
      const killing = r.killShard(0);
      const batch = changes(200, 5);
      const got = r.routeBatch(batch);
      await killing;
      await Promise.all(ops);
      const one = oracle();
      for (let i = 0; i < 150; i += 2) one.removeShape(`s${i}`);
      expect(sorted(await got)).toEqual(sorted(batch.map((c) => one.route(c))));
      expect(sorted(await r.routeBatch(batch))).toEqual(sorted(batch.map((c) => one.route(c))));
      const st = await r.stats();
      expect(st.shards[0]!.shapes + st.shards[1]!.shapes).toBe(
        held(
          placement,
          range(0, 300).filter((i) => i >= 150 || i % 2 === 1),
        ),
      );
    } finally {
      await r.close();
    }
  });
});

describe('ShardedRouter shard failure with a local shard (placement rows, shard 0 on this thread)', () => {
  it('retries the worker part of split batches after its worker exits; the local shard cannot be crashed or killed', async () => {
    const r = new ShardedRouter({ schema, shards: 2, placement: 'rows', localShard: true, minSplitPart: 8 });
    try {
      await r.addShapes(shapes);
      const one = oracle();
      await expect(r.crashShard(0)).rejects.toMatchObject({ code: 'not_supported' });
      await expect(r.killShard(0)).rejects.toMatchObject({ code: 'not_supported' });
      const batches = Array.from({ length: 8 }, (_, i) => changes(100, i + 40));
      await r.crashShard(1, 3);
      const got = await Promise.all(batches.map((b) => r.routeBatch(b)));
      for (let i = 0; i < batches.length; i++)
        expect(sorted(got[i]!)).toEqual(sorted(batches[i]!.map((c) => one.route(c))));
      const st = await r.stats();
      expect(st.shards.map((s) => s.restarts)).toEqual([0, 1]);
      expect(st.shards.every((s) => s.changes > 0 && s.shapes === 300)).toBe(true);
    } finally {
      await r.close();
    }
  });

  it('needs the rows placement and two shards', () => {
    expect(() => new ShardedRouter({ schema, shards: 2, placement: 'replicate', localShard: true })).toThrow(
      /localShard/,
    );
    expect(() => new ShardedRouter({ schema, shards: 1, placement: 'rows', localShard: true })).toThrow(/localShard/);
  });
});
