// Issue 14, item 7: what subquery shapes cost. (a) Routing outer-table rows with 100k shapes over 1k distinct
// subqueries against the same count of equality shapes; (b) an inner-table change as the number of shapes grows with
// the affected ones fixed; (c) a move-in of k rows and its Postgres queries.
//
// Run: node --import tsx bench/subquery-bench.ts [shapes] [--url postgres://…] (default 100000 shapes; starts its own
// Postgres without --url). Prints markdown (bench/results/subquery.md is one run).
//
// The service's subquery machinery (Subqueries: the shared sets, the value index, moves) is driven directly, the way
// the change processor drives it, so 100k shapes are set up in seconds rather than created one request at a time.
// (a) Subquery shapes `user_id IN (SELECT user_id FROM memberships WHERE org_id = $1) AND region = $2` (1,000 orgs ×
// 100 regions, 10 users per org) against equality shapes `user_id = $1 AND region = $2` (1,000 users × 100 regions):
// every row belongs to exactly one shape in both. A row's cost is what the service does for it: the router's answer,
// then (subqueries) the value index and exact checks, and the insert message of each shape it enters.
// (b) Memberships of one org (10 shapes) change while filler shapes over other orgs grow 100×: a change that leaves
// the set unchanged (a second membership), and a value leaving and entering again (a move out, then a move in with its
// query).
import os from 'node:os';
import pg from 'pg';
import { compileWhere } from '../src/index.js';
import { planSubqueries } from '../src/subquery/plan.js';
import type { LiveShape } from '../src/shapes/live-shape.js';
import { insertMessage, keyPrefix, type Row, type TxHeaders } from '../src/shapes/messages.js';
import { snapshotPool } from '../src/shapes/snapshot.js';
import { Subqueries, type InnerTable } from '../src/shapes/subqueries.js';
import { TableRouters } from '../src/shapes/table-routers.js';
import type { Change, Transaction } from '../src/replication/transaction-types.js';
import { startPostgres, type PostgresInstance } from '../test/support/postgres.js';
import { rng } from './router-workloads.js';

const ORGS = 1_000;
const USERS_PER_ORG = 10;
const REGIONS = 100;
const ROWS = 20_000;
const ROUNDS = 9;

const EVENTS = { id: 'int8', user_id: 'int8', region: 'int4', body: 'text' };
const MEMBERSHIPS = { id: 'int4', user_id: 'int8', org_id: 'int4' };
const TABLES = { 'public.events': EVENTS, 'public.memberships': MEMBERSHIPS };
const SUBQUERY_WHERE = 'user_id IN (SELECT user_id FROM memberships WHERE org_id = $1) AND region = $2';
const EQUALITY_WHERE = 'user_id = $1 AND region = $2';

/** The parts of a live shape that routing and messages read. */
function fakeShape(handle: string): LiveShape {
  return {
    handle,
    schema: 'public',
    table: 'events',
    state: 'ready',
    visibility: undefined,
    selected: Object.keys(EVENTS),
    keyColumns: ['id'],
    valueKeyColumns: ['id'],
    replica: 'default',
    keyPrefix: keyPrefix('public', 'events'),
  } as unknown as LiveShape;
}

/**
 * The transaction the fake changes belong to: one Postgres committed after the sets were loaded (`streamPoint`), so
 * the sets apply its changes (their snapshots did not see it) and move snapshots see it, as for a streamed one.
 */
let committedXid = 0;
let commitLsn = 0n;
function fakeTx(changes: readonly Change[] = []): Transaction {
  return { xid: committedXid, commitLsn, endLsn: commitLsn, commitTime: 0n, changes };
}

async function streamPoint(pool: pg.Pool): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    committedXid = Number((await c.query<{ x: string }>('SELECT txid_current()::text AS x')).rows[0]!.x);
    await c.query('COMMIT');
    const at = (await c.query<{ l: string }>('SELECT pg_current_wal_insert_lsn()::text AS l')).rows[0]!.l;
    const [hi, lo] = at.split('/') as [string, string];
    commitLsn = ((BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`)) - 1n;
  } finally {
    c.release();
  }
}

function insertOf(table: string, record: Row): Change {
  return { op: 'insert', relation: { schema: 'public', table }, record } as unknown as Change;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

interface Setup {
  readonly pool: pg.Pool;
  readonly routers: TableRouters;
  readonly subqueries: Subqueries;
  readonly inner: InnerTable[];
}

async function setup(url: string): Promise<Setup> {
  const pool = snapshotPool(url, 2);
  const routers = new TableRouters();
  const subqueries = new Subqueries(routers, pool, (message) => console.error(message));
  await routers.ensureTable('public', 'events', EVENTS);
  const client = await pool.connect();
  const oid = (await client.query<{ oid: string }>(`SELECT 'memberships'::regclass::oid::text AS oid`)).rows[0]!.oid;
  client.release();
  return {
    pool,
    routers,
    subqueries,
    inner: [{ oid: Number(oid), schema: 'public', name: 'memberships', keyColumns: ['id'] }],
  };
}

async function addSubqueryShape(s: Setup, handle: string, org: number, region: number): Promise<void> {
  const predicate = compileWhere(SUBQUERY_WHERE, EVENTS, {
    params: { '1': String(org), '2': String(region) },
    table: { schema: 'public', name: 'events' },
    tables: TABLES,
    sets: s.subqueries.store,
  });
  await s.subqueries.attach(fakeShape(handle), predicate, planSubqueries(predicate.expr), s.inner);
}

const TXH: TxHeaders = { lsn: '1', txids: [1] };

/** ns per row through the subquery path: router, value index, exact checks, messages. Returns [ns, messages]. */
function timeSubquery(s: Setup, rows: readonly Row[]): [number, number] {
  const ref = s.routers.tableRef('public', 'events')!;
  let messages = 0;
  const emit = (): void => {
    messages++;
  };
  const tx = fakeTx();
  const t0 = process.hrtime.bigint();
  for (const row of rows) {
    const routed = s.routers.routeImages([ref], [row]) as unknown as { ids: readonly string[] }[];
    s.subqueries.onChange(tx, TXH, 0, insertOf('events', row) as never, undefined, [], routed[0]!.ids, emit);
  }
  return [Number(process.hrtime.bigint() - t0) / rows.length, messages];
}

/** ns per row through the equality path: router, then each hit's insert message (as the change processor does). */
function timeEquality(routers: TableRouters, shapes: Map<string, LiveShape>, rows: readonly Row[]): [number, number] {
  const ref = routers.tableRef('public', 'events')!;
  let messages = 0;
  const t0 = process.hrtime.bigint();
  for (const row of rows) {
    const routed = routers.routeImages([ref], [row]) as unknown as { ids: readonly string[] }[];
    for (const id of routed[0]!.ids) {
      insertMessage(shapes.get(id)!, row, TXH, 0);
      messages++;
    }
  }
  return [Number(process.hrtime.bigint() - t0) / rows.length, messages];
}

export interface RoutingReport {
  readonly shapes: number;
  readonly subqueryNs: number;
  readonly equalityNs: number;
  readonly ratio: number;
  readonly bestRatio: number;
  readonly messagesPerRow: number;
  readonly setupSeconds: number;
}

async function routingBench(url: string, shapes: number): Promise<RoutingReport> {
  const started = performance.now();
  const s = await setup(url);
  const perOrg = Math.max(1, Math.floor(shapes / ORGS));
  for (let i = 0; i < shapes; i++) await addSubqueryShape(s, `s${i}`, i % ORGS, Math.floor(i / ORGS) % REGIONS);
  const eq = new TableRouters();
  await eq.ensureTable('public', 'events', EVENTS);
  const eqShapes = new Map<string, LiveShape>();
  for (let i = 0; i < shapes; i++) {
    const id = `e${i}`;
    eqShapes.set(id, fakeShape(id));
    await eq.add(id, 'public', 'events', EQUALITY_WHERE, {
      '1': String(i % ORGS),
      '2': String(Math.floor(i / ORGS) % REGIONS),
    });
  }
  const setupSeconds = (performance.now() - started) / 1000;
  const rand = rng(14);
  let nextId = 0;
  // Users are `org + ORGS * k` (memberships below): the subquery rows carry any user, the equality rows users < ORGS.
  const draw = (users: number): Row[] =>
    Array.from({ length: ROWS }, () => ({
      id: String(nextId++),
      user_id: String(Math.floor(rand() * users)),
      region: String(Math.floor(rand() * Math.min(REGIONS, perOrg))),
      body: 'x',
    }));
  const sub: number[] = [];
  const equ: number[] = [];
  let messages = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const [ns, m] = timeSubquery(s, draw(ORGS * USERS_PER_ORG));
    sub.push(ns);
    messages += m;
    equ.push(timeEquality(eq, eqShapes, draw(ORGS))[0]);
  }
  await s.pool.end();
  return {
    shapes,
    subqueryNs: median(sub),
    equalityNs: median(equ),
    ratio: median(sub) / median(equ),
    bestRatio: Math.min(...sub) / Math.min(...equ),
    messagesPerRow: messages / (ROWS * ROUNDS),
    setupSeconds,
  };
}

export interface InnerReport {
  readonly shapes: number;
  /** ns per inner change that leaves the set as it was (a second membership of a member). */
  readonly countOnlyNs: number;
  /** ms per inner change moving a value out and ms per one moving it back in (a Postgres query). */
  readonly moveOutMs: number;
  readonly moveInMs: number;
  readonly queriesPerMoveIn: number;
  readonly rowsPerMoveIn: number;
}

/** One inner change through the service's path: router, set, then the transaction's end (moves). */
async function innerChange(s: Setup, change: Change, oldRow: Row | undefined): Promise<number> {
  const ref = s.routers.tableRef('public', 'memberships')!;
  const row = change.op === 'delete' ? (oldRow as Row) : (change as { record: Row }).record;
  const routed = s.routers.routeImages([ref], [row]) as unknown as { ids: readonly string[] }[];
  const ids = routed[0]!.ids;
  const tx = fakeTx([change]);
  let messages = 0;
  const emit = (): void => {
    messages++;
  };
  s.subqueries.onChange(
    tx,
    TXH,
    0,
    change as never,
    oldRow,
    change.op === 'insert' ? [] : ids,
    change.op === 'delete' ? [] : ids,
    emit,
  );
  const failed = await s.subqueries.finish(tx, TXH, emit);
  if (failed.length > 0) throw new Error('a move failed');
  return messages;
}

async function innerBench(url: string, filler: number): Promise<InnerReport> {
  const s = await setup(url);
  // The affected org (0) holds 10 shapes; filler shapes spread over orgs 1..999.
  for (let r = 0; r < 10; r++) await addSubqueryShape(s, `a${r}`, 0, r);
  for (let i = 0; i < filler; i++)
    await addSubqueryShape(s, `f${i}`, 1 + (i % (ORGS - 1)), Math.floor(i / ORGS) % REGIONS);
  await streamPoint(s.pool);
  const member = (id: number, user: number): Row => ({ id: String(id), user_id: String(user), org_id: '0' });
  // Count-only: user 0 (already a member of org 0 through membership 0) gets a second membership, then loses it.
  const count: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 200; i++) {
      const extra = member(900_000 + i, 0);
      await innerChange(s, insertOf('memberships', extra), undefined);
      await innerChange(
        s,
        { op: 'delete', relation: { schema: 'public', table: 'memberships' }, oldRecord: extra } as unknown as Change,
        extra,
      );
    }
    count.push(Number(process.hrtime.bigint() - t0) / 400);
  }
  // Moves: user 0's only membership of org 0 leaves (its events move out of the 10 shapes) and comes back (move in).
  const out: number[] = [];
  const inn: number[] = [];
  const before = s.subqueries.counters();
  const m0 = member(0, 0);
  for (let round = 0; round < ROUNDS; round++) {
    let t0 = performance.now();
    await innerChange(
      s,
      { op: 'delete', relation: { schema: 'public', table: 'memberships' }, oldRecord: m0 } as unknown as Change,
      m0,
    );
    out.push(performance.now() - t0);
    t0 = performance.now();
    await innerChange(s, insertOf('memberships', m0), undefined);
    inn.push(performance.now() - t0);
  }
  const after = s.subqueries.counters();
  await s.pool.end();
  return {
    shapes: 10 + filler,
    countOnlyNs: median(count),
    moveOutMs: median(out),
    moveInMs: median(inn),
    queriesPerMoveIn: (after.moveQueries - before.moveQueries) / ROUNDS,
    rowsPerMoveIn: (after.movedIn - before.movedIn) / ROUNDS,
  };
}

async function seed(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(`DROP TABLE IF EXISTS events, memberships`);
  await c.query(`CREATE TABLE memberships (id int4 PRIMARY KEY, user_id int8, org_id int4)`);
  await c.query(`CREATE TABLE events (id int8 PRIMARY KEY, user_id int8, region int4, body text)`);
  // User u is a member of org u % ORGS (membership id = user id).
  await c.query(
    `INSERT INTO memberships SELECT u, u, u % ${ORGS} FROM generate_series(0, ${ORGS * USERS_PER_ORG - 1}) u`,
  );
  // 20 events of user 0 (the moving user of (b)), one per region < 10 twice; a few others.
  await c.query(`INSERT INTO events SELECT i, 0, i % 10, 'x' FROM generate_series(1, 20) i`);
  await c.query(`INSERT INTO events SELECT 1000 + i, i, i % ${REGIONS}, 'x' FROM generate_series(1, 5000) i`);
  await c.query('ANALYZE');
  await c.end();
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const urlAt = args.indexOf('--url');
  const urlArg = urlAt >= 0 ? args[urlAt + 1] : undefined;
  const shapes = Number(args.find((a, i) => /^\d+$/.test(a) && args[i - 1] !== '--url') ?? 100_000);
  let owned: PostgresInstance | undefined;
  const url = urlArg ?? (owned = await startPostgres()).url;
  try {
    await seed(url);
    const load = os.loadavg()[0]!;
    const routing = await routingBench(url, shapes);
    const inner = [];
    for (const filler of [990, 9_990, 99_990].filter((f) => f < shapes)) inner.push(await innerBench(url, filler));
    const loadAfter = os.loadavg()[0]!;
    const cpu = os.cpus();
    const out: string[] = [];
    out.push(
      `Subquery shapes — ${new Date().toISOString()} — ${cpu[0]?.model ?? 'cpu'} × ${cpu.length}, Node ${process.version}, load average ${fmt(load, 1)} → ${fmt(loadAfter, 1)}`,
      '',
      `**(a) Routing outer-table rows**, ${fmt(routing.shapes)} shapes each way (set up in ${fmt(routing.setupSeconds, 1)} s); median of ${ROUNDS} rounds of ${fmt(ROWS)} rows, each row in exactly one shape (${fmt(routing.messagesPerRow, 2)} messages per row):`,
      '',
      '| shapes | ns/row |',
      '|---|---:|',
      `| \`${SUBQUERY_WHERE}\` (${fmt(ORGS)} distinct subqueries × ${REGIONS} regions) | ${fmt(routing.subqueryNs)} |`,
      `| \`${EQUALITY_WHERE}\` (${fmt(ORGS)} users × ${REGIONS} regions) | ${fmt(routing.equalityNs)} |`,
      '',
      `Subquery rows cost **${fmt(routing.ratio, 2)}×** equality rows (fastest rounds: ${fmt(routing.bestRatio, 2)}×; target ≤ 2×).`,
      '',
      `**(b) Inner-table changes** of one org whose subquery 10 shapes use, as filler shapes over the other orgs grow; median of ${ROUNDS} rounds:`,
      '',
      '| shapes | change leaving the set as it was (µs) | value leaves: move out (ms) | value enters: move in (ms) | queries per move in | rows per move in |',
      '|---:|---:|---:|---:|---:|---:|',
      ...inner.map(
        (r) =>
          `| ${fmt(r.shapes)} | ${fmt(r.countOnlyNs / 1000, 1)} | ${fmt(r.moveOutMs, 2)} | ${fmt(r.moveInMs, 2)} | ${fmt(r.queriesPerMoveIn, 1)} | ${fmt(r.rowsPerMoveIn, 1)} |`,
      ),
      '',
    );
    console.log(out.join('\n'));
  } finally {
    await owned?.stop();
  }
}

await main();
