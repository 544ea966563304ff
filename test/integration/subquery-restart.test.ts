// Subquery shapes across restarts, followed by the official client: kill -9 while a move-in's query is in flight, and a
// clean stop with both tables changing while the service is down. The client keeps its handle, receives nothing twice
// and ends with the rows Postgres selects.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freshDatabase, type FreshDatabase } from '../support/pg-env.js';
import { freePort, startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { trackShape, type TrackedShape } from '../support/shape-tracker.js';

/** The move-in waits this long between its snapshot and its query: the kill lands inside. */
const MOVE_DELAY_MS = 60_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Case {
  readonly table: string;
  readonly where: string;
  readonly columns: string;
  tracker?: TrackedShape;
}

const CASES: Record<string, Case> = {
  members: { table: 'users', where: 'id IN (SELECT user_id FROM memberships WHERE org_id = 1)', columns: 'id, name' },
  outsiders: {
    table: 'users',
    where: 'id NOT IN (SELECT user_id FROM memberships WHERE org_id = 2) AND id < 100',
    columns: 'id, name',
  },
  shared: {
    table: 'documents',
    where: 'owner_id = 3 OR id IN (SELECT document_id FROM shares WHERE shared_with = 3)',
    columns: 'id, owner_id, title',
  },
};

let db: FreshDatabase;
let dataDir: string;
let port: number;
let svc: ServiceProcess | undefined;

beforeAll(async () => {
  db = await freshDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'sy-subquery-restart-'));
  port = await freePort();
  for (const sql of [
    `CREATE TABLE users (id int4 PRIMARY KEY, name text)`,
    `CREATE TABLE memberships (id serial PRIMARY KEY, user_id int4, org_id int4)`,
    `CREATE TABLE documents (id int4 PRIMARY KEY, owner_id int4, title text)`,
    `CREATE TABLE shares (id serial PRIMARY KEY, document_id int4, shared_with int4)`,
    `INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 40) g`,
    `INSERT INTO memberships (user_id, org_id) VALUES (1, 1), (2, 1), (2, 2), (3, 2), (4, 3)`,
    `INSERT INTO documents SELECT g, g % 6 + 1, 'd' || g FROM generate_series(1, 30) g`,
    `INSERT INTO shares (document_id, shared_with) VALUES (3, 3), (4, 8), (5, 3)`,
  ])
    await db.client.query(sql);
});

afterAll(async () => {
  for (const c of Object.values(CASES)) c.tracker?.stop();
  await svc?.kill9();
  await db?.drop();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
});

/** What Postgres selects, as the client holds it (key → row with the client's parsed values). */
async function truth(c: Case): Promise<string> {
  const r = await db.client.query<Record<string, unknown>>(
    `SELECT ${c.columns} FROM ${c.table} WHERE ${c.where} ORDER BY id`,
  );
  return JSON.stringify(r.rows.map((row) => [`"public"."${c.table}"/"${String(row['id'])}"`, row]));
}

function held(c: Case): string {
  const rows = [...(c.tracker?.rows.entries() ?? [])].sort((a, b) => Number(a[1]['id']) - Number(b[1]['id']));
  return JSON.stringify(rows);
}

/** What the service reported beyond routine (warnings, errors, invalidations) and what the clients counted. */
function diagnosis(): string {
  const lines = svc?.lines.filter((l) => l.level !== 'info' || l.event === 'shape_invalidated') ?? [];
  const stats = Object.values(CASES).map((c) => c.tracker?.stats);
  return JSON.stringify({ lines, stats });
}

/** Waits until every client holds exactly what Postgres selects; no protocol violation, no refetch, one handle. */
async function converged(): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const diffs: string[] = [];
    for (const [name, c] of Object.entries(CASES)) {
      const want = await truth(c);
      if (held(c) !== want) diffs.push(`${name}: want ${want}\n got ${held(c)}`);
    }
    if (diffs.length === 0) break;
    if (Date.now() > deadline) throw new Error(`${diffs.join('\n')}\n${diagnosis()}`);
    await sleep(50);
  }
  for (const c of Object.values(CASES)) {
    expect(c.tracker!.violations).toEqual([]);
    expect(c.tracker!.stats.refetches).toBe(0);
    expect(c.tracker!.handles.length).toBe(1);
  }
}

/** Whether one of the service's connections sits inside a transaction that took its snapshot and waits (the move-in). */
async function moveInFlight(): Promise<boolean> {
  const r = await db.client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid()
        AND state = 'idle in transaction' AND query LIKE '%pg_current_wal_insert_lsn%'`,
  );
  return r.rows[0]!.n > 0;
}

it(
  'kill -9 while a move-in query is in flight: after restart the rows move in exactly once',
  { timeout: 120_000 },
  async () => {
    svc = await startServiceProcess(db.url, dataDir, port, 1000, {
      SWITCHYARD_TEST_MOVE_DELAY_MS: String(MOVE_DELAY_MS),
    });
    for (const c of Object.values(CASES))
      c.tracker = trackShape({
        url: `http://127.0.0.1:${port}/v1/shape`,
        params: { table: c.table, where: c.where },
        name: c.table,
      });
    await converged();

    // Users 5–9 join org 1, and user 3 leaves org 2 (into NOT IN); an outer row changes in the same transaction.
    await db.client.query(`BEGIN;
      INSERT INTO memberships (user_id, org_id) SELECT g, 1 FROM generate_series(5, 9) g;
      DELETE FROM memberships WHERE user_id = 3 AND org_id = 2;
      UPDATE users SET name = 'renamed' WHERE id = 1;
      INSERT INTO shares (document_id, shared_with) VALUES (7, 3), (13, 3);
      COMMIT`);
    const deadline = Date.now() + 30_000;
    while (!(await moveInFlight())) {
      if (Date.now() > deadline) throw new Error('the move-in never started');
      await sleep(20);
    }
    await svc.kill9();
    // Nothing of the transaction reached the client: its move was still reading when the process died.
    expect(CASES['members']!.tracker!.rows.has('"public"."users"/"5"')).toBe(false);

    svc = await startServiceProcess(db.url, dataDir, port, 1000);
    await converged();
    expect(svc.lines.filter((l) => l.event === 'shape_resumed')[0]).toMatchObject({ count: 3, dropped: 0 });

    // The resumed shapes keep following both tables.
    await db.client.query(`DELETE FROM memberships WHERE user_id IN (5, 6)`);
    await db.client.query(`UPDATE users SET name = 'again' WHERE id IN (7, 8, 3)`);
    await db.client.query(`INSERT INTO memberships (user_id, org_id) VALUES (NULL, 2)`); // NOT IN: every row out
    await db.client.query(`DELETE FROM shares WHERE document_id = 7`);
    await converged();
    await db.client.query(`DELETE FROM memberships WHERE user_id IS NULL`);
    await converged();
    expect(svc.lines.filter((l) => l.level === 'error')).toEqual([]);
  },
);

it(
  'a clean stop, both tables changing while the service is down, restart: the clients continue and converge',
  { timeout: 120_000 },
  async () => {
    await svc!.stop();
    await db.client.query(`INSERT INTO memberships (user_id, org_id) VALUES (20, 1), (21, 1)`); // move in
    await db.client.query(`DELETE FROM memberships WHERE user_id = 2 AND org_id = 1`); // move out
    await db.client.query(`UPDATE users SET name = 'while down' WHERE id IN (1, 20, 30)`);
    await db.client.query(`INSERT INTO users VALUES (41, 'new'), (42, 'new')`);
    await db.client.query(`INSERT INTO memberships (user_id, org_id) VALUES (41, 1), (2, 2)`);
    await db.client.query(`DELETE FROM users WHERE id = 7`);
    await db.client.query(`UPDATE documents SET owner_id = 3 WHERE id = 20`);
    await db.client.query(`INSERT INTO shares (document_id, shared_with) VALUES (21, 3)`);
    svc = await startServiceProcess(db.url, dataDir, port, 1000);
    await converged();
    expect(svc.lines.filter((l) => l.event === 'shape_resumed')[0]).toMatchObject({ count: 3, dropped: 0 });
    await db.client.query(`INSERT INTO memberships (user_id, org_id) VALUES (22, 1)`);
    await db.client.query(`UPDATE users SET name = 'after' WHERE id = 22`);
    await converged();
    expect(svc.lines.filter((l) => l.level === 'error')).toEqual([]);

    // Twice more with nothing written in between (the WAL position need not move): the shapes stay as they are.
    for (let i = 0; i < 2; i++) {
      await svc.stop();
      svc = await startServiceProcess(db.url, dataDir, port, 1000);
      expect(svc.lines.filter((l) => l.event === 'shape_resumed')[0]).toMatchObject({ count: 3, dropped: 0 });
      await converged();
    }
    await db.client.query(`DELETE FROM memberships WHERE user_id = 22`);
    await converged();
    expect(svc.lines.filter((l) => l.level === 'error')).toEqual([]);
  },
);
