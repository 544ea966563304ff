// An open-addressing hash table from keys (strings or numbers) to dense, reusable integer ids, held in typed arrays.
//
// Why not a Map: at 10⁶–10⁷ keys a V8 Map costs ~40–56 bytes per key in pointer-filled backing stores that every
// major GC marks, and a lookup follows bucket → entry → key, a DRAM miss each. Here a slot is two int32s (hash, id)
// in one Int32Array the GC never scans; a miss is usually decided on one cache line by the stored hash, and a hit
// costs one more load to compare the key. Linear probing with backward-shift deletion keeps probe runs short
// without tombstones. A table made `withValues` holds one int32 value per key in the slot itself, read on the line
// the probe already loaded (PostingMap keeps a key's bare entry there).

export type TableKey = string | number;

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);

function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** FNV-1a over UTF-16 code units, before the final mix: callers hashing every prefix of a string extend it a unit at a time. */
export const FNV_OFFSET = 0x811c9dc5 | 0;
export const FNV_PRIME = 0x01000193;

/** The table hash of a string whose FNV-1a state (over all its code units) is `fnv`. */
export function finishStringHash(fnv: number): number {
  return mix(fnv);
}

/** A 32-bit hash consistent with SameValueZero (what Map uses): -0 and 0 agree, every NaN agrees. */
export function hashKey(k: TableKey): number {
  if (typeof k === 'string') {
    let h = FNV_OFFSET;
    for (let i = 0; i < k.length; i++) h = Math.imul(h ^ k.charCodeAt(i), FNV_PRIME);
    return mix(h);
  }
  if ((k | 0) === k) return mix(Math.imul(k, 0x9e3779b1) ^ 0x27d4eb2f);
  if (k !== k) return 0x7ff80000;
  F64[0] = k;
  return mix((U32[0] as number) ^ Math.imul(U32[1] as number, 0x85ebca6b));
}

const sameKey = (a: TableKey | undefined, b: TableKey): boolean => a === b || (a !== a && b !== b);

const MIN_CAPACITY = 16;

export class KeyTable<K extends TableKey> {
  /** Int32s per slot: the key's hash, its id + 1 (0: empty) and, `withValues`, its value. */
  private readonly stride: number;
  private slots: Int32Array;
  private mask = MIN_CAPACITY - 1;
  private count = 0;
  /** The key of each id (undefined once freed). */
  readonly keys: (K | undefined)[] = [];
  private readonly free: number[] = [];
  /** The slot of the key last found, inserted or interned (valid until the next insert or removal). */
  lastSlot = -1;

  constructor(withValues = false) {
    this.stride = withValues ? 3 : 2;
    this.slots = new Int32Array(MIN_CAPACITY * this.stride);
  }

  /** The id of `key`, or -1 (its slot in `lastSlot`). */
  find(key: K): number {
    const h = hashKey(key);
    const slots = this.slots;
    const mask = this.mask;
    const st = this.stride;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const id = (slots[st * i + 1] as number) - 1;
      if (id < 0) return -1;
      if (slots[st * i] === h && sameKey(this.keys[id], key)) {
        this.lastSlot = i;
        return id;
      }
    }
  }

  /**
   * The id of the string key equal to `s`'s first `len` code units, whose table hash is `h`, or -1: a prefix looked
   * up without slicing it out of `s` (its slot in `lastSlot`).
   */
  findPrefix(s: string, len: number, h: number): number {
    const slots = this.slots;
    const mask = this.mask;
    const st = this.stride;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const id = (slots[st * i + 1] as number) - 1;
      if (id < 0) return -1;
      if (slots[st * i] === h) {
        const k = this.keys[id];
        if (typeof k === 'string' && k.length === len && s.startsWith(k)) {
          this.lastSlot = i;
          return id;
        }
      }
    }
  }

  /** The value in slot `i` (a `withValues` table; `i` from `lastSlot`). */
  valueAt(i: number): number {
    return this.slots[3 * i + 2] as number;
  }

  setValueAt(i: number, v: number): void {
    this.slots[3 * i + 2] = v;
  }

  /** Calls `fn` with every key's id and value (a `withValues` table). */
  forEachValue(fn: (id: number, value: number) => void): void {
    const slots = this.slots;
    for (let i = 0; i < slots.length; i += 3) {
      const id1 = slots[i + 1] as number;
      if (id1 !== 0) fn(id1 - 1, slots[i + 2] as number);
    }
  }

  /** Inserts `key`, which must be absent (callers check with `find`); returns its new id (its slot in `lastSlot`). */
  insert(key: K, h = hashKey(key)): number {
    if ((this.count + 1) * 2 > this.mask + 1) this.grow();
    const id = this.free.length > 0 ? (this.free.pop() as number) : this.keys.length;
    if (id === this.keys.length) this.keys.push(key);
    else this.keys[id] = key;
    this.lastSlot = this.place(h, id, 0);
    this.count++;
    return id;
  }

  /** The id of `key`, inserting it when absent (one probe run instead of find + insert); its slot in `lastSlot`. */
  intern(key: K): number {
    const h = hashKey(key);
    const slots = this.slots;
    const mask = this.mask;
    const st = this.stride;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const id = (slots[st * i + 1] as number) - 1;
      if (id < 0) return this.insert(key, h);
      if (slots[st * i] === h && sameKey(this.keys[id], key)) {
        this.lastSlot = i;
        return id;
      }
    }
  }

  /** Removes `key`; returns the id it had (now free for reuse), or -1. */
  remove(key: K): number {
    const h = hashKey(key);
    const slots = this.slots;
    const mask = this.mask;
    const st = this.stride;
    let i = h & mask;
    let id: number;
    for (; ; i = (i + 1) & mask) {
      id = (slots[st * i + 1] as number) - 1;
      if (id < 0) return -1;
      if (slots[st * i] === h && sameKey(this.keys[id], key)) break;
    }
    // Backward shift: pull later members of the probe run into the hole unless that would move one before its home.
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const jid = slots[st * j + 1] as number;
      if (jid === 0) break;
      const home = (slots[st * j] as number) & mask;
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (stays) continue;
      for (let c = 0; c < st; c++) slots[st * i + c] = slots[st * j + c] as number;
      i = j;
    }
    for (let c = 0; c < st; c++) slots[st * i + c] = 0;
    this.keys[id] = undefined;
    this.free.push(id);
    this.count--;
    this.lastSlot = -1;
    return id;
  }

  /** Keys present. */
  get size(): number {
    return this.count;
  }

  /** One past the largest id ever handed out: the length per-id arrays need. */
  get bound(): number {
    return this.keys.length;
  }

  /** Heap bytes of the table itself (slots and the key array's slots; key strings are the caller's to count). */
  get bytes(): number {
    return this.slots.byteLength + this.keys.length * 8;
  }

  private place(h: number, id: number, value: number): number {
    const slots = this.slots;
    const mask = this.mask;
    const st = this.stride;
    let i = h & mask;
    while (slots[st * i + 1] !== 0) i = (i + 1) & mask;
    slots[st * i] = h;
    slots[st * i + 1] = id + 1;
    if (st === 3) slots[3 * i + 2] = value;
    return i;
  }

  private grow(): void {
    const old = this.slots;
    const st = this.stride;
    const capacity = (this.mask + 1) * 2;
    this.slots = new Int32Array(capacity * st);
    this.mask = capacity - 1;
    for (let i = 0; i < old.length; i += st) {
      const id1 = old[i + 1] as number;
      if (id1 !== 0) this.place(old[i] as number, id1 - 1, st === 3 ? (old[i + 2] as number) : 0);
    }
  }
}
