// Failures the differential tier found, pinned with Postgres 15's answer: Switchyard and Postgres must both give it.
import { describe, expect, it } from 'vitest';
import { compileWhere, ValueError, WhereError } from '../../src/index.js';
import type { OracleVerdict } from '../support/oracle.js';
import { useOracle } from '../support/oracle-fixture.js';

type Rec = Record<string, string | null>;
/** 'rejected': compileWhere and Postgres refuse the clause; 'error': evaluation raises for that record. */
type Expected = boolean | null | 'error' | 'rejected';

interface Regression {
  readonly what: string;
  readonly columns: Record<string, string>;
  readonly clause: string;
  readonly records: readonly [Rec, Expected][];
  readonly params?: Record<string, string>;
}

const I = {
  f4: 'float4',
  an: 'numeric[]',
  af8: 'float8[]',
  ai8: 'int8[]',
  j: 'jsonb',
  i4: 'int4',
  i8: 'int8',
  f8: 'float8',
  t: 'text',
  c5: 'char(5)',
  tm: 'time',
  iv: 'interval',
  d: 'date',
  tz: 'timestamptz',
  u: 'uuid',
  b: 'bool',
  at: 'text[]',
  ai4: 'int4[]',
  ab: 'bool[]',
  i2: 'int2',
};

const REGRESSIONS: readonly Regression[] = [
  {
    what: 'like() function form',
    columns: I,
    clause: "like(t, 'a_c')",
    records: [
      [{ t: 'abc' }, true],
      [{ t: 'ab' }, false],
      [{ t: null }, null],
    ],
  },
  {
    what: 'like() casts bpchar to text (padding dropped)',
    columns: I,
    clause: "like(c5, 'abc')",
    records: [[{ c5: 'abc  ' }, true]],
  },
  {
    what: 'array_prepend with an unknown array literal',
    columns: I,
    clause: "at = array_prepend('x'::text, '{null}')",
    records: [[{ at: '{x,NULL}' }, true]],
  },
  {
    what: 'array_append with only unknown arguments is text[]',
    columns: I,
    clause: "array_append('{a}', 'b') = at",
    records: [[{ at: '{a,b}' }, true]],
  },
  {
    what: 'time + unknown resolves to time + interval',
    columns: I,
    clause: "tm > (time '23:59:59' + 'P1M-30D')",
    records: [[{ tm: '23:59:59.5' }, true]],
  },
  {
    what: 'strict operator with a NULL constant folds to NULL',
    columns: I,
    clause: '((f8 ^ f8) * NULL::interval) <= iv',
    records: [[{ f8: '1.2345678901234568e+17', iv: 'P1D' }, null]],
  },
  {
    what: 'cast of a NULL-folded expression folds too',
    columns: I,
    clause: '(text(i4))::timestamptz >= ((d + NULL::int4) + NULL::int4)',
    records: [[{ i4: '100', d: '1970-01-01' }, null]],
  },
  {
    what: 'strict comparison evaluates its right side for a NULL left side',
    columns: I,
    clause: 'u <= least((t)::uuid, u)',
    records: [[{ u: null, t: 'a_c' }, 'error']],
  },
  {
    what: 'subscripts are not evaluated for a NULL array',
    columns: I,
    clause: 'ab[abs(i2)]',
    records: [[{ ab: null, i2: '-32768' }, null]],
  },
  {
    what: 'IN evaluates its items for a NULL operand',
    columns: I,
    clause: 'i4 IN (1, (t)::int4)',
    records: [[{ i4: null, t: 'x' }, 'error']],
  },
  {
    what: '-2147483648 is an int4 literal',
    columns: I,
    clause: 'ai4 = (-2147483648 || ai4)',
    records: [[{ ai4: '{-2147483648}' }, false]],
  },
  {
    what: 'LIKE with an array pattern is rejected',
    columns: I,
    clause: 'greatest(t, t) LIKE ai4',
    records: [[{ t: 'a' }, 'rejected']],
  },
  {
    what: 'constant FALSE stops AND folding',
    columns: I,
    clause: "'abc' NOT ILIKE 'a%%c' AND i4 = 2147483647 + 1",
    records: [[{ i4: '1' }, false]],
  },
  {
    what: 'AND folding raises an earlier constant error',
    columns: I,
    clause: "i4 = 2147483647 + 1 AND 'abc' NOT ILIKE 'a%%c'",
    records: [[{ i4: '1' }, 'rejected']],
  },
  {
    what: 'COALESCE with a leading constant folds to it',
    columns: I,
    clause: "CAST(coalesce('a_c', t) AS boolean) != 't'::boolean",
    records: [[{ t: 'x' }, 'rejected']],
  },
  {
    what: 'x IN (NULL) folds to NULL without evaluating x',
    columns: I,
    clause: "(CAST('30 days' AS interval) / f8) IN (NULL::interval)",
    records: [[{ f8: '0' }, null]],
  },
  {
    what: 'nullif result has the coerced left type (bpchar → text)',
    columns: I,
    clause: "nullif(c5, 'é'::text) !~~* t",
    records: [[{ c5: 'abc  ', t: 'abc' }, false]],
  },
  {
    what: 'prefix + on an unknown literal resolves to float8',
    columns: I,
    clause: "(+ '9223372036854775807') > i4",
    records: [[{ i4: '1' }, true]],
  },
  {
    what: 'two unknown operands resolve like Postgres (float8 ^)',
    columns: I,
    clause: "('2' ^ '3') <= i4",
    records: [
      [{ i4: '8' }, true],
      [{ i4: '7' }, false],
    ],
  },
  {
    what: 'array_cat takes the common element type',
    columns: I,
    clause: "array_cat(CAST('{}' AS float8[]), ARRAY[0.1]) = af8",
    records: [[{ af8: '{0.1}' }, true]],
  },
  {
    what: 'COALESCE of float8[] and int4[]',
    columns: I,
    clause: "coalesce(af8 || '{1,2,NULL}', ARRAY[1]) = af8",
    records: [[{ af8: '{1}' }, false]],
  },
  {
    what: 'NULLIF(NULL, x) folds to NULL',
    columns: I,
    clause: "nullif(NULL::text[], at) <> (at || 'a_c'::text)",
    records: [[{ at: '{{a},{b}}' }, null]],
  },
  {
    what: 'a typmod cast of a literal is applied where evaluated, after AND short-circuit',
    columns: I,
    clause: "('abc' !~~ 'abc') AND an != ($$-Infinity$$::numeric(20,5) || '{}'::numeric[])",
    records: [[{ an: '{1}' }, false]],
  },
  {
    what: 'a typmod cast of a literal that must be evaluated is rejected',
    columns: I,
    clause: '$$-Infinity$$::numeric(20,5) > 1 AND i4 = 1',
    records: [[{ i4: '1' }, 'rejected']],
  },
  {
    what: 'anyarray operators need identical array types',
    columns: I,
    clause: "ai8 && array_append((NULL::int8[])[2:], abs('-9007199254740993'))",
    records: [[{ ai8: '{1}' }, 'rejected']],
  },
  {
    what: 'a stable cast with a NULL sibling is NULL',
    columns: I,
    clause: "(NULL::text)::interval > CAST(CAST('-9223372036854775807'::int8 AS text) AS interval)",
    records: [[{ i4: '1' }, null]],
  },
  {
    what: 'concat() is stable: not folded under a strict NULL comparison',
    columns: I,
    clause: "CAST(concat('[0:1]={1,2}'::int4[], 'x', '2024-01-01') AS jsonb) <> NULL::jsonb",
    records: [[{ i4: '1' }, null]],
  },
  {
    what: 'array subscripts must be integers',
    columns: I,
    clause: "(ab)[coalesce('181', 'x')] IS NOT TRUE",
    records: [[{ ab: '{t}' }, 'rejected']],
  },
  {
    what: 'nullif(int4, int8) keeps the declared int4 of int48eq',
    columns: I,
    clause: "nullif((-1 >> i4), greatest(CAST('-1' AS int8), i8)) >= SOME ('{9007199254740993}')",
    records: [[{ i4: '1', i8: '1' }, 'rejected']],
  },
  {
    what: 'a single constant in IN is compared on its own (float4 = numeric as float8)',
    columns: I,
    clause: "greatest(real '1e20', f4) NOT IN (f4, 1e20)",
    records: [[{ f4: '1' }, true]],
  },
  {
    what: 'time input rejects a date with an ISO T separator',
    columns: I,
    clause: "tm != CAST('2023-12-31T23:00:00Z' AS time) AND i4 = 1",
    records: [[{ tm: '10:00:00', i4: '1' }, 'rejected']],
  },
  {
    what: 'time input accepts a leading ISO T',
    columns: I,
    clause: "tm = CAST('T10:00' AS time)",
    records: [[{ tm: '10:00:00' }, true]],
  },
  {
    what: 'nullif(bpchar, unknown) stays bpchar',
    columns: I,
    clause: "nullif(c5, 'é') !~~* t",
    records: [[{ c5: 'abc  ', t: 'abc' }, true]],
  },
];

function switchyard(r: Regression): Expected[] {
  let pred;
  try {
    pred = compileWhere(r.clause, r.columns, { params: r.params ?? {}, table: { schema: 'pg_temp', name: 't' } });
  } catch (e) {
    if (e instanceof WhereError) return r.records.map(() => 'rejected');
    throw e;
  }
  const one = (fn: () => boolean | null): Expected => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof ValueError) return 'error';
      throw e;
    }
  };
  return r.records.map(([rec]) => {
    const compiled = one(() => pred.evaluate(rec));
    const interpreted = one(() => pred.interpret(rec));
    return compiled === interpreted
      ? compiled
      : (`compiled ${String(compiled)} / interpreted ${String(interpreted)}` as unknown as Expected);
  });
}

const fromVerdict = (v: OracleVerdict): Expected => (typeof v === 'object' && v !== null ? 'error' : v);

describe('differential regressions', () => {
  const fx = useOracle();

  it.each(REGRESSIONS.map((r) => [r.what, r] as const))('%s', async (_what, r) => {
    const expected = r.records.map(([, e]) => e);
    const res = await fx.oracle.evaluate(
      r.columns,
      r.clause,
      r.records.map(([rec]) => rec),
      r.params ?? {},
    );
    expect(res.rejected ? r.records.map(() => 'rejected') : res.results.map(fromVerdict), 'Postgres').toEqual(expected);
    expect(switchyard(r), 'Switchyard').toEqual(expected);
  });
});
