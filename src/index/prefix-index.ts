// LIKE / ILIKE prefix index of one text probe: pattern prefixes in a hash table, probed at each length some prefix has.
import type { EntryHome, EntryTable } from './entries.js';
import { FNV_OFFSET, FNV_PRIME, finishStringHash } from './key-table.js';
import { PostingMap } from './posting.js';

/**
 * A value `s` is a candidate of every entry whose prefix `p` satisfies `s.startsWith(p)`. Prefixes live in one
 * PostingMap keyed by the prefix string, and the distinct prefix lengths in a sorted list: a row hashes `s` once,
 * a code unit at a time, and looks up its prefix at each length present (no substring is built). That is one hash
 * probe per distinct length — usually a single cache line, decided by the stored hash — where a trie walk cost a
 * node and a Map per code unit, three dependent memory loads a step once the trie outgrew the caches (issue 12:
 * 5.7 steps a row on the seed mix at 1M shapes). Prefixes are whole strings compared by code unit, so matching is
 * exact across surrogate pairs.
 */
export class PrefixIndex implements EntryHome {
  private readonly map = new PostingMap<string>();
  /** Prefixes held per length (index: length). */
  private readonly perLength: number[] = [];
  /** The lengths with at least one prefix, ascending (rebuilt when a length appears or disappears: rare). */
  private lengths = new Int32Array(0);

  add(entry: number, prefix: string, entries: EntryTable): void {
    this.map.add(prefix, entry, entries);
    // The map placed the entry at itself; removal must come here, to keep the lengths.
    entries.place(entry, this, prefix);
    const n = prefix.length;
    while (this.perLength.length <= n) this.perLength.push(0);
    if ((this.perLength[n] = (this.perLength[n] as number) + 1) === 1) this.relength();
  }

  removeEntry(entry: number, key: unknown, entries: EntryTable): void {
    const prefix = key as string;
    this.map.removeEntry(entry, prefix, entries);
    const n = prefix.length;
    if ((this.perLength[n] = (this.perLength[n] as number) - 1) === 0) this.relength();
  }

  private relength(): void {
    const out: number[] = [];
    for (let n = 0; n < this.perLength.length; n++) if ((this.perLength[n] as number) > 0) out.push(n);
    this.lengths = Int32Array.from(out);
  }

  /** Entries under exactly `prefix` (live statistics). */
  count(prefix: string): number {
    return this.map.count(prefix);
  }

  /** Emits candidates for `s`; returns the number of hash probes made (one per prefix length up to |s|). */
  probe(s: string, emit: (entry: number) => void): number {
    const lengths = this.lengths;
    let h = FNV_OFFSET;
    let at = 0;
    let probes = 0;
    for (let k = 0; k < lengths.length; k++) {
      const len = lengths[k] as number;
      if (len > s.length) break;
      for (; at < len; at++) h = Math.imul(h ^ s.charCodeAt(at), FNV_PRIME);
      probes++;
      const hit = this.map.getPrefix(s, len, finishStringHash(h));
      if (hit === undefined) continue;
      if (typeof hit === 'number') emit(hit);
      else for (let j = 0; j < hit.length; j++) emit(hit.items[j] as number);
    }
    return probes;
  }

  /** Calls `fn` for every entry. */
  forEachEntry(fn: (entry: number) => void): void {
    this.map.forEachEntry(fn);
  }

  get size(): number {
    return this.map.size;
  }

  get keyCount(): number {
    return this.map.keyCount;
  }

  /** The map (key strings, about 24 bytes each, included) and the lengths. */
  get bytes(): number {
    return this.map.bytes + this.map.keyCount * 24 + this.perLength.length * 8;
  }
}
