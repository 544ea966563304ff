// Posting lists of entry ids: packed growable Int32Arrays with O(1) swap-removal, and a key → posting map.
import type { EntryHome, EntryTable } from './entries.js';

/** Where each member's slot is recorded (the entry table, or a router's per-shape array). */
export interface Positions {
  pos: Int32Array;
}

/** A bag of entry ids; `entries.pos` records each entry's slot so removal is a swap with the last one. */
export class Posting implements EntryHome {
  items: Int32Array;
  length = 0;

  constructor(capacity = 4) {
    this.items = new Int32Array(capacity);
  }

  add(entry: number, entries: Positions): void {
    if (this.length === this.items.length) {
      const next = new Int32Array(this.items.length * 2);
      next.set(this.items);
      this.items = next;
    }
    entries.pos[entry] = this.length;
    this.items[this.length++] = entry;
  }

  removeEntry(entry: number, _key: unknown, entries: Positions): void {
    const at = entries.pos[entry] as number;
    const last = this.items[--this.length] as number;
    if (at !== this.length) {
      this.items[at] = last;
      entries.pos[last] = at;
    }
    entries.pos[entry] = -1;
    if (this.items.length > 16 && this.length * 4 < this.items.length) this.items = this.items.slice(0, this.items.length >> 1);
  }

  get bytes(): number {
    return 64 + this.items.length * 4;
  }
}

/**
 * Key → entries. A key with one entry stores the bare entry id (a small integer) instead of a Posting: most
 * equality keys of per-user shapes have exactly one shape, and a typed array per key would cost ~150 bytes.
 * Hot paths read `map` directly: `number` is a single entry, `Posting` several.
 */
export class PostingMap<K> implements EntryHome {
  readonly map = new Map<K, number | Posting>();
  private entryCount = 0;

  add(key: K, entry: number, entries: EntryTable): void {
    const cur = this.map.get(key);
    if (cur === undefined) {
      this.map.set(key, entry);
      entries.pos[entry] = 0;
    } else if (typeof cur === 'number') {
      const p = new Posting(4);
      p.add(cur, entries);
      p.add(entry, entries);
      this.map.set(key, p);
    } else cur.add(entry, entries);
    entries.place(entry, this, key);
    this.entryCount++;
  }

  removeEntry(entry: number, key: unknown, entries: EntryTable): void {
    const k = key as K;
    const cur = this.map.get(k);
    if (cur === undefined) return;
    this.entryCount--;
    if (typeof cur === 'number') {
      this.map.delete(k);
      entries.pos[entry] = -1;
      return;
    }
    cur.removeEntry(entry, key, entries);
    if (cur.length === 1) {
      const only = cur.items[0] as number;
      entries.pos[only] = 0;
      this.map.set(k, only);
    }
  }

  /** Number of entries under `key` (live statistics for choosing access atoms). */
  count(key: K): number {
    const cur = this.map.get(key);
    return cur === undefined ? 0 : typeof cur === 'number' ? 1 : cur.length;
  }

  /** Calls `fn` for each entry under `key`; returns how many. */
  forEach(key: K, fn: (entry: number) => void): number {
    const cur = this.map.get(key);
    if (cur === undefined) return 0;
    if (typeof cur === 'number') {
      fn(cur);
      return 1;
    }
    const items = cur.items;
    const n = cur.length;
    for (let i = 0; i < n; i++) fn(items[i] as number);
    return n;
  }

  get keyCount(): number {
    return this.map.size;
  }

  get size(): number {
    return this.entryCount;
  }

  /** Rough heap estimate: ~40 B per map slot plus posting arrays (keys themselves counted by the caller). */
  get bytes(): number {
    let b = this.map.size * 40;
    for (const v of this.map.values()) if (typeof v !== 'number') b += v.bytes;
    return b;
  }
}
