// Integration tests of the replication client against real Postgres: exact values, framing, TOAST, keepalives,
// acknowledgement and resume, walsender termination, consumer failure, backpressure, and the wal_level check.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import {
  ReplicationClient,
  type ReplicationClientOptions,
  type ReplicationEvent,
} from '../../src/replication/replication-client.js';
import { dropSlot } from '../../src/replication/replication-admin.js';
import { parseLsn } from '../../src/replication/lsn.js';
import type { Change, RelationInfo, Transaction } from '../../src/replication/transaction-types.js';
import { startPostgres, type PostgresInstance } from '../support/postgres.js';

const PINNED = "SET extra_float_digits=1; SET DateStyle='ISO, DMY'; SET TimeZone='UTC'; SET IntervalStyle='iso_8601'";

let owned: PostgresInstance | undefined;
let serverUrl: string;
let dbUrl: string;
let dbName: string;
let sql: pg.Client;
let slotCounter = 0;
const openClients: ReplicationClient[] = [];

/** The shared server from the global setup when there is one; otherwise a server of our own. */
function providedUrl(): string | undefined {
  try {
    return (inject as unknown as (key: string) => string | undefined)('pgUrl');
  } catch {
    return undefined;
  }
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = '/' + db;
  return u.toString();
}

beforeAll(async () => {
  const provided = providedUrl();
  if (provided === undefined) owned = await startPostgres();
  serverUrl = provided ?? owned!.url;
  dbName = `sy_repl_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  dbUrl = withDatabase(serverUrl, dbName);
  sql = new pg.Client({ connectionString: dbUrl });
  await sql.connect();
  await sql.query(PINNED);
});

afterAll(async () => {
  for (const c of openClients) await c.close();
  if (sql !== undefined) {
    const slots = await sql.query<{ slot_name: string }>(
      'SELECT slot_name FROM pg_replication_slots WHERE database = current_database()',
    );
    for (const s of slots.rows) await dropSlot(sql, s.slot_name).catch(() => undefined);
    await sql.end();
  }
  if (owned !== undefined) {
    await owned.stop();
  } else if (dbName !== undefined) {
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  }
});

interface Harness {
  client: ReplicationClient;
  txs: Transaction[];
  relations: RelationInfo[];
  events: ReplicationEvent[];
  slot: string;
}

function harness(
  tables: string[],
  extra: Partial<ReplicationClientOptions> = {},
  slot = `sy_slot_${++slotCounter}`,
): Harness {
  const txs: Transaction[] = [];
  const relations: RelationInfo[] = [];
  const events: ReplicationEvent[] = [];
  const client = new ReplicationClient({
    connection: dbUrl,
    slot,
    publication: `sy_pub_${slot}`,
    onTransaction: async (tx) => {
      txs.push(tx);
    },
    onRelation: (r) => {
      relations.push(r);
    },
    onEvent: (e) => events.push(e),
    backoff: { initialMs: 50, maxMs: 500 },
    ...extra,
  });
  openClients.push(client);
  void tables;
  return { client, txs, relations, events, slot };
}

async function startWith(h: Harness, tables: string[]): Promise<void> {
  await h.client.start();
  await h.client.setTables(tables.map((t) => ({ schema: 'public', table: t })));
}

async function waitFor(pred: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const changesOf = (txs: Transaction[]): Change[] => txs.flatMap((t) => t.changes);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('replication client', () => {
  it('delivers values of many types as the exact text Postgres prints under the pinned settings', async () => {
    await sql.query(`CREATE TABLE typed (
      id int8 PRIMARY KEY, i2 int2, i4 int4, n numeric, n2 numeric(10,2), f4 float4, f8 float8, b bool, t text,
      vc varchar(10), c char(5), u uuid, d date, tm time, ts timestamp, tstz timestamptz, iv interval, by bytea,
      jb jsonb, js json, arr int4[], tarr text[], ip inet, tz timetz, m money)`);
    const h = harness(['typed']);
    await startWith(h, ['typed']);
    const values = `(9223372036854775807, -32768, 2147483647, 123456789012345678901234567890.000100, 1.5, 0.1, 1e-05,
      true, E'h\\u00e9llo \\U0001F600\\n"q" ''s''', 'abc', 'ab', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
      '2024-01-31', '23:59:59.999999', '2000-02-29 12:34:56.789012', '2024-06-01 12:00:00.000001+02',
      '1 year 2 months 3 days 04:05:06.5', '\\xdeadbeef', '{"b": [1, 2.50], "a": null}', '{"b":  1, "a" : 2}',
      '{1,NULL,3}', '{"x y","a,b",NULL,""}', '10.0.0.1/8', '12:00+05:30', 12.34),
      (2, NULL, NULL, 'NaN', NULL, '-Infinity', 'NaN', false, '', NULL, NULL, NULL, '0044-03-15 BC', NULL,
       'infinity', '-infinity', 'P-1D', '\\x', '[]', 'null', '{}', '{}', NULL, NULL, NULL)`;
    await sql.query(`INSERT INTO typed VALUES ${values}`);
    // The oracle is each type's output function under the pinned settings: the text protocol with no parsers.
    const expected = await sql.query<Record<string, string | null>>({
      text: `SELECT ${(await columnList('typed')).join(', ')} FROM typed ORDER BY id DESC`,
      types: { getTypeParser: () => (v: string) => v },
    });
    await waitFor(() => h.txs.length >= 1);
    const inserts = changesOf(h.txs).filter((c) => c.op === 'insert');
    expect(inserts.map((c) => (c.op === 'insert' ? c.record : null))).toEqual(expected.rows);
    // Spot checks of the pinned settings, as Postgres answered them.
    const big = expected.rows[0]!;
    expect(big.iv).toBe('P1Y2M3DT4H5M6.5S');
    expect(big.ts).toBe('2000-02-29 12:34:56.789012');
    expect(big.tstz).toBe('2024-06-01 10:00:00.000001+00');
    expect(big.f4).toBe('0.1');
    expect(big.f8).toBe('1e-05');
    expect(big.by).toBe('\\xdeadbeef');
    expect(big.c).toBe('ab   ');
    expect(big.b).toBe('t');
    expect(big.t).toBe('h\u00e9llo \u{1F600}\n"q" \'s\'');
    expect(expected.rows[1]!.d).toBe('0044-03-15 BC');
    const rel = inserts[0]!.op === 'insert' ? inserts[0]!.relation : undefined;
    expect(rel?.columns.find((c) => c.name === 'id')).toEqual({ name: 'id', typeOid: 20, typmod: -1, isKey: true });
    expect(rel?.columns.find((c) => c.name === 'n2')).toMatchObject({ typeOid: 1700, typmod: (10 << 16) + 2 + 4 });
    expect(rel?.replicaIdentity).toBe('full');
    expect(h.relations.map((r) => r.table)).toEqual(['typed']);
  });

  it('reports user-defined types and relation changes before the transactions that use them', async () => {
    await sql.query("CREATE TYPE mood AS ENUM ('sad', 'ok'); CREATE TABLE moods (id int PRIMARY KEY, m mood)");
    const order: string[] = [];
    const h = harness(['moods'], {
      onTransaction: async (tx) => {
        order.push(`tx ${tx.changes.length}`);
      },
      onRelation: (r, prev) => {
        order.push(`relation ${r.table} ${r.columns.length} ${prev === undefined ? 'new' : 'changed'}`);
      },
      onType: (t) => {
        order.push(`type ${t.schema}.${t.name}`);
      },
    });
    await startWith(h, ['moods']);
    await sql.query("INSERT INTO moods VALUES (1, 'ok')");
    await sql.query('ALTER TABLE moods ADD COLUMN note text');
    await sql.query("INSERT INTO moods VALUES (2, 'sad', 'x')");
    await waitFor(() => order.filter((o) => o.startsWith('tx')).length === 2);
    expect(order).toEqual([
      'type public.mood',
      'relation moods 2 new',
      'tx 1',
      'type public.mood',
      'relation moods 3 changed',
      'tx 1',
    ]);
  });

  it('frames multi-statement transactions and truncates with their options', async () => {
    await sql.query('CREATE TABLE a (id int PRIMARY KEY, v text); CREATE TABLE b (id serial PRIMARY KEY, a_id int)');
    const h = harness(['a', 'b']);
    await startWith(h, ['a', 'b']);
    await sql.query('BEGIN');
    const xid = (await sql.query<{ x: string }>('SELECT txid_current()::text AS x')).rows[0]!.x;
    await sql.query("INSERT INTO a VALUES (1, 'one'), (2, 'two')");
    await sql.query("UPDATE a SET v = 'uno' WHERE id = 1");
    await sql.query('INSERT INTO b (a_id) VALUES (1)');
    await sql.query('DELETE FROM a WHERE id = 2');
    await sql.query('COMMIT');
    await sql.query("INSERT INTO a VALUES (3, 'three')");
    await sql.query('TRUNCATE a, b RESTART IDENTITY');
    await waitFor(() => h.txs.length >= 3);
    const [t1, t2, t3] = h.txs;
    expect(t1!.xid).toBe(Number(BigInt(xid) & 0xffffffffn));
    expect(t1!.changes.map((c) => `${c.op}:${'relation' in c ? c.relation.table : ''}`)).toEqual([
      'insert:a',
      'insert:a',
      'update:a',
      'insert:b',
      'delete:a',
    ]);
    expect(t1!.changes[2]).toMatchObject({
      record: { id: '1', v: 'uno' },
      oldRecord: { id: '1', v: 'one' },
      oldIdentity: 'full',
    });
    expect(t1!.changes[4]).toMatchObject({ oldRecord: { id: '2', v: 'two' } });
    expect(t2!.changes).toHaveLength(1);
    expect(t3!.changes).toHaveLength(1);
    const trunc = t3!.changes[0]!;
    expect(trunc.op).toBe('truncate');
    if (trunc.op === 'truncate') {
      expect(trunc.relations.map((r) => r.table).sort()).toEqual(['a', 'b']);
      expect(trunc.restartIdentity).toBe(true);
      expect(trunc.cascade).toBe(false);
    }
    expect(t1!.commitLsn < t1!.endLsn && t1!.endLsn <= t2!.commitLsn && t2!.commitLsn < t3!.commitLsn).toBe(true);
    const nowUs = BigInt(Date.now()) * 1000n;
    expect(nowUs - t1!.commitTime).toBeGreaterThanOrEqual(0n);
    expect(nowUs - t1!.commitTime).toBeLessThan(60_000_000n);
  });

  it('fills unchanged TOAST columns from the full old row, and marks them without one', async () => {
    await sql.query('CREATE TABLE docs (id int PRIMARY KEY, body text, n int)');
    await sql.query('CREATE TABLE docs_default (id int PRIMARY KEY, body text, n int)');
    const h = harness(['docs', 'docs_default']);
    await startWith(h, ['docs', 'docs_default']);
    await sql.query('ALTER TABLE docs_default REPLICA IDENTITY DEFAULT');
    // Random hex does not compress below the TOAST threshold, so the value is stored out of line.
    const big = (
      await sql.query<{ s: string }>("SELECT string_agg(md5(g::text), '') AS s FROM generate_series(1, 4000) g")
    ).rows[0]!.s;
    await sql.query('INSERT INTO docs VALUES (1, $1, 0)', [big]);
    await sql.query('INSERT INTO docs_default VALUES (1, $1, 0)', [big]);
    await sql.query('UPDATE docs SET n = 1 WHERE id = 1');
    await sql.query('UPDATE docs_default SET n = 1 WHERE id = 1');
    await waitFor(() => h.txs.length >= 4);
    const [, , upd, updDefault] = changesOf(h.txs);
    expect(upd).toMatchObject({ op: 'update', record: { id: '1', n: '1' }, oldIdentity: 'full' });
    expect(upd!.op === 'update' && upd!.record.body === big).toBe(true);
    expect(upd!.op === 'update' && upd!.unchangedToast).toBeUndefined();
    expect(updDefault).toMatchObject({
      op: 'update',
      record: { id: '1', n: '1' },
      oldRecord: null,
      unchangedToast: ['body'],
    });
    expect(updDefault!.op === 'update' && 'body' in updDefault!.record).toBe(false);
  });

  it('answers keepalives, so a short wal_sender_timeout does not end an idle stream', async () => {
    await sql.query('CREATE TABLE ka (id int PRIMARY KEY)');
    const h = harness(['ka'], { extraServerOptions: '-c wal_sender_timeout=1000', statusIntervalMs: 60_000 });
    await startWith(h, ['ka']);
    const pid = async (): Promise<number | null> =>
      (
        await sql.query<{ p: number | null }>('SELECT active_pid AS p FROM pg_replication_slots WHERE slot_name = $1', [
          h.slot,
        ])
      ).rows[0]!.p;
    const before = await pid();
    expect(before).not.toBeNull();
    // The server sends a keepalive every half wal_sender_timeout; lag events (at most one a second) come from them.
    // Four of them span more than three timeouts: time enough for the server to end a stream nobody answers.
    await waitFor(() => h.events.filter((e) => e.type === 'lag').length >= 4, 15_000);
    expect(await pid()).toBe(before);
    expect(h.events.filter((e) => e.type === 'disconnected')).toEqual([]);
    await sql.query('INSERT INTO ka VALUES (1)');
    await waitFor(() => h.txs.length === 1);
  });

  it('an idle stream without answers is ended by the server (control for the keepalive test)', async () => {
    await sql.query('CREATE TABLE ka2 (id int PRIMARY KEY)');
    const h = harness(['ka2'], { extraServerOptions: '-c wal_sender_timeout=1000', statusIntervalMs: 60_000 });
    await startWith(h, ['ka2']);
    // Silence the client's replies: the walsender must then time out and the client reconnect.
    const c = h.client as unknown as { sendStatus: () => void };
    c.sendStatus = () => undefined;
    await waitFor(() => h.events.some((e) => e.type === 'disconnected'), 10_000);
    await waitFor(() => h.events.filter((e) => e.type === 'connected').length >= 2, 10_000);
  });

  it('resumes after restart from the acknowledged LSN without losing or repeating transactions', async () => {
    await sql.query('CREATE TABLE r (id int PRIMARY KEY)');
    const slot = 'sy_resume';
    const h1 = harness(['r'], {}, slot);
    await startWith(h1, ['r']);
    for (let i = 1; i <= 3; i++) await sql.query('INSERT INTO r VALUES ($1)', [i]);
    await waitFor(() => h1.txs.length === 3);
    h1.client.acknowledge(h1.txs[1]!.endLsn);
    await h1.client.close();
    const confirmed = (
      await sql.query<{ l: string }>(
        'SELECT confirmed_flush_lsn::text AS l FROM pg_replication_slots WHERE slot_name = $1',
        [slot],
      )
    ).rows[0]!.l;
    expect(parseLsn(confirmed)).toBe(h1.txs[1]!.endLsn);
    await sql.query('INSERT INTO r VALUES (4)');
    const h2 = harness(['r'], {}, slot);
    await h2.client.start();
    // A fence: once the later row 5 arrives, every repeat of 3 or 4 would have arrived before it.
    await sql.query('INSERT INTO r VALUES (5)');
    const ids = (txs: Transaction[]): string[] => changesOf(txs).map((c) => (c.op === 'insert' ? c.record.id! : '?'));
    await waitFor(() => ids(h2.txs).includes('5'));
    expect(ids(h2.txs)).toEqual(['3', '4', '5']);
    expect(h2.txs[0]!.commitLsn).toBe(h1.txs[2]!.commitLsn);
    expect(h2.client.acknowledgedLsn).toBe(h1.txs[1]!.endLsn);
  });

  it('reconnects after pg_terminate_backend of the walsender and loses nothing', async () => {
    await sql.query('CREATE TABLE term (id int PRIMARY KEY)');
    const h = harness(['term']);
    await startWith(h, ['term']);
    await sql.query('INSERT INTO term VALUES (1)');
    await waitFor(() => h.txs.length === 1);
    const killed = await sql.query<{ ok: boolean }>(
      'SELECT pg_terminate_backend(active_pid) AS ok FROM pg_replication_slots WHERE slot_name = $1',
      [h.slot],
    );
    expect(killed.rows[0]!.ok).toBe(true);
    for (let i = 2; i <= 6; i++) await sql.query('INSERT INTO term VALUES ($1)', [i]);
    // Row 6 is the fence: a repeat of an earlier row would arrive before it.
    const ids = (): (string | null | undefined)[] =>
      changesOf(h.txs).map((c) => (c.op === 'insert' ? c.record.id : '?'));
    await waitFor(() => ids().includes('6'));
    expect(ids()).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(h.events.filter((e) => e.type === 'connected').length).toBeGreaterThanOrEqual(2);
    expect(h.events.some((e) => e.type === 'disconnected')).toBe(true);
  });

  it('replays a transaction whose consumer failed, and delivers each transaction once', async () => {
    await sql.query('CREATE TABLE cf (id int PRIMARY KEY)');
    let failOnce = true;
    const seen: string[] = [];
    const h = harness(['cf'], {
      onTransaction: async (tx) => {
        const id = tx.changes[0]!.op === 'insert' ? tx.changes[0]!.record.id! : '?';
        if (id === '2' && failOnce) {
          failOnce = false;
          throw new Error('log append failed');
        }
        seen.push(id);
      },
    });
    await startWith(h, ['cf']);
    for (let i = 1; i <= 4; i++) await sql.query('INSERT INTO cf VALUES ($1)', [i]);
    // Row 4 is the fence: a second delivery of 1–3 would come before it.
    await waitFor(() => seen.includes('4'));
    expect(seen).toEqual(['1', '2', '3', '4']);
    expect(h.events.some((e) => e.type === 'error' && /log append failed/.test(e.error.message))).toBe(true);
  });

  it('with deferred failures, replays every unacknowledged transaction after a failure reported later', async () => {
    await sql.query('CREATE TABLE dfail (id int PRIMARY KEY)');
    const seen: string[] = [];
    let failed = false;
    const h = harness(['dfail'], {
      deferredFailures: true,
      onTransaction: async (tx) => {
        const id = tx.changes[0]!.op === 'insert' ? tx.changes[0]!.record.id! : '?';
        // Row 1 is made durable at once; 2 and 3 are accepted, then row 4's delivery reports that 2 failed (a queued
        // append, as in the service): 2, 3 and 4 must all come again, 1 must not.
        if (id === '4' && !failed) {
          failed = true;
          throw new Error('the append of row 2 failed');
        }
        seen.push(id);
        if (id === '1') h.client.acknowledge(tx.endLsn);
      },
    });
    await startWith(h, ['dfail']);
    for (let i = 1; i <= 5; i++) await sql.query('INSERT INTO dfail VALUES ($1)', [i]);
    await waitFor(() => seen.includes('5'));
    expect(seen).toEqual(['1', '2', '3', '2', '3', '4', '5']);
  });

  it('pauses reading while the consumer is behind and delivers everything in order', async () => {
    await sql.query('CREATE TABLE bp (id int PRIMARY KEY)');
    const seen: number[] = [];
    const h = harness(['bp'], {
      maxPendingChanges: 40,
      onTransaction: async (tx) => {
        await sleep(2);
        for (const c of tx.changes) if (c.op === 'insert') seen.push(Number(c.record.id));
      },
    });
    await startWith(h, ['bp']);
    await sql.query('INSERT INTO bp SELECT g FROM generate_series(1, 10) g');
    for (let i = 11; i <= 300; i++) await sql.query('INSERT INTO bp VALUES ($1)', [i]);
    await waitFor(() => seen.length === 300, 30_000);
    expect(seen).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(h.events.some((e) => e.type === 'paused')).toBe(true);
    expect(h.events.some((e) => e.type === 'resumed')).toBe(true);
  });

  it('confirms WAL of unpublished tables while idle, but never past an unacknowledged transaction', async () => {
    await sql.query('CREATE TABLE idle_pub (id int PRIMARY KEY); CREATE TABLE idle_other (id int)');
    const h = harness(['idle_pub'], { statusIntervalMs: 100 });
    await startWith(h, ['idle_pub']);
    const confirmed = async (): Promise<bigint> =>
      parseLsn(
        (
          await sql.query<{ l: string }>(
            'SELECT confirmed_flush_lsn::text AS l FROM pg_replication_slots WHERE slot_name = $1',
            [h.slot],
          )
        ).rows[0]!.l,
      );
    await sql.query('INSERT INTO idle_pub VALUES (1)');
    await waitFor(() => h.txs.length === 1);
    const pending = h.txs[0]!;
    // Unrelated WAL while a delivered transaction is not yet acknowledged: the slot must stay before it.
    for (let i = 0; i < 5; i++) await sql.query('INSERT INTO idle_other SELECT generate_series(1, 100)');
    const walNow = async (): Promise<bigint> =>
      parseLsn((await sql.query<{ l: string }>('SELECT pg_current_wal_lsn()::text AS l')).rows[0]!.l);
    // Once a keepalive reports WAL past that unrelated work (a lag event carries it), the client has decided not to
    // confirm it; one more lag event (a second later: ten status updates at 100 ms) and the slot has heard that.
    const past = await walNow();
    await waitFor(() => h.events.some((e) => e.type === 'lag' && e.serverWalEnd >= past), 10_000);
    const lagsSeen = h.events.filter((e) => e.type === 'lag').length;
    await waitFor(() => h.events.filter((e) => e.type === 'lag').length >= lagsSeen + 1, 10_000);
    expect(await confirmed()).toBeLessThan(pending.endLsn);
    h.client.acknowledge(pending.endLsn);
    await waitFor(() => h.client.acknowledgedLsn === pending.endLsn);
    // Now idle: later unpublished WAL is confirmed from keepalives, beyond the last acknowledged commit.
    for (let i = 0; i < 5; i++) await sql.query('INSERT INTO idle_other SELECT generate_series(1, 100)');
    const target = await walNow();
    await waitFor(() => h.events.some((e) => e.type === 'lag'), 5000);
    const deadline = Date.now() + 10_000;
    while ((await confirmed()) < target && Date.now() < deadline) await sleep(100);
    expect(await confirmed()).toBeGreaterThanOrEqual(target);
    const lag = h.events.find((e) => e.type === 'lag');
    expect(lag !== undefined && lag.type === 'lag' && lag.serverWalEnd > 0n).toBe(true);
  });

  it('keeps the publication in step with setTables and reports the current WAL LSN', async () => {
    await sql.query(
      'CREATE TABLE p1 (id int PRIMARY KEY); CREATE TABLE p2 (id int PRIMARY KEY); CREATE TABLE "Odd ""Name""" (id int PRIMARY KEY)',
    );
    const h = harness([]);
    await h.client.start();
    const members = async (): Promise<string[]> =>
      (
        await sql.query<{ t: string }>(
          'SELECT tablename AS t FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1',
          [`sy_pub_${h.slot}`],
        )
      ).rows.map((r) => r.t);
    expect(await members()).toEqual([]);
    await h.client.setTables([
      { schema: 'public', table: 'p1' },
      { schema: 'public', table: 'Odd "Name"' },
    ]);
    expect(await members()).toEqual(['Odd "Name"', 'p1']);
    await h.client.setTables([{ schema: 'public', table: 'p2' }]);
    expect(await members()).toEqual(['p2']);
    const ident = await sql.query<{ r: string }>(
      "SELECT relreplident AS r FROM pg_class WHERE relname IN ('p1', 'p2', 'Odd \"Name\"')",
    );
    expect(ident.rows.map((r) => r.r)).toEqual(['f', 'f', 'f']);
    const lsn = await h.client.currentWalLsn();
    const direct = parseLsn((await sql.query<{ l: string }>('SELECT pg_current_wal_lsn()::text AS l')).rows[0]!.l);
    expect(lsn > 0n && lsn <= direct).toBe(true);
  });
});

describe('replication client on a server without logical decoding', () => {
  it('says wal_level must be "logical"', async () => {
    const replica = await startPostgres({ settings: { wal_level: 'replica' } });
    try {
      const client = new ReplicationClient({
        connection: replica.url,
        slot: 'sy_never',
        publication: 'sy_never',
        onTransaction: async () => undefined,
      });
      await expect(client.start()).rejects.toThrow('wal_level must be "logical" for Switchyard; it is "replica"');
      await client.close();
    } finally {
      await replica.stop();
    }
  });
});

async function columnList(table: string): Promise<string[]> {
  const res = await sql.query<{ n: string }>(
    'SELECT attname AS n FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum',
    [table],
  );
  return res.rows.map((r) => r.n);
}
