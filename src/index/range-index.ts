// Range index of one probe (a column or expression): one-sided thresholds and two-sided intervals, by type order.
import type { EntryHome, EntryTable } from './entries.js';
import { RangeTreap, type RangeNode } from './range-treap.js';

/**
 * Three treaps: lower-bounded only (`x > c`, `x >= c`), upper-bounded only (`x < c`, `x <= c`, kept in mirrored order
 * so that it too is a prefix walk), and two-sided (`BETWEEN`, `a < x AND x < b`). Keys are decoded values of the
 * probe's type; NULL rows never reach it (a NULL makes every comparison NULL).
 */
export class RangeIndex<V> implements EntryHome {
  private readonly lower: RangeTreap<V>;
  private readonly upper: RangeTreap<V>;
  private readonly both: RangeTreap<V>;

  constructor(cmp: (a: V, b: V) => number) {
    this.lower = new RangeTreap<V>(cmp);
    this.upper = new RangeTreap<V>((a, b) => cmp(b, a));
    this.both = new RangeTreap<V>(cmp);
  }

  /** Adds `entry` for lo <(=) x <(=) hi; an undefined bound is open. At least one bound must be given. */
  add(entry: number, lo: V | undefined, loIncl: boolean, hi: V | undefined, hiIncl: boolean, entries: EntryTable): void {
    let node: RangeNode<V>;
    let tree: 0 | 1 | 2;
    if (hi === undefined) {
      node = this.lower.insert(lo, loIncl, undefined, false, entry);
      tree = 0;
    } else if (lo === undefined) {
      node = this.upper.insert(hi, hiIncl, undefined, false, entry);
      tree = 1;
    } else {
      node = this.both.insert(lo, loIncl, hi, hiIncl, entry);
      tree = 2;
    }
    entries.place(entry, this, { node, tree });
  }

  removeEntry(_entry: number, key: unknown): void {
    const { node, tree } = key as { node: RangeNode<V>; tree: 0 | 1 | 2 };
    (tree === 0 ? this.lower : tree === 1 ? this.upper : this.both).remove(node);
  }

  /** Emits every entry whose range contains `v`; returns the number of tree nodes visited. */
  stab(v: V, emit: (entry: number) => void): number {
    const before = this.lower.visited + this.upper.visited + this.both.visited;
    if (this.lower.root !== null) this.lower.stab(v, emit);
    if (this.upper.root !== null) this.upper.stab(v, emit);
    if (this.both.root !== null) this.both.stab(v, emit);
    return this.lower.visited + this.upper.visited + this.both.visited - before;
  }

  get size(): number {
    return this.lower.size + this.upper.size + this.both.size;
  }

  /** Ranges of one kind: `lower` (x > c), `upper` (x < c) or `both` (two-sided) — for access cost estimates. */
  sizeOf(kind: 'lower' | 'upper' | 'both'): number {
    return kind === 'lower' ? this.lower.size : kind === 'upper' ? this.upper.size : this.both.size;
  }

  get bytes(): number {
    return this.size * 120;
  }
}
