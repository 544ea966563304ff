// Enum columns against Postgres with real enum types: =, <>, IN, IS [NOT] DISTINCT FROM, ordering by declared
// (not alphabetical) order, arrays, casts, and Postgres's errors for unknown labels and mismatched enum types.
import { beforeAll, describe, expect, it } from 'vitest';
import { compileWhere, enumTypeName, ValueError, WhereError } from '../../src/index.js';
import type { OracleResult, OracleVerdict } from '../support/oracle.js';
import { useOracle } from '../support/oracle-fixture.js';

const MOOD = ['sad', 'ok', 'very happy', "it's", 'happy'];
const LEVEL = ['high', 'low', 'medium'];

/** Postgres's side declares the types; ours names them with their labels in sort order. */
const PG_COLUMNS = { m: 'mood', m2: 'mood', l: 'level', ms: 'mood[]', t: 'text', i: 'int4' };
const OUR_COLUMNS = {
  m: enumTypeName('mood', MOOD),
  m2: enumTypeName('mood', MOOD),
  l: enumTypeName('level', LEVEL),
  ms: `${enumTypeName('mood', MOOD)}[]`,
  t: 'text',
  i: 'int4',
};

type Rec = Record<string, string | null>;
const RECORDS: Rec[] = [
  ...MOOD.map((m, i) => ({
    m,
    m2: MOOD[(i + 2) % MOOD.length] ?? null,
    l: LEVEL[i % 3] ?? null,
    ms: `{sad,"${m}"}`,
    t: m,
    i: String(i),
  })),
  { m: null, m2: 'ok', l: null, ms: null, t: 'nope', i: null },
  { m: 'ok', m2: null, l: 'low', ms: '{}', t: null, i: '1' },
];

const CLAUSES = [
  "m = 'ok'",
  "m <> 'ok'",
  "m < 'happy'",
  "m >= 'very happy'",
  "m > 'sad' AND m < 'happy'",
  'm = m2',
  'm < m2',
  'm IS DISTINCT FROM m2',
  'm IS NOT DISTINCT FROM m2',
  "m IS DISTINCT FROM 'sad'",
  'm IS NOT DISTINCT FROM NULL',
  "m IN ('sad', 'happy')",
  "m NOT IN ('sad', 'it''s')",
  "m IN ('ok')",
  "m IN (m2, 'ok')",
  "m BETWEEN 'ok' AND 'happy'",
  "m NOT BETWEEN 'ok' AND 'happy'",
  "m = ANY ('{sad,ok}')",
  "m > ALL ('{sad,ok}')",
  'm = ANY (ms)',
  "'sad' = ANY (ms)",
  "ms = '{sad,ok}'",
  "ms @> '{sad}'",
  "l > 'high'",
  "l < 'medium'",
  "l IN ('low', 'medium')",
  "m::text = 'ok'",
  "m::text < 'p'",
  'm = t::mood',
  "'happy'::mood > m",
  "m = 'ok'::mood",
  'm = NULL',
  "COALESCE(m, 'sad') = 'sad'",
  "NULLIF(m, 'ok') IS NULL",
  "m = 'nope'",
  "m = 'OK'",
  "m = ' ok'",
  'm = l',
  'm = t',
  'm = 1',
  "m < 'x'::level",
  "m ~~ 'h%'",
];

type Outcome = boolean | null | 'error' | 'rejected';

function ours(clause: string): Outcome[] {
  let p;
  try {
    p = compileWhere(clause, OUR_COLUMNS);
  } catch (e) {
    if (e instanceof WhereError) return RECORDS.map(() => 'rejected');
    throw e;
  }
  return RECORDS.map((r) => {
    try {
      const c = p.evaluate(r);
      expect(p.interpret(r), `${clause} interpreted on ${JSON.stringify(r)}`).toBe(c);
      return c;
    } catch (e) {
      if (e instanceof ValueError) return 'error';
      throw e;
    }
  });
}

const fromVerdict = (v: OracleVerdict): Outcome => (typeof v === 'object' && v !== null ? 'error' : v);
const fromOracle = (r: OracleResult): Outcome[] =>
  r.rejected ? RECORDS.map(() => 'rejected') : r.results.map(fromVerdict);

describe('enum columns against Postgres', () => {
  const fx = useOracle();
  beforeAll(async () => {
    const q = (labels: string[]): string => labels.map((l) => `'${l.replaceAll("'", "''")}'`).join(', ');
    await fx.db.client.query(`CREATE TYPE mood AS ENUM (${q(MOOD)}); CREATE TYPE level AS ENUM (${q(LEVEL)})`);
  });

  it(`${CLAUSES.length} clauses agree row by row, errors and rejections included`, async () => {
    const results = await fx.oracle.evaluateMany(PG_COLUMNS, CLAUSES, RECORDS);
    const diffs: string[] = [];
    CLAUSES.forEach((clause, i) => {
      const want = fromOracle(results[i] as OracleResult);
      const got = ours(clause);
      if (JSON.stringify(want) !== JSON.stringify(got)) {
        diffs.push(`${clause}: postgres ${JSON.stringify(want)} ours ${JSON.stringify(got)}`);
      }
    });
    expect(diffs).toEqual([]);
  });

  it("an unknown label is Postgres's own error, at the literal", () => {
    let err: unknown;
    try {
      compileWhere("m = 'nope'", OUR_COLUMNS);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WhereError);
    expect((err as WhereError).message).toBe('invalid input value for enum mood: "nope"');
    expect((err as WhereError).position).toBe(4);
  });
});
