// `expr [NOT] IN (SELECT …)`: analysis (types, keys, nesting, params) and every rejected form with its position.
import { describe, expect, it } from 'vitest';
import { compileWhere, subqueryTables } from '../../src/where.js';
import { ErrorCode, WhereError } from '../../src/errors/index.js';
import { subqueriesOf } from '../../src/sql/ast.js';
import { codecFor } from '../../src/values/registry.js';
import { pgType } from '../../src/values/types.js';
import { CountedValueSet } from '../../src/subquery/value-set.js';

const OUTER = { id: 'int4', owner: 'int8', name: 'text', price: 'numeric' };
const TABLES = {
  'public.members': { user_id: 'int8', org_id: 'int4', role: 'text', score: 'numeric' },
  'app.orgs': { id: 'int4', active: 'bool' },
};

function rejects(where: string, code: ErrorCode, message: RegExp, at: string): void {
  let err: unknown;
  try {
    compileWhere(where, OUTER, { tables: TABLES, table: { schema: 'public', name: 'docs' }, params: { '1': '3' } });
  } catch (e) {
    err = e;
  }
  expect(err, where).toBeInstanceOf(WhereError);
  const w = err as WhereError;
  expect(w.code, where).toBe(code);
  expect(w.message, where).toMatch(message);
  expect(where.slice(w.position ?? -1), `${where}: position`).toMatch(
    new RegExp('^' + at.replace(/[()*$\\.]/g, '\\$&')),
  );
}

describe('subqueries in where clauses', () => {
  it('types the comparison as Postgres does and keys the set by its normalized text and params', () => {
    const p = compileWhere('id IN (SELECT user_id FROM members WHERE org_id = $1 AND role = $2)', OUTER, {
      tables: TABLES,
      params: { '1': '7', '2': 'admin' },
    });
    const [s] = subqueriesOf(p.expr);
    expect(s?.operandType.scalar).toBe('int8'); // int4 = int8 compares as int8 (int48eq)
    expect(s?.sub.key).toBe("SELECT user_id FROM public.members WHERE ((org_id = 7) AND (role = 'admin'))");
    expect(p.sql).toBe(`(id IN (${s?.sub.key}))`);
    const q = compileWhere('price IN (SELECT user_id FROM members WHERE org_id = 7 AND role = $1)', OUTER, {
      tables: TABLES,
      params: { '1': 'admin' },
    });
    // The same rows compared as numeric are another set.
    expect(subqueriesOf(q.expr)[0]?.sub.key).toBe(
      "SELECT CAST(user_id AS numeric) FROM public.members WHERE ((org_id = 7) AND (role = 'admin'))",
    );
  });

  it('evaluates three-valued IN / NOT IN against the provided set', () => {
    const set = new CountedValueSet();
    const K5 = codecFor(pgType('int8')).key(5n);
    const p = compileWhere('owner NOT IN (SELECT user_id FROM members)', OUTER, {
      tables: TABLES,
      sets: { get: () => set },
    });
    const row = (owner: string | null): Record<string, string | null> => ({ id: '1', owner, name: null, price: null });
    expect(p.evaluate(row(null))).toBe(true); // NULL NOT IN (empty) is TRUE
    set.add(K5);
    expect(p.evaluate(row('5'))).toBe(false);
    expect(p.evaluate(row('6'))).toBe(true);
    expect(p.evaluate(row(null))).toBe(null);
    set.add(null);
    expect(p.evaluate(row('6'))).toBe(null);
    expect(p.evaluate(row('5'))).toBe(false);
    expect(set.remove(K5)).toBe(true);
    expect(p.interpret(row('5'))).toBe(null);
  });

  it('accepts nested subqueries, aliases, schemas, DISTINCT and NOT pushed into NOT IN', () => {
    const p = compileWhere(
      'NOT (owner IN (SELECT DISTINCT m.user_id FROM members m WHERE m.org_id IN (SELECT id FROM app.orgs WHERE active)))',
      OUTER,
      { tables: TABLES },
    );
    const [outer] = subqueriesOf(p.expr);
    expect(outer?.negated).toBe(true);
    expect(outer?.sub.key).toBe(
      'SELECT user_id FROM public.members WHERE (org_id IN (SELECT id FROM app.orgs WHERE active))',
    );
    expect(subqueriesOf(outer?.sub.where ?? p.expr).map((s) => s.sub.table)).toEqual([{ schema: 'app', name: 'orgs' }]);
    expect(subqueryTables('id IN (SELECT a FROM x WHERE b IN (SELECT c FROM s.y))')).toEqual([
      { schema: 'public', name: 'x' },
      { schema: 's', name: 'y' },
    ]);
  });

  it('rejects what it cannot keep incremental, pointing at the offending part', () => {
    rejects('id IN (SELECT user_id FROM members WHERE owner = 1)', ErrorCode.NotSupported, /correlated/, 'owner');
    rejects('id IN (SELECT user_id FROM members WHERE docs.id = 1)', ErrorCode.NotSupported, /correlated/, 'docs.id');
    rejects('id IN (SELECT max(org_id) FROM members)', ErrorCode.NotSupported, /aggregate/, 'max');
    rejects('id IN (SELECT org_id FROM members ORDER BY 1)', ErrorCode.NotSupported, /ORDER BY/, '1)');
    rejects('id IN (SELECT org_id FROM members LIMIT 2)', ErrorCode.NotSupported, /LIMIT/, '2)');
    rejects('id IN (SELECT DISTINCT ON (role) org_id FROM members)', ErrorCode.NotSupported, /DISTINCT ON/, 'role');
    rejects(
      'id IN (SELECT org_id FROM members UNION SELECT 1)',
      ErrorCode.NotSupported,
      /set operations \(UNION\)/,
      'UNION',
    );
    rejects('id IN (SELECT org_id, role FROM members)', ErrorCode.NotSupported, /exactly one column/, 'role');
    rejects('id IN (SELECT * FROM members)', ErrorCode.NotSupported, /not "\*"/, '*');
    rejects('(id, owner) IN (SELECT org_id, user_id FROM members)', ErrorCode.NotSupported, /row/, '(id');
    rejects('id IN (SELECT org_id FROM members WHERE random() < 0.5)', ErrorCode.UnknownFunction, /random/, 'random');
    rejects('id IN (SELECT org_id FROM nope)', ErrorCode.UnknownTable, /"public"."nope" does not exist/, 'nope');
    rejects('id IN (SELECT org_id FROM members, app.orgs)', ErrorCode.NotSupported, /joins/, 'app.orgs');
    rejects('id IN (SELECT org_id FROM members WHERE nmae = 1)', ErrorCode.UnknownColumn, /nmae/, 'nmae');
    rejects('EXISTS (SELECT 1 FROM members)', ErrorCode.NotSupported, /EXISTS/, 'EXISTS');
    rejects('id = (SELECT org_id FROM members)', ErrorCode.NotSupported, /scalar subquery/, '(SELECT');
    rejects('id > ANY (SELECT org_id FROM members)', ErrorCode.NotSupported, /> ANY/, '> ANY');
    rejects(
      'name IN (SELECT org_id FROM members)',
      ErrorCode.NoOperator,
      /operator does not exist: text = integer/,
      'IN',
    );
    rejects('id IN (SELECT user_id FROM members WHERE org_id = $2)', ErrorCode.ParamMissing, /\$2/, '$2');
    expect(() => compileWhere('id IN (SELECT user_id FROM members)', OUTER)).toThrow(/no other tables are known/);
  });
});
