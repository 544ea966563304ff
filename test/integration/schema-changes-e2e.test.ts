// Schema changes with the official client: each DDL form rotates exactly the shapes it changes (409 must-refetch),
// and afterwards the client's rows equal Postgres's, or the client is told the table is gone.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FetchError, Shape, ShapeStream, type Row, type ShapeStreamInterface } from '@electric-sql/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSwitchyardHttp, type SwitchyardHttp } from '../../src/http/server.js';
import { SwitchyardService, type ServiceEvent } from '../../src/shapes/service.js';
import { freshDatabase, type FreshDatabase } from '../support/pg-env.js';

let db: FreshDatabase;
let dataDir: string;
let service: SwitchyardService;
let http: SwitchyardHttp;
let base: string;
const events: ServiceEvent[] = [];
const cleanups: (() => void)[] = [];

const sql = (text: string): Promise<unknown> => db.client.query(text);

beforeAll(async () => {
  db = await freshDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'switchyard-ddl-'));
  service = await SwitchyardService.start({
    databaseUrl: db.url,
    dataDir,
    // Short, so the changes only the catalog shows (no write follows them) are seen within the test's patience.
    schemaCheckIntervalMs: 300,
    replicationServerOptions: '-c wal_sender_timeout=5s',
    onEvent: (e) => events.push(e),
  });
  http = createSwitchyardHttp({ service, longPollTimeoutMs: 1000 });
  await new Promise<void>((resolve) => http.server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(http.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const c of cleanups) c();
  await http?.close(100);
  await service?.close();
  await db?.drop();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
});

interface Client {
  readonly stream: ShapeStream<Row>;
  readonly shape: Shape<Row>;
  /** Errors the stream reported (it stops on a 4xx after a refetch). */
  readonly errors: Error[];
}

function follow(params: Record<string, string | string[]>): Client {
  const ac = new AbortController();
  const errors: Error[] = [];
  const stream = new ShapeStream<Row>({
    url: `${base}/v1/shape`,
    params: params as never,
    signal: ac.signal,
    onError: (e) => {
      errors.push(e);
    },
  });
  const shape = new Shape(stream as ShapeStreamInterface<Row>);
  cleanups.push(() => {
    stream.unsubscribeAll();
    ac.abort();
  });
  return { stream, shape, errors };
}

async function waitFor(pred: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const byId = (rows: readonly Row[]): Row[] => [...rows].sort((a, b) => String(a['id']).localeCompare(String(b['id'])));

/** The rows Postgres returns for the shape's query, parsed by pg the way the client parses them (int4, bool, text). */
async function pgRows(query: string): Promise<Row[]> {
  return byId((await db.client.query(query)).rows as Row[]);
}

/** Waits until the client's rows equal Postgres's for `query`. */
async function converges(c: Client, query: string): Promise<void> {
  let last: unknown;
  try {
    await waitFor(async () => {
      const want = await pgRows(query);
      last = { client: byId(c.shape.currentRows), postgres: want };
      return JSON.stringify(byId(c.shape.currentRows)) === JSON.stringify(want);
    }, `client rows equal ${query}`);
  } catch (err) {
    console.log(JSON.stringify(last), c.errors.map(String));
    throw err;
  }
}

async function synced(c: Client, query: string): Promise<string> {
  await converges(c, query);
  await waitFor(() => c.shape.handle !== undefined, 'handle');
  return c.shape.handle!;
}

async function table(name: string, columns = 'id int4 PRIMARY KEY, title text, done bool NOT NULL'): Promise<void> {
  await sql(`CREATE TABLE ${name} (${columns})`);
  await sql(`INSERT INTO ${name} (id, title, done) VALUES (1, 'one', false), (2, 'two', true), (3, 'three', false)`);
}

function invalidated(handle: string): boolean {
  return events.some((e) => e.event === 'shape_invalidated' && e.handle === handle);
}

/** The client refetched (409), then got a 400 naming the table that no longer exists. */
async function toldTableGone(c: Client, name: string): Promise<void> {
  await waitFor(() => c.errors.length > 0, 'the client stream reports an error');
  const err = c.errors[0];
  expect(err).toBeInstanceOf(FetchError);
  expect((err as FetchError).status).toBe(400);
  const body = (err as FetchError).json as { errors: { table: string[] } };
  expect(body.errors.table[0]).toContain(`"${name}" does not exist`);
}

describe('schema changes with the official client', () => {
  it('DROP TABLE: the shape is invalidated without any write; the client is told the table does not exist', async () => {
    await table('d_drop');
    const c = follow({ table: 'd_drop' });
    const h = await synced(c, 'SELECT * FROM d_drop');
    await sql('DROP TABLE d_drop');
    await waitFor(() => invalidated(h), 'shape invalidated');
    await toldTableGone(c, 'public.d_drop');
  });

  it('DROP and CREATE under the same name: the client refetches and gets the new table’s rows', async () => {
    await table('d_recreate');
    const c = follow({ table: 'd_recreate' });
    const h = await synced(c, 'SELECT * FROM d_recreate');
    await sql('DROP TABLE d_recreate');
    await sql('CREATE TABLE d_recreate (id int4 PRIMARY KEY, label text)');
    await sql(`INSERT INTO d_recreate VALUES (10, 'ten'), (20, 'twenty')`);
    await converges(c, 'SELECT * FROM d_recreate');
    expect(c.shape.handle).not.toBe(h);
    // A client arriving fresh with the old definition also gets the new table, and the new shape streams.
    const fresh = follow({ table: 'd_recreate' });
    await converges(fresh, 'SELECT * FROM d_recreate');
    await sql(`INSERT INTO d_recreate VALUES (30, 'thirty')`);
    await converges(c, 'SELECT * FROM d_recreate');
    await converges(fresh, 'SELECT * FROM d_recreate');
  });

  it('ALTER TABLE … RENAME: the old name is gone for the client; a shape on the new name matches Postgres', async () => {
    await table('d_ren');
    const other = follow({ table: 'd_ren' });
    const h = await synced(other, 'SELECT * FROM d_ren');
    await sql('ALTER TABLE d_ren RENAME TO d_ren_new');
    await waitFor(() => invalidated(h), 'shape invalidated');
    await toldTableGone(other, 'public.d_ren');
    const renamed = follow({ table: 'd_ren_new' });
    await converges(renamed, 'SELECT * FROM d_ren_new');
    await sql(`UPDATE d_ren_new SET title = 'ONE' WHERE id = 1`);
    await converges(renamed, 'SELECT * FROM d_ren_new');
  });

  it('ADD COLUMN (no write after it): shapes without columns refetch and get it; a shape selecting columns keeps its handle', async () => {
    await table('d_add');
    const all = follow({ table: 'd_add' });
    const some = follow({ table: 'd_add', columns: ['id', 'title'] });
    const hAll = await synced(all, 'SELECT * FROM d_add');
    const hSome = await synced(some, 'SELECT id, title FROM d_add');
    await sql('ALTER TABLE d_add ADD COLUMN n int4 NOT NULL DEFAULT 7');
    await converges(all, 'SELECT * FROM d_add');
    expect(all.shape.handle).not.toBe(hAll);
    expect(all.shape.currentRows.every((r) => r['n'] === 7)).toBe(true);
    await sql(`UPDATE d_add SET title = 'TWO', n = 8 WHERE id = 2`);
    await converges(all, 'SELECT * FROM d_add');
    await converges(some, 'SELECT id, title FROM d_add');
    expect(some.shape.handle).toBe(hSome);
    expect(invalidated(hSome)).toBe(false);
  });

  it('DROP COLUMN: shapes using it refetch without it; a shape not using it keeps streaming on its handle', async () => {
    await table('d_dropcol');
    const all = follow({ table: 'd_dropcol' });
    const filtered = follow({ table: 'd_dropcol', columns: ['id', 'title'], where: 'done = false' });
    const unaffected = follow({ table: 'd_dropcol', columns: ['id', 'done'] });
    const hAll = await synced(all, 'SELECT * FROM d_dropcol');
    const hFiltered = await synced(filtered, 'SELECT id, title FROM d_dropcol WHERE done = false');
    const hKept = await synced(unaffected, 'SELECT id, done FROM d_dropcol');
    await sql('ALTER TABLE d_dropcol DROP COLUMN title');
    await converges(all, 'SELECT * FROM d_dropcol');
    expect(all.shape.handle).not.toBe(hAll);
    // The shape that selected the dropped column: its refetch is a 400 naming the column.
    await waitFor(() => invalidated(hFiltered), 'filtered shape invalidated');
    await waitFor(() => filtered.errors.length > 0, 'client told the column is gone');
    expect((filtered.errors[0] as FetchError).status).toBe(400);
    await sql(`UPDATE d_dropcol SET done = true WHERE id = 1`);
    await converges(unaffected, 'SELECT id, done FROM d_dropcol');
    await converges(all, 'SELECT * FROM d_dropcol');
    expect(unaffected.shape.handle).toBe(hKept);
  });

  it('RENAME COLUMN: a shape selecting every column refetches with the new name', async () => {
    await table('d_rencol');
    const all = follow({ table: 'd_rencol' });
    const h = await synced(all, 'SELECT * FROM d_rencol');
    await sql('ALTER TABLE d_rencol RENAME COLUMN title TO name');
    await converges(all, 'SELECT * FROM d_rencol');
    expect(all.shape.handle).not.toBe(h);
    expect(Object.keys(all.shape.currentRows[0]!)).toContain('name');
    await sql(`INSERT INTO d_rencol VALUES (4, 'four', true)`);
    await converges(all, 'SELECT * FROM d_rencol');
  });

  it('ALTER COLUMN TYPE, including only the type modifier (numeric scale rewrites the stored values)', async () => {
    await table('d_retype', 'id int4 PRIMARY KEY, title text, done bool NOT NULL, price numeric(10,3) DEFAULT 1.255');
    const all = follow({ table: 'd_retype' });
    const h = await synced(all, 'SELECT * FROM d_retype');
    await sql('ALTER TABLE d_retype ALTER COLUMN price TYPE numeric(10,1)');
    await converges(all, 'SELECT * FROM d_retype');
    expect(all.shape.handle).not.toBe(h);
    expect(all.shape.currentRows[0]!['price']).toBe('1.3');
    const h2 = all.shape.handle;
    await sql('ALTER TABLE d_retype ALTER COLUMN done TYPE text');
    await converges(all, 'SELECT * FROM d_retype');
    expect(all.shape.handle).not.toBe(h2);
    expect(all.shape.currentRows[0]!['done']).toBe('false');
  });

  it('a new primary key: every shape of the table refetches (its rows are keyed by it)', async () => {
    await table('d_pk');
    await sql('ALTER TABLE d_pk ADD COLUMN code text');
    await sql(`UPDATE d_pk SET code = 'c' || id`);
    const c = follow({ table: 'd_pk', columns: ['id', 'title'] });
    const h = await synced(c, 'SELECT id, title FROM d_pk');
    await sql('ALTER TABLE d_pk DROP CONSTRAINT d_pk_pkey, ADD PRIMARY KEY (code)');
    await waitFor(() => invalidated(h), 'shape invalidated');
    // The definition no longer includes the whole primary key: the refetch is refused, naming the missing column.
    await waitFor(() => c.errors.length > 0, 'client told the columns lack the key');
    expect((c.errors[0] as FetchError).status).toBe(400);
    const all = follow({ table: 'd_pk' });
    await converges(all, 'SELECT * FROM d_pk');
    await sql(`UPDATE d_pk SET title = 'x' WHERE id = 3`);
    await converges(all, 'SELECT * FROM d_pk');
  });

  it('REPLICA IDENTITY DEFAULT: shapes of the table refetch and FULL is set again for the new shape', async () => {
    await table('d_ident');
    const c = follow({ table: 'd_ident', where: 'done = false' });
    const h = await synced(c, 'SELECT * FROM d_ident WHERE done = false');
    await sql('ALTER TABLE d_ident REPLICA IDENTITY DEFAULT');
    // A row leaving the shape: with a key-only old row this would not be seen as a move out.
    await sql(`UPDATE d_ident SET done = true WHERE id = 1`);
    await converges(c, 'SELECT * FROM d_ident WHERE done = false');
    expect(c.shape.handle).not.toBe(h);
    const ident = await db.client.query<{ r: string }>(
      `SELECT relreplident AS r FROM pg_class WHERE relname = 'd_ident'`,
    );
    expect(ident.rows[0]!.r).toBe('f');
    await sql(`UPDATE d_ident SET done = true WHERE id = 3`);
    await converges(c, 'SELECT * FROM d_ident WHERE done = false');
  });

  it('TRUNCATE: shapes of the table refetch to the empty table, then stream; other tables are untouched', async () => {
    await table('d_trunc');
    await table('d_trunc_other');
    const c = follow({ table: 'd_trunc' });
    const o = follow({ table: 'd_trunc_other' });
    const h = await synced(c, 'SELECT * FROM d_trunc');
    const hOther = await synced(o, 'SELECT * FROM d_trunc_other');
    await sql('TRUNCATE d_trunc');
    await converges(c, 'SELECT * FROM d_trunc');
    expect(c.shape.currentRows).toEqual([]);
    expect(c.shape.handle).not.toBe(h);
    await sql(`INSERT INTO d_trunc VALUES (5, 'five', false)`);
    await sql(`INSERT INTO d_trunc_other VALUES (5, 'five', false)`);
    await converges(c, 'SELECT * FROM d_trunc');
    await converges(o, 'SELECT * FROM d_trunc_other');
    expect(o.shape.handle).toBe(hOther);
  });
});
