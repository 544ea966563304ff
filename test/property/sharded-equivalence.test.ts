// Property: ShardedRouter (2 shards, a tiny hot-key threshold, each placement of open shapes) answers exactly as one
// Router on random shapes and change streams with interleaved (not awaited) adds and removes. Fixed default seed, printed on failure.
import { describe, it, expect, afterAll } from 'vitest';
import fc from 'fast-check';
import { Router } from '../../src/router/index.js';
import type { Change, RoutedChange, RowRecord } from '../../src/router/index.js';
import { ShardedRouter, type Transport } from '../../src/shard/index.js';
import { compileWhere } from '../../src/where.js';
import type { Predicate } from '../../src/eval/predicate.js';
import { reportSeedOnFailure, seedFrom } from '../support/seed.js';

type ColType = 'int4' | 'int8' | 'text' | 'numeric' | 'float8' | 'bool' | 'date' | 'int4[]' | 'text[]' | 'uuid';
const COLS: [string, ColType][] = [
  ['a', 'int4'],
  ['b', 'int8'],
  ['c', 'text'],
  ['d', 'numeric'],
  ['e', 'float8'],
  ['f', 'bool'],
  ['g', 'date'],
  ['h', 'int4[]'],
  ['i', 'text[]'],
  ['j', 'uuid'],
];
const COLUMNS = Object.fromEntries(COLS);
const SCHEMA = { t: COLUMNS, 'public.other': COLUMNS };

/** Record values (Postgres output) in small domains so that shapes match; a few invalid ones exercise fail-open. */
const VALUES: Record<ColType, string[]> = {
  int4: ['-1', '0', '1', '2', '3', '7'],
  int8: ['-5', '0', '1', '3', '9007199254740993'],
  // é (one byte on the wire), ☃ and a lone surrogate (two bytes: batch-codec's wide form)
  text: ['', 'a', 'ab', 'abc', 'B', 'b', 'é', 'a☃', '\uD800b'],
  numeric: ['0', '1', '1.0', '1.50', '2', 'NaN'],
  float8: ['0', '-0', '1', '1.5', 'NaN', 'Infinity'],
  bool: ['t', 'f'],
  date: ['2024-01-01', '2024-01-15', 'infinity'],
  'int4[]': ['{}', '{1}', '{1,2}', '{2,3}', '{NULL}'],
  'text[]': ['{}', '{a}', '{a,b}', '{b}'],
  uuid: ['550e8400-e29b-41d4-a716-446655440000', '550e8400-e29b-41d4-a716-446655440001'],
};
const INVALID: Partial<Record<ColType, string>> = { int4: 'x', int8: '1.5', numeric: 'abc', date: 'nope' };

/** Parameter values for `col = $1` families (keyed shapes) and literals for ad-hoc clauses. */
const PARAMS: Record<ColType, string[]> = {
  ...VALUES,
  numeric: ['0', '1', '1.00', '1.5', 'NaN'],
  float8: ['0', '-0', '1', 'NaN'],
};
const LITS: Record<ColType, string[]> = {
  int4: ['0', '1', '2', '3', 'NULL', '2.5'],
  int8: ['0', '1', '3', '9007199254740993'],
  text: ["''", "'a'", "'ab'", "'b'"],
  numeric: ['0', '1', '1.00', '1.5', "'NaN'"],
  float8: ['0', '1', '1.5', "'NaN'", "'-0'"],
  bool: ['true', 'false'],
  date: ["'2024-01-01'", "'2024-01-15'"],
  'int4[]': ["'{1}'", "'{1,2}'", "'{}'"],
  'text[]': ["'{a}'", "'{a,b}'", "'{}'"],
  uuid: ["'550E8400-E29B-41D4-A716-446655440000'"],
};

function atomGen(): fc.Arbitrary<string> {
  return fc.constantFrom(...COLS).chain(([c, t]) => {
    const lit = fc.constantFrom(...LITS[t]);
    if (t === 'bool') return fc.constantFrom(c, `NOT ${c}`, `${c} = true`);
    if (t.endsWith('[]'))
      return fc.oneof(
        lit.map((v) => `${c} @> ${v}`),
        lit.map((v) => `${c} && ${v}`),
        lit.map((v) => `${c} = ${v}`),
      );
    return fc.oneof(
      lit.map((v) => `${c} = ${v}`),
      lit.map((v) => `${c} <> ${v}`),
      fc.tuple(fc.constantFrom('<', '>='), lit).map(([op, v]) => `${c} ${op} ${v}`),
      fc.array(lit, { minLength: 1, maxLength: 3 }).map((vs) => `${c} IN (${vs.join(', ')})`),
      fc.constant(`${c} IS NULL`),
      ...(t === 'text' ? [fc.constantFrom(`${c} LIKE 'a%'`, `lower(${c}) = 'b'`)] : []),
      ...(t === 'int4' ? [lit.map((v) => `${c} + 1 = ${v}`)] : []),
    );
  });
}

const clauseGen: fc.Arbitrary<string | undefined> = fc
  .option(
    fc.oneof(
      atomGen(),
      fc.tuple(atomGen(), atomGen()).map(([x, y]) => `(${x}) AND (${y})`),
      fc.tuple(atomGen(), atomGen()).map(([x, y]) => `(${x}) OR (${y})`),
    ),
    { freq: 15 },
  )
  .map((x) => x ?? undefined);

const recordGen: fc.Arbitrary<RowRecord> = fc
  .tuple(
    ...COLS.map(([, t]) =>
      fc.option(
        fc.oneof(
          { weight: 20, arbitrary: fc.constantFrom(...VALUES[t]) },
          { weight: 1, arbitrary: fc.constant(INVALID[t] ?? (VALUES[t][0] as string)) },
        ),
        { freq: 6 },
      ),
    ),
  )
  .map((vals) => Object.fromEntries(COLS.map(([c], i) => [c, vals[i] ?? null])));

type Op =
  | { kind: 'add'; id: number; where: string | undefined; params?: Record<string, string> }
  | { kind: 'remove'; id: number }
  | { kind: 'route'; change: Change };

const changeGen: fc.Arbitrary<Change> = fc.oneof(
  { weight: 4, arbitrary: recordGen.map((record) => ({ table: 't', op: 'insert' as const, record })) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(recordGen, recordGen)
      .map(([oldRecord, record]) => ({ table: 'public.t', op: 'update' as const, oldRecord, record })),
  },
  { weight: 2, arbitrary: recordGen.map((oldRecord) => ({ table: 't', op: 'delete' as const, oldRecord })) },
  { weight: 1, arbitrary: fc.constant({ table: 't', op: 'truncate' as const }) },
  { weight: 1, arbitrary: recordGen.map((record) => ({ table: 'other', op: 'insert' as const, record })) },
  { weight: 1, arbitrary: recordGen.map((record) => ({ table: 'nope', op: 'insert' as const, record })) },
);

const familyCols = COLS.filter(([, t]) => t !== 'bool' && !t.endsWith('[]'));
const opGen: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.nat(15), clauseGen).map(([id, where]) => ({ kind: 'add' as const, id, where })) },
  // keyed families (`col = $1`), few values so that keys get hot and split
  {
    weight: 4,
    arbitrary: fc.tuple(fc.nat(15), fc.constantFrom(...familyCols), fc.nat(20)).map(([id, [c, t], k]) => {
      const ps = PARAMS[t];
      return { kind: 'add' as const, id, where: `${c} = $1`, params: { '1': ps[k % ps.length] as string } };
    }),
  },
  // threshold families (`col = $1 AND other op $2`): sorted bounds under each key
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.nat(15),
        fc.constantFrom(...familyCols),
        fc.constantFrom(...familyCols),
        fc.constantFrom('<', '<=', '>', '>='),
        fc.nat(20),
        fc.nat(20),
      )
      .map(([id, [c, t], [d, u], op, k, j]) => {
        const ps = PARAMS[t];
        const qs = PARAMS[u];
        return {
          kind: 'add' as const,
          id,
          where: `${c} = $1 AND ${d} ${op} $2`,
          params: { '1': ps[k % ps.length] as string, '2': qs[j % qs.length] as string },
        };
      }),
  },
  { weight: 2, arbitrary: fc.nat(15).map((id) => ({ kind: 'remove' as const, id })) },
  { weight: 6, arbitrary: changeGen.map((change) => ({ kind: 'route' as const, change })) },
);

const transport = (process.env.SHARD_TRANSPORT ?? 'shared') as Transport;
const routers = {
  replicate: new ShardedRouter({ schema: SCHEMA, shards: 2, hotKeyThreshold: 2, transport, placement: 'replicate' }),
  spread: new ShardedRouter({ schema: SCHEMA, shards: 2, hotKeyThreshold: 2, transport, placement: 'spread' }),
  rows: new ShardedRouter({ schema: SCHEMA, shards: 2, hotKeyThreshold: 2, transport, placement: 'rows' }),
  // Batches of 2+ changes are cut in parts across both shards (the default only splits batches of 128+).
  'rows split': new ShardedRouter({
    schema: SCHEMA,
    shards: 2,
    hotKeyThreshold: 2,
    transport,
    placement: 'rows',
    minSplitPart: 1,
  }),
  // Shard 0 on this thread: a batch of 2+ changes is cut between it and the worker at measured speeds (parts of any
  // size, empty ones included, as the measurements move); a single change goes to either, round robin.
  'rows local': new ShardedRouter({
    schema: SCHEMA,
    shards: 2,
    hotKeyThreshold: 2,
    transport,
    placement: 'rows',
    minSplitPart: 1,
    localShard: true,
  }),
};
/** The router under test (the scenario runs against each placement in turn). */
let sharded: ShardedRouter = routers.replicate;
afterAll(async () => {
  await Promise.all(Object.values(routers).map((r) => r.close()));
});

function hasInvalid(c: Change): boolean {
  const rows =
    c.op === 'insert'
      ? [c.record]
      : c.op === 'delete'
        ? [c.oldRecord]
        : c.op === 'update'
          ? [c.oldRecord, c.record]
          : [];
  return rows.some((r) => COLS.some(([col, t]) => INVALID[t] !== undefined && r[col] === INVALID[t]));
}

/** Shapes whose clause is true for the old or the new row (naive evaluation; an error is not a match). */
function trueMatches(c: Change, model: ReadonlyMap<string, Predicate | null>): string[] {
  if (c.table === 'other' || c.table === 'nope') return [];
  const rows =
    c.op === 'insert'
      ? [c.record]
      : c.op === 'delete'
        ? [c.oldRecord]
        : c.op === 'update'
          ? [c.oldRecord, c.record]
          : [];
  const out: string[] = [];
  for (const [id, pred] of model) {
    if (c.op === 'truncate' || pred === null) {
      out.push(id);
      continue;
    }
    for (const r of rows) {
      let v = false;
      try {
        v = pred.matches(r);
      } catch {
        v = false;
      }
      if (v) {
        out.push(id);
        break;
      }
    }
  }
  return out;
}

const sorted = (xs: readonly string[]): string[] => [...xs].sort();

let runNo = 0;

async function scenario(ops: Op[]): Promise<void> {
  const prefix = `r${runNo++}-`;
  const single = new Router({ schema: SCHEMA });
  const pending: Promise<unknown>[] = [];
  let batch: Change[] = [];
  const expected: RoutedChange[] = [];
  const truth: string[][] = [];
  const model = new Map<string, Predicate | null>();
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const routed = await sharded.routeChanges(batch);
    const got = routed.map((r) => r.ids);
    expect(await sharded.routeBatch(batch), 'routeBatch is routeChanges without the flags').toEqual(got);
    for (let i = 0; i < batch.length; i++) {
      const c = batch[i] as Change;
      const want = expected[i] as RoutedChange;
      for (const id of routed[i]!.failedOpen) expect(got[i]).toContain(id);
      if (!hasInvalid(c)) {
        expect(sorted(got[i]!)).toEqual(sorted(want.ids));
        expect(sorted(routed[i]!.failedOpen), 'the same ids failed open').toEqual(sorted(want.failedOpen));
        continue;
      }
      // An undecodable value: both fail open what reads it, but each as its own plan decides (which index decoded
      // the value); what must hold is "never a dropped change": every shape whose clause is true is reached, and
      // whatever else is answered was failed open.
      for (const id of truth[i] as string[]) expect(got[i]).toContain(id);
      for (const id of got[i]!) {
        expect(model.has(id)).toBe(true);
        if (!(truth[i] as string[]).includes(id)) expect(routed[i]!.failedOpen).toContain(id);
      }
    }
    if (!batch.some(hasInvalid)) {
      const tx = await sharded.routeTransaction(batch);
      expect(new Map([...tx].sort())).toEqual(new Map([...single.routeTransaction(batch)].sort()));
    }
    batch = [];
    expected.length = 0;
    truth.length = 0;
  };
  try {
    await steps();
  } finally {
    await Promise.allSettled(pending);
    for (let i = 0; i < 16; i++) await sharded.removeShape(`${prefix}${i}`);
  }
  async function steps(): Promise<void> {
    for (const op of ops) {
      // a batch holds consecutive changes only: expected answers are computed as of their position in the stream
      if (op.kind !== 'route') await flush();
      if (op.kind === 'add') {
        const id = `${prefix}${op.id}`;
        const def = {
          table: 't',
          ...(op.where !== undefined ? { where: op.where } : {}),
          ...(op.params ? { params: op.params } : {}),
        };
        let err: unknown = null;
        try {
          single.addShape(id, def);
        } catch (e) {
          err = e;
        }
        const p = sharded.addShape(id, def);
        if (err === null) {
          pending.push(p);
          model.set(
            id,
            op.where === undefined ? null : compileWhere(op.where, COLUMNS, op.params ? { params: op.params } : {}),
          );
        } else
          await expect(p).rejects.toMatchObject({ name: (err as Error).name, code: (err as { code: string }).code });
      } else if (op.kind === 'remove') {
        const id = `${prefix}${op.id}`;
        const had = single.removeShape(id);
        model.delete(id);
        pending.push(sharded.removeShape(id).then((r) => expect(r).toBe(had)));
      } else {
        // adds and removes are not awaited: a batch posted after them must see them
        batch.push(op.change);
        expected.push(single.routeChanges([op.change])[0]!);
        truth.push(trueMatches(op.change, model));
        if (batch.length >= 4) await flush();
      }
    }
    await flush();
    await Promise.all(pending);
    expect(sharded.shapeCount).toBe(single.shapeCount);
  }
}

describe.each(['replicate', 'spread', 'rows', 'rows split', 'rows local'] as const)(
  'ShardedRouter ≡ Router (placement %s)',
  (placement) => {
    it('on random shapes and change streams with interleaved adds and removes', async () => {
      sharded = routers[placement];
      // Fixed by default; SHARD_SEED=random (or a number) explores other cases.
      const seed = seedFrom('SHARD_SEED', 20_251_205);
      await reportSeedOnFailure('SHARD_SEED', seed, () =>
        fc.assert(fc.asyncProperty(fc.array(opGen, { minLength: 5, maxLength: 50 }), scenario), {
          seed,
          numRuns: Number(process.env.SHARD_RUNS ?? 150),
        }),
      );
      const st = await sharded.stats();
      expect(st.shards.every((s) => s.changes > 0)).toBe(true);
    }, 240_000);
  },
);
