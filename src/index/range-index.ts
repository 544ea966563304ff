// Range index of one probe (a column or expression): one-sided thresholds and two-sided intervals, by type order.
import type { Value } from '../values/types.js';
import { BoundList, type RemovalListener } from './bound-list.js';
import type { EntryHome, EntryTable } from './entries.js';
import type { KeyOrder, Projection } from './order-key.js';
import { RangeGrid, gridEligible, type GridRec } from './range-grid.js';
import { BoundPairs } from './bound-pairs.js';

const projectNone: Projection = () => 0;

/**
 * One-sided thresholds live in two BoundLists — lower-bounded (`x > c`, `x >= c`) and upper-bounded (`x < c`,
 * `x <= c`, in mirrored order) — so a stab emits each as a sorted prefix. Two-sided ranges (`BETWEEN`,
 * `a < x AND x < b`) are pairs of such bounds (BoundPairs: runs copied, no per-entry check); those whose bounds are
 * finite JS numbers (int2/int4/float/date values) go to a RangeGrid instead (a few hash probes per stab). Keys are decoded values of the probe's
 * type; NULL rows never reach it (a NULL makes every comparison NULL). For number values the type's order is the
 * numeric one on finite values (−0 = 0), and NaN and ±Infinity lie in no finite range, so the grid's comparisons
 * agree with `cmp`. Parts are created on first use: a range index under each key of a threshold family is small.
 */
export class RangeIndex<V extends Value = Value> implements EntryHome, RemovalListener {
  private lower: BoundList | undefined;
  private upper: BoundList | undefined;
  private both: BoundPairs | undefined;
  private grid: RangeGrid | undefined;
  private readonly order: KeyOrder;
  private readonly mirrored: KeyOrder;
  private count = 0;
  /** Called when the last entry is removed (a threshold family then drops this key's index). */
  onEmpty: (() => void) | undefined;

  constructor(cmp: (a: V, b: V) => number, project: Projection = projectNone) {
    const c = cmp as (a: Value, b: Value) => number;
    this.order = { cmp: c, project };
    this.mirrored = { cmp: (a, b) => c(b, a), project: (v) => -project(v) };
  }

  /** Adds `entry` for lo <(=) x <(=) hi; an undefined bound is open. At least one bound must be given. */
  add(
    entry: number,
    lo: V | undefined,
    loIncl: boolean,
    hi: V | undefined,
    hiIncl: boolean,
    entries: EntryTable,
  ): void {
    this.count++;
    if (hi === undefined) {
      (this.lower ??= new BoundList(this.order, this)).add(entry, lo as Value, !loIncl, entries);
    } else if (lo === undefined) {
      (this.upper ??= new BoundList(this.mirrored, this)).add(entry, hi, !hiIncl, entries);
    } else if (typeof lo === 'number' && typeof hi === 'number' && gridEligible(lo, hi)) {
      entries.place(entry, this, { rec: (this.grid ??= new RangeGrid()).add(entry, lo, loIncl, hi, hiIncl) });
    } else {
      (this.both ??= new BoundPairs(this.order, this.mirrored, this)).add(entry, lo, !loIncl, hi, !hiIncl, entries);
    }
  }

  /** Grid entries only (the bound lists are their entries' own homes). */
  removeEntry(_entry: number, key: unknown): void {
    this.grid?.remove((key as { rec: GridRec }).rec);
    this.removed();
  }

  removed(): void {
    if (--this.count === 0) this.onEmpty?.();
  }

  /** Emits every entry whose range contains `v`; returns the work done (comparisons, nodes visited, probes). */
  stab(v: V, emit: (entry: number) => void): number {
    let work = 0;
    if (this.lower !== undefined && this.lower.size > 0) work += this.lower.stab(v, emit);
    if (this.upper !== undefined && this.upper.size > 0) work += this.upper.stab(v, emit);
    if (this.both !== undefined && this.both.size > 0) work += this.both.stab(v, v, emit);
    if (this.grid !== undefined && this.grid.size > 0 && typeof v === 'number') work += this.grid.stab(v, emit);
    return work;
  }

  /** Calls `fn` for every range's entry (a fail-open of the whole index). */
  forEachEntry(fn: (entry: number) => void): void {
    this.lower?.forEachEntry(fn);
    this.upper?.forEachEntry(fn);
    this.both?.forEachEntry(fn);
    this.grid?.forEachEntry(fn);
  }

  get size(): number {
    return this.count;
  }

  /** Ranges of one kind: `lower` (x > c), `upper` (x < c) or `both` (two-sided) — for access cost estimates. */
  sizeOf(kind: 'lower' | 'upper' | 'both'): number {
    if (kind === 'lower') return this.lower?.size ?? 0;
    if (kind === 'upper') return this.upper?.size ?? 0;
    return (this.both?.size ?? 0) + (this.grid?.size ?? 0);
  }

  get bytes(): number {
    return (
      96 + (this.lower?.bytes ?? 0) + (this.upper?.bytes ?? 0) + ((this.both?.size ?? 0) + (this.grid?.size ?? 0)) * 120
    );
  }
}
