// Enum columns in the library: declaring them in the column map, declared-order comparisons, routing, and errors.
import { describe, expect, it } from 'vitest';
import { compileWhere, enumTypeName, ErrorCode, Router, WhereError } from '../../src/index.js';
import { parseTypeName } from '../../src/sql/type-names.js';
import { typeDisplayName } from '../../src/values/types.js';

const LABELS = ['low', 'medium', 'high', "it's", 'a,b'];
const cols = { id: 'int4', p: enumTypeName('priority', LABELS), ps: `${enumTypeName('priority', LABELS)}[]` };

describe('enum type names', () => {
  it('round-trips labels with quotes, commas and spaces, and keeps the declared order', () => {
    expect(enumTypeName('priority', ['a', "it's", 'x, y'])).toBe(`enum priority ('a', 'it''s', 'x, y')`);
    const t = parseTypeName(cols.p);
    expect(t.scalar).toBe('enum');
    expect(t.enumType?.labels).toEqual(LABELS);
    expect(typeDisplayName(t)).toBe('priority');
    expect(typeDisplayName(parseTypeName(cols.ps))).toBe('priority[]');
    expect(parseTypeName(cols.p)).toBe(t); // interned
  });

  it('rejects malformed declarations with unknown_type', () => {
    for (const bad of ["enum ('a')", "enum x ('a'", 'enum x (a)', "enum x ('a', 'a')", "enum x ('a') junk"]) {
      let err: unknown;
      try {
        compileWhere('id = 1', { id: 'int4', x: bad });
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(WhereError);
      expect((err as WhereError).code, bad).toBe(ErrorCode.UnknownType);
    }
  });
});

describe('enum comparisons', () => {
  const verdicts = (where: string): (boolean | null)[] => {
    const p = compileWhere(where, cols);
    return [...LABELS, null].map((v) => p.evaluate({ id: '1', p: v, ps: '{low,"a,b"}' }));
  };

  it('order is the declared order, not alphabetical', () => {
    expect(verdicts("p > 'medium'")).toEqual([false, false, true, true, true, null]);
    expect(verdicts("p <= 'low'")).toEqual([true, false, false, false, false, null]);
  });

  it('=, <>, IN, IS [NOT] DISTINCT FROM, ANY over enum arrays', () => {
    expect(verdicts("p = 'it''s'")).toEqual([false, false, false, true, false, null]);
    expect(verdicts("p <> 'low'")).toEqual([false, true, true, true, true, null]);
    expect(verdicts("p IN ('low', 'a,b')")).toEqual([true, false, false, false, true, null]);
    expect(verdicts("p IS DISTINCT FROM 'low'")).toEqual([false, true, true, true, true, true]);
    expect(verdicts('p IS NOT DISTINCT FROM NULL')).toEqual([false, false, false, false, false, true]);
    expect(verdicts('p = ANY (ps)')).toEqual([true, false, false, false, true, null]);
  });

  it("renders SQL Postgres reads back: literals cast to the enum's name", () => {
    expect(compileWhere("p IN ('low', 'high')", cols).sql).toBe("(p IN ('low'::priority, 'high'::priority))");
  });

  it("unknown labels and other types are Postgres's errors", () => {
    const fail = (where: string): [string, string] => {
      try {
        compileWhere(where, cols);
      } catch (e) {
        return [(e as WhereError).code, (e as Error).message];
      }
      throw new Error('compiled');
    };
    expect(fail("p = 'Low'")).toEqual([ErrorCode.InvalidLiteral, 'invalid input value for enum priority: "Low"']);
    expect(fail('p = 1')[1]).toBe('operator does not exist: priority = integer');
    expect(fail("p = 'low'::text")[1]).toBe('operator does not exist: priority = text');
  });

  it('the router routes enum shapes exactly (equality, order, IN)', () => {
    const r = new Router({ schema: { t: cols } });
    r.addShape('eq', { table: 't', where: "p = 'high'" });
    r.addShape('gt', { table: 't', where: "p > 'medium'" });
    r.addShape('in', { table: 't', where: "p IN ('low', 'it''s')" });
    const route = (p: string): string[] =>
      r.route({ table: 't', op: 'insert', record: { id: '1', p, ps: null } }).sort();
    expect(route('low')).toEqual(['in']);
    expect(route('medium')).toEqual([]);
    expect(route('high')).toEqual(['eq', 'gt']);
    expect(route("it's")).toEqual(['gt', 'in']);
  });
});
