// An ordered, dynamic set of ranges (a treap keyed by lower bound, augmented with the largest upper bound).
//
// Why a treap: O(log n) expected insert and delete (a sorted array costs O(n) per add), and stabbing — "every range
// containing v" — walks only nodes whose lower bound is ≤ v and whose subtree's largest upper bound is ≥ v. With no
// upper bounds (one-sided thresholds) that is O(log n + matches); for two-sided ranges each match costs at most a
// root-to-leaf path, O(log n + matches·log n), and narrow disjoint ranges prune to O(log n + matches).
// Ordering is the caller's `cmp` (the type's btree order: NaN highest, code-point text…), so NULL never enters.

export interface RangeNode<V> {
  lo: V | undefined; // undefined: unbounded below
  loIncl: boolean;
  hi: V | undefined; // undefined: unbounded above
  hiIncl: boolean;
  entry: number;
  prio: number;
  left: RangeNode<V> | null;
  right: RangeNode<V> | null;
  maxHi: V | undefined; // largest hi in the subtree; undefined when some range there is unbounded above
}

let seed = 0x9e3779b9;
/** Deterministic priorities (xorshift32): the same adds give the same tree shape run after run. */
function nextPrio(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return seed >>> 0;
}

export class RangeTreap<V> {
  root: RangeNode<V> | null = null;
  size = 0;
  /** Nodes visited by the last stabs (a deterministic cost counter for complexity tests). */
  visited = 0;

  constructor(private readonly cmp: (a: V, b: V) => number) {}

  insert(lo: V | undefined, loIncl: boolean, hi: V | undefined, hiIncl: boolean, entry: number): RangeNode<V> {
    const node: RangeNode<V> = { lo, loIncl, hi, hiIncl, entry, prio: nextPrio(), left: null, right: null, maxHi: hi };
    this.root = this.ins(this.root, node);
    this.size++;
    return node;
  }

  remove(node: RangeNode<V>): void {
    const before = this.size;
    this.root = this.del(this.root, node);
    if (this.size === before) throw new Error('range node not found (index corrupted)');
  }

  /** Calls `emit` with the entry of every range containing `v`. */
  stab(v: V, emit: (entry: number) => void): void {
    this.walk(this.root, v, emit);
  }

  /** Calls `fn` for every range's entry. */
  forEachEntry(fn: (entry: number) => void): void {
    const stack: RangeNode<V>[] = [];
    if (this.root !== null) stack.push(this.root);
    for (let t = stack.pop(); t !== undefined; t = stack.pop()) {
      fn(t.entry);
      if (t.left !== null) stack.push(t.left);
      if (t.right !== null) stack.push(t.right);
    }
  }

  // Order: unbounded-below first, then by lo, inclusive before strict at equal lo, then by entry id (unique).
  private order(a: RangeNode<V>, b: RangeNode<V>): number {
    if (a.lo === undefined || b.lo === undefined) {
      if (a.lo !== undefined) return 1;
      if (b.lo !== undefined) return -1;
    } else {
      const c = this.cmp(a.lo, b.lo);
      if (c !== 0) return c;
    }
    if (a.loIncl !== b.loIncl) return a.loIncl ? -1 : 1;
    return a.entry - b.entry;
  }

  private fix(n: RangeNode<V>): void {
    let m = n.hi;
    if (m !== undefined) {
      const l = n.left;
      if (l !== null) m = l.maxHi === undefined ? undefined : this.cmp(l.maxHi, m) > 0 ? l.maxHi : m;
    }
    if (m !== undefined) {
      const r = n.right;
      if (r !== null) m = r.maxHi === undefined ? undefined : this.cmp(r.maxHi, m) > 0 ? r.maxHi : m;
    }
    n.maxHi = m;
  }

  private ins(t: RangeNode<V> | null, n: RangeNode<V>): RangeNode<V> {
    if (t === null) return n;
    if (this.order(n, t) < 0) {
      t.left = this.ins(t.left, n);
      if (t.left.prio > t.prio) t = this.rotRight(t);
    } else {
      t.right = this.ins(t.right, n);
      if (t.right.prio > t.prio) t = this.rotLeft(t);
    }
    this.fix(t);
    return t;
  }

  private del(t: RangeNode<V> | null, n: RangeNode<V>): RangeNode<V> | null {
    if (t === null) return null;
    if (t === n) {
      this.size--;
      return this.merge(t.left, t.right);
    }
    if (this.order(n, t) < 0) t.left = this.del(t.left, n);
    else t.right = this.del(t.right, n);
    this.fix(t);
    return t;
  }

  private merge(a: RangeNode<V> | null, b: RangeNode<V> | null): RangeNode<V> | null {
    if (a === null) return b;
    if (b === null) return a;
    if (a.prio > b.prio) {
      a.right = this.merge(a.right, b);
      this.fix(a);
      return a;
    }
    b.left = this.merge(a, b.left);
    this.fix(b);
    return b;
  }

  private rotRight(t: RangeNode<V>): RangeNode<V> {
    const l = t.left as RangeNode<V>;
    t.left = l.right;
    l.right = t;
    this.fix(t);
    return l;
  }

  private rotLeft(t: RangeNode<V>): RangeNode<V> {
    const r = t.right as RangeNode<V>;
    t.right = r.left;
    r.left = t;
    this.fix(t);
    return r;
  }

  private walk(t: RangeNode<V> | null, v: V, emit: (entry: number) => void): void {
    const cmp = this.cmp;
    while (t !== null) {
      this.visited++;
      if (t.maxHi !== undefined && cmp(t.maxHi, v) < 0) return;
      if (t.left !== null) this.walk(t.left, v, emit);
      if (t.lo !== undefined) {
        const c = cmp(t.lo, v);
        // Everything to the right starts at or after this node: nothing there can contain v either.
        if (c > 0 || (c === 0 && !t.loIncl)) return;
      }
      if (t.hi === undefined) emit(t.entry);
      else {
        const c = cmp(t.hi, v);
        if (c > 0 || (c === 0 && t.hiIncl)) emit(t.entry);
      }
      t = t.right;
    }
  }
}
