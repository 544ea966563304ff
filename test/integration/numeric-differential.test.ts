// Arbitrary-precision numeric (^, /, %, and the roots, logs and exponentials) digit for digit against Postgres 15.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatNumeric, numericDiv, numericMod, numericPow, parseNumeric } from '../../src/values/numeric.js';
import type { NumericValue } from '../../src/values/types.js';
import { freshDatabase, type FreshDatabase } from '../support/pg-env.js';
import { NUMERIC_CASES, NUMERIC_OPERATIONS } from '../support/numeric-cases.js';

const OPS: Record<string, (a: NumericValue, b: NumericValue) => NumericValue> = {
  '^': numericPow,
  '/': numericDiv,
  '%': numericMod,
  ...NUMERIC_OPERATIONS,
};

/** Evaluates one case per row in Postgres, catching each row's error as 'ERROR: <message>'. */
const EVAL_FUNCTION = `
CREATE FUNCTION pg_temp.sy_num(op text, a text, b text) RETURNS text LANGUAGE plpgsql AS $f$
BEGIN
  RETURN CASE op
    WHEN '^' THEN (a::numeric ^ b::numeric)::text
    WHEN '/' THEN (a::numeric / b::numeric)::text
    WHEN '%' THEN (a::numeric % b::numeric)::text
    WHEN 'sqrt' THEN sqrt(a::numeric)::text
    WHEN 'exp' THEN exp(a::numeric)::text
    WHEN 'ln' THEN ln(a::numeric)::text
    WHEN 'log10' THEN log(a::numeric)::text
    WHEN 'log' THEN log(a::numeric, b::numeric)::text
  END;
EXCEPTION WHEN OTHERS THEN
  RETURN 'ERROR: ' || SQLERRM;
END $f$`;

function ours(op: string, a: string, b: string): string {
  const f = OPS[op];
  if (f === undefined) throw new Error(`no operation ${op}`);
  try {
    return formatNumeric(f(parseNumeric(a), parseNumeric(b)));
  } catch (e) {
    return 'ERROR: ' + (e as Error).message;
  }
}

describe('numeric arithmetic against Postgres', () => {
  let db: FreshDatabase;
  beforeAll(async () => {
    db = await freshDatabase();
    await db.client.query(EVAL_FUNCTION);
  });
  afterAll(async () => {
    await db.drop();
  });

  for (const [op, cases] of Object.entries(NUMERIC_CASES)) {
    it(`${op}: ${cases.length} cases are digit-exact, errors included`, async () => {
      const res = await db.client.query<{ r: string | null }>(
        'SELECT pg_temp.sy_num($1, a, b) AS r FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS u(a, b, i) ORDER BY i',
        [op, cases.map((c) => c[0]), cases.map((c) => c[1])],
      );
      const mismatches: string[] = [];
      cases.forEach(([a, b], i) => {
        const want = res.rows[i]?.r ?? 'NULL';
        const got = ours(op, a, b);
        if (got !== want) mismatches.push(`${a} ${op} ${b}: postgres ${clip(want)}, ours ${clip(got)}`);
      });
      expect(mismatches).toEqual([]);
    });
  }
});

function clip(s: string): string {
  return s.length > 120 ? `${s.slice(0, 50)}…${s.slice(-50)} (${s.length} chars)` : s;
}
