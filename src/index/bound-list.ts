// One-sided bounds (`x > c`, `x >= c`) kept sorted in chunks: a stab is one binary search and then copies of entry
// ids, O(log n + matches), with no per-entry comparison.
//
// The entries `x > c` that a value v satisfies are those with c < v, or c = v when inclusive. Sorted by bound, with
// inclusive before strict at equal bounds, they are a prefix of the order: a stab finds where the prefix ends and
// emits everything before it. Upper bounds (`x < c`) use the mirrored order, so they too are a prefix. Bounds are
// compared through their projection onto doubles first (see order-key.ts), exactly only where projections tie.
// Chunks of at most 256 bounds keep an add or remove at O(log n + 256) moves instead of shifting a million.
import type { Value } from '../values/types.js';
import type { EntryHome, EntryTable } from './entries.js';
import type { KeyOrder } from './order-key.js';

export const MAX_CHUNK = 256;

/** Whether a bound (projection k, value, strict 1/0) is satisfied by a value with projection f: c < v, or c = v. */
export function satisfies(order: KeyOrder, k: number, val: Value, strict: number, f: number, v: Value): boolean {
  if (k < f) return true;
  if (k > f) return false;
  const d = order.cmp(val, v);
  return d < 0 || (d === 0 && strict === 0);
}

/** The total order of bounds: by value, inclusive before strict at equal values, then by entry (unique). */
export function compareBounds(
  order: KeyOrder,
  k: number,
  val: Value,
  s: number,
  entry: number,
  k2: number,
  val2: Value,
  s2: number,
  entry2: number,
): number {
  if (k !== k2) return k < k2 ? -1 : 1;
  const d = order.cmp(val, val2);
  if (d !== 0) return d;
  return s !== s2 ? s - s2 : entry - entry2;
}

/** Sorted bounds; parallel arrays: projection, value, and entry · 2 + (1 when strict). */
class Chunk {
  constructor(
    readonly keys: number[],
    readonly vals: Value[],
    readonly codes: number[],
  ) {}
}

/** Told when an entry of a child structure was removed (a RangeIndex counts its entries through it). */
export interface RemovalListener {
  removed(): void;
}

export class BoundList implements EntryHome {
  private chunks: Chunk[] = [];
  size = 0;

  constructor(
    private readonly order: KeyOrder,
    private readonly parent: RemovalListener | null = null,
  ) {}

  /** Adds `entry` for the bound `val` (strict: `>`; else `>=`, in this list's order). */
  add(entry: number, val: Value, strict: boolean, entries: EntryTable): void {
    const f = this.order.project(val);
    const s = strict ? 1 : 0;
    const chunks = this.chunks;
    if (chunks.length === 0) chunks.push(new Chunk([], [], []));
    const ci = this.chunkFor(f, val, s, entry);
    const c = chunks[ci] as Chunk;
    const at = this.indexIn(c, f, val, s, entry);
    c.keys.splice(at, 0, f);
    c.vals.splice(at, 0, val);
    c.codes.splice(at, 0, entry * 2 + s);
    if (c.keys.length > MAX_CHUNK) {
      const h = c.keys.length >> 1;
      chunks.splice(ci + 1, 0, new Chunk(c.keys.splice(h), c.vals.splice(h), c.codes.splice(h)));
    }
    this.size++;
    entries.place(entry, this, val);
  }

  removeEntry(entry: number, key: unknown): void {
    const val = key as Value;
    const f = this.order.project(val);
    for (let s = 0; s < 2; s++) {
      const ci = this.chunkFor(f, val, s, entry);
      const c = this.chunks[ci];
      if (c === undefined) break;
      const at = this.indexIn(c, f, val, s, entry);
      if (c.codes[at] !== entry * 2 + s) continue;
      c.keys.splice(at, 1);
      c.vals.splice(at, 1);
      c.codes.splice(at, 1);
      if (c.keys.length === 0) this.chunks.splice(ci, 1);
      else this.mergeSmall(ci);
      this.size--;
      this.parent?.removed();
      return;
    }
    throw new Error('bound not found (index corrupted)');
  }

  /**
   * Emits every entry whose bound `v` satisfies (c < v, or c = v when inclusive); returns the comparisons made
   * (a deterministic cost counter: O(log n), whatever the number emitted).
   */
  stab(v: Value, emit: (entry: number) => void): number {
    const chunks = this.chunks;
    const f = this.order.project(v);
    let steps = 0;
    // The last chunk whose first bound is satisfied: every chunk before it is satisfied whole.
    let lo = 0;
    let hi = chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      steps++;
      if (this.satisfied(chunks[mid] as Chunk, 0, f, v)) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return steps;
    for (let ci = 0; ci < lo - 1; ci++) {
      const codes = (chunks[ci] as Chunk).codes;
      for (let i = 0; i < codes.length; i++) emit((codes[i] as number) >> 1);
    }
    const last = chunks[lo - 1] as Chunk;
    let a = 1;
    let b = last.codes.length;
    while (a < b) {
      const mid = (a + b) >> 1;
      steps++;
      if (this.satisfied(last, mid, f, v)) a = mid + 1;
      else b = mid;
    }
    const codes = last.codes;
    for (let i = 0; i < a; i++) emit((codes[i] as number) >> 1);
    return steps;
  }

  forEachEntry(fn: (entry: number) => void): void {
    for (const c of this.chunks) for (const code of c.codes) fn(code >> 1);
  }

  get bytes(): number {
    return 64 + this.chunks.length * 120 + this.size * 24;
  }

  private satisfied(c: Chunk, i: number, f: number, v: Value): boolean {
    return satisfies(this.order, c.keys[i] as number, c.vals[i] as Value, (c.codes[i] as number) & 1, f, v);
  }

  private compareAt(c: Chunk, i: number, f: number, val: Value, s: number, entry: number): number {
    const code = c.codes[i] as number;
    return compareBounds(this.order, c.keys[i] as number, c.vals[i] as Value, code & 1, code >> 1, f, val, s, entry);
  }

  /** The chunk an item belongs in: the last whose first item is not after it (0 when it precedes all). */
  private chunkFor(f: number, val: Value, s: number, entry: number): number {
    const chunks = this.chunks;
    let lo = 1;
    let hi = chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.compareAt(chunks[mid] as Chunk, 0, f, val, s, entry) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** The first position in c whose item is not before (f, val, s, entry). */
  private indexIn(c: Chunk, f: number, val: Value, s: number, entry: number): number {
    let lo = 0;
    let hi = c.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.compareAt(c, mid, f, val, s, entry) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Folds a chunk that shrank below a quarter into its successor, so removals never leave many tiny chunks. */
  private mergeSmall(ci: number): void {
    const c = this.chunks[ci] as Chunk;
    const next = this.chunks[ci + 1];
    if (next === undefined || c.keys.length * 4 > MAX_CHUNK || c.keys.length + next.keys.length > MAX_CHUNK / 2) return;
    c.keys.push(...next.keys);
    c.vals.push(...next.vals);
    c.codes.push(...next.codes);
    this.chunks.splice(ci + 1, 1);
  }
}
