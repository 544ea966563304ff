// Replication resumes: the walsender terminated, Postgres restarted cleanly and after kill -9, all under a writer;
// real clients of `switchyard serve` converge to Postgres's rows with nothing lost, duplicated or reordered.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Row } from '@electric-sql/client';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/cli/serve.js';
import type { Logger } from '../../src/http/logger.js';
import { startPostgres, type PostgresInstance } from '../support/postgres.js';
import { keyed, sortedEntries, trackShape, type TrackedShape } from '../support/shape-tracker.js';

// Its own cluster: restarting the run's shared Postgres would break the files running beside this one.
let cluster: PostgresInstance;
let dataDir: string;
let server: RunningServer;
let url: string;
const trackers: TrackedShape[] = [];
const events: { level: string; event: string; fields: Record<string, unknown> }[] = [];
const log: Logger = { log: (level, event, fields) => void events.push({ level, event, fields: { ...fields } }) };

const SHAPES: { params: Record<string, unknown>; sql: string }[] = [
  { params: { table: 'items' }, sql: 'true' },
  { params: { table: 'items', where: 'v >= 10 AND v < 25' }, sql: 'v >= 10 AND v < 25' },
  { params: { table: 'items', where: 'grp IN (0, 4)', replica: 'full' }, sql: 'grp IN (0, 4)' },
  { params: { table: 'items', where: "name ILIKE '%b%'" }, sql: "name ILIKE '%b%'" },
];

beforeAll(async () => {
  cluster = await startPostgres();
  const c = new pg.Client({ connectionString: cluster.url });
  await c.connect();
  await c.query('CREATE TABLE items (id int4 PRIMARY KEY, v int4 NOT NULL, grp int4 NOT NULL, name text)');
  await c.query(
    `INSERT INTO items SELECT g, g % 40, g % 5, 'n' || chr(97 + g % 3) || g FROM generate_series(1, 200) g`,
  );
  await c.end();
  dataDir = mkdtempSync(join(tmpdir(), 'sy-service-resume-'));
  server = await startServer(
    {
      port: 0,
      host: '127.0.0.1',
      databaseUrl: cluster.url,
      dataDir,
      longPollTimeoutMs: 1000,
      chunkBytes: 64 * 1024,
      enableDelete: false,
      demo: false,
    },
    log,
  );
  url = `http://127.0.0.1:${(server.http.server.address() as AddressInfo).port}/v1/shape`;
});

afterAll(async () => {
  for (const t of trackers) t.stop();
  await server?.stop().catch(() => undefined);
  await cluster?.stop();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

async function waitUntil(pred: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(50);
  }
}

/** Commits small transactions until stopped, reconnecting whenever Postgres goes away (an in-doubt commit is fine: the truth is read afterwards). */
async function writer(stop: () => boolean): Promise<{ commits: number; failures: number }> {
  let commits = 0;
  let failures = 0;
  let i = 0;
  let c: pg.Client | undefined;
  while (!stop()) {
    try {
      if (c === undefined) {
        c = new pg.Client({ connectionString: cluster.url });
        c.on('error', () => undefined);
        await c.connect();
      }
      i++;
      await c.query('BEGIN');
      await c.query(
        'INSERT INTO items VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET v = EXCLUDED.v, grp = EXCLUDED.grp',
        [300 + (i % 400), i % 40, i % 5, `n${'abc'[i % 3]}${i}`],
      );
      await c.query('UPDATE items SET v = (v + 3) % 40, grp = (grp + 1) % 5 WHERE id = $1', [1 + ((i * 13) % 200)]);
      if (i % 4 === 0) await c.query('DELETE FROM items WHERE id = $1', [300 + ((i * 7) % 400)]);
      if (i % 11 === 0)
        await c.query(
          'UPDATE items SET id = id + 1000 WHERE id = (SELECT id FROM items WHERE id BETWEEN 300 AND 699 ORDER BY id LIMIT 1)',
        );
      await c.query('COMMIT');
      commits++;
      if (commits % 5 === 0) await sleep(2);
    } catch {
      failures++;
      await c?.end().catch(() => undefined);
      c = undefined;
      await sleep(100);
    }
  }
  await c?.end().catch(() => undefined);
  return { commits, failures };
}

async function walsenderPid(): Promise<number | undefined> {
  const c = new pg.Client({ connectionString: cluster.url });
  await c.connect();
  try {
    const r = await c.query<{ pid: number }>(
      "SELECT active_pid AS pid FROM pg_replication_slots WHERE slot_name LIKE 'switchyard%' AND active_pid IS NOT NULL",
    );
    return r.rows[0]?.pid;
  } finally {
    await c.end();
  }
}

async function terminateWalsender(): Promise<void> {
  let pid: number | undefined;
  await waitUntil(async () => (pid = await walsenderPid()) !== undefined, 20_000, 'the walsender to be back');
  const c = new pg.Client({ connectionString: cluster.url });
  await c.connect();
  const r = await c.query<{ ok: boolean }>('SELECT pg_terminate_backend($1) AS ok', [pid]);
  await c.end();
  expect(r.rows[0]?.ok).toBe(true);
}

async function truth(sql: string): Promise<Map<string, Row>> {
  const c = new pg.Client({ connectionString: cluster.url });
  await c.connect();
  try {
    return keyed((await c.query(`SELECT id, v, grp, name FROM items WHERE ${sql}`)).rows, 'items');
  } finally {
    await c.end();
  }
}

function sameRows(a: ReadonlyMap<string, unknown>, b: ReadonlyMap<string, unknown>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of b) if (JSON.stringify(a.get(k)) !== JSON.stringify(v)) return false;
  return true;
}

it(
  'walsender terminated, Postgres restarted (clean and after kill -9) under a writer: clients converge, nothing lost',
  { timeout: 120_000 },
  async () => {
    for (const s of SHAPES) trackers.push(trackShape({ url, params: s.params }));
    await waitUntil(() => trackers.every((t) => t.stats.upToDates > 0), 20_000, 'initial sync');
    let stopping = false;
    const writing = writer(() => stopping);
    const disruptions: string[] = [];
    for (let k = 0; k < 3; k++) {
      await sleep(300 + Math.floor(Math.random() * 500));
      await terminateWalsender();
      disruptions.push('pg_terminate_backend(walsender)');
    }
    await sleep(500);
    await cluster.restart();
    disruptions.push('restart');
    await waitUntil(async () => (await walsenderPid()) !== undefined, 20_000, 'replication back after the restart');
    // A shape created after the restart takes its snapshot from the restarted server and streams like the others.
    const late = { params: { table: 'items', where: 'grp = 3 AND v < 30' }, sql: 'grp = 3 AND v < 30' };
    SHAPES.push(late);
    trackers.push(trackShape({ url, params: late.params }));
    await sleep(500);
    await cluster.kill9();
    await sleep(300);
    await cluster.restart();
    disruptions.push('kill9 + restart');
    await sleep(1000);
    await terminateWalsender();
    disruptions.push('pg_terminate_backend(walsender)');
    await sleep(500);
    stopping = true;
    const { commits, failures } = await writing;
    const truths: Map<string, Row>[] = [];
    for (const s of SHAPES) truths.push(await truth(s.sql));
    try {
      await waitUntil(
        () => trackers.every((t, i) => sameRows(t.rows, truths[i]!)),
        40_000,
        'clients converging to the truth',
      );
    } finally {
      const reconnects = events.filter((e) => e.event === 'replication' && e.fields['type'] === 'connected').length;
      console.log(
        `[service-resume] ${commits} commits (${failures} failed attempts), ${reconnects} replication connects, disruptions: ${disruptions.join(', ')}`,
      );
      console.log(
        JSON.stringify(
          events
            .filter((e) => e.event === 'replication')
            .map((e) => [e.fields['type'], String(e.fields['error'] ?? '').slice(0, 80)]),
        ),
      );
      console.log(JSON.stringify(trackers.map((t) => ({ shape: t.name, rows: t.rows.size, ...t.stats }))));
    }
    for (let i = 0; i < trackers.length; i++) {
      const t = trackers[i]!;
      expect(t.violations, t.name).toEqual([]);
      expect(sortedEntries(t.rows), t.name).toEqual(sortedEntries(truths[i]!));
      expect(t.handles, t.name).toHaveLength(1);
      expect(t.stats.refetches, t.name).toBe(0);
    }
    expect(commits).toBeGreaterThan(50);
    // The service reconnected after every disruption, and is healthy.
    expect(
      events.filter((e) => e.event === 'replication' && e.fields['type'] === 'connected').length,
    ).toBeGreaterThanOrEqual(1 + disruptions.length);
    expect(server.service.status()).toBe('active');
    expect(events.filter((e) => e.level === 'error')).toEqual([]);
    const health = await fetch(url.replace('/v1/shape', '/v1/health'));
    expect(health.status).toBe(200);
  },
);
