// Shape protocol end-to-end (shape-protocol.md §11): the real @electric-sql/client and raw fetch against the real
// service (replication → router → shape logs → HTTP) on the run's Postgres.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { FetchError, Shape, ShapeStream, type Row, type ShapeStreamInterface } from '@electric-sql/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/cli/serve.js';
import type { Logger } from '../../src/http/logger.js';
import { createSwitchyardHttp, type SwitchyardHttp } from '../../src/http/server.js';
import { freshDatabase, type FreshDatabase } from '../support/pg-env.js';
import { currentSnapshot, expectSnapshotEnd } from '../support/snapshot-end.js';
import { openSse, trace } from '../support/sse-reader.js';

const LONG_POLL_MS = 2000;

let db: FreshDatabase;
let dataDir: string;
let server: RunningServer;
let base: string;
const errors: unknown[] = [];
const log: Logger = {
  log(level, event, fields) {
    if (level === 'error') errors.push({ event, ...fields });
  },
};
const cleanups: (() => Promise<void> | void)[] = [];

const sql = (text: string, values?: unknown[]) => db.client.query(text, values);

/** The §11 setup table under another name, so scenarios do not see each other's writes. */
async function itemsTable(name: string): Promise<void> {
  await sql(
    `CREATE TABLE ${name} (id int4 PRIMARY KEY, title text, done bool NOT NULL); ALTER TABLE ${name} REPLICA IDENTITY FULL`,
  );
  await sql(`INSERT INTO ${name} VALUES (1, 'one', false), (2, 'two', true)`);
}

const shapeUrl = (qs: string): string => `${base}/v1/shape?${qs}`;

interface Msg {
  key?: string;
  value?: Record<string, string | null>;
  old_value?: Record<string, string | null>;
  headers: Record<string, unknown>;
}

async function get(qs: string, init?: RequestInit): Promise<{ res: Response; body: Msg[] }> {
  const res = await fetch(shapeUrl(qs), init);
  const text = await res.text();
  return { res, body: text === '' ? [] : (JSON.parse(text) as Msg[]) };
}

/** Syncs a shape to its first up-to-date over raw requests; returns the handle and the offset to go live from. */
async function syncRaw(qs: string): Promise<{ handle: string; offset: string; messages: Msg[] }> {
  const first = await get(`${qs}&offset=-1`);
  expect(first.res.status).toBe(200);
  let handle = first.res.headers.get('electric-handle')!;
  let offset = first.res.headers.get('electric-offset')!;
  const messages = [...first.body];
  for (let i = 0; i < 100; i++) {
    const r = await get(`${qs}&handle=${handle}&offset=${offset}`);
    expect(r.res.status).toBe(200);
    handle = r.res.headers.get('electric-handle')!;
    offset = r.res.headers.get('electric-offset')!;
    messages.push(...r.body.filter((m) => m.key !== undefined));
    if (r.res.headers.has('electric-up-to-date')) return { handle, offset, messages };
  }
  throw new Error('never up to date');
}

function live(qs: string, handle: string, offset: string, cursor = ''): Promise<{ res: Response; body: Msg[] }> {
  return get(`${qs}&cursor=${cursor}&handle=${handle}&live=true&offset=${offset}`);
}

async function waitFor(pred: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function clientShape(
  params: Record<string, string | string[] | Record<string, string>>,
  extra: Record<string, unknown> = {},
): { stream: ShapeStream<Row>; shape: Shape<Row> } {
  const ac = new AbortController();
  const stream = new ShapeStream<Row>({
    url: `${base}/v1/shape`,
    params: params as never,
    signal: ac.signal,
    ...extra,
  });
  const shape = new Shape(stream as ShapeStreamInterface<Row>);
  cleanups.push(() => {
    stream.unsubscribeAll();
    ac.abort();
  });
  return { stream, shape };
}

const byId = (rows: Row[]): Row[] => [...rows].sort((a, b) => Number(a['id']) - Number(b['id']));

beforeAll(async () => {
  db = await freshDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'switchyard-e2e-'));
  server = await startServer(
    {
      port: 0,
      host: '127.0.0.1',
      databaseUrl: db.url,
      dataDir,
      longPollTimeoutMs: LONG_POLL_MS,
      chunkBytes: 10 * 1024 * 1024,
      enableDelete: true,
      demo: false,
    },
    log,
  );
  base = `http://127.0.0.1:${(server.http.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const c of cleanups) await c();
  await server?.stop();
  await db?.drop();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
});

describe('shape protocol end to end', () => {
  it('1–2: initial snapshot, then catch-up to up-to-date; the client gets typed rows', async () => {
    await itemsTable('s1');
    const before = await currentSnapshot(db.client);
    const r1 = await get('log=full&offset=-1&table=s1');
    const after = await currentSnapshot(db.client);
    expect(r1.res.status).toBe(200);
    expect(r1.body).toHaveLength(3);
    // The snapshot ends with Electric's snapshot-end control (before any up-to-date), naming its xids.
    expectSnapshotEnd(r1.body.pop(), before, after);
    for (const m of r1.body) {
      expect(m.headers['operation']).toBe('insert');
      expect(m.headers['relation']).toEqual(['public', 's1']);
      for (const v of Object.values(m.value!)) expect(typeof v).toBe('string');
    }
    expect(r1.res.headers.get('electric-handle')).toBeTruthy();
    expect(r1.res.headers.get('electric-offset')).toBe('0_0');
    expect(r1.res.headers.has('electric-up-to-date')).toBe(false);
    expect(r1.body.some((m) => m.headers['control'] === 'up-to-date')).toBe(false);
    const schema = JSON.parse(r1.res.headers.get('electric-schema')!) as Record<string, Record<string, unknown>>;
    expect(schema['id']).toEqual({ type: 'int4', pk_index: 0, not_null: true });
    expect(schema['done']).toEqual({ type: 'bool', not_null: true });
    expect(schema['title']).toEqual({ type: 'text' });
    const handle = r1.res.headers.get('electric-handle')!;
    const r2 = await get(`handle=${handle}&log=full&offset=0_0&table=s1`);
    expect(r2.res.headers.get('electric-up-to-date')).toBe('');
    expect(r2.res.headers.get('electric-schema')).toBeTruthy();
    expect(r2.body.at(-1)?.headers['control']).toBe('up-to-date');
    expect(r2.body.at(-1)?.headers['global_last_seen_lsn']).toMatch(/^\d+$/);
    const { shape } = clientShape({ table: 's1' });
    expect(byId(await shape.rows)).toEqual([
      { id: 1, title: 'one', done: false },
      { id: 2, title: 'two', done: true },
    ]);
  });

  it('3–6, 22: live insert, update (default and full), delete, multi-row transactions', async () => {
    await itemsTable('s3');
    const { shape } = clientShape({ table: 's3' });
    await shape.rows;
    const d = await syncRaw('table=s3');
    const full = await syncRaw('table=s3&replica=full');
    // 3: live insert
    const held = live('table=s3', d.handle, d.offset);
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    await sql(`INSERT INTO s3 VALUES (3, 'three', false)`);
    const r3 = await held;
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(r3.res.status).toBe(200);
    expect(r3.res.headers.get('electric-cursor')).toMatch(/^\d+$/);
    expect(r3.res.headers.get('electric-up-to-date')).toBe('');
    const ins = r3.body[0]!;
    expect(ins.headers['operation']).toBe('insert');
    expect(ins.value).toEqual({ id: '3', title: 'three', done: 'f' });
    expect(ins.headers['lsn']).toMatch(/^\d+$/);
    expect(typeof ins.headers['op_position']).toBe('number');
    expect((ins.headers['txids'] as unknown[]).every((x) => typeof x === 'number')).toBe(true);
    expect(r3.body.at(-1)?.headers['control']).toBe('up-to-date');
    const off3 = r3.res.headers.get('electric-offset')!;
    expect(off3).not.toBe(d.offset);
    await waitFor(() => shape.currentRows.length === 3);
    // 4: update, replica=default → PK + changed columns
    const r4p = live('table=s3', d.handle, off3);
    await sql(`UPDATE s3 SET title = 'ONE' WHERE id = 1`);
    const r4 = await r4p;
    expect(r4.body[0]).toMatchObject({ value: { id: '1', title: 'ONE' }, headers: { operation: 'update' } });
    expect(Object.keys(r4.body[0]!.value!).sort()).toEqual(['id', 'title']);
    await waitFor(() => shape.currentRows.find((r) => r['id'] === 1)?.['title'] === 'ONE');
    expect(shape.currentRows.find((r) => r['id'] === 1)?.['done']).toBe(false);
    // 6: delete, replica=default → PK only
    const off4 = r4.res.headers.get('electric-offset')!;
    const r6p = live('table=s3', d.handle, off4);
    await sql(`DELETE FROM s3 WHERE id = 2`);
    const r6 = await r6p;
    expect(r6.body[0]).toMatchObject({ value: { id: '2' }, headers: { operation: 'delete' } });
    expect(Object.keys(r6.body[0]!.value!)).toEqual(['id']);
    await waitFor(() => shape.currentRows.length === 2);
    // 5: replica=full sees all three changes with whole rows and old values
    const r5 = await get(`table=s3&replica=full&handle=${full.handle}&offset=${full.offset}`);
    const changes = r5.body.filter((m) => m.key !== undefined);
    expect(changes.map((m) => m.headers['operation'])).toEqual(['insert', 'update', 'delete']);
    expect(changes[1]!.value).toEqual({ id: '1', title: 'ONE', done: 'f' });
    expect(changes[1]!.old_value).toEqual({ title: 'one' });
    expect(changes[2]!.value).toEqual({ id: '2', title: 'two', done: 't' });
    // 22: a multi-row transaction comes in one response, same lsn/txids, last on the final op
    const off6 = r6.res.headers.get('electric-offset')!;
    const r22p = live('table=s3', d.handle, off6);
    await sql(
      `BEGIN; INSERT INTO s3 VALUES (10, 'a', false); INSERT INTO s3 VALUES (11, 'b', false); UPDATE s3 SET done = true WHERE id = 3; COMMIT`,
    );
    const r22 = await r22p;
    const tx = r22.body.filter((m) => m.key !== undefined);
    expect(tx).toHaveLength(3);
    expect(new Set(tx.map((m) => m.headers['lsn'])).size).toBe(1);
    expect(new Set(tx.map((m) => JSON.stringify(m.headers['txids']))).size).toBe(1);
    expect(tx.at(-1)!.headers['last']).toBe(true);
    expect(tx.slice(0, -1).every((m) => m.headers['last'] === undefined)).toBe(true);
    expect(r22.body.at(-1)?.headers['control']).toBe('up-to-date');
    await waitFor(() => shape.currentRows.length === 4);
  });

  it('7–9: moves out and in; an update outside the shape sends nothing', async () => {
    await itemsTable('s7');
    const qs = `table=s7&where=${encodeURIComponent('done = false')}`;
    const { shape } = clientShape({ table: 's7', where: 'done = false' });
    expect((await shape.rows).map((r) => r['id'])).toEqual([1]);
    const d = await syncRaw(qs);
    const r7p = live(qs, d.handle, d.offset);
    await sql(`UPDATE s7 SET done = true WHERE id = 1`);
    const r7 = await r7p;
    expect(r7.body[0]).toMatchObject({ key: expect.any(String), headers: { operation: 'delete' } });
    await waitFor(() => shape.currentRows.length === 0);
    const off7 = r7.res.headers.get('electric-offset')!;
    const r8p = live(qs, d.handle, off7);
    await sql(`UPDATE s7 SET done = false WHERE id = 2`);
    const r8 = await r8p;
    expect(r8.body[0]).toMatchObject({ value: { id: '2', title: 'two', done: 'f' }, headers: { operation: 'insert' } });
    await waitFor(() => shape.currentRows.length === 1 && shape.currentRows[0]?.['id'] === 2);
    // 9 and 10: nothing for this shape → the poll runs to its timeout
    const off8 = r8.res.headers.get('electric-offset')!;
    const started = Date.now();
    const r9p = live(qs, d.handle, off8, '123');
    await sql(`UPDATE s7 SET title = 'x' WHERE id = 1`);
    const r9 = await r9p;
    expect(Date.now() - started).toBeGreaterThanOrEqual(LONG_POLL_MS - 100);
    expect(r9.res.status).toBe(200);
    expect(r9.body).toEqual([
      { headers: { control: 'up-to-date', global_last_seen_lsn: expect.stringMatching(/^\d+$/) } },
    ]);
    expect(r9.res.headers.get('electric-offset')).toBe(off8);
    expect(r9.res.headers.get('electric-up-to-date')).toBe('');
    expect(r9.res.headers.get('electric-has-data')).toBe('false');
    // 11: the cursor changes between polls even when the client echoes it
    const c9 = r9.res.headers.get('electric-cursor')!;
    expect(c9).toMatch(/^\d+$/);
    expect(c9).not.toBe('123');
    const r11 = await live(qs, d.handle, off8, c9);
    expect(r11.res.headers.get('electric-cursor')).not.toBe(c9);
  });

  it('12, 26: handle rotation (TRUNCATE, DELETE) → 409 with a new handle; the client refetches', async () => {
    await itemsTable('s12');
    const { stream, shape } = clientShape({ table: 's12' });
    await shape.rows;
    const old = stream.shapeHandle!;
    await new Promise((r) => setTimeout(r, 300));
    await sql(`TRUNCATE s12; INSERT INTO s12 VALUES (7, 'seven', false)`);
    await waitFor(
      () => stream.shapeHandle !== old && shape.currentRows.length === 1 && shape.currentRows[0]?.['id'] === 7,
      15_000,
    );
    const stale = await get(`table=s12&handle=${old}&offset=0_0`);
    expect(stale.res.status).toBe(409);
    expect(stale.res.headers.get('electric-handle')).toBe(stream.shapeHandle);
    expect(stale.body).toEqual([{ headers: { control: 'must-refetch' } }]);
    // 26: DELETE invalidates; the next request gets 409 with a newer handle
    const current = stream.shapeHandle!;
    const del = await fetch(shapeUrl(`table=s12&handle=${current}`), { method: 'DELETE' });
    expect(del.status).toBe(202);
    const after = await get(`table=s12&handle=${current}&offset=0_0`);
    expect(after.res.status).toBe(409);
    expect(after.res.headers.get('electric-handle')).not.toBe(current);
    await waitFor(() => stream.shapeHandle !== current && shape.currentRows.length === 1, 15_000);
    const noDelete = createSwitchyardHttp({ service: server.service, enableDelete: false });
    const url = await listen(noDelete);
    expect((await fetch(`${url}/v1/shape?table=s12`, { method: 'DELETE' })).status).toBe(405);
  });

  it("13: stale handle and another definition's handle → 409 with the current handle", async () => {
    await itemsTable('s13');
    const a = await syncRaw('table=s13');
    const b = await syncRaw('table=s13&columns=id');
    const bogus = await get('table=s13&handle=bogus&offset=0_0');
    expect(bogus.res.status).toBe(409);
    expect(bogus.res.headers.get('electric-handle')).toBe(a.handle);
    const foreign = await get(`table=s13&handle=${b.handle}&offset=${b.offset}`);
    expect(foreign.res.status).toBe(409);
    expect(foreign.res.headers.get('electric-handle')).toBe(a.handle);
  });

  it('14: validation errors are 400 keyed by field, not cached; the client surfaces FetchError 400', async () => {
    await itemsTable('s14');
    const cases: [string, string][] = [
      ['offset=-1', 'table'],
      ['table=s14&offset=bad', 'offset'],
      ['table=s14&offset=0_0', 'handle'],
      ['table=s14&offset=-1&live=true', 'live'],
      ['table=s14&offset=0_0&handle=h&live_sse=true', 'live_sse'],
      ['table=s14&offset=-1&columns=title', 'columns'],
      ['table=nope_missing&offset=-1', 'table'],
      ['table=s14&offset=-1&where=nosuchcol%20%3D%201', 'where'],
      ['table=s14&offset=-1&where=title%20%3D%20%241', 'where'],
      [`table=s14&offset=-1&where=${encodeURIComponent('id = 1 or '.repeat(7000) + 'true')}`, 'where'],
    ];
    for (const [qs, field] of cases) {
      const r = await get(qs);
      expect(r.res.status, qs.slice(0, 80)).toBe(400);
      expect(r.res.headers.get('cache-control')).toBe('no-store');
      expect((r.body as unknown as { errors: Record<string, unknown> }).errors, qs.slice(0, 80)).toHaveProperty(field);
    }
    let calls = 0;
    const seen = new Promise<unknown>((resolve) => {
      clientShape(
        { table: 'nope_missing' },
        {
          onError: (e: unknown) => resolve(e),
          fetchClient: (i: Parameters<typeof fetch>[0], init?: RequestInit) => (calls++, fetch(i, init)),
        },
      );
    });
    const err = await seen;
    expect(err).toBeInstanceOf(FetchError);
    expect((err as FetchError).status).toBe(400);
    await new Promise((r) => setTimeout(r, 300));
    expect(calls).toBe(1);
    // The server is still up and other shapes keep flowing.
    expect((await fetch(`${base}/v1/health`)).status).toBe(200);
  });

  it('15: where with params, quoted columns, unknown params ignored', async () => {
    await itemsTable('s15');
    const { shape, stream } = clientShape({
      table: 's15',
      where: 'title = $1',
      params: { '1': 'two' },
      columns: ['id', 'title'],
      foo: 'bar',
    });
    expect(await shape.rows).toEqual([{ id: 2, title: 'two' }]);
    const r = await get(
      `table=s15&offset=-1&columns=${encodeURIComponent('"id","title"')}&where=${encodeURIComponent('title = $1')}&params[1]=two&unknown=1`,
    );
    expect(Object.keys(JSON.parse(r.res.headers.get('electric-schema')!) as object).sort()).toEqual(['id', 'title']);
    expect(r.res.headers.get('electric-handle')).toBe(stream.shapeHandle);
    await sql(`INSERT INTO s15 VALUES (5, 'two', true), (6, 'six', true)`);
    await waitFor(() => shape.currentRows.length === 2);
    expect(byId(shape.currentRows)).toEqual([
      { id: 2, title: 'two' },
      { id: 5, title: 'two' },
    ]);
  });

  it('16: offset=now answers at once at the log end; later live requests see only new changes', async () => {
    await itemsTable('s16');
    const r = await get('table=s16&offset=now');
    expect(r.res.status).toBe(200);
    expect(r.body).toEqual([
      { headers: { control: 'up-to-date', global_last_seen_lsn: expect.stringMatching(/^\d+$/) } },
    ]);
    expect(r.res.headers.get('electric-up-to-date')).toBe('');
    expect(r.res.headers.get('electric-has-data')).toBe('false');
    expect(r.res.headers.get('electric-schema')).toBeTruthy();
    const handle = r.res.headers.get('electric-handle')!;
    const off = r.res.headers.get('electric-offset')!;
    const p = live('table=s16', handle, off);
    await sql(`INSERT INTO s16 VALUES (3, 'three', false)`);
    const l = await p;
    expect(l.body.filter((m) => m.key !== undefined).map((m) => m.value?.['id'])).toEqual(['3']);
    const { shape } = clientShape({ table: 's16' }, { offset: 'now' });
    await waitFor(() => shape.isUpToDate);
    expect(shape.currentRows).toEqual([]);
  });

  it('17: log=changes_only has an empty snapshot and only later changes', async () => {
    await itemsTable('s17');
    const before = await currentSnapshot(db.client);
    const r = await get('table=s17&offset=-1&log=changes_only');
    const after = await currentSnapshot(db.client);
    expect(r.res.status).toBe(200);
    expect(r.body).toHaveLength(1); // no rows, only the snapshot-end
    expectSnapshotEnd(r.body[0], before, after);
    const { shape } = clientShape({ table: 's17' }, { log: 'changes_only' });
    await waitFor(() => shape.isUpToDate);
    expect(shape.currentRows).toEqual([]);
    await sql(`UPDATE s17 SET title = 'x' WHERE id = 1; INSERT INTO s17 VALUES (3, 'three', false)`);
    await waitFor(() => shape.currentRows.length === 1);
    await new Promise((r2) => setTimeout(r2, 300));
    expect(shape.currentRows).toEqual([{ id: 3, title: 'three', done: false }]);
  });

  it('20, 27: CORS on every response, OPTIONS 204; health', async () => {
    await itemsTable('s20');
    const r = await get('table=s20&offset=-1', { headers: { origin: 'https://app.example' } });
    expect(r.res.headers.get('access-control-allow-origin')).toBe('https://app.example');
    // Electric's list (§1.2), plus the header that carries our error details (codes, positions, carets).
    expect(r.res.headers.get('access-control-expose-headers')).toBe(
      'electric-cursor,electric-handle,electric-has-data,electric-offset,electric-schema,electric-up-to-date,electric-internal-known-error,retry-after,switchyard-error-details',
    );
    const bad = await get('offset=x', { headers: { origin: 'https://app.example' } });
    expect(bad.res.headers.get('access-control-expose-headers')).toContain('electric-handle');
    const o = await fetch(shapeUrl('table=s20'), {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-headers': 'if-none-match,traceparent' },
    });
    expect(o.status).toBe(204);
    expect(o.headers.get('access-control-allow-headers')).toBe('if-none-match,traceparent');
    const h = await fetch(`${base}/v1/health`);
    expect(h.status).toBe(200);
    expect(await h.json()).toEqual({ status: 'active' });
  });

  it('19: a proxy stripping a required header makes the client fail with MissingHeadersError', async () => {
    await itemsTable('s19');
    const strip =
      (name: string, when: (url: string) => boolean) =>
      async (input: Parameters<typeof fetch>[0], init?: RequestInit): Promise<Response> => {
        const res = await fetch(input, init);
        if (!when(String(input))) return res;
        const headers = new Headers(res.headers);
        headers.delete(name);
        return new Response(await res.arrayBuffer(), { status: res.status, statusText: res.statusText, headers });
      };
    const cases: [string, (u: string) => boolean][] = [
      ['electric-offset', () => true],
      ['electric-handle', () => true],
      ['electric-schema', (u) => !u.includes('live=true')],
      ['electric-cursor', (u) => u.includes('live=true')],
    ];
    for (const [name, when] of cases) {
      const failed = new Promise<Error>((resolve) => {
        const { stream } = clientShape(
          { table: 's19' },
          { fetchClient: strip(name, when), onError: (e: Error) => resolve(e) },
        );
        stream.subscribe(
          () => undefined,
          (e) => resolve(e),
        );
      });
      const err = await failed;
      expect(`${err.constructor.name} ${err.message}`, name).toMatch(/MissingHeaders/);
      expect(err.message).toContain(name);
    }
  });

  it('21: a 503 with retry-after is retried and sync resumes', async () => {
    await itemsTable('s21');
    let failures = 2;
    const flaky = async (input: Parameters<typeof fetch>[0], init?: RequestInit): Promise<Response> => {
      if (failures > 0) {
        failures--;
        return new Response('{"message":"Stack not ready"}', {
          status: 503,
          headers: { 'retry-after': '1', 'content-type': 'application/json' },
        });
      }
      return fetch(input, init);
    };
    const { shape } = clientShape(
      { table: 's21' },
      { fetchClient: flaky, backoffOptions: { initialDelay: 50, maxDelay: 200, multiplier: 2 } },
    );
    expect(await shape.rows).toHaveLength(2);
    expect(failures).toBe(0);
  });

  it('23: a primary-key change is a delete and an insert linked by key_change_to/from', async () => {
    await itemsTable('s23');
    const { shape } = clientShape({ table: 's23' });
    await shape.rows;
    const d = await syncRaw('table=s23');
    const p = live('table=s23', d.handle, d.offset);
    await sql(`UPDATE s23 SET id = 9 WHERE id = 1`);
    const r = await p;
    const [del, ins] = r.body.filter((m) => m.key !== undefined);
    expect(del!.headers['operation']).toBe('delete');
    expect(ins!.headers['operation']).toBe('insert');
    expect(del!.headers['key_change_to']).toBe(ins!.key);
    expect(ins!.headers['key_change_from']).toBe(del!.key);
    expect(ins!.value).toEqual({ id: '9', title: 'one', done: 'f' });
    await waitFor(() => shape.currentRows.some((row) => row['id'] === 9));
    expect(byId(shape.currentRows).map((row) => row['id'])).toEqual([2, 9]);
  });

  it('24: value encoding through the client', async () => {
    await sql(
      `CREATE TABLE s24 (id int8 PRIMARY KEY, n numeric, tags text[], grid int4[][], doc jsonb, at timestamptz NOT NULL, note text, f float8, b bytea)`,
    );
    await sql(
      `INSERT INTO s24 VALUES (9007199254740993, 0.10, '{a,"b c",NULL}', '{{1,2},{3,4}}', '{"k":[1,null]}', '2024-01-02 03:04:05.5+02', NULL, 0.1, '\\x00ff')`,
    );
    const { shape } = clientShape({ table: 's24' });
    const [row] = await shape.rows;
    expect(row!['id']).toBe(9007199254740993n);
    expect(row!['n']).toBe('0.10');
    expect(row!['tags']).toEqual(['a', 'b c', null]);
    expect(row!['grid']).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(row!['doc']).toEqual({ k: [1, null] });
    expect(row!['at']).toBe('2024-01-02 01:04:05.5+00');
    expect(row!['note']).toBeNull();
    expect(row!['f']).toBe(0.1);
    expect(row!['b']).toBe('\\x00ff');
  });

  it('25: SSE: an event stream of data events, up-to-date with the decimal lsn, resumable at <lsn>_0 with no loss', async () => {
    await itemsTable('s25');
    const d = await syncRaw('table=s25');
    const url = (offset: string) =>
      shapeUrl(`table=s25&handle=${d.handle}&offset=${offset}&live=true&live_sse=true&cursor=`);
    const s = await openSse(url(d.offset));
    expect(s.res.headers.get('content-type')).toBe('text/event-stream');
    expect(s.res.headers.get('electric-offset')).toBe(d.offset);
    expect(s.res.headers.get('electric-cursor')).toMatch(/^[0-9]+$/);
    await sql(`BEGIN; INSERT INTO s25 VALUES (3, 'three', false); INSERT INTO s25 VALUES (4, 'four', false); COMMIT`);
    await s.until((ev) => ev.some((e) => e.data?.headers['control'] === 'up-to-date'));
    await s.cancel();
    const changes = s.events.filter((e) => e.data?.key !== undefined).map((e) => e.data!);
    expect(changes.map((m) => m.value!['id'])).toEqual(['3', '4']);
    const lsn = changes[0]!.headers['lsn'] as string;
    expect(lsn).toMatch(/^[1-9][0-9]*$/);
    expect(trace(s.events).at(-1)).toBe(`up-to-date@${lsn}`);
    // Resuming where the client does (`<global_last_seen_lsn>_0`): the next change only, nothing re-sent or lost.
    await sql(`INSERT INTO s25 VALUES (5, 'five', true)`);
    const again = await openSse(url(`${lsn}_0`));
    await again.until((ev) => ev.some((e) => e.data?.headers['control'] === 'up-to-date'));
    await again.cancel();
    expect(again.events.filter((e) => e.data?.key !== undefined).map((e) => e.data!.value!['id'])).toEqual(['5']);
  });

  it('18: a chunked snapshot advances the offset on every response; only the last is up to date', async () => {
    await sql(
      `CREATE TABLE s18 (id int4 PRIMARY KEY, title text); INSERT INTO s18 SELECT g, repeat('x', 100) FROM generate_series(1, 60) g`,
    );
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-e2e-chunks-'));
    const small = await startServer(
      {
        port: 0,
        host: '127.0.0.1',
        databaseUrl: db.url,
        dataDir: dir,
        longPollTimeoutMs: LONG_POLL_MS,
        chunkBytes: 1024,
        enableDelete: false,
        demo: false,
      },
      log,
    );
    cleanups.push(async () => {
      await small.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    const url = `http://127.0.0.1:${(small.http.server.address() as AddressInfo).port}/v1/shape`;
    const first = await fetch(`${url}?table=s18&offset=-1`);
    const handle = first.headers.get('electric-handle')!;
    let offset = first.headers.get('electric-offset')!;
    const ids = new Set<string>(((await first.json()) as Msg[]).map((m) => m.value!['id']!));
    let responses = 1;
    for (;;) {
      const r = await fetch(`${url}?table=s18&handle=${handle}&offset=${offset}`);
      const body = (await r.json()) as Msg[];
      responses++;
      const next = r.headers.get('electric-offset')!;
      for (const m of body) if (m.key !== undefined) ids.add(m.value!['id']!);
      if (r.headers.has('electric-up-to-date')) break;
      expect(next).not.toBe(offset);
      expect(body.some((m) => m.headers['control'] === 'up-to-date')).toBe(false);
      offset = next;
      if (responses > 200) throw new Error('too many responses');
    }
    expect(responses).toBeGreaterThan(3);
    expect(ids.size).toBe(60);
    const stream = new ShapeStream<Row>({ url, params: { table: 's18' }, subscribe: false });
    const shape = new Shape(stream as ShapeStreamInterface<Row>);
    expect(await shape.rows).toHaveLength(60);
  });

  it('a restart with the same data dir resumes: same handle, catch-up from the old offset, nothing lost', async () => {
    await itemsTable('s30');
    const d = await syncRaw('table=s30');
    await server.stop();
    await sql(`INSERT INTO s30 VALUES (3, 'while down', false)`);
    server = await startServer(
      {
        port: 0,
        host: '127.0.0.1',
        databaseUrl: db.url,
        dataDir,
        longPollTimeoutMs: LONG_POLL_MS,
        chunkBytes: 10 * 1024 * 1024,
        enableDelete: true,
        demo: false,
      },
      log,
    );
    base = `http://127.0.0.1:${(server.http.server.address() as AddressInfo).port}`;
    let changes: Msg[] = [];
    for (let i = 0; i < 20 && changes.length === 0; i++) {
      const r = await get(`table=s30&handle=${d.handle}&offset=${d.offset}`);
      expect(r.res.status).toBe(200);
      changes = r.body.filter((m) => m.key !== undefined);
      if (changes.length === 0) await new Promise((res) => setTimeout(res, 100));
    }
    expect(changes.map((m) => m.value)).toEqual([{ id: '3', title: 'while down', done: 'f' }]);
  });

  it('the service logged no errors', () => {
    expect(errors).toEqual([]);
  });
});

async function listen(http: SwitchyardHttp): Promise<string> {
  await new Promise<void>((r) => http.server.listen(0, '127.0.0.1', r));
  cleanups.push(() => http.close(100));
  return `http://127.0.0.1:${(http.server.address() as AddressInfo).port}`;
}
