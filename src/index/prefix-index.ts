// LIKE / ILIKE prefix index of one text probe: literal pattern prefix → entries, probing only the lengths present.
import type { EntryHome, EntryTable } from './entries.js';
import { PostingMap } from './posting.js';

/**
 * A value `s` is a candidate of every entry whose prefix `p` satisfies `s.startsWith(p)`. Prefixes are grouped by
 * length (UTF-16 units: a prefix is a whole string, so slicing `s` at its length is exact even across surrogates),
 * so a row costs one lookup per distinct prefix length present, not one per shape.
 */
export class PrefixIndex implements EntryHome {
  private readonly byLength = new Map<number, PostingMap<string>>();
  /** Distinct prefix lengths in ascending order, and how many entries each has. */
  lengths: number[] = [];
  private readonly lengthCount = new Map<number, number>();
  private entryCount = 0;

  add(entry: number, prefix: string, entries: EntryTable): void {
    const len = prefix.length;
    let pm = this.byLength.get(len);
    if (pm === undefined) {
      pm = new PostingMap<string>();
      this.byLength.set(len, pm);
      const at = lowerBound(this.lengths, len);
      this.lengths.splice(at, 0, len);
    }
    pm.add(prefix, entry, entries);
    entries.place(entry, this, prefix);
    this.lengthCount.set(len, (this.lengthCount.get(len) ?? 0) + 1);
    this.entryCount++;
  }

  removeEntry(entry: number, key: unknown, entries: EntryTable): void {
    const prefix = key as string;
    const len = prefix.length;
    const pm = this.byLength.get(len);
    if (pm === undefined) return;
    pm.removeEntry(entry, prefix, entries);
    this.entryCount--;
    const left = (this.lengthCount.get(len) ?? 1) - 1;
    if (left === 0) {
      this.lengthCount.delete(len);
      this.byLength.delete(len);
      this.lengths.splice(lowerBound(this.lengths, len), 1);
    } else this.lengthCount.set(len, left);
  }

  /** Entries under exactly `prefix` (live statistics). */
  count(prefix: string): number {
    return this.byLength.get(prefix.length)?.count(prefix) ?? 0;
  }

  /** Emits candidates for `s`; returns the number of lookups made. */
  probe(s: string, emit: (entry: number) => void): number {
    const lengths = this.lengths;
    let lookups = 0;
    for (let i = 0; i < lengths.length; i++) {
      const len = lengths[i] as number;
      if (len > s.length) break;
      const pm = this.byLength.get(len) as PostingMap<string>;
      lookups++;
      const hit = pm.map.get(len === s.length ? s : s.slice(0, len));
      if (hit === undefined) continue;
      if (typeof hit === 'number') emit(hit);
      else for (let j = 0; j < hit.length; j++) emit(hit.items[j] as number);
    }
    return lookups;
  }

  get size(): number {
    return this.entryCount;
  }

  get keyCount(): number {
    let n = 0;
    for (const pm of this.byLength.values()) n += pm.keyCount;
    return n;
  }

  get bytes(): number {
    let n = 0;
    for (const pm of this.byLength.values()) n += pm.bytes;
    return n;
  }
}

function lowerBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((a[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
