// A subquery's materialized result: how many inner rows carry each value (by canonical key), and how many a NULL.
import type { ValueSet } from '../eval/subquery-sets.js';

/** What a change did to the set: a value (or NULL, as `null`) entered or left it. */
export interface SetDelta {
  readonly entered: (string | number | null)[];
  readonly left: (string | number | null)[];
}

/** A multiset of keys: a value is in the set while at least one inner row carries it. */
export class CountedValueSet implements ValueSet {
  private readonly counts = new Map<string | number, number>();
  private nulls = 0;

  get hasNull(): boolean {
    return this.nulls > 0;
  }

  get empty(): boolean {
    return this.nulls === 0 && this.counts.size === 0;
  }

  /** Distinct non-NULL values. */
  get size(): number {
    return this.counts.size;
  }

  has(key: string | number): boolean {
    return this.counts.has(key);
  }

  keys(): IterableIterator<string | number> {
    return this.counts.keys();
  }

  /** One more inner row carries `key`; true when the value was not in the set before. */
  add(key: string | number | null): boolean {
    if (key === null) return ++this.nulls === 1;
    const n = this.counts.get(key) ?? 0;
    this.counts.set(key, n + 1);
    return n === 0;
  }

  /** One inner row less carries `key`; true when the value left the set. A key not counted is a caller's bug. */
  remove(key: string | number | null): boolean {
    if (key === null) {
      if (this.nulls === 0) throw new Error('subquery set: removing a NULL that was never added');
      return --this.nulls === 0;
    }
    const n = this.counts.get(key);
    if (n === undefined) throw new Error(`subquery set: removing ${String(key)}, which was never added`);
    if (n === 1) this.counts.delete(key);
    else this.counts.set(key, n - 1);
    return n === 1;
  }
}
