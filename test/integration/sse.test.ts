// SSE live mode end to end (issue 10): the real @electric-sql/client with `liveSse: true` against the real service
// and Postgres — replica=full, changes_only, offset=now, handle rotation, reconnects across server-side closes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import {
  Shape,
  ShapeStream,
  isChangeMessage,
  isControlMessage,
  type ChangeMessage,
  type Row,
  type ShapeStreamInterface,
} from '@electric-sql/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/cli/serve.js';
import type { Logger } from '../../src/http/logger.js';
import { freshDatabase, type FreshDatabase } from '../support/pg-env.js';

const SSE_TIMEOUT_MS = 2000;

let db: FreshDatabase;
let dir: string;
let server: RunningServer;
let url: string;
const errors: unknown[] = [];
const log: Logger = { log: (level, event, fields) => void (level === 'error' && errors.push({ event, ...fields })) };
const aborts: AbortController[] = [];

beforeAll(async () => {
  db = await freshDatabase();
  dir = mkdtempSync(join(tmpdir(), 'switchyard-sse-'));
  server = await startServer(
    {
      port: 0,
      host: '127.0.0.1',
      databaseUrl: db.url,
      dataDir: dir,
      longPollTimeoutMs: 2000,
      sseTimeoutMs: SSE_TIMEOUT_MS,
      chunkBytes: 64 * 1024,
      enableDelete: true,
      demo: false,
    },
    log,
  );
  url = `http://127.0.0.1:${(server.http.server.address() as AddressInfo).port}/v1/shape`;
});

afterAll(async () => {
  for (const ac of aborts) ac.abort();
  await server?.stop();
  await db?.drop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

const sql = (text: string) => db.client.query(text);

interface Followed {
  readonly stream: ShapeStream<Row>;
  readonly shape: Shape<Row>;
  /** Every change message received, in order. */
  readonly changes: ChangeMessage<Row>[];
  /** Request URLs, to check that live requests really were SSE. */
  readonly urls: URL[];
  refetches: number;
}

function follow(params: Record<string, string>, extra: Record<string, unknown> = {}): Followed {
  const ac = new AbortController();
  aborts.push(ac);
  const urls: URL[] = [];
  const stream = new ShapeStream<Row>({
    url,
    params: params as never,
    liveSse: true,
    signal: ac.signal,
    fetchClient: (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
      urls.push(new URL(input instanceof Request ? input.url : String(input)));
      return fetch(input, init);
    },
    ...extra,
  });
  const f: Followed = {
    stream,
    shape: new Shape(stream as ShapeStreamInterface<Row>),
    changes: [],
    urls,
    refetches: 0,
  };
  stream.subscribe((msgs) => {
    for (const m of msgs) {
      if (isChangeMessage(m)) f.changes.push(m);
      else if (isControlMessage(m) && m.headers.control === 'must-refetch') f.refetches++;
    }
  });
  return f;
}

async function until(pred: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sseRequests = (f: Followed): URL[] => f.urls.filter((u) => u.searchParams.get('live_sse') === 'true');

async function pgRows(table: string): Promise<{ id: number; title: string }[]> {
  return (await db.client.query<{ id: number; title: string }>(`SELECT id, title FROM ${table} ORDER BY id`)).rows;
}

const byId = (rows: Row[]): Row[] => [...rows].sort((a, b) => Number(a['id']) - Number(b['id']));

describe('SSE live mode with the real client', () => {
  it('replica=full: updates carry the whole row and old_value, deletes the whole old row', async () => {
    await sql(
      `CREATE TABLE rf (id int4 PRIMARY KEY, title text, n int4); INSERT INTO rf VALUES (1, 'a', 1), (2, 'b', 2)`,
    );
    const f = follow({ table: 'rf', replica: 'full' });
    expect(await f.shape.rows).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 200));
    await sql(`UPDATE rf SET title = 'A' WHERE id = 1`);
    await sql(`DELETE FROM rf WHERE id = 2`);
    await until(() => f.changes.length === 4, 'update and delete');
    const [update, del] = f.changes.slice(2);
    expect(update!.headers.operation).toBe('update');
    expect(update!.value).toEqual({ id: 1, title: 'A', n: 1 });
    expect(update!.old_value).toEqual({ title: 'a' });
    expect(del!.headers.operation).toBe('delete');
    expect(del!.value).toEqual({ id: 2, title: 'b', n: 2 });
    expect(byId(f.shape.currentRows)).toEqual([{ id: 1, title: 'A', n: 1 }]);
    expect(sseRequests(f).length).toBeGreaterThan(0);
  });

  it('log=changes_only: nothing from before, later changes only; offset=now skips history', async () => {
    await sql(`CREATE TABLE co (id int4 PRIMARY KEY, title text); INSERT INTO co VALUES (1, 'old')`);
    const changesOnly = follow({ table: 'co' }, { log: 'changes_only' });
    const fromNow = follow({ table: 'co', where: 'id > 0' }, { offset: 'now' });
    expect(await changesOnly.shape.rows).toEqual([]);
    await until(() => fromNow.stream.isUpToDate, 'offset=now up to date');
    await new Promise((r) => setTimeout(r, 200));
    await sql(`UPDATE co SET title = 'unseen' WHERE id = 1`);
    await sql(`INSERT INTO co VALUES (2, 'new')`);
    await until(() => changesOnly.changes.length === 2 && fromNow.changes.length === 2, 'two changes each');
    expect(changesOnly.shape.currentRows).toEqual([{ id: 2, title: 'new' }]);
    expect(fromNow.changes.map((m) => m.headers.operation)).toEqual(['update', 'insert']);
    expect(sseRequests(changesOnly).length).toBeGreaterThan(0);
    expect(sseRequests(fromNow).length).toBeGreaterThan(0);
  });

  it('a rotation (TRUNCATE) while streaming ends the stream; the client refetches under the new handle', async () => {
    await sql(`CREATE TABLE rot (id int4 PRIMARY KEY, title text); INSERT INTO rot VALUES (1, 'x'), (2, 'y')`);
    const f = follow({ table: 'rot' });
    expect(await f.shape.rows).toHaveLength(2);
    const first = f.stream.shapeHandle!;
    await new Promise((r) => setTimeout(r, 300));
    await sql(`TRUNCATE rot`);
    await sql(`INSERT INTO rot VALUES (3, 'z')`);
    await until(() => f.refetches > 0 && f.shape.currentRows.length === 1, 'refetch');
    expect(f.stream.shapeHandle).not.toBe(first);
    expect(f.shape.currentRows).toEqual([{ id: 3, title: 'z' }]);
  });

  it('writes spread over several stream lifetimes arrive once each, in order; rows equal Postgres', async () => {
    await sql(`CREATE TABLE spread (id int4 PRIMARY KEY, title text)`);
    const f = follow({ table: 'spread' });
    expect(await f.shape.rows).toEqual([]);
    const started = Date.now();
    let i = 0;
    while (Date.now() - started < 2.5 * SSE_TIMEOUT_MS) {
      i++;
      // Multi-row transactions: a reconnect at `<lsn>_0` must not repeat their later rows.
      await sql(`BEGIN; INSERT INTO spread VALUES (${2 * i}, 'a'); INSERT INTO spread VALUES (${2 * i + 1}, 'b');
                 UPDATE spread SET title = 'c' WHERE id = ${2 * i}; COMMIT`);
      await new Promise((r) => setTimeout(r, 150));
    }
    await until(() => f.shape.currentRows.length === 2 * i, 'all rows');
    await new Promise((r) => setTimeout(r, 300));
    expect(f.changes).toHaveLength(3 * i);
    const keys = f.changes.filter((m) => m.headers.operation === 'insert').map((m) => m.key);
    expect(new Set(keys).size).toBe(keys.length);
    const lsns = f.changes.map((m) => BigInt(m.headers['lsn'] as string));
    for (let k = 1; k < lsns.length; k++) expect(lsns[k]! >= lsns[k - 1]!).toBe(true);
    expect(byId(f.shape.currentRows)).toEqual(await pgRows('spread'));
    const sse = sseRequests(f);
    expect(sse.length).toBeGreaterThanOrEqual(3);
    // The reconnects came from the server ending streams, not from a fallback to long polling.
    const live = f.urls.filter((u) => u.searchParams.get('live') === 'true');
    expect(live.every((u) => u.searchParams.get('live_sse') === 'true')).toBe(true);
  });

  it('the service logged no errors', () => {
    expect(errors).toEqual([]);
  });
});
