// sqrt, exp, ln, log, log10, power/pow and |/ in WHERE clauses: overload resolution and per-row outcome vs Postgres.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileWhere, ValueError } from '../../src/index.js';
import { freshDatabase, type FreshDatabase } from '../support/pg-env.js';

const COLUMNS = { x: 'numeric', n: 'int4' } as const;

/**
 * Clauses whose verdict depends on which overload Postgres picks (numeric's 20 digits of sqrt(2) against float8's
 * 17) and on each function's result scale, special values and errors.
 */
const CLAUSES = [
  'sqrt(x) > 1.4142135623730950',
  'sqrt(x) = 1.414213562373095049',
  'sqrt(n) = 1.4142135623730951',
  'sqrt(n::numeric) = 1.414213562373095049',
  '|/ x > 1.4142135623730950',
  '|/ n = 1.4142135623730951',
  'exp(x) > 100',
  'exp(x) = 7.3890560989306502',
  'exp(n::numeric) < 1',
  'ln(x) < 0',
  'ln(x) = 0.6931471805599453',
  'log(x) = 2',
  'log(x) > 0.3010299956639811',
  'log10(x) >= 3',
  'log(2.0, x) > 3',
  'log(x, 1000) > 1',
  'log(x, x) = 1',
  'power(x, 2) > 100',
  'pow(x, 0.5) > 1.4142135623730950',
  'power(n, 2) > 3',
  'power(x, n) > 10',
  'x ^ n > 10',
];

const ROWS: { x: string | null; n: string | null }[] = [
  { x: '2', n: '2' },
  { x: '0', n: '0' },
  { x: '-1', n: '-1' },
  { x: '1', n: '1' },
  { x: '100', n: '3' },
  { x: '1000', n: '-3' },
  { x: '0.5', n: '7' },
  { x: '1.00000000000000000000001', n: '2' },
  { x: '123456789.123456789', n: '100' },
  { x: '7000', n: '5' },
  { x: 'NaN', n: '2' },
  { x: 'Infinity', n: '2' },
  { x: '-Infinity', n: '3' },
  { x: null, n: null },
];

type Outcome = string;

function ours(clause: string, row: { x: string | null; n: string | null }): Outcome {
  const p = compileWhere(clause, COLUMNS);
  try {
    return String(p.evaluate(row));
  } catch (e) {
    if (e instanceof ValueError) return `ERROR: ${e.message}`;
    throw e;
  }
}

describe('numeric functions in where clauses against Postgres', () => {
  let db: FreshDatabase;
  beforeAll(async () => {
    db = await freshDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it(`${CLAUSES.length} clauses × ${ROWS.length} rows give Postgres's verdict or error`, async () => {
    const mismatches: string[] = [];
    for (const clause of CLAUSES) {
      for (const row of ROWS) {
        let want: Outcome;
        try {
          const r = await db.client.query<{ r: boolean | null }>(
            `SELECT (${clause}) AS r FROM (SELECT $1::numeric AS x, $2::int4 AS n) AS s`,
            [row.x, row.n],
          );
          want = String(r.rows[0]?.r ?? null);
        } catch (e) {
          want = `ERROR: ${(e as Error).message}`;
        }
        const got = ours(clause, row);
        if (got !== want) mismatches.push(`${clause} with x=${row.x}, n=${row.n}: postgres ${want}, ours ${got}`);
      }
    }
    expect(mismatches).toEqual([]);
  });
});
