// The entry table: one row per index posting a shape created (shape, residual, position in its posting, home).
//
// An entry is the unit the indexes store: routing reads `shape` and `residual` of each candidate entry, and removal
// deletes a shape's entries one by one in O(1) each through `home` (the structure holding it) and `pos`.

/** Where an entry lives; `removeEntry` deletes exactly that entry in O(1) (postings) or O(log n) (trees). */
export interface EntryHome {
  removeEntry(entry: number, key: unknown, entries: EntryTable): void;
}

export class EntryTable {
  shape: Int32Array;
  residual: Int32Array;
  pos: Int32Array;
  readonly homes: (EntryHome | undefined)[] = [];
  readonly keys: unknown[] = [];
  private readonly free: number[] = [];
  private top = 0;
  private live = 0;

  constructor(capacity = 64) {
    this.shape = new Int32Array(capacity);
    this.residual = new Int32Array(capacity);
    this.pos = new Int32Array(capacity);
  }

  /** Allocates an entry for `shape` whose candidates must also pass `residual` (-1 for none). */
  alloc(shape: number, residual: number): number {
    let e: number;
    if (this.free.length > 0) e = this.free.pop() as number;
    else {
      e = this.top++;
      if (e >= this.shape.length) this.grow();
    }
    this.shape[e] = shape;
    this.residual[e] = residual;
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
    this.shape[entry] = -1;
    this.residual[entry] = -1;
    this.free.push(entry);
    this.live--;
  }

  get size(): number {
    return this.live;
  }

  /** Bytes held by the typed columns and the two pointer arrays (an estimate for stats). */
  get bytes(): number {
    return this.shape.length * 12 + this.top * 16;
  }

  private grow(): void {
    const cap = this.shape.length * 2;
    const s = new Int32Array(cap);
    s.set(this.shape);
    const r = new Int32Array(cap);
    r.set(this.residual);
    const p = new Int32Array(cap);
    p.set(this.pos);
    this.shape = s;
    this.residual = r;
    this.pos = p;
  }
}
