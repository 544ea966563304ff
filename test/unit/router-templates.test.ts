// Shape families: clauses differing only in `$n` values reuse one analysed tree; results equal a full compile.
import { describe, it, expect } from 'vitest';
import { Router } from '../../src/router/index.js';
import { WhereError } from '../../src/errors/index.js';

const COLS = {
  i: 'int4',
  b: 'int8',
  n: 'numeric',
  s: 'text',
  u: 'uuid',
  flag: 'bool',
  d: 'date',
  tags: 'text[]',
  c: 'char(3)',
  vc: 'varchar(4)',
};

const CASES: { where: string; params: string[]; rows: Record<string, string | null>[] }[] = [
  {
    where: 'i = $1',
    params: ['1', '2', '+3', ' 4'],
    rows: [{ i: '1' }, { i: '2' }, { i: '3' }, { i: '4' }, { i: '5' }],
  },
  {
    where: 'b > $1 AND b < $2',
    params: ['1', '9007199254740993'],
    rows: [{ b: '5' }, { b: '9007199254740992' }, { b: '9007199254740993' }],
  },
  { where: 'n = $1', params: ['1.0', '2.50', 'NaN'], rows: [{ n: '1' }, { n: '2.5' }, { n: 'NaN' }, { n: '3' }] },
  {
    where: 's = $1 OR s LIKE $2',
    params: ['x', 'a%', 'y', 'b_'],
    rows: [{ s: 'x' }, { s: 'abc' }, { s: 'y' }, { s: 'bc' }, { s: 'b' }],
  },
  {
    where: 'u = $1',
    params: ['550E8400-E29B-41D4-A716-446655440000', '{550e8400-e29b-41d4-a716-446655440001}'],
    rows: [{ u: '550e8400-e29b-41d4-a716-446655440000' }, { u: '550e8400-e29b-41d4-a716-446655440001' }],
  },
  { where: 'flag = $1', params: ['true', 'f', 'yes', 'off'], rows: [{ flag: 't' }, { flag: 'f' }, { flag: null }] },
  {
    where: 'd BETWEEN $1 AND $2',
    params: ['2024-01-01', '2024-01-31', '2024-02-01', '2024-02-29'],
    rows: [{ d: '2024-01-15' }, { d: '2024-02-29' }, { d: '2024-03-01' }],
  },
  {
    where: 'tags @> $1',
    params: ['{a}', '{b,c}', '{}'],
    rows: [{ tags: '{a}' }, { tags: '{c,b}' }, { tags: '{}' }, { tags: null }],
  },
  { where: 'i IN ($1, $2)', params: ['1', '1', '2', '3'], rows: [{ i: '1' }, { i: '2' }, { i: '3' }] },
  { where: 'c = $1', params: ['ab', 'ab ', 'abc'], rows: [{ c: 'ab ' }, { c: 'abc' }] },
  { where: 'vc = $1', params: ['abcd', 'ab'], rows: [{ vc: 'abcd' }, { vc: 'ab' }] },
  { where: 'lower(s) = $1', params: ['ab', 'AB'], rows: [{ s: 'Ab' }, { s: 'ab' }] },
  {
    where: 's ILIKE $1',
    params: ['ab%', 'X\\_y%', '%z', 'q'],
    rows: [{ s: 'ABc' }, { s: 'x_Y1' }, { s: 'xay' }, { s: 'zz' }, { s: 'Q' }],
  },
  { where: "s LIKE $1 ESCAPE '#'", params: ['a#%%', 'b\\%'], rows: [{ s: 'a%1' }, { s: 'ab' }, { s: 'b\\x' }] },
];

describe('shape families ($n templates)', () => {
  for (const c of CASES) {
    it(`${c.where} routes like inline literals`, () => {
      const nParams = (c.where.match(/\$\d/g) ?? []).length;
      const withParams = new Router({ schema: { t: COLS } });
      const inline = new Router({ schema: { t: COLS } });
      for (let k = 0; k + nParams <= c.params.length; k += nParams) {
        const vals = c.params.slice(k, k + nParams);
        const params = Object.fromEntries(vals.map((v, j) => [String(j + 1), v]));
        const id = `s${k}`;
        let err1: unknown;
        let err2: unknown;
        try {
          withParams.addShape(id, { table: 't', where: c.where, params });
        } catch (e) {
          err1 = e;
        }
        // The same clause with the values inlined as untyped literals (what `$n` means).
        const lit = c.where.replace(/\$(\d)/g, (_, n: string) => `'${(params[n] as string).replace(/'/g, "''")}'`);
        try {
          inline.addShape(id, { table: 't', where: lit });
        } catch (e) {
          err2 = e;
        }
        expect(err1 === undefined, `${c.where} ${JSON.stringify(params)}`).toBe(err2 === undefined);
      }
      for (const row of c.rows) {
        expect(withParams.route({ table: 't', op: 'insert', record: row }).sort(), JSON.stringify(row)).toEqual(
          inline.route({ table: 't', op: 'insert', record: row }).sort(),
        );
      }
    });
  }

  it('reports invalid and missing parameters like a full compile', () => {
    const r = new Router({ schema: { t: COLS } });
    r.addShape('a', { table: 't', where: 'i = $1', params: { '1': '1' } });
    expect(() => r.addShape('b', { table: 't', where: 'i = $1', params: { '1': 'x' } })).toThrow(WhereError);
    expect(() => r.addShape('c', { table: 't', where: 'i = $1', params: {} })).toThrow(WhereError);
    expect(() => r.addShape('d', { table: 't', where: 'i = $1', params: { '1': '5000000000' } })).toThrow(WhereError);
    expect(r.shapeCount).toBe(1);
    r.addShape('l1', { table: 't', where: 's LIKE $1', params: { '1': 'a%' } });
    expect(() => r.addShape('l2', { table: 't', where: 's LIKE $1', params: { '1': 'ab\\' } })).toThrow(WhereError);
    expect(r.shapeCount).toBe(2);
  });
});
