// Subset snapshot parameters (shape-protocol.md §9): ORDER BY parsing, GET/POST forms, bounds, structured trees.
import { describe, expect, it } from 'vitest';
import type { FieldErrors } from '../../src/http/params.js';
import {
  MAX_EXPR_DEPTH,
  MAX_SUBSET_LIMIT,
  hasSubsetParams,
  parseSubset,
  subsetFromBody,
  subsetFromQuery,
  whereFromExpr,
} from '../../src/http/subset-params.js';
import { parseOrderBy, unknownOrderColumn } from '../../src/sql/order-by.js';

describe('parseOrderBy', () => {
  it.each([
    ['id', [{ column: 'id', direction: 'asc' }]],
    ['Title DESC', [{ column: 'title', direction: 'desc' }]],
    [
      '"Title" desc nulls first, id',
      [
        { column: 'Title', direction: 'desc', nulls: 'first' },
        { column: 'id', direction: 'asc' },
      ],
    ],
    [
      '  a ASC NULLS LAST ,b  ',
      [
        { column: 'a', direction: 'asc', nulls: 'last' },
        { column: 'b', direction: 'asc' },
      ],
    ],
    ['"a,b" nulls first', [{ column: 'a,b', direction: 'asc', nulls: 'first' }]],
    ['"say ""hi"""', [{ column: 'say "hi"', direction: 'asc' }]],
  ])('%s', (text, items) => {
    expect(parseOrderBy(text)).toEqual({ ok: true, items });
  });

  it.each([
    ['', 'expected a column name', 0],
    ['id,', 'expected a column name', 3],
    ['id; DROP TABLE t', 'only column names', 2],
    ['lower(id)', 'only column names', 5],
    ['1', 'expected a column name', 0],
    ['id DESC NULLS', 'FIRST or LAST', 13],
    ['id ASCENDING', 'only column names', 3],
    ['id COLLATE "C"', 'only column names', 3],
    ['"id', 'unterminated', 0],
    ['""', 'zero-length', 0],
    [`${'x'.repeat(64)}`, 'exceeds 63 bytes', 0],
  ])('%j → error', (text, message, position) => {
    const r = parseOrderBy(text);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.message).toContain(message);
      expect(r.position).toBe(position);
    }
  });

  it('refuses more than 64 items and names unknown columns with a hint', () => {
    expect(parseOrderBy(Array(65).fill('a').join(',')).ok).toBe(false);
    expect(parseOrderBy(Array(64).fill('a').join(',')).ok).toBe(true);
    expect(unknownOrderColumn([{ column: 'titl', direction: 'asc' }], ['id', 'title'])).toMatch(/did you mean "title"/);
    expect(unknownOrderColumn([{ column: 'id', direction: 'asc' }], ['id'])).toBeUndefined();
  });
});

function parsed(raw: Parameters<typeof parseSubset>[0]): {
  subset: ReturnType<typeof parseSubset>;
  errors: FieldErrors;
} {
  const errors: FieldErrors = {};
  return { subset: parseSubset(raw, errors), errors };
}

describe('subset parameters', () => {
  it('GET: subset__ keys, params as JSON or params[n], JSON trees; other keys ignored', () => {
    const q = new URLSearchParams(
      'table=t&subset__where=a%20%3D%20%241&subset__params=%7B%221%22%3A%22x%22%7D&subset__params[2]=y&subset__limit=5&subset__order_by=a&subset__order_by_expr=%5B%5D&subset__bogus=1',
    );
    expect(hasSubsetParams(q)).toBe(true);
    expect(hasSubsetParams(new URLSearchParams('table=t&offset=-1'))).toBe(false);
    const errors: FieldErrors = {};
    expect(subsetFromQuery(q, errors)).toEqual({
      where: 'a = $1',
      params: { '1': 'x', '2': 'y' },
      limit: '5',
      order_by: 'a',
      order_by_expr: [],
    });
    expect(errors).toEqual({});
    expect(parsed(subsetFromQuery(q, {})).subset).toEqual({
      where: 'a = $1',
      params: { '1': 'x', '2': 'y' },
      orderBy: [{ column: 'a', direction: 'asc' }],
      limit: 5,
    });
  });

  it('POST: top-level or nested subset keys; other keys become shape parameters', () => {
    const errors: FieldErrors = {};
    expect(subsetFromBody({ where: 'a', table: 't', offset: -1, live: false }, errors)).toEqual({
      subset: { where: 'a', offset: -1 },
      others: { table: 't', live: 'false' },
    });
    expect(subsetFromBody({ subset: { limit: 3, junk: 1 }, columns: 'id' }, errors)).toEqual({
      subset: { limit: 3 },
      others: { columns: 'id' },
    });
    expect(errors).toEqual({});
    subsetFromBody({ table: { x: 1 } }, errors);
    expect(errors['body']).toBeDefined();
  });

  it('params: numbers and booleans as text, flat arrays as Postgres array literals, anything else refused', () => {
    expect(parsed({ params: { '1': 5, '2': true, '3': ['a', 'b"c', null, 2] } }).subset.params).toEqual({
      '1': '5',
      '2': 'true',
      '3': '{"a","b\\"c",NULL,"2"}',
    });
    for (const bad of [{ '1': { x: 1 } }, { '1': [[1]] }, { '1': null }, { x: '1' }, { '0': '1' }, [1], 'str']) {
      expect(parsed({ params: bad }).errors['subset__params'], JSON.stringify(bad)).toBeDefined();
    }
    expect(parsed({ params: { '1': 'a\u0000' } }).errors['subset__params']).toBeDefined();
  });

  it('limit and offset are bounded integers and need an order', () => {
    expect(parsed({ limit: 1, order_by: 'id' }).errors).toEqual({});
    expect(parsed({ limit: MAX_SUBSET_LIMIT, offset: 0, order_by: 'id' }).errors).toEqual({});
    for (const limit of [0, -1, 1.5, MAX_SUBSET_LIMIT + 1, '1e3', 'x', true]) {
      expect(parsed({ limit, order_by: 'id' }).errors['subset__limit'], String(limit)).toBeDefined();
    }
    expect(parsed({ offset: -1, order_by: 'id' }).errors['subset__offset']).toBeDefined();
    expect(parsed({ limit: 5 }).errors['subset__order_by']![0]).toMatch(/required when limit/);
    expect(parsed({ offset: 5 }).errors['subset__order_by']![0]).toMatch(/required when limit/);
    expect(parsed({ limit: 5, order_by_expr: [{ column: 'id' }] }).errors).toEqual({});
  });

  it('where: a string (preferred over where_expr), bounded, no NUL', () => {
    expect(parsed({ where: 'a = 1', where_expr: { type: 'ref', column: 'b' } }).subset.where).toBe('a = 1');
    expect(parsed({ where: 5 }).errors['subset__where']).toBeDefined();
    expect(parsed({ where: `a = '${'x'.repeat(70_000)}'` }).errors['subset__where']![0]).toMatch(/too large/);
    expect(parsed({ where: 'a = 1\u0000' }).errors['subset__where']![0]).toMatch(/0x00/);
  });
});

describe('whereFromExpr (the client expression trees)', () => {
  const ref = (column: string) => ({ type: 'ref', column });
  const val = (paramIndex: number) => ({ type: 'val', paramIndex });
  const fn = (name: string, ...args: unknown[]) => ({ type: 'func', name, args });

  it('renders every function the client compiles, quoting names', () => {
    expect(whereFromExpr(fn('eq', ref('a"b'), val(1)))).toBe('("a""b") = ($1)');
    expect(whereFromExpr(fn('and', fn('gt', ref('n'), val(1)), fn('not', fn('isNull', ref('t')))))).toBe(
      '(("n") > ($1)) AND (NOT (("t") IS NULL))',
    );
    expect(whereFromExpr(fn('in', ref('g'), val(2)))).toBe('("g") = ANY($2)');
    expect(whereFromExpr(fn('ilike', fn('lower', ref('t')), val(1)))).toBe('(lower("t")) ILIKE ($1)');
    expect(whereFromExpr(fn('coalesce', ref('a'), ref('b')))).toBe('coalesce("a", "b")');
  });

  it('refuses unknown nodes and functions, bad arity and excessive depth', () => {
    for (const bad of [
      null,
      [],
      { type: 'sql', text: '1=1' },
      fn('exec'),
      fn('eq', ref('a')),
      fn('not'),
      { type: 'ref', column: '' },
      { type: 'val', paramIndex: 0 },
      { type: 'val', paramIndex: 1.5 },
      { type: 'func', name: 'eq', args: 'x' },
    ]) {
      expect(() => whereFromExpr(bad), JSON.stringify(bad)).toThrow();
    }
    let deep: unknown = ref('a');
    for (let i = 0; i <= MAX_EXPR_DEPTH + 1; i++) deep = fn('not', deep);
    expect(() => whereFromExpr(deep)).toThrow(/deeper/);
    expect(parsed({ where_expr: fn('exec') }).errors['subset__where_expr']![0]).toMatch(/unknown function/);
  });
});
