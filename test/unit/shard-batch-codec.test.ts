// The shard batch codec (pack on the dispatcher, unpack in a worker) and the cost split of 'rows' batches.
import { describe, expect, it } from 'vitest';
import type { Change } from '../../src/router/index.js';
import { Packer, unpackBatch } from '../../src/shard/batch-codec.js';
import { changeCost, costPrefix, cutByWeights, splitByCost } from '../../src/shard/sharded-router.js';

const COLUMNS = [
  ['a', 'b', 'c'],
  ['x', 'y'],
];
const NAMES = ['public.t', 'public.u'];

function roundTrip(changes: readonly Change[], tables: readonly number[], packer = new Packer(true), from = 0) {
  const to = changes.length;
  const packed = packer.pack(changes, from, to, Int32Array.from(tables), COLUMNS);
  const got: (Change | null)[] = [];
  unpackBatch(packed, COLUMNS, NAMES, null, (i, c) => {
    expect(i).toBe(got.length);
    got.push(c);
  });
  return { packed, got };
}

/** The change as the worker must see it: every column of its table present, a missing one as NULL. */
function expected(c: Change, t: number): Change | null {
  if (t < 0) return null;
  const table = NAMES[t] as string;
  const full = (r: Record<string, string | null>): Record<string, string | null> =>
    Object.fromEntries((COLUMNS[t] as string[]).map((k) => [k, r[k] ?? null]));
  switch (c.op) {
    case 'insert':
      return { table, op: 'insert', record: full(c.record) };
    case 'delete':
      return { table, op: 'delete', oldRecord: full(c.oldRecord) };
    case 'update':
      return { table, op: 'update', oldRecord: full(c.oldRecord), record: full(c.record) };
    case 'truncate':
      return { table, op: 'truncate' };
  }
}

describe('batch codec', () => {
  const mixed: Change[] = [
    { table: 't', op: 'insert', record: { a: '1', b: null, c: 'x' } },
    { table: 'u', op: 'update', oldRecord: { x: '', y: 'é' }, record: { x: 'ÿ', y: null } },
    { table: 'nope', op: 'insert', record: { a: 'skipped' } },
    { table: 't', op: 'delete', oldRecord: { a: '3' } },
    { table: 't', op: 'truncate' },
  ];
  const mixedTables = [0, 1, -1, 0, 0];

  it('round-trips Latin-1 text one byte per unit, with NULLs, missing columns, unknown tables and truncates', () => {
    const { packed, got } = roundTrip(mixed, mixedTables);
    expect(packed.wide).toBe(false);
    expect(packed.text).toBeInstanceOf(Uint8Array);
    expect(got).toEqual(mixed.map((c, i) => expected(c, mixedTables[i] as number)));
  });

  it('switches the range to two bytes per unit for any unit above 255, lone surrogates kept exactly', () => {
    const wide: Change[] = [
      ...mixed,
      { table: 't', op: 'insert', record: { a: 'a☃b', b: '\uD800', c: 'x\uDC00\uD83D\uDE00' } },
    ];
    const tables = [...mixedTables, 0];
    const { packed, got } = roundTrip(wide, tables);
    expect(packed.wide).toBe(true);
    expect(got).toEqual(wide.map((c, i) => expected(c, tables[i] as number)));
  });

  it('packs only the range asked for, and grows its buffers (reused across packs) past their first size', () => {
    const long = 'ü'.repeat(40_000); // larger than a decode window
    const many: Change[] = [];
    // 30,000 rows and a few long values: more header words and text units than a packer's first buffers hold
    for (let i = 0; i < 30_000; i++)
      many.push({ table: 't', op: 'insert', record: { a: String(i), b: i % 5000 === 1 ? long : null, c: 'é' } });
    const packer = new Packer(false);
    const first = roundTrip(many, new Array<number>(many.length).fill(0), packer, 10);
    expect(first.got).toHaveLength(many.length - 10);
    expect(first.got).toEqual(many.slice(10).map((c) => expected(c, 0)));
    // a second, small pack through the same packer sees only its own range
    const again = roundTrip(mixed, mixedTables, packer);
    expect(again.got).toEqual(mixed.map((c, i) => expected(c, mixedTables[i] as number)));
  });

  it('skips masked changes without visiting them', () => {
    const packed = new Packer(true).pack(mixed, 0, mixed.length, Int32Array.from(mixedTables), COLUMNS);
    const seen: number[] = [];
    unpackBatch(packed, COLUMNS, NAMES, Uint8Array.from([0, 1, 0, 1, 0]), (i, c) => {
      seen.push(i);
      expect(c).toEqual(expected(mixed[i] as Change, mixedTables[i] as number));
    });
    expect(seen).toEqual([1, 3]);
  });
});

describe('splitByCost', () => {
  const ins: Change = { table: 't', op: 'insert', record: { a: '1' } };
  const upd: Change = { table: 't', op: 'update', oldRecord: { a: '1' }, record: { a: '2' } };
  const trunc: Change = { table: 't', op: 'truncate' };

  it('costs a change by the rows it routes, a truncate by its table size, a table without shapes least', () => {
    expect(changeCost(ins, 10)).toBe(4);
    expect(changeCost(upd, 10)).toBe(8);
    expect(changeCost(trunc, 100_000)).toBe(4 + 2000);
    expect(changeCost(ins, 0)).toBe(1);
  });

  it('cuts equal costs into equal counts, and a costly half into fewer changes', () => {
    const same = new Array<Change>(1000).fill(ins);
    const tables = new Int32Array(1000);
    expect(splitByCost(same, tables, 2, () => 10)).toEqual([0, 500, 1000]);
    expect(splitByCost(same, tables, 3, () => 10)).toEqual([0, 333, 667, 1000]);
    // the first 200 changes are updates (twice the rows): equal costs are 200 updates + 200 inserts | 600 inserts
    const skewed = [...new Array<Change>(200).fill(upd), ...new Array<Change>(800).fill(ins)];
    expect(splitByCost(skewed, tables, 2, () => 10)).toEqual([0, 400, 1000]);
  });

  it('never returns an empty part: one huge change takes a part of its own', () => {
    const batch = [trunc, ...new Array<Change>(99).fill(ins)];
    const cuts = splitByCost(batch, new Int32Array(100), 2, () => 1_000_000);
    expect(cuts).toEqual([0, 1, 100]);
    expect(splitByCost([trunc, ins], new Int32Array(2), 3, () => 1_000_000)).toEqual([0, 1, 2]);
  });

  it('cuts in proportion to weights, one range per weight, empty ranges kept so that range p is weight p', () => {
    const same = new Array<Change>(1000).fill(ins);
    const prefix = costPrefix(same, new Int32Array(1000), () => 10);
    expect(cutByWeights(prefix, [1, 1])).toEqual([0, 500, 1000]);
    expect(cutByWeights(prefix, [3, 1])).toEqual([0, 750, 1000]);
    expect(cutByWeights(prefix, [1, 4])).toEqual([0, 200, 1000]);
    expect(cutByWeights(prefix, [1])).toEqual([0, 1000]);
    // a truncate outweighing the first share leaves it empty; the cuts never go back
    const big = costPrefix([trunc, ins, ins], new Int32Array(3), () => 1_000_000);
    expect(cutByWeights(big, [1, 1, 1])).toEqual([0, 0, 1, 3]);
    expect(
      cutByWeights(
        costPrefix([], new Int32Array(0), () => 1),
        [1, 1],
      ),
    ).toEqual([0, 0, 0]);
  });
});
