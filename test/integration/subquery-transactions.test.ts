// Subquery shapes under random transactions: random outer and inner tables, random `[NOT] IN (SELECT …)` shapes
// (nested, under AND/OR/NOT, with params) created through the service, then random transactions on both tables; after
// every transaction each shape's rows, read from its log as a client reads them, equal Postgres's `SELECT … WHERE …`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BEFORE_ALL, type LogOffset } from '../../src/log/offset.js';
import { ROUTED_FROM } from '../../src/shapes/subquery-candidates.js';
import type { SwitchyardService } from '../../src/shapes/service.js';
import { reportSeedOnFailure, seedFrom } from '../support/seed.js';
import { Gen, rng } from '../support/seeded-gen.js';
import { createTestDb, def, eventually, readAll, truth, type Msg, type TestDb } from './shapes-support.js';

type Rec = Record<string, string | null>;

/** Columns written by the generator per table (besides `id`), with how a random value of each is made. */
const COLUMNS: Record<string, Record<string, (g: Gen) => string | null>> = {
  o: { a: small, b: small, t: text },
  m: { a: small, k: small, t: text, g: small },
  q: { v: small, flag: (g) => g.maybeNull(g.pick(['true', 'false'])) },
};

function small(g: Gen): string | null {
  return g.maybeNull(String(g.int(7) - 1));
}

function text(g: Gen): string | null {
  const t = g.maybeNull(g.pick(['a', 'b', 'c', '']));
  return t === null ? null : `'${t}'`;
}

/** Conditions on `m` (a nested subquery into `q` among them); `$1` is an integer parameter. */
function innerM(g: Gen, depth: number): string {
  const x = g.r();
  if (depth > 0 && x < 0.3) {
    const neg = g.r() < 0.4 ? 'NOT ' : '';
    const w = g.r() < 0.7 ? ` WHERE ${g.pick(['flag', 'NOT flag', 'v > 1', 'flag IS NULL', 'v = $1'])}` : '';
    return `${g.pick(['g', 'a', 'k'])} ${neg}IN (SELECT ${g.pick(['v', 'id'])} FROM q${w})`;
  }
  if (x < 0.45) return `(${innerM(g, depth)} ${g.pick(['AND', 'OR'])} ${innerM(g, depth)})`;
  return g.pick(['a > 2', 'g IS NULL', "t = 'a'", 'k <> 3', 'g = $1', 'a = $1', 'NOT (a < 4)', 'k >= 0']);
}

function atom(g: Gen): string {
  const [arg, sel] = g.pick([
    ['a', 'a'],
    ['b', 'a'],
    ['a', 'g'],
    ['t', 't'],
    ['id', 'g'],
    ['a + 1', 'k'],
    ['b', 'k'],
  ] as const);
  const neg = g.r() < 0.35 ? 'NOT ' : '';
  const w = g.r() < 0.8 ? ` WHERE ${innerM(g, 1)}` : '';
  return `${arg} ${neg}IN (SELECT ${sel} FROM m${w})`;
}

function clause(g: Gen, depth: number): string {
  const x = g.r();
  if (depth <= 0 || x < 0.4)
    return g.r() < 0.7 ? atom(g) : g.pick(['a > 3', 'a <> $1', 't IS NULL', "t <> 'b'", 'a IS NOT NULL', 'id < 8']);
  if (x < 0.55) return `NOT (${clause(g, depth - 1)})`;
  return `(${clause(g, depth - 1)} ${g.pick(['AND', 'OR'])} ${clause(g, depth - 1)})`;
}

interface Tracked {
  readonly table: string;
  readonly where: string;
  readonly params: Record<string, string>;
  readonly handle: string;
  after: LogOffset;
  readonly rows: Map<string, Rec>;
}

/** The clause with its parameters as literals, for Postgres. */
function inlined(s: Pick<Tracked, 'where' | 'params'>): string {
  let w = s.where;
  for (const [k, v] of Object.entries(s.params)) w = w.replaceAll(`$${k}`, `'${v}'`);
  return w;
}

/** Applies messages like a client, failing on an insert of a row it has or a change of one it lacks. */
function apply(s: Tracked, messages: readonly Msg[]): void {
  for (const m of messages) {
    if (m.key === undefined) continue;
    const op = m.headers['operation'];
    const had = s.rows.get(m.key);
    if (op === 'insert') {
      if (had !== undefined) throw new Error(`${s.where}: insert of ${m.key}, which the client has`);
      s.rows.set(m.key, { ...m.value });
    } else if (op === 'update' || op === 'delete') {
      if (had === undefined) throw new Error(`${s.where}: ${String(op)} of ${m.key}, which the client lacks`);
      if (op === 'update') s.rows.set(m.key, { ...had, ...m.value });
      else s.rows.delete(m.key);
    }
  }
}

let db: TestDb;
let service: SwitchyardService;

beforeAll(async () => {
  db = await createTestDb('subqtx');
  await db.sql.query(`CREATE TABLE o (id int4 PRIMARY KEY, a int4, b int8, t text)`);
  await db.sql.query(`CREATE TABLE m (id int4 PRIMARY KEY, a int4, k int8, t text, g int4)`);
  await db.sql.query(`CREATE TABLE q (id int4 PRIMARY KEY, v int4, flag bool)`);
  await db.sql.query(`CREATE TABLE ticks (id int4 PRIMARY KEY)`);
  await db.sql.query(`CREATE TABLE ro (id int4 PRIMARY KEY, a int4, b int4)`);
  await db.sql.query(`CREATE TABLE rm (id int4 PRIMARY KEY, g int4, grp int4)`);
  ({ service } = await db.start());
  await service.getOrCreate(def('ticks'));
});

afterAll(async () => {
  await db?.cleanup();
});

let tick = 0;
/** Waits until the service has processed everything committed so far (a later transaction is durable). */
async function caughtUp(): Promise<void> {
  await db.sql.query('BEGIN');
  await db.sql.query(`INSERT INTO ticks VALUES (${++tick})`);
  const lsn = (await db.sql.query<{ l: string }>('SELECT pg_current_wal_insert_lsn()::text AS l')).rows[0]!.l;
  await db.sql.query('COMMIT');
  const [hi, lo] = lsn.split('/') as [string, string];
  const want = (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
  // Durable, not only visible: subquery shapes become readable at the fsync (shapes/subquery-resume.ts).
  await eventually(() => service.metrics().durableLsn >= want, 20_000, `the service to pass ${lsn}`);
}

async function follow(table: string, where: string, params: Record<string, string> = {}): Promise<Tracked> {
  const info = await service.getOrCreate(def(table, { where, ...(Object.keys(params).length > 0 ? { params } : {}) }));
  return { table, where, params, handle: info.handle, after: BEFORE_ALL, rows: new Map() };
}

/** Reads the shape's new messages and compares its rows with Postgres's; returns Postgres's rows. */
async function compare(s: Tracked, step: string): Promise<Map<string, Rec>> {
  if (service.get(s.handle) === undefined)
    throw new Error(`${step}: shape ${s.where} was invalidated: ${JSON.stringify(db.events.slice(-3))}`);
  const r = await readAll(service, s.handle, s.after);
  s.after = r.end;
  apply(s, r.messages);
  const want = await truth(db.sql, `SELECT * FROM ${s.table} WHERE ${inlined(s)}`, s.table);
  const sorted = (m: Map<string, Rec>): [string, Rec][] => [...m].sort(([a], [b]) => (a < b ? -1 : 1));
  const what = `${step}\nshape: ${s.where} ${JSON.stringify(s.params)}`;
  expect(
    sorted(s.rows).map(([k]) => k),
    what,
  ).toEqual(sorted(want).map(([k]) => k));
  expect(sorted(s.rows), what).toEqual(sorted(want));
  return want;
}

describe('subquery shapes under random transactions on both tables', () => {
  const seed = seedFrom('SUBQUERY_TX_SEED', 1406);

  it('keeps every shape equal to Postgres after every transaction', async () => {
    await reportSeedOnFailure('SUBQUERY_TX_SEED', seed, async () => {
      const g = new Gen(rng(seed));
      const ids: Record<string, Set<number>> = { o: new Set(), m: new Set(), q: new Set() };
      let nextId = 1;
      const row = (table: string): string => {
        const id = nextId++;
        ids[table]!.add(id);
        const cols = COLUMNS[table]!;
        return `INSERT INTO ${table} (id, ${Object.keys(cols).join(', ')}) VALUES (${id}, ${Object.values(cols)
          .map((f) => f(g) ?? 'NULL')
          .join(', ')})`;
      };
      for (const [table, n] of [
        ['o', 18],
        ['m', 14],
        ['q', 7],
      ] as const)
        for (let i = 0; i < n; i++) await db.sql.query(row(table));

      /** One random statement (keeping `ids` current). */
      const statement = (): string => {
        const table = g.pick(['o', 'o', 'm', 'm', 'm', 'q']);
        const have = [...ids[table]!];
        const x = g.r();
        if (have.length === 0 || x < 0.25) return row(table);
        const id = g.pick(have);
        if (x < 0.4) {
          ids[table]!.delete(id);
          return `DELETE FROM ${table} WHERE id = ${id}`;
        }
        const cols = COLUMNS[table]!;
        const names = Object.keys(cols);
        const sets = names.filter(() => g.r() < 0.5);
        if (sets.length === 0) sets.push(g.pick(names));
        const assign = sets.map((c) => `${c} = ${cols[c]!(g) ?? 'NULL'}`);
        if (x < 0.5) {
          const to = nextId++;
          ids[table]!.delete(id);
          ids[table]!.add(to);
          assign.push(`id = ${to}`);
        }
        if (x > 0.9 && table !== 'q') return `UPDATE ${table} SET ${assign.join(', ')} WHERE a = ${g.int(6)}`;
        return `UPDATE ${table} SET ${assign.join(', ')} WHERE id = ${id}`;
      };

      const shapes: Tracked[] = [];
      const addShapes = async (n: number): Promise<void> => {
        for (let i = 0; i < n; i++) {
          const where = clause(g, 3);
          const params: Record<string, string> = where.includes('$1') ? { '1': String(g.int(5)) } : {};
          const s = await follow('o', where, params);
          if (!shapes.some((x) => x.handle === s.handle)) shapes.push(s);
        }
      };

      let compared = 0;
      let nonTrivial = 0;
      const check = async (step: string): Promise<void> => {
        for (const s of shapes) {
          const want = await compare(s, step);
          compared++;
          if (want.size > 0 && want.size < ids['o']!.size) nonTrivial++;
        }
      };

      /** Many shapes comparing one expression with one set (the set's shapes are then routed by the rest). */
      const addFamily = async (n: number): Promise<void> => {
        const shared = atom(g);
        const params: Record<string, string> = shared.includes('$1') ? { '1': String(g.int(5)) } : {};
        for (let i = 0; i < n; i++) {
          const rest = g.pick([`id % ${n} <> ${i}`, `id = ${i}`, `a IS NULL`, `t = 'b'`]);
          const where = i % 2 === 0 ? `${shared} AND ${rest}` : `(${shared} OR ${rest}) AND id <> ${100 + i}`;
          const s = await follow('o', where, params);
          if (!shapes.some((x) => x.handle === s.handle)) shapes.push(s);
        }
      };

      await addShapes(12);
      await addFamily(ROUTED_FROM + 4);
      await caughtUp();
      await check('initial snapshot');
      const steps = 60;
      for (let step = 1; step <= steps; step++) {
        const stmts = Array.from({ length: 1 + g.int(4) }, statement);
        await db.sql.query(`BEGIN; ${stmts.join('; ')}; COMMIT`);
        if (step % 20 === 0) await addShapes(4);
        await caughtUp();
        await check(`after transaction ${step}: ${stmts.join('; ')}`);
      }
      // Each shape was compared after every step, and the generator exercised rows both in and out of shapes.
      expect(compared).toBeGreaterThanOrEqual(12 * (steps + 1));
      expect(nonTrivial).toBeGreaterThan(compared / 3);
    });
  });
});

describe('subquery shapes: regressions the random transactions found, and what moves cost', () => {
  it('decides again rows whose value entered and left the set within one transaction (IN and NOT IN)', async () => {
    await db.sql.query(`INSERT INTO ro VALUES (1, 7, 0), (2, 8, 0); INSERT INTO rm VALUES (1, 8, 0)`);
    const inSet = await follow('ro', 'a IN (SELECT g FROM rm WHERE grp = 0)');
    const notIn = await follow('ro', 'a NOT IN (SELECT g FROM rm WHERE grp = 0 AND g IS NOT NULL)');
    await caughtUp();
    for (const s of [inSet, notIn]) await compare(s, 'snapshot');
    // 7 enters, row 1 changes (decided while 7 is in the set), 7 leaves: row 1 is in neither shape's IN, in NOT IN.
    await db.sql.query(`BEGIN; INSERT INTO rm VALUES (2, 7, 0); UPDATE ro SET b = 1 WHERE id = 1;
      DELETE FROM rm WHERE id = 2; COMMIT`);
    await caughtUp();
    for (const s of [inSet, notIn]) await compare(s, 'a value entered and left');
    // 8 leaves, row 2 changes (decided while 8 is out), 8 enters again.
    await db.sql.query(`BEGIN; DELETE FROM rm WHERE id = 1; UPDATE ro SET b = 2 WHERE id = 2;
      INSERT INTO rm VALUES (3, 8, 0); COMMIT`);
    await caughtUp();
    for (const s of [inSet, notIn]) await compare(s, 'a value left and entered');
    expect([...inSet.rows.keys()]).toEqual(['"public"."ro"/"2"']);
    expect([...notIn.rows.keys()]).toEqual(['"public"."ro"/"1"']);
  });

  it('moves k rows into every shape comparing one expression with one query per transaction', async () => {
    await db.sql.query(`INSERT INTO ro SELECT i, 0, 0 FROM generate_series(100, 139) i`);
    const one = await follow('ro', 'id IN (SELECT g FROM rm WHERE grp = 1)');
    const two = await follow('ro', 'id IN (SELECT g FROM rm WHERE grp = 2)');
    await caughtUp();
    const before = service.metrics().subqueries;
    // 40 values enter two sets (20 each): 40 rows move in, read by one query (both shapes compare `id`).
    await db.sql.query(`INSERT INTO rm SELECT 1000 + i, 100 + i, 1 + i % 2 FROM generate_series(0, 39) i`);
    await caughtUp();
    const after = service.metrics().subqueries;
    expect(after.moveQueries - before.moveQueries).toBe(1);
    expect(after.movedIn - before.movedIn).toBe(40);
    for (const s of [one, two]) expect((await compare(s, 'moved in')).size).toBe(20);
    // They leave again without any query: the rows are the shapes' own.
    await db.sql.query(`DELETE FROM rm WHERE id >= 1000`);
    await caughtUp();
    const end = service.metrics().subqueries;
    expect(end.moveQueries - after.moveQueries).toBe(0);
    expect(end.movedOut - after.movedOut).toBe(40);
    for (const s of [one, two]) expect((await compare(s, 'moved out')).size).toBe(0);
  });
});
