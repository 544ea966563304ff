// Conformance cases 1–37 and 43–44 of where-language.md §10.1 (Electric's filter tests), in both router modes.
import { describe, it, expect } from 'vitest';
import { Router } from '../../src/router/index.js';
import type { Change, RouterMode, RowRecord } from '../../src/router/index.js';

const COLS = { id: 'int8', number: 'int8', an_array: 'int8[]' };
const SCHEMA = { t1: COLS, t2: COLS };

type Row = { id?: string | null; number?: string | null; an_array?: string | null };
const rec = (r: Row): RowRecord => ({ id: null, number: null, an_array: null, ...r });
const ins = (r: Row, table = 't1'): Change => ({ table, op: 'insert', record: rec(r) });
const sorted = (xs: string[]): string[] => [...xs].sort();

function routerWith(mode: RouterMode, shapes: Record<string, { table?: string; where?: string }>): Router {
  const r = new Router({ schema: SCHEMA, mode });
  for (const [id, s] of Object.entries(shapes))
    r.addShape(id, { table: s.table ?? 't1', ...(s.where !== undefined ? { where: s.where } : {}) });
  return r;
}

/** One shape, rows that must route to it and rows that must not. */
function yesNo(mode: RouterMode, where: string, yes: Row[], no: Row[]): void {
  const r = routerWith(mode, { s: { where } });
  for (const row of yes) expect(r.route(ins(row)), `${where} ${JSON.stringify(row)}`).toEqual(['s']);
  for (const row of no) expect(r.route(ins(row)), `${where} ${JSON.stringify(row)}`).toEqual([]);
}

const pair = (id: string | null, number: string | null): Row => ({ id, number });
const arr = (a: string | null, id: string | null = null): Row => ({ an_array: a, id });

for (const mode of ['indexed', 'filter'] as const) {
  describe(`§10.1 routing conformance (${mode})`, () => {
    it('#1–2 equality either way round', () => {
      for (const w of ['id = 7', '7 = id']) yesNo(mode, w, [{ id: '7' }], [{ id: '8' }, { id: null }]);
    });

    it('#3–5 insert, delete and update across tables', () => {
      const r = routerWith(mode, {
        a: { where: 'id = 1' },
        b: { where: 'id = 2' },
        c: { where: 'id = 3' },
        d: { table: 't2', where: 'id = 2' },
      });
      expect(r.route(ins({ id: '2' }))).toEqual(['b']);
      expect(r.route({ table: 't1', op: 'delete', oldRecord: rec({ id: '2' }) })).toEqual(['b']);
      expect(
        sorted(r.route({ table: 't1', op: 'update', oldRecord: rec({ id: '3' }), record: rec({ id: '2' }) })),
      ).toEqual(['b', 'c']);
    });

    it('#6–7 no where clause; other tables never match', () => {
      const r = routerWith(mode, { all: {}, seven: { where: 'id = 7' } });
      expect(sorted(r.route(ins({ id: '7' })))).toEqual(['all', 'seven']);
      expect(r.route(ins({ id: '7' }, 't2'))).toEqual([]);
    });

    it('#8 uuid equality', () => {
      const r = new Router({ schema: { u: { id: 'uuid' } }, mode });
      r.addShape('s', { table: 'u', where: "id = '550e8400-e29b-41d4-a716-446655440000'" });
      expect(r.route({ table: 'u', op: 'insert', record: { id: '550e8400-e29b-41d4-a716-446655440000' } })).toEqual([
        's',
      ]);
      expect(r.route({ table: 'u', op: 'insert', record: { id: '550e8400-e29b-41d4-a716-446655440001' } })).toEqual([]);
    });

    it('#9 an undecodable value fails open to every shape of its table', () => {
      const r = routerWith(mode, {
        none: {},
        a: { where: 'id = 7' },
        b: { where: 'id = 8' },
        c: { where: 'id > 9' },
        other: { table: 't2' },
      });
      expect(sorted(r.route(ins({ id: 'invalid_value' })))).toEqual(['a', 'b', 'c', 'none']);
      expect(r.stats().counters.failOpen).toBeGreaterThan(0);
    });

    it('#9b fail-open also with equality shapes only (raw-text lookup still validates)', () => {
      const r = routerWith(mode, { a: { where: 'id = 7' }, b: { where: 'id = 8' } });
      expect(sorted(r.route(ins({ id: 'invalid_value' })))).toEqual(['a', 'b']);
    });

    it('#10–13 equality with a range on the same column', () => {
      yesNo(mode, 'id = 7 AND id > 1', [{ id: '7' }], [{ id: '8' }]);
      yesNo(mode, 'id = 7 AND id > 8', [], [{ id: '7' }]);
      yesNo(mode, 'id > 1 AND id = 7', [{ id: '7' }], [{ id: '8' }]);
      yesNo(mode, 'id > 8 AND id = 7', [], [{ id: '7' }]);
    });

    it('#14–15 equality with a two-sided range', () => {
      yesNo(
        mode,
        'id = 7 AND number > 3 AND number < 10',
        [pair('7', '5'), pair('7', '9')],
        [pair('7', '3'), pair('7', '10'), pair('8', '5'), pair(null, '5')],
      );
      yesNo(
        mode,
        'id > 5 AND id < 10 AND number = 7',
        [pair('7', '7'), pair('9', '7')],
        [pair('5', '7'), pair('10', '7'), pair('7', '8')],
      );
    });

    it('#16–17 1,000 shapes with two equalities', () => {
      const a = new Router({ schema: SCHEMA, mode });
      const b = new Router({ schema: SCHEMA, mode });
      for (let i = 0; i < 1000; i++) {
        a.addShape(`s${i}`, { table: 't1', where: `id = ${i} AND number = 11` });
        b.addShape(`s${i}`, { table: 't1', where: `id = 7 AND number = ${i}` });
      }
      expect(a.route(ins(pair('5', '11')))).toEqual(['s5']);
      expect(b.route(ins(pair('7', '9')))).toEqual(['s9']);
    });

    it('#18–23 array equality and containment', () => {
      yesNo(mode, "an_array = '{1}'", [arr('{1}')], [arr('{2}'), arr('{1,2}')]);
      yesNo(
        mode,
        "an_array @> '{1}'",
        [arr('{1}'), arr('{1,2}'), arr('{3,2,1}')],
        [arr('{2}'), arr('{2,3,4}'), arr(null)],
      );
      yesNo(
        mode,
        "an_array @> '{1,3}'",
        [arr('{1,3}'), arr('{3,1}'), arr('{1,2,3}')],
        [arr('{1,2}'), arr('{2,3,4}'), arr(null)],
      );
      yesNo(mode, "an_array @> '{}'", [arr('{1,3}'), arr('{}')], [arr(null)]);
      yesNo(mode, 'an_array @> NULL', [], [arr('{1}'), arr(null), arr('{}')]);
      yesNo(
        mode,
        "'{1,3}' <@ an_array",
        [arr('{1,3}'), arr('{3,1}'), arr('{1,2,3}')],
        [arr('{1,2}'), arr('{2,3,4}'), arr(null)],
      );
    });

    it('#24 containment AND equality, both orders', () => {
      for (const w of ["an_array @> '{1}' AND id = 7", "id = 7 AND an_array @> '{1}'"]) {
        yesNo(
          mode,
          w,
          [arr('{1}', '7'), arr('{1,2}', '7'), arr('{3,2,1}', '7')],
          [arr('{2}', '7'), arr('{1}', '8'), arr(null, '7'), arr('{1}', null)],
        );
      }
    });

    it('#25–26 const = ANY(array column)', () => {
      yesNo(
        mode,
        '1 = ANY(an_array)',
        [arr('{1}'), arr('{1,2}'), arr('{3,2,1}')],
        [arr('{2}'), arr('{2,3,4}'), arr(null)],
      );
      for (const w of ['1 = ANY(an_array) AND id = 7', 'id = 7 AND 1 = ANY(an_array)']) {
        yesNo(mode, w, [arr('{1}', '7'), arr('{1,2}', '7')], [arr('{2}', '7'), arr('{1}', '8'), arr(null, '7')]);
      }
    });

    it('#27–28 5,000 containment shapes', () => {
      const a = new Router({ schema: SCHEMA, mode });
      const b = new Router({ schema: SCHEMA, mode });
      let n = 0;
      for (let x = 1; x <= 30 && n < 5000; x++)
        for (let y = x + 1; y <= 30 && n < 5000; y++)
          for (let z = y + 1; z <= 30 && n < 5000; z++, n++)
            a.addShape(`${x},${y},${z}`, { table: 't1', where: `an_array @> '{${x},${y},${z}}'` });
      for (let i = 0; i < 5000; i++) b.addShape(`s${i}`, { table: 't1', where: `${i} = ANY(an_array)` });
      expect(a.route(ins(arr('{2,3,5,7,11,13,17,19,23,29}')))).toContain('5,11,29');
      const hits = a.route(ins(arr('{2,3,5,7,11,13,17,19,23,29}')));
      const primes = new Set([2, 3, 5, 7, 11, 13, 17, 19, 23, 29]);
      for (const h of hits) expect(h.split(',').every((x) => primes.has(Number(x)))).toBe(true);
      expect(b.route(ins(arr('{7}')))).toEqual(['s7']);
    });

    it('#29–35 IN lists and ORs', () => {
      yesNo(mode, 'id IN (1, 2, 3)', [{ id: '1' }, { id: '2' }, { id: '3' }], [{ id: '0' }, { id: '4' }]);
      for (const w of ['id IN (1, 2) AND number > 5', 'number > 5 AND id IN (1, 2)'])
        yesNo(mode, w, [pair('1', '6'), pair('2', '10')], [pair('1', '3'), pair('3', '6')]);
      yesNo(mode, 'id = 1 OR id = 2', [{ id: '1' }, { id: '2' }], [{ id: '3' }]);
      yesNo(
        mode,
        'id = 1 AND (number = 2 OR number = 3)',
        [pair('1', '2'), pair('1', '3')],
        [pair('1', '4'), pair('2', '2')],
      );
      yesNo(
        mode,
        '(id = 1 OR id = 2) AND number = 3',
        [pair('1', '3'), pair('2', '3')],
        [pair('1', '4'), pair('3', '3')],
      );
      yesNo(
        mode,
        '(id = 1 AND number > 2) OR (id = 1 AND number < 1)',
        [pair('1', '3'), pair('1', '0')],
        [pair('1', '2')],
      );
      const r = new Router({ schema: SCHEMA, mode });
      for (let i = 0; i < 1000; i++) r.addShape(`s${i}`, { table: 't1', where: `id = ${i} OR id = ${i + 1000}` });
      expect(r.route(ins({ id: '7' }))).toEqual(['s7']);
      expect(r.route(ins({ id: '1007' }))).toEqual(['s7']);
    });

    it('#36 classification (indexed or not)', () => {
      const indexed = [
        'id = 7',
        '7 = id',
        'id = 7 AND number > 3',
        "an_array @> '{1}'",
        "'{1}' <@ an_array",
        '1 = ANY(an_array)',
        'id IN (1, 2)',
        'id = 1 OR id = 2',
        'id = 1 AND (number = 2 OR number = 3)',
      ];
      const r = routerWith(mode, {});
      indexed.forEach((w, i) => r.addShape(`i${i}`, { table: 't1', where: w }));
      r.addShape('n1', { table: 't1', where: 'id = 7 OR number > 5' });
      r.addShape('n2', { table: 't1' });
      const change = ins({ id: '7' });
      indexed.forEach((_, i) => expect(r.explain(change, `i${i}`).indexed, indexed[i]).toBe(true));
      // Indexed mode also indexes the range branch; filter mode (Electric) does not.
      expect(r.explain(change, 'n1').indexed).toBe(mode === 'indexed');
      expect(r.explain(change, 'n2').indexed).toBe(false);
    });

    it('#37 truncate reaches every shape of its table only', () => {
      const r = routerWith(mode, {
        a: { where: 'id = 1' },
        b: { where: 'id = 2' },
        c: { where: 'id > 7' },
        d: { where: 'id > 8' },
        e: { table: 't2' },
      });
      expect(sorted(r.route({ table: 't1', op: 'truncate' }))).toEqual(['a', 'b', 'c', 'd']);
    });

    it('#43–44 adding then removing shapes in random order leaves no index entries behind', () => {
      const r = new Router({ schema: SCHEMA, mode });
      const wheres = [
        'id = 1',
        'id = 1',
        'id > 3',
        'id > 3 AND number < 9',
        "an_array @> '{1,2}'",
        'id IN (1,2,3)',
        'id = 1 OR number = 2',
        'number + 1 = 4',
        'id <> 3',
        'id BETWEEN 1 AND 4',
        "an_array && '{1,5}'",
        "an_array <@ '{1,2,3}'",
        'id IS NULL',
        'number = 3 AND id > 1',
      ];
      const before = JSON.stringify(r.stats().indexes);
      const ids: string[] = [];
      for (let i = 0; i < 30; i++) {
        const id = `s${(i * 17) % 30}`;
        r.addShape(id, { table: 't1', where: wheres[(i * 5) % wheres.length] });
        ids.push(id);
      }
      expect(r.stats().entries).toBeGreaterThan(30);
      for (let i = 0; i < ids.length; i++) expect(r.removeShape(ids[(i * 11) % ids.length] as string)).toBe(true);
      const s = r.stats();
      expect(s.entries).toBe(0);
      expect(s.residuals).toBe(0);
      expect(JSON.stringify(s.indexes)).toBe(before);
      expect(r.route(ins({ id: '1', number: '3', an_array: '{1}' }))).toEqual([]);
    });
  });
}
