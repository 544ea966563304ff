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
 * key, keeps them out of GC marking and decides most misses on one cache line. The value sits in the key's slot
 * (an entry id, or ~i for the Posting at `postings[i]`): a hit reads it on the line the probe loaded, where a
 * per-key array cost one more cache miss at millions of keys. NULL is a key of its own (`null`).
 * Hot paths call `get`: `number` is a single entry, `Posting` several.
 */
export class PostingMap<K extends string | number | null> implements EntryHome {
  private readonly table = new KeyTable<Exclude<K, null>>(true);
  /** Postings of keys with several entries (slot value ~i), free slots reused. */
  private readonly postings: (Posting | undefined)[] = [];
  private readonly freePostings: number[] = [];
  private nullVal: number | Posting | undefined = undefined;
  private entryCount = 0;

  /** The entries under `key`: undefined (none), a bare entry id, or a Posting. */
  get(key: K): number | Posting | undefined {
    if (key === null) return this.nullVal;
    const t = this.table;
    if (t.find(key as Exclude<K, null>) < 0) return undefined;
    const v = t.valueAt(t.lastSlot);
    return v >= 0 ? v : this.postings[~v];
  }

  /** The entries under the string key equal to `s`'s first `len` code units (table hash `h`; see KeyTable.findPrefix). */
  getPrefix(s: string, len: number, h: number): number | Posting | undefined {
    const t = this.table;
    if (t.findPrefix(s, len, h) < 0) return undefined;
    const v = t.valueAt(t.lastSlot);
    return v >= 0 ? v : this.postings[~v];
  }

  add(key: K, entry: number, entries: EntryTable): void {
    if (key === null) {
      const cur = this.nullVal;
      if (cur === undefined) {
        this.nullVal = entry;
        entries.pos[entry] = 0;
      } else if (typeof cur === 'number') {
        const p = new Posting(4);
        p.add(cur, entries);
        p.add(entry, entries);
        this.nullVal = p;
      } else cur.add(entry, entries);
    } else {
      const t = this.table;
      const k = key as Exclude<K, null>;
      if (t.find(k) < 0) {
        t.insert(k);
        t.setValueAt(t.lastSlot, entry);
        entries.pos[entry] = 0;
      } else {
        const v = t.valueAt(t.lastSlot);
        if (v >= 0) {
          const p = new Posting(4);
          p.add(v, entries);
          p.add(entry, entries);
          const i = this.freePostings.length > 0 ? (this.freePostings.pop() as number) : this.postings.length;
          this.postings[i] = p;
          t.setValueAt(t.lastSlot, ~i);
        } else (this.postings[~v] as Posting).add(entry, entries);
      }
    }
    entries.place(entry, this, key);
    this.entryCount++;
  }

  removeEntry(entry: number, key: unknown, entries: EntryTable): void {
    const k = key as K;
    if (k === null) {
      const cur = this.nullVal;
      if (cur === undefined) return;
      this.entryCount--;
      if (typeof cur === 'number') {
        this.nullVal = undefined;
        entries.pos[entry] = -1;
        return;
      }
      cur.removeEntry(entry, key, entries);
      if (cur.length === 1) {
        const only = cur.items[0] as number;
        entries.pos[only] = 0;
        this.nullVal = only;
      }
      return;
    }
    const t = this.table;
    if (t.find(k as Exclude<K, null>) < 0) return;
    this.entryCount--;
    const slot = t.lastSlot;
    const v = t.valueAt(slot);
    if (v >= 0) {
      t.remove(k as Exclude<K, null>);
      entries.pos[entry] = -1;
      return;
    }
    const p = this.postings[~v] as Posting;
    p.removeEntry(entry, key, entries);
    if (p.length === 1) {
      const only = p.items[0] as number;
      entries.pos[only] = 0;
      this.postings[~v] = undefined;
      this.freePostings.push(~v);
      t.setValueAt(slot, only);
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
    const each = (v: number | Posting | undefined): void => {
      if (v === undefined) return;
      if (typeof v === 'number') fn(v);
      else for (let j = 0; j < v.length; j++) fn(v.items[j] as number);
    };
    this.table.forEachValue((_id, v) => each(v >= 0 ? v : this.postings[~v]));
    each(this.nullVal);
  }

  get keyCount(): number {
    return this.table.size + (this.nullVal === undefined ? 0 : 1);
  }

  get size(): number {
    return this.entryCount;
  }

  /** Rough heap estimate: the key table (values included), posting arrays (key strings are the caller's). */
  get bytes(): number {
    let b = this.table.bytes + this.postings.length * 8;
    for (const v of this.postings) if (v !== undefined) b += v.bytes;
    if (this.nullVal !== undefined && typeof this.nullVal !== 'number') b += this.nullVal.bytes;
    return b;
  }
}
