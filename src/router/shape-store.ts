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
 * Most shapes have exactly one entry: it is stored unboxed (a small integer and one owner reference); shapes with
 * several entries store arrays. `where` is kept for explain (shared by the shapes of one family).
 */
export class ShapeStore {
  private readonly table: (TableState | undefined)[] = [];
  private readonly where: (string | undefined)[] = [];
  private readonly entries: (number | number[] | undefined)[] = [];
  private readonly owners: (Owner | Owner[] | undefined)[] = [];
  /** lane index | (indexed ? 8 : 0) */
  private flags = new Uint8Array(1024);

  set(s: number, rec: ShapeRecord): void {
    if (s >= this.flags.length) {
      const next = new Uint8Array(Math.max(s + 1, this.flags.length * 2));
      next.set(this.flags);
      this.flags = next;
    }
    this.table[s] = rec.table;
    this.where[s] = rec.where;
    const one = rec.entries.length === 1;
    this.entries[s] = one ? rec.entries[0] : [...rec.entries];
    this.owners[s] = one ? rec.owners[0] : [...rec.owners];
    this.flags[s] = LANES.indexOf(rec.lane) | (rec.indexed ? 8 : 0);
  }

  has(s: number): boolean {
    return this.table[s] !== undefined;
  }

  tableOf(s: number): TableState {
    return this.table[s] as TableState;
  }

  laneOf(s: number): LaneKind {
    return LANES[(this.flags[s] as number) & 7] as LaneKind;
  }

  /** Calls `fn` for each (entry, owner) of shape `s`. */
  forEachEntry(s: number, fn: (entry: number, owner: Owner) => void): void {
    const e = this.entries[s];
    const o = this.owners[s];
    if (typeof e === 'number') fn(e, o as Owner);
    else if (e !== undefined) for (let i = 0; i < e.length; i++) fn(e[i] as number, (o as Owner[])[i] as Owner);
  }

  get(s: number): ShapeRecord | undefined {
    const table = this.table[s];
    if (table === undefined) return undefined;
    const entries: number[] = [];
    const owners: Owner[] = [];
    this.forEachEntry(s, (e, o) => {
      entries.push(e);
      owners.push(o);
    });
    const f = this.flags[s] as number;
    return { table, where: this.where[s], lane: LANES[f & 7] as LaneKind, indexed: (f & 8) !== 0, entries, owners };
  }

  clear(s: number): void {
    this.table[s] = undefined;
    this.where[s] = undefined;
    this.entries[s] = undefined;
    this.owners[s] = undefined;
    this.flags[s] = 0;
  }
}
