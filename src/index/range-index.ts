// Range index of one probe (a column or expression): one-sided thresholds and two-sided intervals, by type order.
import type { EntryHome, EntryTable } from './entries.js';
import { RangeGrid, gridEligible, type GridRec } from './range-grid.js';
import { RangeTreap, type RangeNode } from './range-treap.js';

/**
 * Three treaps: lower-bounded only (`x > c`, `x >= c`), upper-bounded only (`x < c`, `x <= c`, kept in mirrored order
 * so that it too is a prefix walk), and two-sided (`BETWEEN`, `a < x AND x < b`). Two-sided ranges whose bounds are
 * finite JS numbers (int2/int4/float/date values) go to a RangeGrid instead: a few hash probes per stab rather than
 * a ~20-node walk. Keys are decoded values of the probe's type; NULL rows never reach it (a NULL makes every
 * comparison NULL). For number values the type's order is the numeric one on finite values (−0 = 0), and NaN and
 * ±Infinity lie in no finite range, so the grid's comparisons agree with `cmp`.
 */
export class RangeIndex<V> implements EntryHome {
  private readonly lower: RangeTreap<V>;
  private readonly upper: RangeTreap<V>;
  private readonly both: RangeTreap<V>;
  private readonly grid = new RangeGrid();

  constructor(cmp: (a: V, b: V) => number) {
    this.lower = new RangeTreap<V>(cmp);
    this.upper = new RangeTreap<V>((a, b) => cmp(b, a));
    this.both = new RangeTreap<V>(cmp);
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
    let node: RangeNode<V>;
    let tree: 0 | 1 | 2;
    if (hi === undefined) {
      node = this.lower.insert(lo, loIncl, undefined, false, entry);
      tree = 0;
    } else if (lo === undefined) {
      node = this.upper.insert(hi, hiIncl, undefined, false, entry);
      tree = 1;
    } else if (typeof lo === 'number' && typeof hi === 'number' && gridEligible(lo, hi)) {
      entries.place(entry, this, { rec: this.grid.add(entry, lo, loIncl, hi, hiIncl) });
      return;
    } else {
      node = this.both.insert(lo, loIncl, hi, hiIncl, entry);
      tree = 2;
    }
    entries.place(entry, this, { node, tree });
  }

  removeEntry(_entry: number, key: unknown): void {
    const k = key as { node: RangeNode<V>; tree: 0 | 1 | 2 } | { rec: GridRec };
    if ('rec' in k) this.grid.remove(k.rec);
    else (k.tree === 0 ? this.lower : k.tree === 1 ? this.upper : this.both).remove(k.node);
  }

  /** Emits every entry whose range contains `v`; returns the number of tree nodes visited. */
  stab(v: V, emit: (entry: number) => void): number {
    const before = this.lower.visited + this.upper.visited + this.both.visited;
    if (this.lower.root !== null) this.lower.stab(v, emit);
    if (this.upper.root !== null) this.upper.stab(v, emit);
    if (this.both.root !== null) this.both.stab(v, emit);
    const probes = this.grid.size > 0 && typeof v === 'number' ? this.grid.stab(v, emit) : 0;
    return this.lower.visited + this.upper.visited + this.both.visited - before + probes;
  }

  /** Calls `fn` for every range's entry (a fail-open of the whole index). */
  forEachEntry(fn: (entry: number) => void): void {
    this.lower.forEachEntry(fn);
    this.upper.forEachEntry(fn);
    this.both.forEachEntry(fn);
    this.grid.forEachEntry(fn);
  }

  get size(): number {
    return this.lower.size + this.upper.size + this.both.size + this.grid.size;
  }

  /** Ranges of one kind: `lower` (x > c), `upper` (x < c) or `both` (two-sided) — for access cost estimates. */
  sizeOf(kind: 'lower' | 'upper' | 'both'): number {
    return kind === 'lower' ? this.lower.size : kind === 'upper' ? this.upper.size : this.both.size + this.grid.size;
  }

  get bytes(): number {
    return this.size * 120;
  }
}
