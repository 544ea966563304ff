// Posting lists of entry ids: packed growable Int32Arrays with O(1) swap-removal, and a key → posting map.
import type { EntryHome, EntryTable } from './entries.js';
import { KeyTable } from './key-table.js';

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
    if (this.items.length > 16 && this.length * 4 < this.items.length)
      this.items = this.items.slice(0, this.items.length >> 1);
  }

  get bytes(): number {
    return 64 + this.items.length * 4;
  }
}

/**
 * Key → entries. A key with one entry stores the bare entry id (a small integer) instead of a Posting: most
 * equality keys of per-user shapes have exactly one shape, and a typed array per key would cost ~150 bytes.
 * Keys live in a KeyTable (typed-array hash table) rather than a Map: at millions of keys that halves the bytes per
 * key, keeps them out of GC marking and decides most misses on one cache line. NULL is a key of its own (`null`).
 * Hot paths call `get`: `number` is a single entry, `Posting` several.
 */
export class PostingMap<K extends string | number | null> implements EntryHome {
  private readonly table = new KeyTable<Exclude<K, null>>();
  /** Value of each key id: a bare entry, or a Posting when several. */
  private readonly vals: (number | Posting | undefined)[] = [];
  private nullVal: number | Posting | undefined = undefined;
  private entryCount = 0;

  /** The entries under `key`: undefined (none), a bare entry id, or a Posting. */
  get(key: K): number | Posting | undefined {
    if (key === null) return this.nullVal;
    const id = this.table.find(key as Exclude<K, null>);
    return id < 0 ? undefined : this.vals[id];
  }

  /** The entries under the string key equal to `s`'s first `len` code units (table hash `h`; see KeyTable.findPrefix). */
  getPrefix(s: string, len: number, h: number): number | Posting | undefined {
    const id = this.table.findPrefix(s, len, h);
    return id < 0 ? undefined : this.vals[id];
  }

  private put(key: K, v: number | Posting | undefined): void {
    if (key === null) this.nullVal = v;
    else if (v === undefined) {
      const id = this.table.remove(key as Exclude<K, null>);
      if (id >= 0) this.vals[id] = undefined;
    } else this.vals[this.table.intern(key as Exclude<K, null>)] = v;
  }

  add(key: K, entry: number, entries: EntryTable): void {
    const cur = this.get(key);
    if (cur === undefined) {
      this.put(key, entry);
      entries.pos[entry] = 0;
    } else if (typeof cur === 'number') {
      const p = new Posting(4);
      p.add(cur, entries);
      p.add(entry, entries);
      this.put(key, p);
    } else cur.add(entry, entries);
    entries.place(entry, this, key);
    this.entryCount++;
  }

  removeEntry(entry: number, key: unknown, entries: EntryTable): void {
    const k = key as K;
    const cur = this.get(k);
    if (cur === undefined) return;
    this.entryCount--;
    if (typeof cur === 'number') {
      this.put(k, undefined);
      entries.pos[entry] = -1;
      return;
    }
    cur.removeEntry(entry, key, entries);
    if (cur.length === 1) {
      const only = cur.items[0] as number;
      entries.pos[only] = 0;
      this.put(k, only);
    }
  }

  /** Number of entries under `key` (live statistics for choosing access atoms). */
  count(key: K): number {
    const cur = this.get(key);
    return cur === undefined ? 0 : typeof cur === 'number' ? 1 : cur.length;
  }

  /** Calls `fn` for each entry under `key`; returns how many. */
  forEach(key: K, fn: (entry: number) => void): number {
    const cur = this.get(key);
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

  /** Calls `fn` for every entry under every key (a fail-open of everything this map indexes). */
  forEachEntry(fn: (entry: number) => void): void {
    const vals = this.vals;
    for (let i = 0; i <= vals.length; i++) {
      const v = i < vals.length ? vals[i] : this.nullVal;
      if (v === undefined) continue;
      if (typeof v === 'number') fn(v);
      else for (let j = 0; j < v.length; j++) fn(v.items[j] as number);
    }
  }

  get keyCount(): number {
    return this.table.size + (this.nullVal === undefined ? 0 : 1);
  }

  get size(): number {
    return this.entryCount;
  }

  /** Rough heap estimate: the key table, one value slot per key id, posting arrays (key strings are the caller's). */
  get bytes(): number {
    let b = this.table.bytes + this.vals.length * 8;
    for (const v of this.vals) if (v !== undefined && typeof v !== 'number') b += v.bytes;
    if (this.nullVal !== undefined && typeof this.nullVal !== 'number') b += this.nullVal.bytes;
    return b;
  }
}
