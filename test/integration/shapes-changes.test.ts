// Shape service against real Postgres: snapshot, live insert/update/delete, moves, PK change, replica modes, truncate.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BEFORE_ALL, SNAPSHOT_END, formatOffset } from '../../src/log/offset.js';
import type { SwitchyardService } from '../../src/shapes/service.js';
import { ShapeRequestError } from '../../src/shapes/types.js';
import { currentSnapshot, expectSnapshotEnd } from '../support/snapshot-end.js';
import { createTestDb, def, eventually, materialize, readAll, type Msg, type TestDb } from './shapes-support.js';

let db: TestDb;
let service: SwitchyardService;

beforeAll(async () => {
  db = await createTestDb('changes');
  await db.sql.query(`CREATE TABLE items (id int4 PRIMARY KEY, title text, done bool NOT NULL DEFAULT false, n int8)`);
  await db.sql.query(`INSERT INTO items VALUES (1, 'one', false, 10), (2, 'two', true, 20)`);
  ({ service } = await db.start());
});

afterAll(async () => {
  await db?.cleanup();
});

/** Waits for the shape's log to grow past `after`, then returns the new messages. */
async function next(handle: string, after = service.lastOffset(handle)): Promise<Msg[]> {
  const r = await service.waitForData(handle, after, 5000);
  if (r !== 'data')
    console.log(
      JSON.stringify(db.events.slice(-10), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
      service.metrics(),
    );
  expect(r).toBe('data');
  return (await readAll(service, handle, after)).messages;
}

describe('shape service: snapshot and changes', () => {
  it('serves the initial snapshot with schema, keys and text values, a snapshot-end, then 0_inf', async () => {
    const before = await currentSnapshot(db.sql);
    const info = await service.getOrCreate(def('items'));
    const after = await currentSnapshot(db.sql);
    expect(info.handle).toMatch(/^\d+-\d+$/);
    expect(info.schema).toEqual({
      id: { type: 'int4', pk_index: 0, not_null: true },
      title: { type: 'text' },
      done: { type: 'bool', not_null: true },
      n: { type: 'int8' },
    });
    const first = await service.read(info.handle, BEFORE_ALL, 1 << 20);
    expect(formatOffset(first.endOffset)).toBe('0_0');
    const msgs = first.messages.map((m) => JSON.parse(m) as Msg);
    expectSnapshotEnd(msgs.pop(), before, after);
    expect(msgs).toEqual([
      {
        key: '"public"."items"/"1"',
        value: { id: '1', title: 'one', done: 'f', n: '10' },
        headers: { operation: 'insert', relation: ['public', 'items'] },
      },
      {
        key: '"public"."items"/"2"',
        value: { id: '2', title: 'two', done: 't', n: '20' },
        headers: { operation: 'insert', relation: ['public', 'items'] },
      },
    ]);
    const rest = await service.read(info.handle, first.endOffset, 1 << 20);
    expect(rest.messages).toEqual([]);
    expect(formatOffset(rest.endOffset)).toBe('0_inf');
    expect(rest.reachedEnd).toBe(true);
    expect(service.lastOffset(info.handle)).toEqual(SNAPSHOT_END);
    expect((await service.getOrCreate(def('items'))).handle).toBe(info.handle);
    expect(service.find(def('items'))?.handle).toBe(info.handle);
    expect(service.status()).toBe('active');
  });

  it('logs a multi-row transaction with lsn, op_position, txids and last', async () => {
    const { handle } = await service.getOrCreate(def('items'));
    const before = service.lastOffset(handle);
    await db.sql.query('BEGIN');
    await db.sql.query(`INSERT INTO items VALUES (3, 'three', false, 30)`);
    await db.sql.query(`INSERT INTO items VALUES (4, 'four', false, 40)`);
    const xid = (await db.sql.query<{ x: string }>('SELECT txid_current()::text AS x')).rows[0]!.x;
    await db.sql.query('COMMIT');
    const msgs = await next(handle, before);
    expect(msgs).toHaveLength(2);
    const [a, b] = msgs as [Msg, Msg];
    expect(a.headers['operation']).toBe('insert');
    expect(typeof a.headers['lsn']).toBe('string');
    expect(a.headers['lsn']).toMatch(/^\d+$/);
    expect(a.headers['lsn']).toBe(b.headers['lsn']);
    expect(a.headers['txids']).toEqual([Number(BigInt(xid) & 0xffffffffn)]);
    expect(a.headers['op_position']).toBe(0);
    expect(b.headers['op_position']).toBe(2);
    expect(a.headers['last']).toBeUndefined();
    expect(b.headers['last']).toBe(true);
    expect(formatOffset(service.lastOffset(handle))).toBe(`${String(a.headers['lsn'])}_2`);
    expect(BigInt(String(a.headers['lsn']))).toBeLessThanOrEqual(service.lastSeenLsn());
  });

  it('default replica: update = PK + changed columns; delete = PK only; unchanged update dropped', async () => {
    const { handle } = await service.getOrCreate(def('items'));
    let at = service.lastOffset(handle);
    await db.sql.query(`UPDATE items SET title = 'THREE' WHERE id = 3`);
    let msgs = await next(handle, at);
    expect(msgs.map((m) => [m.headers['operation'], m.value])).toEqual([['update', { id: '3', title: 'THREE' }]]);
    at = service.lastOffset(handle);
    await db.sql.query(`UPDATE items SET title = 'THREE' WHERE id = 3`); // no change
    await db.sql.query(`DELETE FROM items WHERE id = 4`);
    msgs = await next(handle, at);
    expect(msgs.map((m) => [m.headers['operation'], m.key, m.value])).toEqual([
      ['delete', '"public"."items"/"4"', { id: '4' }],
    ]);
  });

  it('full replica: whole rows and old_value of changed columns; delete sends the old row', async () => {
    const { handle } = await service.getOrCreate(def('items', { replica: 'full' }));
    const snap = await readAll(service, handle);
    expect(materialize(snap.messages).size).toBe(3);
    let at = service.lastOffset(handle);
    await db.sql.query(`UPDATE items SET n = 31 WHERE id = 3`);
    let msgs = await next(handle, at);
    expect(msgs[0]).toMatchObject({
      value: { id: '3', title: 'THREE', done: 'f', n: '31' },
      old_value: { n: '30' },
      headers: { operation: 'update' },
    });
    at = service.lastOffset(handle);
    await db.sql.query(`DELETE FROM items WHERE id = 3`);
    msgs = await next(handle, at);
    expect(msgs[0]).toMatchObject({
      value: { id: '3', title: 'THREE', done: 'f', n: '31' },
      headers: { operation: 'delete' },
    });
  });

  it('moves rows in and out of a filtered shape; ignores updates outside it', async () => {
    const { handle } = await service.getOrCreate(def('items', { where: 'done = false' }));
    const snap = materialize((await readAll(service, handle)).messages);
    expect([...snap.keys()]).toEqual(['"public"."items"/"1"']);
    let at = service.lastOffset(handle);
    await db.sql.query(`UPDATE items SET done = true WHERE id = 1`);
    let msgs = await next(handle, at);
    expect(msgs.map((m) => [m.headers['operation'], m.value])).toEqual([['delete', { id: '1' }]]);
    at = service.lastOffset(handle);
    await db.sql.query(`UPDATE items SET title = 'zwei' WHERE id = 2`); // stays out
    await db.sql.query(`UPDATE items SET done = false WHERE id = 2`); // moves in
    msgs = await next(handle, at);
    expect(msgs.map((m) => [m.headers['operation'], m.value])).toEqual([
      ['insert', { id: '2', title: 'zwei', done: 'f', n: '20' }],
    ]);
    expect(await service.waitForData(handle, service.lastOffset(handle), 200)).toBe('timeout');
  });

  it('a primary-key change is a delete with key_change_to then an insert with key_change_from', async () => {
    const { handle } = await service.getOrCreate(def('items', { where: 'done = false' }));
    const at = service.lastOffset(handle);
    await db.sql.query(`UPDATE items SET id = 22 WHERE id = 2`);
    const msgs = await next(handle, at);
    expect(msgs).toHaveLength(2);
    expect(msgs[0]).toMatchObject({
      key: '"public"."items"/"2"',
      value: { id: '2' },
      headers: { operation: 'delete', key_change_to: '"public"."items"/"22"' },
    });
    expect(msgs[1]).toMatchObject({
      key: '"public"."items"/"22"',
      headers: { operation: 'insert', key_change_from: '"public"."items"/"2"', last: true },
    });
    expect((msgs[1]!.headers['op_position'] as number) - (msgs[0]!.headers['op_position'] as number)).toBe(1);
  });

  it('selected columns, params, and changes_only', async () => {
    const cols = await service.getOrCreate(
      def('items', { columns: ['id', 'title'], where: 'n >= $1', params: { '1': '20' } }),
    );
    expect(Object.keys(cols.schema)).toEqual(['id', 'title']);
    const rows = materialize((await readAll(service, cols.handle)).messages);
    expect([...rows.values()]).toEqual([{ id: '22', title: 'zwei' }]);
    const before = await currentSnapshot(db.sql);
    const co = await service.getOrCreate(def('items', { log: 'changes_only' }));
    const after = await currentSnapshot(db.sql);
    const first = await service.read(co.handle, BEFORE_ALL, 1 << 20);
    // No rows, but the snapshot the shape starts from still ends the (empty) snapshot, as Electric sends it.
    expect(first.messages).toHaveLength(1);
    expectSnapshotEnd(JSON.parse(first.messages[0]!) as Msg, before, after);
    const at = service.lastOffset(co.handle);
    expect(at).toEqual(SNAPSHOT_END);
    await db.sql.query(`INSERT INTO items VALUES (5, 'five', false, 50)`);
    const msgs = await next(co.handle, at);
    expect(msgs.map((m) => m.key)).toEqual(['"public"."items"/"5"']);
  });

  it('the snapshot-end lists a transaction in progress under the snapshot, whose changes then follow', async () => {
    await db.sql.query('CREATE TABLE side (id int4 PRIMARY KEY)');
    const open = new pg.Client({ connectionString: db.url });
    await open.connect();
    try {
      await open.query('BEGIN');
      await open.query('INSERT INTO side VALUES (1)'); // takes an xid
      const xid = BigInt((await open.query<{ x: string }>('SELECT txid_current()::text AS x')).rows[0]!.x);
      // A later xid completing moves the snapshot's xmax past ours, so ours must be listed as in progress (an xid at
      // or above xmax is invisible without being listed).
      await db.sql.query('INSERT INTO side VALUES (2)');
      const before = await currentSnapshot(db.sql);
      const { handle } = await service.getOrCreate(def('items', { where: 'id > 100' }));
      const after = await currentSnapshot(db.sql);
      const [end] = (await readAll(service, handle)).messages;
      const snap = expectSnapshotEnd(end, before, after);
      expect(snap.xmax).toBeGreaterThan(xid);
      expect(snap.xip).toContain(xid);
      expect(snap.xmin).toBeLessThanOrEqual(xid);
      // Its changes were not in the snapshot, so they arrive live.
      const at = service.lastOffset(handle);
      await open.query('INSERT INTO items VALUES (101, $1, false, 1)', ['in progress']);
      await open.query('COMMIT');
      const msgs = await next(handle, at);
      expect(msgs.map((m) => [m.key, m.headers['txids']])).toEqual([
        ['"public"."items"/"101"', [Number(xid & 0xffffffffn)]],
      ]);
    } finally {
      await open.end();
    }
  });

  it('rejects bad definitions keyed by parameter', async () => {
    const failure = async (d: Parameters<typeof service.getOrCreate>[0]): Promise<ShapeRequestError> => {
      try {
        await service.getOrCreate(d);
      } catch (e) {
        expect(e).toBeInstanceOf(ShapeRequestError);
        return e as ShapeRequestError;
      }
      throw new Error('expected a ShapeRequestError');
    };
    const fail = async (d: Parameters<typeof service.getOrCreate>[0]) => (await failure(d)).errors;
    expect((await fail(def('nope'))).table?.[0]).toMatch(/does not exist/);
    expect((await fail(def('items', { columns: ['title'] }))).columns?.[0]).toMatch(/primary key.*"id"/);
    expect((await fail(def('items', { columns: ['id', 'bogus'] }))).columns?.[0]).toMatch(/unknown columns: "bogus"/);
    expect((await fail(def('items', { columns: [] }))).columns).toBeDefined();
    const w = await failure(def('items', { where: 'nmae = 1' }));
    expect(w.errors.where?.[0]).toBe('At location 0: unknown column "nmae"');
    expect(w.details?.where).toMatchObject({ code: 'unknown_column', position: 0 });
    // A clause that errors on existing data is not bad input: the rows it raises on are left out (shapes-raising).
    await expect(service.getOrCreate(def('items', { where: '10 / (n - 50) > 0' }))).resolves.toBeDefined();
  });

  it('truncate invalidates every shape of the table and wakes waiters', async () => {
    const { handle } = await service.getOrCreate(def('items'));
    const waiting = service.waitForData(handle, service.lastOffset(handle), 5000);
    await db.sql.query('TRUNCATE items');
    expect(await waiting).toBe('invalidated');
    expect(service.get(handle)).toBeUndefined();
    await eventually(() => service.find(def('items')) === undefined);
    const before = await currentSnapshot(db.sql);
    const fresh = await service.getOrCreate(def('items'));
    const after = await currentSnapshot(db.sql);
    expect(fresh.handle).not.toBe(handle);
    const { messages } = await readAll(service, fresh.handle);
    expect(messages).toHaveLength(1); // no rows: only the snapshot-end
    expectSnapshotEnd(messages[0], before, after);
  });

  it('DELETE invalidation rotates the handle', async () => {
    const a = await service.getOrCreate(def('items', { where: 'id > 0' }));
    expect(service.invalidate(a.handle)).toBe(true);
    expect(service.invalidate(a.handle)).toBe(false);
    expect(await service.waitForData(a.handle, SNAPSHOT_END, 10)).toBe('invalidated');
    const b = await service.getOrCreate(def('items', { where: 'id > 0' }));
    expect(b.handle).not.toBe(a.handle);
  });
});
