// Pairs of one-sided bounds (`x > a AND y < b`, or an interval `a < x < b` as two bounds on one value), kept so that a
// stab copies runs of entry ids: every entry whose two bounds both pass, O(chunks + k) with no check per emitted id.
//
// Entries are partitioned into chunks by their first bound (chunk i holds the bounds between fences i and i + 1, in
// BoundList's order); inside a chunk they are sorted by their second bound. The first bounds a value passes are a
// prefix of their order, so every chunk before the one holding the prefix's end passes its first bound whole: there
// a binary search on the second bound finds the run that passes both, and the run is copied. Only the boundary
// chunk checks its entries one by one (at most 256). A chunk whose best second bound fails is skipped after one
// comparison, so narrow intervals cost one comparison per chunk of 256, not one per interval.
import type { Value } from '../values/types.js';
import { MAX_CHUNK, compareBounds, satisfies, type RemovalListener } from './bound-list.js';
import type { EntryHome, EntryTable } from './entries.js';
import type { KeyOrder } from './order-key.js';

/** Bounds beyond the first two, each in its own order: projections, values, strictness (1 strict, 0 inclusive). */
export interface Extra {
  readonly k: readonly number[];
  readonly v: readonly Value[];
  readonly s: readonly number[];
}

/** Where a pair lives (its removal key): both bounds and their strictness (1 strict, 0 inclusive). */
interface PairKey {
  readonly v1: Value;
  readonly s1: number;
  readonly v2: Value;
  readonly s2: number;
}

/**
 * Entries sorted by second bound: its projection, value and code (entry · 4 + strict1 · 2 + strict2), and beside
 * them each entry's first bound (projection and value). `fk`/`fv`/`fc` is the chunk's fence: every first bound of
 * the chunk is at or after it (chunk 0 has none). Further bounds are flat, `m` per entry in the same order
 * (projections `xk`, values `xv`, strictness bits `xs`): checking them reads adjacent doubles, not an object per entry.
 */
class PairChunk {
  k2: number[] = [];
  v2: Value[] = [];
  c2: number[] = [];
  k1: number[] = [];
  v1: Value[] = [];
  xk: number[] = [];
  xv: Value[] = [];
  xs: number[] = [];
  fk = 0;
  fv: Value | undefined = undefined;
  /** The fence's entry · 2 + strict. */
  fc = 0;
}

export class BoundPairs implements EntryHome {
  private chunks: PairChunk[] = [];
  size = 0;
  /** Further bounds per entry. */
  private readonly m: number;
  /** Projections of the further values of the current stab (reused). */
  private readonly fx: number[] = [];
  /** Comparisons made by the last `passing` call (kept in a field: no result object per chunk). */
  private passSteps = 0;

  constructor(
    private readonly o1: KeyOrder,
    private readonly o2: KeyOrder,
    private readonly parent: RemovalListener | null = null,
    /** Orders of further bounds, checked per entry of the runs the first two select (`x > a AND y < b AND z > c`). */
    private readonly extra: readonly KeyOrder[] = [],
  ) {
    this.m = extra.length;
  }

  /** The projections of further bounds' values for an entry. */
  extraOf(values: readonly Value[], strict: readonly boolean[]): Extra {
    return {
      k: values.map((v, i) => (this.extra[i] as KeyOrder).project(v)),
      v: values,
      s: strict.map((x) => (x ? 1 : 0)),
    };
  }

  /**
   * Adds `entry`: its first bound v1 (strict: `>`) and second bound v2, each in its own order, and its further ones
   * (required when the pairs have further orders).
   */
  add(
    entry: number,
    v1: Value,
    strict1: boolean,
    v2: Value,
    strict2: boolean,
    entries: EntryTable,
    more?: Extra,
  ): void {
    const m = this.m;
    if (m > 0 && (more === undefined || more.k.length !== m)) throw new Error(`bound pairs need ${m} further bounds`);
    const s1 = strict1 ? 1 : 0;
    const s2 = strict2 ? 1 : 0;
    const f1 = this.o1.project(v1);
    if (this.chunks.length === 0) this.chunks.push(new PairChunk());
    const ci = this.chunkFor(f1, v1, s1, entry);
    const c = this.chunks[ci] as PairChunk;
    const f2 = this.o2.project(v2);
    const at = this.indexIn(c, f2, v2, s2, entry);
    c.k2.splice(at, 0, f2);
    c.v2.splice(at, 0, v2);
    c.c2.splice(at, 0, entry * 4 + s1 * 2 + s2);
    c.k1.splice(at, 0, f1);
    c.v1.splice(at, 0, v1);
    if (more !== undefined && m > 0) {
      let bits = 0;
      for (let j = 0; j < m; j++) bits |= (more.s[j] as number) << j;
      c.xk.splice(at * m, 0, ...more.k);
      c.xv.splice(at * m, 0, ...more.v);
      c.xs.splice(at, 0, bits);
    }
    if (c.k2.length > MAX_CHUNK) this.split(ci);
    this.size++;
    const key: PairKey = { v1, s1, v2, s2 };
    entries.place(entry, this, key);
  }

  removeEntry(entry: number, key: unknown): void {
    const { v1, s1, v2, s2 } = key as PairKey;
    const ci = this.chunkFor(this.o1.project(v1), v1, s1, entry);
    const c = this.chunks[ci];
    const at = c === undefined ? -1 : this.indexIn(c, this.o2.project(v2), v2, s2, entry);
    if (c === undefined || (c.c2[at] as number) >> 2 !== entry)
      throw new Error('bound pair not found (index corrupted)');
    c.k2.splice(at, 1);
    c.v2.splice(at, 1);
    c.c2.splice(at, 1);
    c.k1.splice(at, 1);
    c.v1.splice(at, 1);
    if (this.m > 0) {
      c.xk.splice(at * this.m, this.m);
      c.xv.splice(at * this.m, this.m);
      c.xs.splice(at, 1);
    }
    if (c.k2.length === 0 && this.chunks.length > 1) this.chunks.splice(ci, 1);
    this.size--;
    this.parent?.removed();
  }

  /**
   * Emits every entry whose first bound `x` and second bound `y` pass (and further bounds the values `z`); returns
   * the comparisons made.
   */
  stab(x: Value, y: Value, emit: (entry: number) => void, z?: readonly Value[]): number {
    const chunks = this.chunks;
    const o1 = this.o1;
    const fx = o1.project(x);
    const fy = this.o2.project(y);
    const m = z === undefined ? 0 : this.m;
    if (z !== undefined) for (let j = 0; j < m; j++) this.fx[j] = (this.extra[j] as KeyOrder).project(z[j] as Value);
    let steps = 0;
    // The first chunk whose successor's fence fails: chunks before it pass their first bound whole.
    let lo = 0;
    let hi = chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const next = chunks[mid + 1] as PairChunk;
      steps++;
      if (satisfies(o1, next.fk, next.fv as Value, next.fc & 1, fx, x)) lo = mid + 1;
      else hi = mid;
    }
    for (let ci = 0; ci < lo; ci++) {
      const c = chunks[ci] as PairChunk;
      const count = this.passing(c, fy, y);
      steps += this.passSteps;
      const codes = c.c2;
      if (m === 0) for (let i = 0; i < count; i++) emit((codes[i] as number) >> 2);
      else {
        steps += count;
        for (let i = 0; i < count; i++)
          if (this.passesExtra(c, i, z as readonly Value[])) emit((codes[i] as number) >> 2);
      }
    }
    const last = chunks[lo];
    if (last === undefined) return steps;
    const count = this.passing(last, fy, y);
    steps += this.passSteps + count;
    const codes = last.c2;
    for (let i = 0; i < count; i++) {
      const code = codes[i] as number;
      if (!satisfies(o1, last.k1[i] as number, last.v1[i] as Value, (code >> 1) & 1, fx, x)) continue;
      if (m === 0 || this.passesExtra(last, i, z as readonly Value[])) emit(code >> 2);
    }
    return steps;
  }

  /** Whether entry i of c passes every further bound for the values z (projections already in `fx`). */
  private passesExtra(c: PairChunk, i: number, z: readonly Value[]): boolean {
    const m = this.m;
    const fz = this.fx;
    const xk = c.xk;
    const bits = c.xs[i] as number;
    for (let j = 0, p = i * m; j < m; j++, p++) {
      const k = xk[p] as number;
      const f = fz[j] as number;
      if (k < f) continue;
      if (k > f) return false;
      const d = (this.extra[j] as KeyOrder).cmp(c.xv[p] as Value, z[j] as Value);
      if (d > 0 || (d === 0 && ((bits >> j) & 1) === 1)) return false;
    }
    return true;
  }

  /**
   * Every entry whose bounds pass for the values known (undefined: unknown, not checked): what fails open when some
   * probe raised — a bound that the known values fail still decides its entry.
   */
  forEachPassing(
    x: Value | undefined,
    y: Value | undefined,
    z: readonly (Value | undefined)[],
    fn: (entry: number) => void,
  ): void {
    const fx = x === undefined ? 0 : this.o1.project(x);
    const fy = y === undefined ? 0 : this.o2.project(y);
    const m = this.m;
    for (const c of this.chunks)
      for (let i = 0; i < c.c2.length; i++) {
        const code = c.c2[i] as number;
        if (x !== undefined && !satisfies(this.o1, c.k1[i] as number, c.v1[i] as Value, (code >> 1) & 1, fx, x))
          continue;
        if (y !== undefined && !satisfies(this.o2, c.k2[i] as number, c.v2[i] as Value, code & 1, fy, y)) continue;
        let pass = true;
        for (let j = 0; pass && j < Math.min(m, z.length); j++) {
          const w = z[j];
          if (w === undefined) continue;
          const o = this.extra[j] as KeyOrder;
          const p = i * m + j;
          const strict = ((c.xs[i] as number) >> j) & 1;
          pass = satisfies(o, c.xk[p] as number, c.xv[p] as Value, strict, o.project(w), w);
        }
        if (pass) fn(code >> 2);
      }
  }

  forEachEntry(fn: (entry: number) => void): void {
    for (const c of this.chunks) for (const code of c.c2) fn(code >> 2);
  }

  get bytes(): number {
    return 64 + this.chunks.length * 240 + this.size * (48 + this.m * 16 + (this.m > 0 ? 8 : 0));
  }

  /**
   * How many entries of c (a prefix of its second-bound order) pass their second bound; the comparisons made go to
   * `passSteps`.
   */
  private passing(c: PairChunk, fy: number, y: Value): number {
    const o2 = this.o2;
    const k2 = c.k2;
    const v2 = c.v2;
    const c2 = c.c2;
    const n = k2.length;
    this.passSteps = 1;
    if (n === 0 || !satisfies(o2, k2[0] as number, v2[0] as Value, (c2[0] as number) & 1, fy, y)) return 0;
    let a = 1;
    let b = n;
    while (a < b) {
      const mid = (a + b) >> 1;
      this.passSteps++;
      if (satisfies(o2, k2[mid] as number, v2[mid] as Value, (c2[mid] as number) & 1, fy, y)) a = mid + 1;
      else b = mid;
    }
    return a;
  }

  /** The chunk a first bound belongs in: the last whose fence is not after it (0 when it precedes all). */
  private chunkFor(f1: number, v1: Value, s1: number, entry: number): number {
    const chunks = this.chunks;
    let lo = 1;
    let hi = chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = chunks[mid] as PairChunk;
      if (compareBounds(this.o1, c.fk, c.fv as Value, c.fc & 1, c.fc >> 1, f1, v1, s1, entry) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** The first position in c (second-bound order) not before (f2, v2, s2, entry). */
  private indexIn(c: PairChunk, f2: number, v2: Value, s2: number, entry: number): number {
    let lo = 0;
    let hi = c.k2.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const code = c.c2[mid] as number;
      if (compareBounds(this.o2, c.k2[mid] as number, c.v2[mid] as Value, code & 1, code >> 2, f2, v2, s2, entry) < 0)
        lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Splits a full chunk at the median of its first bounds; each half keeps its second-bound order. */
  private split(ci: number): void {
    const c = this.chunks[ci] as PairChunk;
    const n = c.k2.length;
    const o1 = this.o1;
    const first = (i: number): [number, Value, number, number] => {
      const code = c.c2[i] as number;
      return [c.k1[i] as number, c.v1[i] as Value, (code >> 1) & 1, code >> 2];
    };
    const idx = Array.from({ length: n }, (_, i) => i);
    idx.sort((a, b) => {
      const [ka, va, sa, ea] = first(a);
      const [kb, vb, sb, eb] = first(b);
      return compareBounds(o1, ka, va, sa, ea, kb, vb, sb, eb);
    });
    const [fk, fv, fs, fe] = first(idx[n >> 1] as number);
    const right = new PairChunk();
    right.fk = fk;
    right.fv = fv;
    right.fc = fe * 2 + fs;
    const left = new PairChunk();
    left.fk = c.fk;
    left.fv = c.fv;
    left.fc = c.fc;
    for (let i = 0; i < n; i++) {
      const [k, v, s, e] = first(i);
      const to = compareBounds(o1, k, v, s, e, fk, fv, fs, fe) < 0 ? left : right;
      to.k2.push(c.k2[i] as number);
      to.v2.push(c.v2[i] as Value);
      to.c2.push(c.c2[i] as number);
      to.k1.push(k);
      to.v1.push(v);
      if (this.m > 0) to.xs.push(c.xs[i] as number);
      for (let j = 0, p = i * this.m; j < this.m; j++, p++) {
        to.xk.push(c.xk[p] as number);
        to.xv.push(c.xv[p] as Value);
      }
    }
    this.chunks.splice(ci, 1, left, right);
  }
}
