// Index routing keeps Postgres semantics per type: every case below was checked against Postgres 15 (answer pinned).
import { describe, it, expect } from 'vitest';
import { Router } from '../../src/router/index.js';
import type { RouterMode } from '../../src/router/index.js';

const SCHEMA = {
  t: {
    i4: 'int4',
    i8: 'int8',
    n: 'numeric',
    f8: 'float8',
    f4: 'float4',
    s: 'text',
    vc: 'varchar(20)',
    c5: 'char(5)',
    u: 'uuid',
    b: 'bool',
    d: 'date',
    ts: 'timestamptz',
    iv: 'interval',
    arr: 'text[]',
    email: 'text',
  },
};

/** `where` routes exactly the `yes` values of `col` (each record sets only that column). */
function check(mode: RouterMode, where: string, col: string, yes: (string | null)[], no: (string | null)[]): void {
  const r = new Router({ schema: SCHEMA, mode });
  r.addShape('s', { table: 't', where });
  for (const v of yes)
    expect(r.route({ table: 't', op: 'insert', record: { [col]: v } }), `${where} | ${v}`).toEqual(['s']);
  for (const v of no)
    expect(r.route({ table: 't', op: 'insert', record: { [col]: v } }), `${where} | ${v}`).toEqual([]);
}

for (const mode of ['indexed', 'filter'] as const) {
  describe(`typed routing (${mode})`, () => {
    it('integers: exact int8, cross-type constants', () => {
      check(mode, 'i8 = 9007199254740993', 'i8', ['9007199254740993'], ['9007199254740992', null]);
      check(mode, 'i4 = 5000000000', 'i4', [], ['5', '705032704']);
      check(mode, 'i4 = 2.5', 'i4', [], ['2', '3']);
      check(mode, 'i4 IN (1, NULL, 3)', 'i4', ['1', '3'], ['2', null]);
      check(mode, 'i4 NOT IN (1, NULL)', 'i4', [], ['2', '1']);
      check(mode, 'i4 IS NULL', 'i4', [null], ['0']);
    });

    it('numeric: exact decimal equality and order (1.0 = 1.00, NaN highest)', () => {
      check(mode, 'n = 1', 'n', ['1.00', '1', '1.0'], ['1.01', 'NaN']);
      check(mode, 'n = 0.1 + 0.2', 'n', ['0.3'], ['0.30000000000000004']);
      check(
        mode,
        'n > 12345678901234567890.1',
        'n',
        ['12345678901234567890.2', 'NaN', 'Infinity'],
        ['12345678901234567890.1', '-Infinity'],
      );
    });

    it('floats: NaN = NaN, NaN above Infinity, -0 = 0, float4 0.1 <> 0.1', () => {
      check(mode, "f8 = 'NaN'", 'f8', ['NaN'], ['Infinity', '0']);
      check(mode, "f8 > 'Infinity'", 'f8', ['NaN'], ['Infinity', '1e+308']);
      check(mode, 'f8 = 0', 'f8', ['0', '-0'], ['1e-05']);
      check(mode, 'f8 >= 0 AND f8 < 1', 'f8', ['-0', '0', '0.5'], ['1', 'NaN', '-1e-05']);
      check(mode, 'f4 = 0.1', 'f4', [], ['0.1']);
    });

    it('text: code-point order, varchar, bpchar trailing spaces, LIKE sees the padding', () => {
      check(mode, "s < 'a'", 's', ['B', 'Z'], ['b', 'a']);
      check(mode, "s > U&'\\FFFD'", 's', ['😀'], ['\uE000']);
      check(mode, "vc = 'abc'", 'vc', ['abc'], ['abc ', 'ABC']);
      check(mode, "c5 = 'abc'", 'c5', ['abc  '], ['abcd ']);
      check(mode, "c5 LIKE 'abc'", 'c5', [], ['abc  ']);
      check(mode, "c5 LIKE 'abc%'", 'c5', ['abc  ', 'abcd '], ['ab   ']);
    });

    it('LIKE / ILIKE prefixes with escapes', () => {
      check(mode, "s LIKE 'ab%'", 's', ['ab', 'abc', 'ab%'], ['a', 'Ab', 'xab']);
      check(mode, "s LIKE 'a\\_c%'", 's', ['a_c', 'a_cd'], ['abc']);
      check(mode, "s LIKE 'a#%c' ESCAPE '#'", 's', ['a%c'], ['abc', 'a%cd']);
      check(mode, "s LIKE 'ab_d%'", 's', ['abxd', 'abxdz'], ['abd', 'abxe']);
      check(mode, "s ILIKE 'Ab%'", 's', ['ab', 'AB', 'aBc'], ['a', 'xab']);
      check(mode, "s ILIKE 'é%'", 's', ['é', 'éa'], ['É']);
    });

    it('uuid in any input case; bool columns; IS TRUE / NOT', () => {
      check(
        mode,
        "u = '550E8400-E29B-41D4-A716-446655440000'",
        'u',
        ['550e8400-e29b-41d4-a716-446655440000'],
        ['550e8400-e29b-41d4-a716-446655440001'],
      );
      check(mode, 'b', 'b', ['t'], ['f', null]);
      check(mode, 'NOT b', 'b', ['f'], ['t', null]);
      check(mode, 'b IS FALSE', 'b', ['f'], ['t', null]);
      check(mode, 'b = false', 'b', ['f'], ['t', null]);
    });

    it('date/time: microseconds kept, intervals by normalised span', () => {
      check(
        mode,
        "ts > '2024-01-02 03:04:05.120001+02'",
        'ts',
        ['2024-01-02 01:04:05.120002+00'],
        ['2024-01-02 01:04:05.120001+00'],
      );
      check(mode, "ts = '2024-01-02 03:04:05+02'", 'ts', ['2024-01-02 01:04:05+00'], ['2024-01-02 03:04:05+00']);
      check(mode, "iv = '1 day'", 'iv', ['PT24H', 'P1D'], ['PT23H']);
      check(
        mode,
        "d BETWEEN '2024-01-01' AND '2024-01-31'",
        'd',
        ['2024-01-01', '2024-01-31'],
        ['2023-12-31', '2024-02-01', 'infinity'],
      );
    });

    it('expression keys: lower(email), col + 1, casts', () => {
      check(mode, "lower(email) = 'a@b.c'", 'email', ['A@B.c', 'a@b.c'], ['a@b.d', null]);
      check(mode, 'i4 + 1 = 5', 'i4', ['4'], ['5']);
      check(mode, "i4::text = '7'", 'i4', ['7'], ['70']);
    });

    it('arrays: && and <@ with NULL elements', () => {
      check(mode, "arr && '{a,b}'", 'arr', ['{a}', '{x,b}'], ['{}', '{x}', null, '{NULL}']);
      check(mode, "arr <@ '{a,b}'", 'arr', ['{}', '{a}', '{b,a,a}'], ['{a,NULL}', '{c}', '{a,c}', null]);
      check(mode, "arr && '{}'", 'arr', [], ['{a}', '{}']);
      check(mode, "'a' = ANY(arr)", 'arr', ['{a}', '{b,a}', '{NULL,a}'], ['{b}', '{NULL}', null]);
    });
  });
}
