// Subset snapshots (shape-protocol.md §9) end to end: the real @electric-sql/client's fetchSnapshot (GET and POST) and
// requestSnapshot in changes_only mode against the real service, including writes racing the subset's snapshot.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import {
  Shape,
  ShapeStream,
  isChangeMessage,
  type ChangeMessage,
  type Message,
  type Row,
  type ShapeStreamInterface,
} from '@electric-sql/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/cli/serve.js';
import type { Logger } from '../../src/http/logger.js';
import { freshDatabase, type FreshDatabase } from '../support/pg-env.js';

let db: FreshDatabase;
let dataDir: string;
let server: RunningServer;
let base: string;
const errorLogs: unknown[] = [];
const log: Logger = { log: (level, event, fields) => void (level === 'error' && errorLogs.push({ event, ...fields })) };
const cleanups: (() => Promise<void> | void)[] = [];
const e = encodeURIComponent;
const sql = (text: string, values?: unknown[]) => db.client.query(text, values);

beforeAll(async () => {
  db = await freshDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'sy-subsets-'));
  server = await startServer(
    {
      port: 0,
      host: '127.0.0.1',
      databaseUrl: db.url,
      dataDir,
      longPollTimeoutMs: 1000,
      chunkBytes: 1 << 20,
      enableDelete: false,
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

/** A table of 40 rows: id, title (some NULL), n, grp. */
async function table(name: string): Promise<void> {
  await sql(`CREATE TABLE ${name} (id int4 PRIMARY KEY, title text, n int4 NOT NULL, grp text NOT NULL)`);
  await sql(
    `INSERT INTO ${name} SELECT g, CASE WHEN g % 9 = 0 THEN NULL ELSE 't' || lpad(g::text, 2, '0') END, g * 3 % 17, 'g' || (g % 4) FROM generate_series(1, 40) g`,
  );
}

function stream(
  params: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): { stream: ShapeStream<Row>; shape: Shape<Row> } {
  const ac = new AbortController();
  const s = new ShapeStream<Row>({ url: `${base}/v1/shape`, params: params as never, signal: ac.signal, ...extra });
  const shape = new Shape(s as ShapeStreamInterface<Row>);
  cleanups.push(() => {
    s.unsubscribeAll();
    ac.abort();
  });
  return { stream: s, shape };
}

async function waitFor(pred: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Postgres's own answer, typed as the client parses it (int4 → number), in the query's order. */
async function pgRows(query: string, values?: unknown[]): Promise<Row[]> {
  const res = await sql(query, values);
  return res.rows as Row[];
}

const values = (msgs: readonly ChangeMessage<Row>[]): Row[] => msgs.map((m) => m.value);

async function raw(qs: string, init?: RequestInit): Promise<{ status: number; headers: Headers; json: unknown }> {
  const res = await fetch(`${base}/v1/shape?${qs}`, init);
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, json };
}

describe('subset snapshots', () => {
  it('fetchSnapshot over GET and POST: where with params, order, limit, offset — the rows Postgres selects', async () => {
    await table('sub1');
    for (const method of ['GET', 'POST'] as const) {
      const { stream: s } = stream({ table: 'sub1', where: 'n < 12' }, { log: 'changes_only' });
      const page = await s.fetchSnapshot({
        method,
        where: 'grp = $1 OR title IS NULL',
        params: { '1': 'g1' },
        orderBy: 'title DESC NULLS LAST, id',
        limit: 5,
        offset: 2,
      });
      expect(values(page.data), method).toEqual(
        await pgRows(
          `SELECT id, title, n, grp FROM sub1 WHERE n < 12 AND (grp = $1 OR title IS NULL) ORDER BY title DESC NULLS LAST, id LIMIT 5 OFFSET 2`,
          ['g1'],
        ),
      );
      for (const m of page.data) {
        expect(m.headers.operation).toBe('insert');
        expect(m.headers['snapshot_mark']).toBe(page.metadata.snapshot_mark);
      }
      const md = page.metadata;
      expect(md.xmin).toMatch(/^\d+$/);
      expect(md.xmax).toMatch(/^\d+$/);
      expect(BigInt(md.xmin) <= BigInt(md.xmax)).toBe(true);
      expect(md.database_lsn).toMatch(/^\d+$/);
      expect(Array.isArray(md.xip_list)).toBe(true);
      expect(page.responseHandle).toMatch(/\S/);
      expect(page.responseOffset).toMatch(/^\d+_(\d+|inf)$/);
    }
    // Without a subset clause: the shape's rows; with only an order: all of them in that order.
    const { stream: s } = stream({ table: 'sub1', columns: ['id', 'n'] }, { log: 'changes_only' });
    const all = await s.fetchSnapshot({ orderBy: 'n DESC, id ASC' });
    expect(values(all.data)).toEqual(await pgRows('SELECT id, n FROM sub1 ORDER BY n DESC, id ASC'));
  });

  it('structured whereExpr/orderByExpr, and a POST carrying only the trees (compiled by the service)', async () => {
    await table('sub2');
    const { stream: s } = stream({ table: 'sub2' }, { log: 'changes_only' });
    const whereExpr = {
      type: 'func' as const,
      name: 'and',
      args: [
        {
          type: 'func' as const,
          name: 'gte',
          args: [
            { type: 'ref' as const, column: 'n' },
            { type: 'val' as const, paramIndex: 1 },
          ],
        },
        {
          type: 'func' as const,
          name: 'in',
          args: [
            { type: 'ref' as const, column: 'grp' },
            { type: 'val' as const, paramIndex: 2 },
          ],
        },
      ],
    };
    const orderByExpr = [{ column: 'n', direction: 'desc' as const }, { column: 'id' }];
    const want = await pgRows(
      `SELECT * FROM sub2 WHERE n >= 5 AND grp = ANY('{g1,g2}'::text[]) ORDER BY n DESC, id LIMIT 7`,
    );
    for (const method of ['GET', 'POST'] as const) {
      const got = await s.fetchSnapshot({
        method,
        whereExpr,
        orderByExpr,
        params: { '1': 5, '2': '{g1,g2}' },
        limit: 7,
      });
      expect(values(got.data), method).toEqual(want);
    }
    // A body with only the trees (no compiled `where`/`order_by`), params as a JSON array for ANY.
    const r = await raw('table=sub2&offset=-1&log=changes_only', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        where_expr: whereExpr,
        order_by_expr: orderByExpr,
        params: { '1': 5, '2': ['g1', 'g2'] },
        limit: 7,
      }),
    });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.headers.get('electric-snapshot')).toBe('true');
    expect(r.headers.get('cache-control')).toBe('no-cache');
    const body = r.json as { data: { value: Record<string, string | null> }[] };
    expect(body.data.map((m) => Number(m.value['id']))).toEqual(want.map((w) => w['id']));
  });

  it('requestSnapshot in changes_only mode: cold start, offset now, then live changes land on the loaded rows', async () => {
    await table('sub3');
    // Cold start: called before the stream has made any request.
    const cold = stream({ table: 'sub3' }, { log: 'changes_only' });
    const first = await cold.stream.requestSnapshot({ where: 'id <= 3', orderBy: 'id', limit: 100 });
    expect(values(first.data).map((r) => r['id'])).toEqual([1, 2, 3]);
    await waitFor(() => cold.shape.currentRows.length === 3);
    // offset=now: the stream is live first, then loads a subset.
    const now = stream({ table: 'sub3' }, { log: 'changes_only', offset: 'now' });
    await waitFor(() => now.stream.isUpToDate);
    await now.shape.requestSnapshot({ where: 'id IN (4, 5)', orderBy: 'id' });
    await waitFor(() => now.shape.currentRows.length === 2);
    await sql(`UPDATE sub3 SET title = 'changed' WHERE id IN (2, 4)`);
    await sql(`INSERT INTO sub3 VALUES (100, 'new', 1, 'g0')`);
    await sql(`DELETE FROM sub3 WHERE id IN (3, 5)`);
    // Inserts arrive for everyone; updates and deletes apply to the keys each client has loaded.
    const want = async (ids: number[]): Promise<Row[]> =>
      pgRows(`SELECT * FROM sub3 WHERE id = ANY($1) ORDER BY id`, [ids]);
    const sorted = (rows: Row[]): Row[] => [...rows].sort((a, b) => Number(a['id']) - Number(b['id']));
    const wantCold = await want([1, 2, 100]);
    const wantNow = await want([4, 100]);
    const same = (a: Row[], b: Row[]): boolean => JSON.stringify(sorted(a)) === JSON.stringify(b);
    await waitFor(() => same(cold.shape.currentRows, wantCold) && same(now.shape.currentRows, wantNow));
    expect(sorted(cold.shape.currentRows)).toEqual(wantCold);
    expect(sorted(now.shape.currentRows)).toEqual(wantNow);
  });

  it('a row updated in a transaction still open while the subset is taken: the update arrives after the subset', async () => {
    await table('sub4');
    const { stream: s, shape } = stream({ table: 'sub4' }, { log: 'changes_only' });
    await waitFor(() => s.isUpToDate);
    const writer = new pg.Client({ connectionString: db.url });
    await writer.connect();
    cleanups.push(() => writer.end());
    await writer.query('BEGIN');
    await writer.query(`UPDATE sub4 SET title = 'in-tx' WHERE id = 7`);
    const snap = await s.requestSnapshot({ where: 'id = $1', params: { '1': '7' } });
    expect(values(snap.data)).toEqual(await pgRows('SELECT * FROM sub4 WHERE id = 7'));
    expect(snap.data[0]!.value['title']).toBe('t07');
    await writer.query('COMMIT');
    await waitFor(() => shape.currentRows[0]?.['title'] === 'in-tx');
    expect(shape.currentRows).toEqual(await pgRows('SELECT * FROM sub4 WHERE id = 7'));
  });

  it('concurrent writers racing repeated subsets: no stale value is ever re-applied, and the rows end equal to Postgres', async () => {
    await table('sub5');
    const { stream: s, shape } = stream({ table: 'sub5' }, { log: 'changes_only' });
    await waitFor(() => s.isUpToDate);
    // Every write increments n of one row by 1 in its own transaction, so a row's n only ever grows.
    const seen = new Map<number, number>();
    let regressions = 0;
    s.subscribe((msgs: Message<Row>[]) => {
      for (const m of msgs) {
        if (!isChangeMessage(m) || m.value['n'] === undefined) continue;
        const id = Number(m.value['id']);
        const n = Number(m.value['n']);
        if (n < (seen.get(id) ?? -1)) regressions++;
        seen.set(id, n);
      }
    });
    const writer = new pg.Client({ connectionString: db.url });
    await writer.connect();
    cleanups.push(() => writer.end());
    let stop = false;
    let writes = 0;
    const writing = (async () => {
      while (!stop) {
        await writer.query('UPDATE sub5 SET n = n + 1 WHERE id = $1', [1 + (writes % 8)]);
        writes++;
      }
    })();
    for (let i = 0; i < 8; i++) {
      await s.requestSnapshot({ where: 'id = $1', params: { '1': String(1 + i) } });
      await new Promise((r) => setTimeout(r, 30));
    }
    stop = true;
    await writing;
    const want = await pgRows('SELECT * FROM sub5 WHERE id <= 8 ORDER BY id');
    await waitFor(
      () =>
        JSON.stringify([...shape.currentRows].sort((a, b) => Number(a['id']) - Number(b['id']))) ===
        JSON.stringify(want),
    );
    expect(writes).toBeGreaterThan(8);
    expect(regressions).toBe(0);
  });

  it('the offset a subset hands back never skips a change the client has not read (no gap)', async () => {
    await table('sub8');
    const Q = 'table=sub8&log=changes_only';
    let r = await raw(`${Q}&offset=-1`);
    const handle = r.headers.get('electric-handle')!;
    let offset = r.headers.get('electric-offset')!;
    for (let i = 0; i < 50 && !r.headers.has('electric-up-to-date'); i++) {
      r = await raw(`${Q}&handle=${handle}&offset=${offset}`);
      offset = r.headers.get('electric-offset')!;
    }
    expect(r.headers.has('electric-up-to-date')).toBe(true);
    // A change of a row outside the coming subset, logged after the client's position…
    await sql(`UPDATE sub8 SET title = 'unseen' WHERE id = 1`);
    const logged = await raw(`${Q}&handle=${handle}&offset=${offset}&live=true`);
    expect(JSON.stringify(logged.json)).toContain('unseen');
    // …must still be read after a subset of other rows is taken from that position.
    const sub = await raw(`${Q}&handle=${handle}&offset=${offset}&subset__where=${e('id = 2')}`);
    expect(sub.status).toBe(200);
    const after = await raw(`${Q}&handle=${handle}&offset=${sub.headers.get('electric-offset')!}`);
    expect(JSON.stringify(after.json)).toContain('unseen');
  });

  it('a stale handle gets the 409 the client follows; the subset then comes from the current shape', async () => {
    await table('sub6');
    const r = await raw(`table=sub6&offset=0_0&handle=nosuch&subset__where=${e('id = 1')}`);
    expect(r.status).toBe(409);
    const handle = r.headers.get('electric-handle')!;
    const again = await raw(`table=sub6&offset=-1&handle=${handle}&subset__where=${e('id = 1')}`);
    expect(again.status).toBe(200);
    expect(again.headers.get('electric-handle')).toBe(handle);
    expect((again.json as { data: unknown[] }).data).toHaveLength(1);
  });

  it('rows on which a clause raises are not in the subset: ordered, limited, offset as Postgres would page the rest', async () => {
    await table('sub_raising');
    // n = g * 3 % 17 is 0 for g = 17 and 34: the shape's clause raises there; the subset's on n = 5.
    const { stream: s } = stream({ table: 'sub_raising', where: '100 / n > 5' }, { log: 'changes_only' });
    const page = await s.fetchSnapshot({ where: '10 / (n - 5) < 100', orderBy: 'n DESC, id', limit: 6, offset: 1 });
    expect(values(page.data)).toEqual(
      await pgRows(
        `SELECT id, title, n, grp FROM sub_raising WHERE n <> 0 AND n <> 5 AND 100 / n > 5 AND 10 / (n - 5) < 100 ORDER BY n DESC, id LIMIT 6 OFFSET 1`,
      ),
    );
    const everything = await s.fetchSnapshot({ where: '1 / (n - n) > 0' });
    expect(everything.data).toEqual([]);
  });

  it('bad subset input is a 400 naming the parameter; nothing reaches Postgres unchecked', async () => {
    await table('sub7');
    const Q = 'table=sub7&offset=-1&columns=id,title,n';
    const cases: [string, string, RegExp][] = [
      [`${Q}&subset__where=${e('n >')}`, 'subset__where', /syntax error/],
      [`${Q}&subset__where=${e('nosuch = 1')}`, 'subset__where', /unknown column "nosuch"/],
      [`${Q}&subset__where=${e("grp = 'g1'")}`, 'subset__where', /unknown column "grp"/],
      [`${Q}&subset__where=${e('n = 1; DROP TABLE sub7')}`, 'subset__where', /only a boolean expression|syntax/],
      [`${Q}&subset__where=${e('n = $1')}`, 'subset__where', /\$1 was not provided/],
      [
        `${Q}&subset__where=${e('n = $1')}&subset__params=${e('{"1":"abc"}')}`,
        'subset__where',
        /invalid input syntax for type integer/,
      ],
      [`${Q}&subset__where=${e('n = $1')}&subset__params=notjson`, 'subset__params', /valid JSON/],
      [`${Q}&subset__where=${e('n = $1')}&subset__params=${e('{"x":"1"}')}`, 'subset__params', /positive integers/],
      [`${Q}&subset__order_by=${e('id; DROP TABLE sub7')}`, 'subset__order_by', /only column names/],
      [`${Q}&subset__order_by=${e('lower(title)')}`, 'subset__order_by', /only column names/],
      [`${Q}&subset__order_by=${e('id DESC NULLS')}`, 'subset__order_by', /FIRST or LAST/],
      [`${Q}&subset__order_by=${e('id,')}`, 'subset__order_by', /expected a column name/],
      [`${Q}&subset__order_by=grp`, 'subset__order_by', /unknown column "grp"/],
      [`${Q}&subset__order_by=tittle`, 'subset__order_by', /did you mean "title"/],
      [`${Q}&subset__limit=5`, 'subset__order_by', /required when limit/],
      [`${Q}&subset__order_by=id&subset__limit=0`, 'subset__limit', /integer from 1/],
      [`${Q}&subset__order_by=id&subset__limit=99999999999`, 'subset__limit', /integer from 1/],
      [`${Q}&subset__order_by=id&subset__offset=-1`, 'subset__offset', /integer from 0/],
      [`${Q}&subset__order_by=id&subset__limit=1.5`, 'subset__limit', /integer/],
      [
        `${Q}&subset__where_expr=${e('{"type":"func","name":"exec","args":[]}')}`,
        'subset__where_expr',
        /unknown function/,
      ],
      [`${Q}&subset__where=${e("title = 'x")}`, 'subset__where', /unterminated/],
    ];
    for (const [qs, field, message] of cases) {
      const r = await raw(qs);
      expect(r.status, `${qs} → ${JSON.stringify(r.json)}`).toBe(400);
      expect(r.headers.get('cache-control')).toBe('no-store');
      const body = r.json as { message: string; errors: Record<string, string[]> };
      expect(body.message).toMatch(/\S/);
      expect(body.errors[field]?.join(' | '), qs).toMatch(message);
    }
    const post = (body: string) => raw(Q, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    let r = await post('{not json');
    expect(r.status).toBe(400);
    expect((r.json as { errors: Record<string, string[]> }).errors['body']!.join()).toMatch(/invalid JSON/);
    r = await post('[1,2]');
    expect(r.status).toBe(400);
    expect((r.json as { errors: Record<string, string[]> }).errors['body']!.join()).toMatch(/JSON object/);
    r = await post(JSON.stringify({ where: 'n = 1', params: { '1': { nested: true } } }));
    expect(r.status).toBe(400);
    r = await post(JSON.stringify({ where: `title = '${'x'.repeat(2_000_000)}'` }));
    expect(r.status).toBe(413);
    r = await post(JSON.stringify({ where: 'n = $1', params: { '1': 3 } }));
    expect(r.status).toBe(200);
    expect((r.json as { data: { value: Record<string, string> }[] }).data.map((m) => m.value['n'])).toEqual(
      (await pgRows('SELECT n FROM sub7 WHERE n = 3')).map((x) => String(x['n'])),
    );
    // The table is intact and the service has logged no errors.
    expect((await sql('SELECT count(*)::int AS c FROM sub7')).rows[0].c).toBe(40);
    expect(errorLogs).toEqual([]);
  });
});
