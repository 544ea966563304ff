// Subquery shapes under random transactions: random outer and inner tables, random `[NOT] IN (SELECT …)` shapes
// (nested, under AND/OR/NOT, with params) created through the service, then random transactions on both tables; after
// every transaction each shape's rows, read from its log as a client reads them, equal Postgres's `SELECT … WHERE …`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BEFORE_ALL, type LogOffset } from '../../src/log/offset.js';
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
  ({ service } = await db.start());
  await service.getOrCreate(def('ticks'));
});

afterAll(async () => {
  await db?.cleanup();
});

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
          const info = await service.getOrCreate(def('o', { where, ...(where.includes('$1') ? { params } : {}) }));
          if (shapes.some((s) => s.handle === info.handle)) continue;
          shapes.push({ where, params, handle: info.handle, after: BEFORE_ALL, rows: new Map() });
        }
      };

      let tick = 0;
      /** Waits until the service has processed everything committed so far (a later transaction is visible). */
      const caughtUp = async (): Promise<void> => {
        await db.sql.query('BEGIN');
        await db.sql.query(`INSERT INTO ticks VALUES (${++tick})`);
        const lsn = (await db.sql.query<{ l: string }>('SELECT pg_current_wal_insert_lsn()::text AS l')).rows[0]!.l;
        await db.sql.query('COMMIT');
        const [hi, lo] = lsn.split('/') as [string, string];
        const want = (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
        await eventually(() => service.lastSeenLsn() >= want, 20_000, `the service to pass ${lsn}`);
      };

      let compared = 0;
      let nonTrivial = 0;
      const check = async (step: string): Promise<void> => {
        for (const s of shapes) {
          if (service.get(s.handle) === undefined)
            throw new Error(`${step}: shape ${s.where} was invalidated: ${JSON.stringify(db.events.slice(-3))}`);
          const r = await readAll(service, s.handle, s.after);
          s.after = r.end;
          apply(s, r.messages);
          const want = await truth(db.sql, `SELECT * FROM o WHERE ${inlined(s)}`, 'o');
          const sorted = (m: Map<string, Rec>): [string, Rec][] => [...m].sort(([a], [b]) => (a < b ? -1 : 1));
          const what = `${step}\nshape: ${s.where} ${JSON.stringify(s.params)}`;
          expect(
            sorted(s.rows).map(([k]) => k),
            what,
          ).toEqual(sorted(want).map(([k]) => k));
          expect(sorted(s.rows), what).toEqual(sorted(want));
          compared++;
          if (want.size > 0 && want.size < ids['o']!.size) nonTrivial++;
        }
      };

      await addShapes(12);
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
