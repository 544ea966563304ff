// Failures the differential tier found, pinned with Postgres 15's answer: Switchyard and Postgres must both give it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileWhere, ValueError, WhereError } from '../../src/index.js';
import { WhereOracle, type OracleVerdict } from '../support/oracle.js';
import { freshDatabase, type FreshDatabase } from '../support/pg-env.js';

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

const REGRESSIONS: readonly Regression[] = [
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
    return compiled === interpreted ? compiled : (`compiled ${String(compiled)} / interpreted ${String(interpreted)}` as unknown as Expected);
  });
}

const fromVerdict = (v: OracleVerdict): Expected => (typeof v === 'object' && v !== null ? 'error' : v);

describe('differential regressions', () => {
  let db: FreshDatabase;
  let oracle: WhereOracle;
  beforeAll(async () => {
    db = await freshDatabase();
    oracle = new WhereOracle(db.url);
  });
  afterAll(async () => {
    await oracle?.close();
    await db?.drop();
  });

  it.each(REGRESSIONS.map((r) => [r.what, r] as const))('%s', async (_what, r) => {
    const expected = r.records.map(([, e]) => e);
    const res = await oracle.evaluate(r.columns, r.clause, r.records.map(([rec]) => rec), r.params ?? {});
    expect(res.rejected ? r.records.map(() => 'rejected') : res.results.map(fromVerdict), 'Postgres').toEqual(expected);
    expect(switchyard(r), 'Switchyard').toEqual(expected);
  });
});
