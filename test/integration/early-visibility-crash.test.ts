// Early visibility under a crash: a client reads entries that are not yet durable, the service is killed -9 before
// the group fsync, and after restart the same offsets hold the same bytes and the client ends equal to Postgres.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freshDatabase, type FreshDatabase } from '../support/pg-env.js';
import { freePort, startServiceProcess, type ServiceProcess } from '../support/service-process.js';

/** Each group fsync waits this long first: the window in which the client reads entries that kill -9 will lose. */
const COMMIT_DELAY_MS = 4000;
const WHERE = 'grp = 1';

let db: FreshDatabase;
let dataDir: string;
let svc: ServiceProcess | undefined;

beforeAll(async () => {
  db = await freshDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'sy-early-visibility-'));
  await db.client.query(`CREATE TABLE items (id int4 PRIMARY KEY, v int4 NOT NULL, grp int4 NOT NULL)`);
  await db.client.query(`INSERT INTO items SELECT g, g, g % 3 FROM generate_series(1, 30) g`);
});

afterAll(async () => {
  await svc?.kill9();
  await db?.drop();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
});

interface Message {
  readonly key?: string;
  readonly value?: Record<string, unknown>;
  readonly headers: { readonly operation?: string; readonly control?: string; readonly lsn?: string };
}

interface Page {
  readonly status: number;
  readonly handle: string;
  readonly offset: string;
  /** Each message of the body, re-serialised (the stored JSON round-trips to the same text). */
  readonly raw: string[];
  readonly messages: Message[];
}

async function get(base: string, params: Record<string, string>): Promise<Page> {
  const q = new URLSearchParams({ table: 'items', where: WHERE, ...params });
  const res = await fetch(`${base}/v1/shape?${q.toString()}`);
  const body = res.status === 200 ? ((await res.json()) as Message[]) : (await res.text(), []);
  return {
    status: res.status,
    handle: res.headers.get('electric-handle') ?? '',
    offset: res.headers.get('electric-offset') ?? '',
    raw: body.filter((m) => m.headers.control === undefined).map((m) => JSON.stringify(m)),
    messages: body,
  };
}

/** Applies change messages to a client-side copy of the shape (key → value). */
function apply(rows: Map<string, Record<string, unknown>>, messages: readonly Message[]): void {
  for (const m of messages) {
    if (m.key === undefined) continue;
    if (m.headers.operation === 'delete') rows.delete(m.key);
    else rows.set(m.key, { ...rows.get(m.key), ...m.value });
  }
}

/** Long-polls from `offset` until a response carries changes (or `deadline`), applying them. */
async function pollChanges(
  base: string,
  handle: string,
  offset: string,
  rows: Map<string, Record<string, unknown>>,
  deadline: number,
): Promise<Page> {
  for (;;) {
    const p = await get(base, { handle, offset, live: 'true' });
    expect(p.status).toBe(200);
    apply(rows, p.messages);
    if (p.raw.length > 0 || Date.now() > deadline) return p;
    offset = p.offset;
  }
}

async function slotFlushLsn(): Promise<bigint> {
  const r = await db.client.query<{ lsn: string }>(
    `SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE database = current_database()`,
  );
  const [hi, lo] = r.rows[0]!.lsn.split('/') as [string, string];
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
}

it(
  'a client reads changes before their fsync, kill -9, restart: same bytes at the same offsets, rows equal Postgres',
  { timeout: 90_000 },
  async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = { SWITCHYARD_TEST_COMMIT_DELAY_MS: String(COMMIT_DELAY_MS) };
    svc = await startServiceProcess(db.url, dataDir, port, 20_000, env);
    const rows = new Map<string, Record<string, unknown>>();
    // Initial snapshot (made durable before the handle is handed out), then catch up.
    let page = await get(base, { offset: '-1' });
    const handle = page.handle;
    apply(rows, page.messages);
    while (!page.messages.some((m) => m.headers.control === 'up-to-date')) {
      page = await get(base, { handle, offset: page.offset });
      apply(rows, page.messages);
    }
    expect(rows.size).toBe(10);
    const before = page.offset;

    // One transaction: inserts, an update moving a row out, a delete, an update in place.
    await db.client.query('BEGIN');
    await db.client.query(`INSERT INTO items VALUES (101, 1, 1), (102, 2, 1), (103, 3, 2)`);
    await db.client.query(`UPDATE items SET grp = 2 WHERE id = 1`);
    await db.client.query(`DELETE FROM items WHERE id = 4`);
    await db.client.query(`UPDATE items SET v = v + 100 WHERE id = 7`);
    await db.client.query('COMMIT');
    const t0 = Date.now();
    const early = await pollChanges(base, handle, before, rows, t0 + 20_000);
    const readMs = Date.now() - t0;
    const txLsn = BigInt(early.messages.find((m) => m.headers.lsn !== undefined)!.headers.lsn!);
    // Not yet durable: the slot has not been acknowledged past the transaction we just read.
    const flushed = await slotFlushLsn();
    await svc.kill9();
    expect(early.raw.length).toBe(5);
    expect(flushed, `read after ${readMs} ms; the group fsync waits ${COMMIT_DELAY_MS} ms`).toBeLessThanOrEqual(txLsn);

    // Restart on the same data dir, without the delay. The transaction is replayed from the slot.
    svc = await startServiceProcess(db.url, dataDir, port, 2_000);
    const again = new Map<string, Record<string, unknown>>();
    const replayed = await pollChanges(base, handle, before, again, Date.now() + 30_000);
    expect(replayed.status).toBe(200);
    expect(replayed.handle).toBe(handle);
    expect(replayed.offset).toBe(early.offset);
    expect(replayed.raw).toEqual(early.raw);

    // The client continues from the offset it held before the crash; more writes arrive once each.
    await db.client.query(`INSERT INTO items VALUES (104, 4, 1)`);
    await db.client.query(`UPDATE items SET grp = 1 WHERE id = 2`);
    await db.client.query(`DELETE FROM items WHERE id = 101`);
    const truth = async (): Promise<string> =>
      JSON.stringify(
        (await db.client.query<{ id: number }>(`SELECT id FROM items WHERE ${WHERE} ORDER BY id`)).rows.map(
          (r) => r.id,
        ),
      );
    const want = await truth();
    const ids = (): string => JSON.stringify([...rows.values()].map((r) => Number(r['id'])).sort((a, b) => a - b));
    let offset = early.offset;
    const deadline = Date.now() + 30_000;
    while (ids() !== want && Date.now() < deadline)
      offset = (await pollChanges(base, handle, offset, rows, deadline)).offset;
    expect(ids()).toBe(want);
    for (const r of rows.values()) {
      const row = await db.client.query<{ v: number; grp: number }>('SELECT v, grp FROM items WHERE id = $1', [
        Number(r['id']),
      ]);
      expect({ v: String(row.rows[0]!.v), grp: String(row.rows[0]!.grp) }).toEqual({ v: r['v'], grp: r['grp'] });
    }
    expect(svc.lines.filter((l) => l.level === 'error')).toEqual([]);
  },
);
