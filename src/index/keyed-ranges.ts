// Threshold families: per equality key, a range index over another probe — `region = 7 AND amount > $1` shapes sit
// under key 7 as sorted bounds, and a row reaches exactly the shapes whose bound it passes.
import type { Value } from '../values/types.js';
import type { EntryTable } from './entries.js';
import { KeyTable } from './key-table.js';
import type { Projection } from './order-key.js';
import { RangeIndex } from './range-index.js';

export class KeyedRanges<K extends string | number | null> {
  private readonly table = new KeyTable<Exclude<K, null>>();
  private readonly byId: (RangeIndex | undefined)[] = [];
  private nullIx: RangeIndex | undefined;

  constructor(
    private readonly cmp: (a: Value, b: Value) => number,
    private readonly project: Projection,
    /** Called when the last key goes (the owner then drops the family). */
    private readonly onEmpty: () => void,
  ) {}

  /** The ranges under `key`, or undefined. */
  get(key: K): RangeIndex | undefined {
    if (key === null) return this.nullIx;
    const id = this.table.find(key as Exclude<K, null>);
    return id < 0 ? undefined : this.byId[id];
  }

  /** Adds `entry` under `key` for lo <(=) x <(=) hi (an undefined bound is open). */
  add(
    key: K,
    entry: number,
    lo: Value | undefined,
    loIncl: boolean,
    hi: Value | undefined,
    hiIncl: boolean,
    entries: EntryTable,
  ): void {
    let ix = this.get(key);
    if (ix === undefined) {
      ix = new RangeIndex(this.cmp, this.project);
      ix.onEmpty = () => this.drop(key);
      if (key === null) this.nullIx = ix;
      else this.byId[this.table.intern(key as Exclude<K, null>)] = ix;
    }
    ix.add(entry, lo, loIncl, hi, hiIncl, entries);
  }

  private drop(key: K): void {
    if (key === null) this.nullIx = undefined;
    else {
      const id = this.table.remove(key as Exclude<K, null>);
      if (id >= 0) this.byId[id] = undefined;
    }
    if (this.keyCount === 0) this.onEmpty();
  }

  /** Calls `fn` for every entry under every key (a fail-open of the whole family). */
  forEachEntry(fn: (entry: number) => void): void {
    for (const ix of this.byId) ix?.forEachEntry(fn);
    this.nullIx?.forEachEntry(fn);
  }

  get keyCount(): number {
    return this.table.size + (this.nullIx === undefined ? 0 : 1);
  }

  get size(): number {
    let n = this.nullIx?.size ?? 0;
    for (const ix of this.byId) n += ix?.size ?? 0;
    return n;
  }

  get bytes(): number {
    let b = this.table.bytes + this.byId.length * 8 + (this.nullIx?.bytes ?? 0);
    for (const ix of this.byId) b += ix?.bytes ?? 0;
    return b;
  }
}
