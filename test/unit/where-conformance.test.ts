// Conformance cases of where-language.md §10.2–10.3 and the error kinds of §8.1, for compiler and interpreter alike.
import { describe, expect, it } from 'vitest';
import { compileWhere, ErrorCode, WhereError } from '../../src/index.js';

type Row = Record<string, string | null>;
interface Case {
  readonly where: string;
  readonly columns: Record<string, string>;
  readonly rows: readonly [Row, boolean | null][];
  readonly params?: Record<string, string>;
}

const C = (
  where: string,
  columns: Record<string, string>,
  rows: [Row, boolean | null][],
  params?: Record<string, string>,
): Case => (params ? { where, columns, rows, params } : { where, columns, rows });

const cases: Case[] = [
  C('foo = 1 OR bar = 1', { foo: 'int4', bar: 'int4' }, [
    [{ foo: '1', bar: null }, true],
    [{ foo: null, bar: '1' }, true],
    [{ foo: '2', bar: null }, null],
  ]),
  C('x IN (NULL, 1)', { x: 'int4' }, [
    [{ x: '1' }, true],
    [{ x: '2' }, null],
    [{ x: null }, null],
  ]),
  C('col + 1 > 0', { col: 'int4' }, [
    [{ col: null }, null],
    [{ col: '0' }, true],
  ]),
  C('x @> ARRAY[y]', { x: 'int4[]', y: 'int4' }, [
    [{ x: null, y: '1' }, null],
    [{ x: '{1,2}', y: '1' }, true],
  ]),
  C('y = ANY(x)', { x: 'int4[]', y: 'int8' }, [
    [{ x: '{1,2}', y: '1' }, true],
    [{ x: '{1,NULL}', y: '3' }, null],
    [{ x: '{}', y: null }, false],
  ]),
  C("coalesce(value, 'fallback', 'unused') = 'fallback'", { value: 'text' }, [
    [{ value: null }, true],
    [{ value: 'x' }, false],
  ]),
  C('greatest(a, b, c) = 3', { a: 'int4', b: 'int4', c: 'int4' }, [[{ a: '1', b: null, c: '3' }, true]]),
  C('price = 0.1 + 0.2', { price: 'numeric' }, [
    [{ price: '0.3' }, true],
    [{ price: '0.30000000000000004' }, false],
  ]),
  C('price = 1', { price: 'numeric' }, [[{ price: '1.00' }, true]]),
  C('price > 12345678901234567890.1', { price: 'numeric' }, [[{ price: '12345678901234567890.2' }, true]]),
  C('id = 9007199254740993', { id: 'int8' }, [
    [{ id: '9007199254740993' }, true],
    [{ id: '9007199254740992' }, false],
  ]),
  C("x = 'NaN'", { x: 'float8' }, [[{ x: 'NaN' }, true]]),
  C("x > 'Infinity'", { x: 'float8' }, [[{ x: 'NaN' }, true]]),
  C('x = 0', { x: 'float8' }, [[{ x: '-0' }, true]]),
  C('x = 0.1', { x: 'float4' }, [[{ x: '0.1' }, false]]),
  C("name < 'a'", { name: 'text' }, [
    [{ name: 'B' }, true],
    [{ name: 'b' }, false],
  ]),
  C("name > U&'\\FFFD'", { name: 'text' }, [[{ name: '😀' }, true]]),
  C("upper(name) = 'É'", { name: 'text' }, [[{ name: 'é' }, false]]),
  C("code = 'abc'", { code: 'char(5)' }, [[{ code: 'abc  ' }, true]]),
  C("code LIKE 'abc'", { code: 'char(5)' }, [[{ code: 'abc  ' }, false]]),
  C("code LIKE 'abc%'", { code: 'char(5)' }, [[{ code: 'abc  ' }, true]]),
  C('id NOT IN (1, NULL)', { id: 'int4' }, [[{ id: '2' }, null]]),
  C("arr = '{1,NULL}'", { arr: 'int4[]' }, [[{ arr: '{1,NULL}' }, true]]),
  C("arr = '{1,2}'", { arr: 'int4[]' }, [[{ arr: '[0:1]={1,2}' }, false]]),
  C("d = '1 day'", { d: 'interval' }, [[{ d: 'PT24H' }, true]]),
  C("ts > '2024-01-02 03:04:05.120001+02'", { ts: 'timestamptz' }, [[{ ts: '2024-01-02 01:04:05.120002+00' }, true]]),
  C("u = '550E8400-E29B-41D4-A716-446655440000'", { u: 'uuid' }, [
    [{ u: '550e8400-e29b-41d4-a716-446655440000' }, true],
  ]),
  C("s LIKE 'a\\_c'", { s: 'text' }, [
    [{ s: 'abc' }, false],
    [{ s: 'a_c' }, true],
  ]),
  C("s LIKE 'a#%c' ESCAPE '#'", { s: 'text' }, [[{ s: 'a%c' }, true]]),
  C('id = 5000000000', { id: 'int4' }, [[{ id: '5' }, false]]),
  C('id = 2.5', { id: 'int4' }, [[{ id: '2' }, false]]),
  C('done = false', { done: 'bool' }, [
    [{ done: 'f' }, true],
    [{ done: 't' }, false],
  ]),
  C('x BETWEEN SYMMETRIC 5 AND 1', { x: 'int4' }, [[{ x: '3' }, true]]),
  C('x BETWEEN 5 AND 1', { x: 'int4' }, [[{ x: '3' }, false]]),
  C('x IS DISTINCT FROM NULL', { x: 'int4' }, [
    [{ x: null }, false],
    [{ x: '1' }, true],
  ]),
  C('b IS NOT TRUE', { b: 'bool' }, [
    [{ b: null }, true],
    [{ b: 't' }, false],
  ]),
  C(
    'tenant = $1',
    { tenant: 'int8' },
    [
      [{ tenant: '42' }, true],
      [{ tenant: '43' }, false],
    ],
    { '1': '42' },
  ),
  C('NOT (a = 1 AND b = 2)', { a: 'int4', b: 'int4' }, [
    [{ a: '1', b: null }, null],
    [{ a: '2', b: null }, true],
  ]),
  C("tags && '{a,b}'", { tags: 'text[]' }, [
    [{ tags: '{b,c}' }, true],
    [{ tags: '{}' }, false],
  ]),
  C("lower(email) = 'x@y.com'", { email: 'text' }, [[{ email: 'X@Y.com' }, true]]),
  C("email ILIKE 'ab%'", { email: 'varchar' }, [
    [{ email: 'ABC' }, true],
    [{ email: 'xab' }, false],
  ]),
];

describe('where-language conformance', () => {
  for (const c of cases) {
    it(c.where, () => {
      const p = compileWhere(c.where, c.columns, c.params ? { params: c.params } : {});
      for (const [row, expected] of c.rows) {
        expect(p.evaluate(row), `compiled ${JSON.stringify(row)}`).toBe(expected);
        expect(p.interpret(row), `interpreted ${JSON.stringify(row)}`).toBe(expected);
        expect(p.matches(row)).toBe(expected === true);
      }
    });
  }
});

function rejects(
  where: string,
  columns: Record<string, string>,
  code: ErrorCode,
  offending?: string,
  params?: Record<string, string>,
): void {
  let err: unknown;
  try {
    compileWhere(where, columns, params ? { params } : {});
  } catch (e) {
    err = e;
  }
  expect(err, `${where} should be rejected`).toBeInstanceOf(WhereError);
  const w = err as WhereError;
  expect(w.code, w.message).toBe(code);
  if (offending !== undefined) {
    expect(w.position, w.message).toBeDefined();
    expect(where.slice(w.position as number)).toMatch(
      new RegExp('^' + offending.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
    );
  }
}

describe('rejections (§8.1)', () => {
  const cols = { id: 'int4', price: 'numeric', name: 'text', b: 'bool', arr: 'int4[]', d: 'date', addr: 'inet' };
  it('syntax', () => rejects('id = = 1', cols, ErrorCode.Syntax, '= 1'));
  it('extra clause', () => {
    rejects('true ORDER BY 1', cols, ErrorCode.ExtraClause);
    rejects('1=1; DROP TABLE x', cols, ErrorCode.ExtraClause);
    rejects('true UNION SELECT 2', cols, ErrorCode.ExtraClause);
  });
  it('too large', () => rejects('id = 1 OR '.repeat(7000) + 'true', cols, ErrorCode.TooLarge));
  it('unknown column with hint', () => {
    rejects('pricee > 1', cols, ErrorCode.UnknownColumn, 'pricee');
    expect(() => compileWhere('pricee > 1', cols)).toThrow('unknown column "pricee" (did you mean "price"?)');
  });
  it('identifier too long', () => rejects(`${'x'.repeat(64)} = 1`, cols, ErrorCode.IdentifierTooLong));
  it('unknown function', () => {
    rejects('now() > d', cols, ErrorCode.UnknownFunction, 'now');
    rejects('random() > 0.5', cols, ErrorCode.UnknownFunction, 'random');
    rejects('foo(1)', cols, ErrorCode.UnknownFunction, 'foo');
    rejects('concat() = name', cols, ErrorCode.UnknownFunction, 'concat');
  });
  it('no operator', () => rejects('name > 1', cols, ErrorCode.NoOperator, '>'));
  it('not boolean', () => rejects('id + 1', cols, ErrorCode.NotBoolean));
  it('invalid literal', () => {
    rejects("id = 'test'", cols, ErrorCode.InvalidLiteral, "'test'");
    rejects("b = 'o'", cols, ErrorCode.InvalidLiteral, "'o'");
    rejects("d = 'today'", cols, ErrorCode.NotSupported, "'today'");
  });
  it('constant errors', () => {
    rejects('id = 1/0', cols, ErrorCode.ConstantError);
    rejects('id = 2147483647 + 1', cols, ErrorCode.ConstantError);
  });
  it('params', () => {
    rejects('id = $2', cols, ErrorCode.ParamMissing, '$2', { '1': '1' });
    rejects('id = $1 AND d = $1', cols, ErrorCode.ParamConflict, '$1', { '1': '1' });
    rejects('id = $1', cols, ErrorCode.InvalidLiteral, '$1', { '1': 'x' });
  });
  it('not supported', () => {
    rejects('EXISTS (SELECT 1)', cols, ErrorCode.NotSupported);
    rejects('id IN (SELECT 1)', cols, ErrorCode.NotSupported);
    rejects('id = (SELECT 1)', cols, ErrorCode.NotSupported);
    rejects('CASE WHEN b THEN true END', cols, ErrorCode.NotSupported);
    rejects('count(*) > 1', cols, ErrorCode.NotSupported);
    rejects("name SIMILAR TO 'a'", cols, ErrorCode.NotSupported);
    rejects("name ~ 'a'", cols, ErrorCode.NotSupported);
    rejects('arr < arr', cols, ErrorCode.NotSupported);
    rejects("addr = '1.2.3.4'", cols, ErrorCode.NotSupported, 'addr');
    rejects('ROW(id, id) IS NULL', cols, ErrorCode.NotSupported);
  });
  it('type mismatch', () => {
    rejects('id = ANY(id)', cols, ErrorCode.TypeMismatch);
    rejects('id IS TRUE', cols, ErrorCode.TypeMismatch);
  });
  it('LIKE pattern ending in escape', () => rejects("name LIKE 'ab\\'", cols, ErrorCode.InvalidLiteral));
  it('opaque types allow IS NULL', () => {
    const p = compileWhere('addr IS NULL', cols);
    expect(p.matches({ addr: null })).toBe(true);
    expect(p.matches({ addr: '1.2.3.4' })).toBe(false);
  });
});

describe('normalization and rendering', () => {
  it('flips const op col and pushes NOT inward', () => {
    const p = compileWhere('NOT (5 < id)', { id: 'int4' });
    expect(p.sql).toBe('(id <= 5)');
  });
  it('renders text ordering with COLLATE "C"', () => {
    expect(compileWhere("name < 'a'", { name: 'text' }).sql).toBe(`((name COLLATE "C") < 'a')`);
  });
  it('reports referenced columns', () => {
    expect(compileWhere('a = 1 AND (b > 2 OR a < 0)', { a: 'int4', b: 'int4', c: 'int4' }).columns).toEqual(['a', 'b']);
  });
  it('qualified columns', () => {
    const p = compileWhere(
      'items.id = 1 AND public.items.id > 0',
      { id: 'int4' },
      { table: { schema: 'public', name: 'items' } },
    );
    expect(p.matches({ id: '1' })).toBe(true);
    expect(() => compileWhere('other.id = 1', { id: 'int4' }, { table: { schema: 'public', name: 'items' } })).toThrow(
      WhereError,
    );
  });
  it('positions of non-ASCII clauses are character offsets', () => {
    try {
      compileWhere("name = 'é' AND nmae = 1", { name: 'text' });
    } catch (e) {
      expect((e as WhereError).position).toBe(15);
    }
  });
  it('syntax error positions of non-ASCII clauses are character offsets too (the parser counts characters)', () => {
    for (const [clause, at] of [
      ['é x 1', 2],
      ["name = 'é' x", 11],
      ["name = '😀' x", 12],
    ] as const) {
      expect(() => compileWhere(clause, { name: 'text' }), clause).toThrow(WhereError);
      try {
        compileWhere(clause, { name: 'text' });
      } catch (e) {
        expect((e as WhereError).position, clause).toBe(at);
        expect(clause.slice(at).startsWith('x'), clause).toBe(true);
      }
    }
  });
});

describe('hostile clauses', () => {
  it('deep nesting is a clear rejection, not a stack overflow', () => {
    rejects('NOT '.repeat(3000) + 'id = 1', { id: 'int4' }, ErrorCode.TooLarge);
    rejects(Array.from({ length: 3000 }, () => 'id').join(' + ') + ' > 1', { id: 'int4' }, ErrorCode.TooLarge);
    rejects('('.repeat(30000) + 'id = 1' + ')'.repeat(30000), { id: 'int4' }, ErrorCode.TooLarge);
  });
  it('long flat OR lists compile', () => {
    const p = compileWhere(Array.from({ length: 2000 }, (_, i) => `id = ${i}`).join(' OR '), { id: 'int4' });
    expect(p.matches({ id: '1999' })).toBe(true);
    expect(p.matches({ id: '2000' })).toBe(false);
  });
});
