// Snapshot stitching under concurrent writes, restart with the same data dir, and relation-change invalidation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { SwitchyardService } from '../../src/shapes/service.js';
import type { ShapeDefinition } from '../../src/shapes/types.js';
import { fullXid } from '../../src/shapes/live-shape.js';
import { createTestDb, def, eventually, materialize, readAll, truth, type Msg, type TestDb } from './shapes-support.js';

let db: TestDb;

beforeAll(async () => {
  db = await createTestDb('stitch');
  await db.sql.query(`CREATE TABLE items (id int4 PRIMARY KEY, v int4 NOT NULL, grp int4 NOT NULL, title text)`);
  await db.sql.query(`CREATE TABLE marker (id int4 PRIMARY KEY, n int8)`);
  await db.sql.query(`INSERT INTO marker VALUES (1, 0)`);
  await db.sql.query(`INSERT INTO items SELECT g, g % 100, g % 7, 't' || g FROM generate_series(1, 400) g`);
});

afterAll(async () => {
  await db?.cleanup();
});

/** A writer committing random inserts, updates (including moves and PK changes) and deletes until stopped. */
function startWriter(url: string, seed: number): { stop: () => Promise<number> } {
  let running = true;
  let commits = 0;
  let s = seed;
  const rnd = (n: number): number => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s % n;
  };
  const done = (async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    while (running) {
      await c.query('BEGIN');
      const ops = 1 + rnd(4);
      try {
        await writeOps(c, ops);
      } catch (e) {
        // Two writers race: an id change can collide with the other's insert (23505) and updates in random order can
        // deadlock (40P01). Such a transaction is rolled back and never reaches the logs; the load goes on.
        if (!['23505', '40P01'].includes((e as { code?: string }).code ?? '')) throw e;
        await c.query('ROLLBACK');
        continue;
      }
      await c.query('COMMIT');
      commits++;
    }
    await c.end();
  })();
  async function writeOps(c: pg.Client, ops: number): Promise<void> {
    for (let i = 0; i < ops; i++) {
      const id = 1 + rnd(600);
      switch (rnd(5)) {
        case 0:
          await c.query('INSERT INTO items VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING', [
            id,
            rnd(100),
            rnd(7),
            `n${id}`,
          ]);
          break;
        case 1:
          await c.query('DELETE FROM items WHERE id = $1', [id]);
          break;
        case 2:
          await c.query('UPDATE items SET grp = $2 WHERE id = $1', [id, rnd(7)]);
          break;
        case 3:
          await c.query('UPDATE items SET v = $2, title = $3 WHERE id = $1', [id, rnd(100), `u${rnd(1000)}`]);
          break;
        default:
          await c.query('UPDATE items SET id = $2 WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM items WHERE id = $2)', [
            id,
            1 + rnd(600),
          ]);
      }
    }
  }
  return {
    stop: async () => {
      running = false;
      await done;
      return commits;
    },
  };
}

/** Commits a marker row and waits until the service has made it durable: every earlier commit is then in the logs. */
async function catchUp(service: SwitchyardService): Promise<void> {
  const m = await service.getOrCreate(def('marker', { replica: 'full' }));
  const at = service.lastOffset(m.handle);
  await db.sql.query('UPDATE marker SET n = n + 1 WHERE id = 1');
  expect(await service.waitForData(m.handle, at, 10_000)).toBe('data');
}

const CLAUSES: (string | undefined)[] = [
  undefined,
  'grp = 3',
  'v > 50',
  'grp IN (1, 2) AND v < 30',
  "title LIKE 'u1%'",
  'v % 2 = 0 OR grp = 0',
];

async function assertMatchesTruth(service: SwitchyardService, d: ShapeDefinition, handle: string): Promise<void> {
  const { messages } = await readAll(service, handle);
  const rows = materialize(messages);
  const want = await truth(db.sql, `SELECT id, v, grp, title FROM items${d.where ? ` WHERE ${d.where}` : ''}`);
  expect(new Map([...rows].sort())).toEqual(new Map([...want].sort()));
  assertSnapshotEndStitches(messages);
}

/**
 * The snapshot-end names the snapshot the rows were read in: exactly one, after the last snapshot row, and every
 * change logged after it comes from a transaction that snapshot did not see (a visible one would be a duplicate).
 */
function assertSnapshotEndStitches(messages: readonly Msg[]): void {
  const at = messages.findIndex((m) => m.headers['control'] === 'snapshot-end');
  expect(at).toBeGreaterThanOrEqual(0);
  expect(messages.filter((m) => m.headers['control'] === 'snapshot-end')).toHaveLength(1);
  expect(
    messages.slice(0, at).every((m) => m.headers['operation'] === 'insert' && m.headers['lsn'] === undefined),
  ).toBe(true);
  const h = messages[at]!.headers;
  const v = {
    xmin: BigInt(h['xmin'] as string),
    xmax: BigInt(h['xmax'] as string),
    xip: new Set((h['xip_list'] as string[]).map((x) => BigInt(x))),
    lsn: 0n, // judge by xids alone
  };
  for (const m of messages.slice(at + 1)) {
    expect(m.headers['lsn']).toBeDefined();
    for (const t of m.headers['txids'] as number[]) {
      const xid = fullXid(t, v.xmax);
      const visible = xid < v.xmin || (xid < v.xmax && !v.xip.has(xid));
      expect(visible, `change of transaction ${xid} was visible to the snapshot`).toBe(false);
    }
  }
}

describe('shape service: stitching, restart, relation changes', () => {
  it('shapes created while a writer commits equal a SELECT at the end (no gap, no duplicate)', async () => {
    const { service } = await db.start();
    const writers = [startWriter(db.url, 1), startWriter(db.url, 2)];
    const created: { d: ShapeDefinition; handle: string }[] = [];
    for (let round = 0; round < 3; round++) {
      for (const where of CLAUSES) {
        const d = def('items', {
          ...(where !== undefined ? { where } : {}),
          ...(round === 1 ? { replica: 'full' as const } : {}),
          ...(round === 2 ? { columns: ['id', 'v', 'grp', 'title'] } : {}),
        });
        created.push({ d, handle: (await service.getOrCreate(d)).handle });
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    const commits = await Promise.all(writers.map((w) => w.stop()));
    expect(commits[0]! + commits[1]!).toBeGreaterThan(20);
    await catchUp(service);
    for (const { d, handle } of created) await assertMatchesTruth(service, d, handle);
    const m = service.metrics();
    expect(m.evaluationErrors).toBe(0);
    await service.close();
  });

  it('a restart with the same data dir resumes every shape with the same handle, without loss or duplicates', async () => {
    const first = await db.start();
    const handles = new Map<string, { d: ShapeDefinition; handle: string }>();
    for (const where of CLAUSES) {
      const d = def('items', where !== undefined ? { where } : {});
      handles.set(String(where), { d, handle: (await first.service.getOrCreate(d)).handle });
    }
    const snapshotEnds = new Map<string, Msg | undefined>();
    for (const { handle } of handles.values())
      snapshotEnds.set(
        handle,
        (await readAll(first.service, handle)).messages.find((m) => m.headers['control']),
      );
    let w = startWriter(db.url, 3);
    await new Promise((r) => setTimeout(r, 300));
    await first.service.close();
    await new Promise((r) => setTimeout(r, 300)); // the writer keeps committing while the service is down
    const second = await db.start(first.dataDir);
    for (const { d, handle } of handles.values()) expect((await second.service.getOrCreate(d)).handle).toBe(handle);
    await new Promise((r) => setTimeout(r, 300));
    await w.stop();
    await catchUp(second.service);
    for (const { d, handle } of handles.values()) {
      const { messages } = await readAll(second.service, handle);
      // The snapshot-end is stored with the shape: the same after the restart.
      expect(messages.find((m) => m.headers['control'])).toEqual(snapshotEnds.get(handle));
      expect(snapshotEnds.get(handle)?.headers['control']).toBe('snapshot-end');
      // Offsets strictly increase: nothing replayed twice.
      const offs = messages
        .filter((m) => m.headers['lsn'] !== undefined)
        .map((m) => [BigInt(String(m.headers['lsn'])), Number(m.headers['op_position'])] as const);
      for (let i = 1; i < offs.length; i++) {
        const [a, b] = [offs[i - 1]!, offs[i]!];
        expect(a[0] < b[0] || (a[0] === b[0] && a[1] < b[1])).toBe(true);
      }
      await assertMatchesTruth(second.service, d, handle);
    }
    // A new writer after the restart keeps flowing into the resumed logs.
    w = startWriter(db.url, 4);
    await new Promise((r) => setTimeout(r, 200));
    await w.stop();
    await catchUp(second.service);
    for (const { d, handle } of handles.values()) await assertMatchesTruth(second.service, d, handle);
    await second.service.close();
  });

  it('a relation change invalidates the shapes that use the changed column, and only those', async () => {
    await db.sql.query(`CREATE TABLE rel (id int4 PRIMARY KEY, a text, b int4, c int4)`);
    await db.sql.query(`INSERT INTO rel VALUES (1, 'x', 1, 1)`);
    const { service } = await db.start();
    const all = await service.getOrCreate(def('rel'));
    const usesB = await service.getOrCreate(def('rel', { columns: ['id', 'a'], where: 'b > 0' }));
    const onlyA = await service.getOrCreate(def('rel', { columns: ['id', 'a'] }));
    const waiting = service.waitForData(usesB.handle, service.lastOffset(usesB.handle), 10_000);
    const waitingA = service.waitForData(onlyA.handle, service.lastOffset(onlyA.handle), 10_000);
    await db.sql.query(`ALTER TABLE rel ALTER COLUMN b TYPE int8`);
    await db.sql.query(`UPDATE rel SET a = 'y' WHERE id = 1`); // pgoutput sends the Relation message before this change
    expect(await waiting).toBe('invalidated');
    await eventually(() => service.get(all.handle) === undefined, 10_000, 'all-columns shape invalidated');
    expect(await waitingA).toBe('data');
    expect(service.get(onlyA.handle)).toBeDefined();
    const msgs = (await readAll(service, onlyA.handle)).messages;
    expect(materialize(msgs).get('"public"."rel"/"1"')).toEqual({ id: '1', a: 'y' });
    // Renaming a used column invalidates too; a new shape gets a new handle and the new schema.
    await db.sql.query(`ALTER TABLE rel RENAME COLUMN a TO aa`);
    await db.sql.query(`UPDATE rel SET c = 2 WHERE id = 1`);
    await eventually(() => service.get(onlyA.handle) === undefined, 10_000, 'renamed column invalidates');
    const fresh = await service.getOrCreate(def('rel'));
    expect(Object.keys(fresh.schema)).toEqual(['id', 'aa', 'b', 'c']);
    expect(fresh.schema['b']).toEqual({ type: 'int8' });
    await service.close();
  });
});
