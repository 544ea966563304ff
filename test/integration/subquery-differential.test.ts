// Subqueries against Postgres: random small tables and generated clauses with `[NOT] IN (SELECT …)` (nested, under
// AND/OR/NOT, NULLs in the sets, cross-type comparisons); each row's verdict must equal `SELECT … WHERE <clause>`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileWhere, ValueError } from '../../src/index.js';
import { subqueriesOf, type Subquery } from '../../src/sql/ast.js';
import type { SubquerySets } from '../../src/eval/subquery-sets.js';
import { CountedValueSet } from '../../src/subquery/value-set.js';
import { SubqueryView } from '../../src/subquery/view.js';
import { freshDatabase, type FreshDatabase } from '../support/pg-env.js';
import { reportSeedOnFailure, seedFrom } from '../support/seed.js';
import { Gen, rng } from '../support/seeded-gen.js';

type Rec = Record<string, string | null>;

const TABLES: Record<string, Record<string, string>> = {
  'public.o': { id: 'int4', a: 'int4', b: 'int8', t: 'text', n: 'numeric' },
  'public.m': { id: 'int4', a: 'int4', k: 'int8', t: 'text', g: 'int4' },
  'public.q': { id: 'int4', v: 'int4', flag: 'bool', w: 'text' },
};

const TEXTS = ['a', 'b', 'c', 'd', 'a ', ''];

function rows(g: Gen, table: string, count: number): Rec[] {
  const out: Rec[] = [];
  for (let id = 1; id <= count; id++) {
    const small = (): string | null => g.maybeNull(String(g.int(8) - 1));
    if (table === 'public.o')
      out.push({
        id: String(id),
        a: small(),
        b: small(),
        t: g.maybeNull(g.pick(TEXTS)),
        n: g.maybeNull(`${g.int(6)}.${g.int(2) * 5}`),
      });
    else if (table === 'public.m')
      out.push({ id: String(id), a: small(), k: small(), t: g.maybeNull(g.pick(TEXTS)), g: small() });
    else out.push({ id: String(id), v: small(), flag: g.maybeNull(g.pick(['t', 'f'])), w: g.maybeNull(g.pick(TEXTS)) });
  }
  return out;
}

/** Inner conditions on m (nested subqueries into q among them) and on q. */
function innerM(g: Gen, depth: number): string {
  const simple = ['a > 2', 'g IS NULL', "t = 'a'", 'k <> 3', 'a = g', 'g IN (1, 2, NULL)', 'NOT (a < 4)', 'k >= 0'];
  if (depth > 0 && g.r() < 0.35) {
    const sel = g.pick(['v', 'v + 1', 'id']);
    const neg = g.r() < 0.4 ? 'NOT ' : '';
    const w = g.r() < 0.6 ? ` WHERE ${g.pick(['flag', 'NOT flag', 'v > 1', "w <> 'b'", 'flag IS NULL'])}` : '';
    return `${g.pick(['g', 'a', 'k'])} ${neg}IN (SELECT ${sel} FROM q${w})`;
  }
  if (g.r() < 0.25) return `(${innerM(g, depth)} ${g.pick(['AND', 'OR'])} ${innerM(g, depth)})`;
  return g.pick(simple);
}

function subquery(g: Gen, depth: number): string {
  const [arg, sel] = g.pick([
    ['a', 'k'],
    ['b', 'a'],
    ['a', 'g'],
    ['t', 't'],
    ['n', 'a'],
    ['a + 1', 'g'],
    ['id', 'id'],
    ['b', 'k * 2'],
  ] as const);
  const neg = g.r() < 0.35 ? 'NOT ' : '';
  const w = g.r() < 0.75 ? ` WHERE ${innerM(g, depth)}` : '';
  return `${arg} ${neg}IN (SELECT ${sel} FROM m${w})`;
}

function clause(g: Gen, depth: number): string {
  const outer = ['a > 3', 'b = 2', 't IS NULL', 'a IN (1, 2)', "t <> 'b'", 'n > 2', 'b IS NOT NULL'];
  const x = g.r();
  if (depth <= 0 || x < 0.45) return g.r() < 0.7 ? subquery(g, 1) : g.pick(outer);
  if (x < 0.6) return `NOT (${clause(g, depth - 1)})`;
  return `(${clause(g, depth - 1)} ${g.pick(['AND', 'OR'])} ${clause(g, depth - 1)})`;
}

/** Materializes every subquery of the tree (innermost first) from the fetched rows, as the service does from its stream. */
function materialize(subs: readonly Subquery[], data: Map<string, Rec[]>, sets: Map<string, CountedValueSet>): void {
  const provider: SubquerySets = {
    get: (key) => {
      const s = sets.get(key);
      if (s === undefined) throw new Error(`not materialized: ${key}`);
      return s;
    },
  };
  for (const sub of subs) {
    if (sets.has(sub.key)) continue;
    if (sub.where !== null)
      materialize(
        subqueriesOf(sub.where).map((s) => s.sub),
        data,
        sets,
      );
    const view = new SubqueryView(sub, provider);
    const set = new CountedValueSet();
    for (const rec of data.get(`${sub.table.schema}.${sub.table.name}`) ?? []) {
      const c = view.contribution(rec);
      if (c !== undefined) set.add(c === null ? null : c.key);
    }
    sets.set(sub.key, set);
  }
}

describe('subqueries against Postgres', () => {
  let db: FreshDatabase;
  beforeAll(async () => {
    db = await freshDatabase();
    for (const [name, cols] of Object.entries(TABLES)) {
      const defs = Object.entries(cols).map(([c, t]) => `${c} ${t}${c === 'id' ? ' primary key' : ''}`);
      await db.client.query(`CREATE TABLE ${name} (${defs.join(', ')})`);
    }
  });
  afterAll(async () => {
    await db?.drop();
  });

  const seed = seedFrom('SUBQUERY_SEED', 1414);

  it('matches Postgres row by row on generated clauses over random data', async () => {
    await reportSeedOnFailure('SUBQUERY_SEED', seed, async () => {
      const g = new Gen(rng(seed));
      let compared = 0;
      let nonTrivial = 0;
      for (let round = 0; round < 4; round++) {
        const data = new Map<string, Rec[]>();
        for (const name of Object.keys(TABLES)) {
          await db.client.query(`DELETE FROM ${name}`);
          const rs = rows(g, name, 6 + g.int(10));
          data.set(name, rs);
          for (const r of rs) {
            const cols = Object.keys(r);
            await db.client.query(
              `INSERT INTO ${name} (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
              cols.map((c) => r[c]),
            );
          }
        }
        for (let i = 0; i < 60; i++) {
          const where = clause(g, 3);
          const sets = new Map<string, CountedValueSet>();
          const pred = compileWhere(where, TABLES['public.o'] as Record<string, string>, {
            tables: TABLES,
            table: { schema: 'public', name: 'o' },
            sets: { get: (k) => sets.get(k) as CountedValueSet },
          });
          materialize(
            subqueriesOf(pred.expr).map((s) => s.sub),
            data,
            sets,
          );
          const expected = (
            await db.client.query<{ id: number }>(`SELECT id FROM o WHERE ${where} ORDER BY id`)
          ).rows.map((r) => String(r.id));
          const viaSql = (
            await db.client.query<{ id: number }>(`SELECT id FROM o WHERE ${pred.sql} ORDER BY id`)
          ).rows.map((r) => String(r.id));
          const got: string[] = [];
          for (const rec of data.get('public.o') ?? []) {
            let v: boolean | null;
            try {
              v = pred.evaluate(rec);
              expect(pred.interpret(rec), `${where} interpreter on ${JSON.stringify(rec)}`).toBe(v);
            } catch (e) {
              if (!(e instanceof ValueError)) throw e;
              v = null;
            }
            if (v === true) got.push(rec['id'] as string);
          }
          expect(got, `${where}\non ${JSON.stringify(data)}`).toEqual(expected);
          expect(viaSql, `rendered: ${pred.sql}`).toEqual(expected);
          compared++;
          if (expected.length > 0 && expected.length < (data.get('public.o')?.length ?? 0)) nonTrivial++;
        }
      }
      expect(compared).toBe(240);
      // The generator must exercise both outcomes, not only empty or full results.
      expect(nonTrivial).toBeGreaterThan(80);
    });
  });

  it('NOT IN with a NULL in the set is never true; IN over an empty set is false even for NULL', async () => {
    await db.client.query('DELETE FROM o; DELETE FROM m');
    await db.client.query('INSERT INTO o (id, a) VALUES (1, 1), (2, NULL), (3, 5)');
    await db.client.query('INSERT INTO m (id, a, g) VALUES (1, 1, NULL), (2, 2, 7)');
    const data = new Map<string, Rec[]>([
      [
        'public.o',
        [
          { id: '1', a: '1', b: null, t: null, n: null },
          { id: '2', a: null, b: null, t: null, n: null },
          { id: '3', a: '5', b: null, t: null, n: null },
        ],
      ],
      [
        'public.m',
        [
          { id: '1', a: '1', k: null, t: null, g: null },
          { id: '2', a: '2', k: null, t: null, g: '7' },
        ],
      ],
    ]);
    for (const where of [
      'a NOT IN (SELECT g FROM m)',
      'a IN (SELECT g FROM m)',
      'a NOT IN (SELECT g FROM m WHERE g IS NOT NULL)',
      'a IN (SELECT a FROM m WHERE false)',
      'a NOT IN (SELECT a FROM m WHERE a > 100)',
      '(a NOT IN (SELECT g FROM m)) IS NULL',
    ]) {
      const sets = new Map<string, CountedValueSet>();
      const pred = compileWhere(where, TABLES['public.o'] as Record<string, string>, {
        tables: TABLES,
        sets: { get: (k) => sets.get(k) as CountedValueSet },
      });
      materialize(
        subqueriesOf(pred.expr).map((s) => s.sub),
        data,
        sets,
      );
      const expected = (await db.client.query<{ id: number }>(`SELECT id FROM o WHERE ${where} ORDER BY id`)).rows.map(
        (r) => String(r.id),
      );
      const got = (data.get('public.o') ?? []).filter((r) => pred.evaluate(r) === true).map((r) => r['id']);
      expect(got, where).toEqual(expected);
    }
  });
});
