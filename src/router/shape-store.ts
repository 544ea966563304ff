// Per-shape records kept column-wise: a shape costs a few array slots, not an object plus two small arrays.
import type { LaneKind } from './types.js';
import type { Owner, TableState } from './table-state.js';

/** A materialised view of one shape's record (explain and tests; never on the hot path). */
export interface ShapeRecord {
  readonly table: TableState;
  readonly where: string | undefined;
  readonly lane: LaneKind;
  readonly indexed: boolean;
  readonly entries: readonly number[];
  readonly owners: readonly Owner[];
}

const LANES: readonly LaneKind[] = ['equality', 'expression', 'range', 'prefix', 'inclusion', 'always', 'unindexed'];

/**
 * Most shapes have exactly one entry: it is stored in typed columns — its entry id, the table's and the entry owner's
 * small integer (tables and owners are few, registered here with reference counts) — 13 bytes a shape where
 * three pointer slots cost 24 and marking work for the GC. Shapes with several entries keep arrays in a side map.
 * `where` is kept for explain (shared by the shapes of one family).
 */
export class ShapeStore {
  private readonly where: (string | undefined)[] = [];
  /** The single entry of a shape, or -1 (several: see `multi`; none: not present). */
  private entry = new Int32Array(1024);
  /** Owner number + 1 of the single entry (0: none). */
  private owner = new Int32Array(1024);
  /** Table number + 1 (0: no shape). */
  private tableNo = new Int32Array(1024);
  /** lane index | (indexed ? 8 : 0) */
  private flags = new Uint8Array(1024);
  private readonly multi = new Map<number, { entries: number[]; owners: Owner[] }>();
  private readonly tables = new Registry<TableState>();
  private readonly owners = new Registry<Owner>();

  set(s: number, rec: ShapeRecord): void {
    if (s >= this.flags.length) this.grow(s + 1);
    this.tableNo[s] = this.tables.acquire(rec.table) + 1;
    this.where[s] = rec.where;
    if (rec.entries.length === 1) {
      this.entry[s] = rec.entries[0] as number;
      this.owner[s] = this.owners.acquire(rec.owners[0] as Owner) + 1;
    } else {
      this.entry[s] = -1;
      this.owner[s] = 0;
      this.multi.set(s, { entries: [...rec.entries], owners: [...rec.owners] });
    }
    this.flags[s] = LANES.indexOf(rec.lane) | (rec.indexed ? 8 : 0);
  }

  private grow(n: number): void {
    const cap = Math.max(n, this.flags.length * 2);
    const g = <T extends Int32Array | Uint8Array>(a: T, make: (c: number) => T): T => {
      const next = make(cap);
      next.set(a);
      return next;
    };
    this.entry = g(this.entry, (c) => new Int32Array(c));
    this.owner = g(this.owner, (c) => new Int32Array(c));
    this.tableNo = g(this.tableNo, (c) => new Int32Array(c));
    this.flags = g(this.flags, (c) => new Uint8Array(c));
  }

  has(s: number): boolean {
    return s < this.tableNo.length && this.tableNo[s] !== 0;
  }

  tableOf(s: number): TableState {
    return this.tables.at((this.tableNo[s] as number) - 1);
  }

  laneOf(s: number): LaneKind {
    return LANES[(this.flags[s] as number) & 7] as LaneKind;
  }

  /** Calls `fn` for each (entry, owner) of shape `s`. */
  forEachEntry(s: number, fn: (entry: number, owner: Owner) => void): void {
    if (!this.has(s)) return;
    const o = this.owner[s] as number;
    if (o !== 0) {
      fn(this.entry[s] as number, this.owners.at(o - 1));
      return;
    }
    const m = this.multi.get(s);
    if (m !== undefined) for (let i = 0; i < m.entries.length; i++) fn(m.entries[i] as number, m.owners[i] as Owner);
  }

  get(s: number): ShapeRecord | undefined {
    if (!this.has(s)) return undefined;
    const entries: number[] = [];
    const owners: Owner[] = [];
    this.forEachEntry(s, (e, o) => {
      entries.push(e);
      owners.push(o);
    });
    const f = this.flags[s] as number;
    return {
      table: this.tableOf(s),
      where: this.where[s],
      lane: LANES[f & 7] as LaneKind,
      indexed: (f & 8) !== 0,
      entries,
      owners,
    };
  }

  clear(s: number): void {
    if (!this.has(s)) return;
    this.tables.release((this.tableNo[s] as number) - 1);
    const o = this.owner[s] as number;
    if (o !== 0) this.owners.release(o - 1);
    else this.multi.delete(s);
    this.where[s] = undefined;
    this.entry[s] = -1;
    this.owner[s] = 0;
    this.tableNo[s] = 0;
    this.flags[s] = 0;
  }
}

/** Small integers for a few objects (tables, index owners), held while shapes refer to them, then reused. */
class Registry<T extends object> {
  private readonly items: (T | undefined)[] = [];
  private readonly refs: number[] = [];
  private readonly ids = new Map<T, number>();
  private readonly free: number[] = [];

  acquire(x: T): number {
    let id = this.ids.get(x);
    if (id === undefined) {
      const fresh = this.free.pop() ?? this.items.length;
      this.items[fresh] = x;
      this.refs[fresh] = 0;
      this.ids.set(x, fresh);
      id = fresh;
    }
    this.refs[id] = (this.refs[id] as number) + 1;
    return id;
  }

  at(id: number): T {
    return this.items[id] as T;
  }

  release(id: number): void {
    const left = (this.refs[id] as number) - 1;
    this.refs[id] = left;
    if (left > 0) return;
    this.ids.delete(this.items[id] as T);
    this.items[id] = undefined;
    this.free.push(id);
  }
}
