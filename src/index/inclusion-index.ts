// Array inclusion index of one array probe: `@>`, `&&`, `const = ANY(col)` and `<@`, keyed by canonical element keys.
import type { EntryHome, EntryTable } from './entries.js';
import { Posting, PostingMap } from './posting.js';

export type ElementKey = string | number;

/**
 * Key layout:
 * - `elements`: element key → entries of `@>` (posted under one element of the constant: exact when it has one
 *   element, otherwise the router adds the atom as residual and posts under the rarest element), `= ANY` and `&&`
 *   (posted under every element; a common element is exact).
 * - `nonNull`: `@> '{}'` — every non-NULL array qualifies.
 * - `within` / `withinAll`: `<@` candidates, posted under each constant element; a row array is a candidate of the
 *   entries under its rarest element, and an empty row array of all `<@` entries (residual confirms).
 */
export class InclusionIndex implements EntryHome {
  readonly elements = new PostingMap<ElementKey>();
  readonly nonNull = new Posting();
  readonly within = new PostingMap<ElementKey>();
  readonly withinAll = new Posting();

  addElement(entry: number, key: ElementKey, entries: EntryTable): void {
    this.elements.add(key, entry, entries);
  }

  addNonNull(entry: number, entries: EntryTable): void {
    this.nonNull.add(entry, entries);
    entries.place(entry, this, NON_NULL);
  }

  /** `<@` needs one entry under each constant element plus one in `withinAll`; the router allocates them. */
  addWithin(entry: number, key: ElementKey, entries: EntryTable): void {
    this.within.add(key, entry, entries);
  }

  addWithinAll(entry: number, entries: EntryTable): void {
    this.withinAll.add(entry, entries);
    entries.place(entry, this, WITHIN_ALL);
  }

  removeEntry(entry: number, key: unknown, entries: EntryTable): void {
    if (key === NON_NULL) this.nonNull.removeEntry(entry, key, entries);
    else if (key === WITHIN_ALL) this.withinAll.removeEntry(entry, key, entries);
  }

  /** Calls `fn` for every entry, under every key (a fail-open of the whole index). */
  forEachEntry(fn: (entry: number) => void): void {
    this.elements.forEachEntry(fn);
    for (let i = 0; i < this.nonNull.length; i++) fn(this.nonNull.items[i] as number);
    this.within.forEachEntry(fn);
    for (let i = 0; i < this.withinAll.length; i++) fn(this.withinAll.items[i] as number);
  }

  get size(): number {
    return this.elements.size + this.nonNull.length + this.withinAll.length;
  }

  get keyCount(): number {
    return this.elements.keyCount + this.within.keyCount;
  }

  get bytes(): number {
    return this.elements.bytes + this.within.bytes + this.nonNull.bytes + this.withinAll.bytes;
  }
}

const NON_NULL = Symbol('nonNull');
const WITHIN_ALL = Symbol('withinAll');
