// Structures of bounds: the threshold family of an equality access's bounds, the BoundsIx of a conjunction of ranges,
// and each shape's bound values in them.
import { BoundPairs } from '../index/bound-pairs.js';
import type { EntryTable } from '../index/entries.js';
import { KeyedParts } from '../index/keyed-parts.js';
import { projectionFor, type KeyOrder } from '../index/order-key.js';
import { RangeIndex } from '../index/range-index.js';
import type { Expr } from '../sql/ast.js';
import { renderSql } from '../sql/render.js';
import { codecFor } from '../values/registry.js';
import type { Value } from '../values/types.js';
import type { RangeAccess } from './atoms.js';
import { BoundsIx, ThresholdFamily, type EqKey } from './lanes.js';
import type { ProbeValue } from './pools.js';
import { mostSelectiveFirst, type Spread } from './spreads.js';

/** A one-sided bound as BoundList/BoundPairs keep it: the constant, strictness and the order it is read in. */
interface OneSided {
  readonly value: Value;
  readonly strict: boolean;
  readonly upper: boolean;
}

function oneSided(r: RangeAccess): OneSided {
  return r.lo !== undefined
    ? { value: r.lo, strict: !r.loIncl, upper: false }
    : { value: r.hi as Value, strict: !r.hiIncl, upper: true };
}

/** The order of a bound's values: the type's own for lower bounds (`x > c`), mirrored for upper ones (`x < c`). */
function orderOf(r: RangeAccess, upper: boolean): KeyOrder {
  const cmp = codecFor(r.keyType).compare as (a: Value, b: Value) => number;
  const project = projectionFor(r.keyType);
  return upper ? { cmp: (a, b) => cmp(b, a), project: (v) => -project(v) } : { cmp, project };
}

/** The family of `then` (and `then2`) among an index's families, created (and listed) when absent. */
export function familyFor<K extends EqKey>(
  families: ThresholdFamily<K>[],
  then: RangeAccess,
  then2: RangeAccess | undefined,
  /** Compiles a bounded probe (the table's, so its work is metered there). */
  compile: (expr: Expr, sql: string) => ProbeValue,
  guard = -1,
): ThresholdFamily<K> {
  const sql1 = renderSql(then.probe);
  const sql2 = then2 === undefined ? undefined : renderSql(then2.probe);
  const b1 = oneSided(then);
  const id =
    (then2 === undefined || sql2 === undefined
      ? sql1
      : `${sql1}\u0000${b1.upper ? '<' : '>'}\u0000${sql2}\u0000${oneSided(then2).upper ? '<' : '>'}`) +
    (guard >= 0 ? `\u0002${guard}` : '');
  const found = families.find((f) => f.sql === id);
  if (found !== undefined) return found;
  const drop = (): void => {
    const i = families.indexOf(fam);
    if (i >= 0) families.splice(i, 1);
  };
  let parts: KeyedParts<K, RangeIndex | BoundPairs>;
  if (then2 === undefined) {
    const cmp = codecFor(then.keyType).compare as (a: Value, b: Value) => number;
    const project = projectionFor(then.keyType);
    parts = new KeyedParts<K, RangeIndex | BoundPairs>((onEmpty) => {
      const ix = new RangeIndex(cmp, project);
      ix.onEmpty = onEmpty;
      return ix;
    }, drop);
  } else {
    const o1 = orderOf(then, b1.upper);
    const o2 = orderOf(then2, oneSided(then2).upper);
    parts = new KeyedParts<K, RangeIndex | BoundPairs>((onEmpty) => {
      const listener = { removed: (): void => (pairs.size === 0 ? onEmpty() : undefined) };
      const pairs = new BoundPairs(o1, o2, listener);
      return pairs;
    }, drop);
  }
  const second = then2 === undefined ? null : compile(then2.probe, sql2 as string);
  const fam = new ThresholdFamily<K>(id, compile(then.probe, sql1), second, parts, guard);
  families.push(fam);
  return fam;
}

/** Adds one shape's entry under `key`: its range (one probe) or its two one-sided bounds (pairs). */
export function addToFamily<K extends EqKey>(
  fam: ThresholdFamily<K>,
  key: K,
  entry: number,
  then: RangeAccess,
  then2: RangeAccess | undefined,
  entries: EntryTable,
): void {
  const part = fam.parts.ensure(key);
  if (then2 === undefined) {
    (part as RangeIndex).add(entry, then.lo, then.loIncl, then.hi, then.hiIncl, entries);
    return;
  }
  const a = oneSided(then);
  const b = oneSided(then2);
  (part as BoundPairs).add(entry, a.value, a.strict, b.value, b.strict, entries);
}

/** One one-sided bound of a conjunction of ranges, with its probe and the probe's spread. */
interface ProbeBound extends OneSided {
  readonly range: RangeAccess;
  readonly sql: string;
  readonly spread: Spread;
}

/**
 * A range access and its further ranges as one-sided bounds (a two-sided range gives two), the most selective pair
 * first by the probes' spreads (`spreadOf`), which learn these constants.
 */
export function boundsOf(r: RangeAccess, spreadOf: (sql: string, r: RangeAccess) => Spread): ProbeBound[] {
  const out: ProbeBound[] = [];
  for (const x of [r, ...(r.more ?? [])]) {
    const sql = renderSql(x.probe);
    const spread = spreadOf(sql, x);
    if (x.lo !== undefined) out.push({ range: x, sql, spread, value: x.lo, strict: !x.loIncl, upper: false });
    if (x.hi !== undefined) out.push({ range: x, sql, spread, value: x.hi, strict: !x.hiIncl, upper: true });
  }
  for (const b of out) b.spread.noteConstant(b.value);
  return mostSelectiveFirst(out);
}

/** The BoundsIx of these bounds' signature, created (and listed) when absent. */
export function boundsIxFor(
  bySig: Map<string, BoundsIx>,
  list: BoundsIx[],
  bounds: readonly ProbeBound[],
  /** Compiles a bounded probe (the table's, so its work is metered there). */
  compile: (expr: Expr, sql: string) => ProbeValue,
): BoundsIx {
  const sig = bounds.map((b) => `${b.sql}\u0000${b.upper ? '<' : '>'}\u0000${b.range.keyType.scalar}`).join('\u0001');
  let ix = bySig.get(sig);
  if (ix !== undefined) return ix;
  const orders = bounds.map((b) => orderOf(b.range, b.upper));
  const probes = new Map<string, ProbeValue>();
  for (const b of bounds) if (!probes.has(b.sql)) probes.set(b.sql, compile(b.range.probe, b.sql));
  const pairs = new BoundPairs(orders[0] as KeyOrder, orders[1] as KeyOrder, null, orders.slice(2));
  ix = new BoundsIx(
    sig,
    bounds.map((b) => probes.get(b.sql) as ProbeValue),
    pairs,
    bounds.map((b) => b.spread),
  );
  bySig.set(sig, ix);
  ix.at = list.push(ix) - 1;
  return ix;
}

/** Adds one shape's entry with its bounds (in the index's signature order). */
export function addBounds(ix: BoundsIx, entry: number, bounds: readonly ProbeBound[], entries: EntryTable): void {
  const [a, b, ...rest] = bounds as [ProbeBound, ProbeBound, ...ProbeBound[]];
  const more =
    rest.length === 0
      ? undefined
      : ix.pairs.extraOf(
          rest.map((x) => x.value),
          rest.map((x) => x.strict),
        );
  ix.pairs.add(entry, a.value, a.strict, b.value, b.strict, entries, more);
}
