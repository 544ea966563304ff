// Shared setup of the shape service integration tests: a database per file, services on temp data dirs, log readers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { BEFORE_ALL, compareOffsets, formatOffset, type LogOffset } from '../../src/log/offset.js';
import { SwitchyardService, type ServiceEvent, type SwitchyardServiceOptions } from '../../src/shapes/service.js';
import type { ShapeDefinition } from '../../src/shapes/types.js';

export interface Msg {
  key?: string;
  value?: Record<string, string | null>;
  old_value?: Record<string, string | null>;
  headers: Record<string, unknown>;
}

export interface TestDb {
  url: string;
  sql: pg.Client;
  dirs: string[];
  services: SwitchyardService[];
  events: ServiceEvent[];
  start(
    dataDir?: string,
    extra?: Partial<SwitchyardServiceOptions>,
  ): Promise<{ service: SwitchyardService; dataDir: string }>;
  cleanup(): Promise<void>;
}

function serverUrl(): string {
  return (inject as unknown as (k: string) => string)('pgUrl');
}

export async function createTestDb(prefix: string): Promise<TestDb> {
  const base = serverUrl();
  const name = `sy_${prefix}_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(base);
  u.pathname = '/' + name;
  const url = u.toString();
  const sql = new pg.Client({ connectionString: url });
  await sql.connect();
  await sql.query(
    "SET extra_float_digits=1; SET DateStyle='ISO, DMY'; SET TimeZone='UTC'; SET IntervalStyle='iso_8601'",
  );
  const db: TestDb = {
    url,
    sql,
    dirs: [],
    services: [],
    events: [],
    async start(dataDir, extra = {}) {
      const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'sy-shapes-'));
      if (dataDir === undefined) db.dirs.push(dir);
      const service = await SwitchyardService.start({
        databaseUrl: url,
        dataDir: dir,
        replicationServerOptions: '-c wal_sender_timeout=5s',
        onEvent: (e) => db.events.push(e),
        ...extra,
      });
      db.services.push(service);
      return { service, dataDir: dir };
    },
    async cleanup() {
      for (const s of db.services) await s.close().catch(() => undefined);
      const slots = await sql.query<{ slot_name: string }>(
        'SELECT slot_name FROM pg_replication_slots WHERE database = current_database()',
      );
      for (const s of slots.rows)
        await sql.query('SELECT pg_drop_replication_slot($1)', [s.slot_name]).catch(() => undefined);
      await sql.end();
      const a = new pg.Client({ connectionString: base });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
      for (const d of db.dirs) rmSync(d, { recursive: true, force: true });
    },
  };
  return db;
}

export function def(table: string, extra: Partial<ShapeDefinition> = {}): ShapeDefinition {
  return { schema: 'public', table, replica: 'default', log: 'full', ...extra };
}

/** Reads a shape's whole log from `after` to its current end, as the client would (chunk by chunk). */
export async function readAll(
  service: SwitchyardService,
  handle: string,
  after: LogOffset = BEFORE_ALL,
  maxBytes = 1 << 20,
): Promise<{ messages: Msg[]; end: LogOffset; offsets: string[] }> {
  const messages: Msg[] = [];
  const offsets: string[] = [];
  let at = after;
  for (let guard = 0; guard < 100_000; guard++) {
    const chunk = await service.read(handle, at, maxBytes);
    for (const m of chunk.messages) messages.push(JSON.parse(m) as Msg);
    offsets.push(formatOffset(chunk.endOffset));
    if (!chunk.reachedEnd && compareOffsets(chunk.endOffset, at) <= 0)
      throw new Error(`read did not advance at ${formatOffset(at)}`);
    at = chunk.endOffset;
    if (chunk.reachedEnd) break;
  }
  return { messages, end: at, offsets };
}

/** Applies messages like the client's `Shape`: insert sets, update merges, delete removes. */
export function materialize(
  messages: readonly Msg[],
  rows = new Map<string, Record<string, string | null>>(),
): Map<string, Record<string, string | null>> {
  for (const m of messages) {
    if (m.key === undefined) continue;
    const op = m.headers['operation'];
    if (op === 'insert') rows.set(m.key, { ...m.value });
    else if (op === 'update') rows.set(m.key, { ...(rows.get(m.key) ?? {}), ...m.value });
    else if (op === 'delete') rows.delete(m.key);
  }
  return rows;
}

/** Waits until `fn` returns true (polling), failing after `ms`. */
export async function eventually(fn: () => boolean | Promise<boolean>, ms = 10_000, what = 'condition'): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Rows of a query as key → record (text values), keyed like the shape protocol for a single int PK `id`. */
export async function truth(
  sql: pg.Client,
  query: string,
  table = 'items',
): Promise<Map<string, Record<string, string | null>>> {
  const res = await sql.query({
    text: query,
    rowMode: 'array',
    types: { getTypeParser: () => (v: string) => v },
  });
  const names = res.fields.map((f) => f.name);
  const out = new Map<string, Record<string, string | null>>();
  for (const r of res.rows as (string | null)[][]) {
    const rec: Record<string, string | null> = {};
    names.forEach((n, i) => (rec[n] = r[i] ?? null));
    out.set(`"public"."${table}"/"${rec['id']}"`, rec);
  }
  return out;
}
