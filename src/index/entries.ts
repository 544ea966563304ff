// The entry table: one row per index posting a shape created (shape, residual, position in its posting, home).
//
// An entry is the unit the indexes store: routing reads `shape` and `residual` of each candidate entry, and removal
// deletes a shape's entries one by one in O(1) each through `home` (the structure holding it) and `pos`. Shape and
// residual are interleaved in one array (`sr[2e]`, `sr[2e + 1]`): routing reads both for every candidate, and at
// millions of entries one cache line instead of two is one DRAM miss fewer per match.

/** Where an entry lives; `removeEntry` deletes exactly that entry in O(1) (postings) or O(log n) (trees). */
export interface EntryHome {
  removeEntry(entry: number, key: unknown, entries: EntryTable): void;
}

export class EntryTable {
  /** Shape of entry e at 2e, its residual (-1: none) at 2e + 1. */
  sr: Int32Array;
  pos: Int32Array;
  readonly homes: (EntryHome | undefined)[] = [];
  readonly keys: unknown[] = [];
  private readonly free: number[] = [];
  private top = 0;
  private live = 0;

  constructor(capacity = 64) {
    this.sr = new Int32Array(capacity * 2);
    this.pos = new Int32Array(capacity);
  }

  shapeOf(e: number): number {
    return this.sr[2 * e] as number;
  }

  residualOf(e: number): number {
    return this.sr[2 * e + 1] as number;
  }

  /** Allocates an entry for `shape` whose candidates must also pass `residual` (-1 for none). */
  alloc(shape: number, residual: number): number {
    let e: number;
    if (this.free.length > 0) e = this.free.pop() as number;
    else {
      e = this.top++;
      if (e >= this.pos.length) this.grow();
    }
    this.sr[2 * e] = shape;
    this.sr[2 * e + 1] = residual;
    this.pos[e] = -1;
    this.live++;
    return e;
  }

  /** Records where the entry was placed (and under which key) so it can be removed without a search. */
  place(entry: number, home: EntryHome, key: unknown): void {
    this.homes[entry] = home;
    this.keys[entry] = key;
  }

  /** Removes the entry from its home and frees it. */
  release(entry: number): void {
    const home = this.homes[entry];
    if (home !== undefined) home.removeEntry(entry, this.keys[entry], this);
    this.homes[entry] = undefined;
    this.keys[entry] = undefined;
    this.sr[2 * entry] = -1;
    this.sr[2 * entry + 1] = -1;
    this.free.push(entry);
    this.live--;
  }

  get size(): number {
    return this.live;
  }

  /** Bytes held by the typed columns and the two pointer arrays (an estimate for stats). */
  get bytes(): number {
    return this.pos.length * 12 + this.top * 16;
  }

  private grow(): void {
    const cap = this.pos.length * 2;
    const sr = new Int32Array(cap * 2);
    sr.set(this.sr);
    const p = new Int32Array(cap);
    p.set(this.pos);
    this.sr = sr;
    this.pos = p;
  }
}
