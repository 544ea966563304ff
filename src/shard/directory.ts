// The main thread's registry of every shape (definition, global id, shard) and the dispatch state derived from it.
//
// The registry is the source of truth a dead shard is rebuilt from. Dispatch state per table: how many non-keyed
// shapes each shard holds (rows of the table visit those shards), and per key column the shape count of every key
// (the exact per-shard key filter: a row whose key no shape has skips that column's shard) and the split hot keys
// (their shapes are spread round robin, so their rows visit every shard holding shapes of the table).
//
// Shapes without a routing key are either spread round robin ('spread': every row visits every shard holding some,
// and each shard pays the whole per-row index cost for a fraction of the shapes, so two shards do about twice the
// work of one Router) or replicated to every shard ('replicate': each row visits one shard for them, so the
// per-row work is divided by the shard count and the memory of those shapes multiplied by it). Under 'rows' every
// shape is replicated and no per-row dispatch happens at all. bench/shard-bench.ts measures all three.
import { ErrorCode, RouterError } from '../errors/index.js';
import { parseTableName } from '../sql/identifiers.js';
import { codecFor } from '../values/registry.js';
import type { Codec } from '../values/codec.js';
import type { Change, RowRecord, ShapeDef } from '../router/index.js';
import { PlacementAnalyser, rowKey, shardOfKey, type KeyValue, type TableInfo } from './placement.js';
import { VIA_PLACED, VIA_REPLICATED, type ShapeOp } from './protocol.js';

/** Entry.shard of a shape held by every shard (placements 'replicate' and 'rows'). */
export const REPLICATED = -2;

/**
 * Where shapes go (architecture.md, "Sharding"):
 * - 'replicate': keyed shapes by the hash of their key; shapes without a routing key on every shard, and a row visits
 *   one shard for them (rows split for the open shapes);
 * - 'spread': keyed shapes by key, the others round robin (a row visits every shard holding open shapes);
 * - 'rows': every shape on every shard and each batch goes whole to one shard (the replicated index with rows
 *   split: no per-row dispatch work, N× the memory and N× the shape adds).
 */
export type OpenPlacement = 'replicate' | 'spread' | 'rows';

export interface Entry {
  readonly id: string;
  readonly gid: number;
  readonly table: number;
  readonly where: string | undefined;
  readonly params: Record<string, string> | undefined;
  /** Its shard, or REPLICATED. */
  readonly shard: number;
  /** Key column index, -1 when the shape has no routing key. */
  readonly column: number;
  readonly key: KeyValue;
}

interface KeyColumn {
  readonly column: number;
  readonly codec: Codec;
  readonly counts: Map<KeyValue, number>;
  readonly split: Set<KeyValue>;
  shapes: number;
}

interface TableDispatch {
  readonly info: TableInfo;
  /** Non-keyed shapes per shard. */
  readonly open: Int32Array;
  /** All placed (not replicated) shapes per shard. */
  readonly all: Int32Array;
  /** Replicated shapes (each on every shard). */
  replicated: number;
  total: number;
  readonly keyed: Map<number, KeyColumn>;
  /** The values of `keyed`, as an array: the per-row loop must not allocate an iterator. */
  readonly keyedList: KeyColumn[];
}

export interface HotKey {
  readonly table: string;
  readonly column: string;
  readonly key: KeyValue;
  readonly shapes: number;
}

const NAME_CACHE_LIMIT = 10_000;

export class Directory {
  readonly entries = new Map<string, Entry>();
  readonly names: (string | undefined)[] = [];
  readonly tables: TableDispatch[] = [];
  private readonly byKey = new Map<string, number>();
  private readonly spellings = new Map<string, number>();
  private readonly analyser = new PlacementAnalyser();
  private nextGid = 0;
  private rr = 0;
  /** Round robin over rows that need only a replicated router. */
  private rowRr = 0;
  /** True when shapes without a routing key are replicated (placement 'replicate' on more than one shard). */
  readonly replicate: boolean;
  /** True when every shape is on every shard and batches are split whole (placement 'rows' on more than one shard). */
  readonly rowsSplit: boolean;
  /** Round robin over whole batches (placement 'rows'). */
  private batchRr = 0;

  constructor(
    schema: Record<string, Record<string, string>>,
    readonly shards: number,
    readonly hotKeyThreshold: number,
    readonly keyFilter: boolean,
    placement: OpenPlacement = 'replicate',
  ) {
    this.replicate = placement === 'replicate' && shards > 1;
    this.rowsSplit = placement === 'rows' && shards > 1;
    for (const [tableName, columns] of Object.entries(schema)) {
      const { schema: s, name } = parseTableName(tableName);
      const columnNames = Object.keys(columns);
      const info: TableInfo = {
        index: this.tables.length,
        schema: s,
        name,
        display: `${s}.${name}`,
        columns,
        columnNames,
        columnIndex: new Map(columnNames.map((c, i) => [c, i])),
      };
      this.byKey.set(`${s}\u0000${name}`, info.index);
      this.tables.push({
        info,
        open: new Int32Array(shards),
        all: new Int32Array(shards),
        replicated: 0,
        total: 0,
        keyed: new Map(),
        keyedList: [],
      });
    }
  }

  /** The table index a name spells, or -1 (unknown or malformed names route nowhere, as in Router). */
  tableIndex(spelling: string): number {
    const hit = this.spellings.get(spelling);
    if (hit !== undefined) return hit;
    let t = -1;
    try {
      const { schema, name } = parseTableName(spelling);
      t = this.byKey.get(`${schema}\u0000${name}`) ?? -1;
    } catch {
      t = -1;
    }
    if (this.spellings.size >= NAME_CACHE_LIMIT) this.spellings.clear();
    this.spellings.set(spelling, t);
    return t;
  }

  /** Validates and places a new shape (throws as Router.addShape would); returns its registry entry. */
  add(id: string, shape: ShapeDef): Entry {
    if (typeof id !== 'string') throw new RouterError(ErrorCode.UnknownShape, 'shape id must be a string');
    if (this.entries.has(id)) throw new RouterError(ErrorCode.DuplicateShape, `shape "${id}" already exists`);
    // The spelling cache makes the common case (one table name repeated) a map hit instead of a parse.
    const t = this.tableIndex(shape.table);
    if (t < 0) {
      const { schema, name } = parseTableName(shape.table);
      throw new RouterError(ErrorCode.UnknownTable, `relation "${schema}.${name}" does not exist`);
    }
    const td = this.tables[t] as TableDispatch;
    const where = shape.where !== undefined && shape.where.trim() !== '' ? shape.where : undefined;
    // The analysis also rejects what cannot be placed; under 'rows' its routing key is not needed.
    const analysed = this.analyser.analyse(td.info, where, shape.params);
    const ref = this.rowsSplit ? null : analysed;
    let shard: number;
    if (ref === null) shard = this.replicate || this.rowsSplit ? REPLICATED : this.rr++ % this.shards;
    else {
      let kc = td.keyed.get(ref.column);
      if (kc === undefined) {
        kc = { column: ref.column, codec: codecFor(ref.type), counts: new Map(), split: new Set(), shapes: 0 };
        td.keyed.set(ref.column, kc);
        td.keyedList.push(kc);
      }
      const c = (kc.counts.get(ref.key) ?? 0) + 1;
      kc.counts.set(ref.key, c);
      kc.shapes++;
      if (this.shards > 1 && (c > this.hotKeyThreshold || kc.split.has(ref.key))) {
        kc.split.add(ref.key);
        shard = this.rr++ % this.shards;
      } else shard = shardOfKey(t, ref.column, ref.key, this.shards);
    }
    const gid = this.nextGid++;
    const e: Entry = {
      id,
      gid,
      table: t,
      where,
      params: shape.params,
      shard,
      column: ref === null ? -1 : ref.column,
      key: ref === null ? 0 : ref.key,
    };
    this.entries.set(id, e);
    this.names[gid] = id;
    if (shard === REPLICATED) td.replicated++;
    else {
      if (ref === null) (td.open[shard] as number)++;
      (td.all[shard] as number)++;
    }
    td.total++;
    return e;
  }

  remove(id: string): Entry | undefined {
    const e = this.entries.get(id);
    if (e === undefined) return undefined;
    this.entries.delete(id);
    this.names[e.gid] = undefined;
    const td = this.tables[e.table] as TableDispatch;
    td.total--;
    if (e.shard === REPLICATED) td.replicated--;
    else (td.all[e.shard] as number)--;
    if (e.column < 0) {
      if (e.shard !== REPLICATED) (td.open[e.shard] as number)--;
    } else {
      const kc = td.keyed.get(e.column) as KeyColumn;
      const c = (kc.counts.get(e.key) as number) - 1;
      if (c === 0) {
        kc.counts.delete(e.key);
        kc.split.delete(e.key);
      } else kc.counts.set(e.key, c);
      kc.shapes--;
    }
    return e;
  }

  /** Add ops for every shape `shard` holds (a rebuild), with the table's display name. */
  shapesOf(shard: number): ShapeOp[] {
    const out: ShapeOp[] = [];
    for (const e of this.entries.values()) if (e.shard === shard || e.shard === REPLICATED) out.push(this.op(e));
    return out;
  }

  op(e: Entry): ShapeOp {
    return [
      1,
      e.gid,
      (this.tables[e.table] as TableDispatch).info.display,
      e.where,
      e.params,
      e.shard === REPLICATED ? 1 : 0,
    ];
  }

  /** Shapes of table `t` (0 for -1, an unknown table). */
  shapeCountOf(t: number): number {
    return t < 0 ? 0 : (this.tables[t] as TableDispatch).total;
  }

  /** True when table `t` (-1: unknown) has shapes. */
  hasShapes(t: number): boolean {
    return t >= 0 && (this.tables[t] as TableDispatch).total > 0;
  }

  /** The shard the next whole batch goes to (placement 'rows'). */
  nextBatchShard(): number {
    const s = this.batchRr;
    this.batchRr = s + 1 === this.shards ? 0 : s + 1;
    return s;
  }

  /**
   * Sets the VIA_* bits of masks[s][i] for each shard s that must see change i. `t` is the change's table index
   * (-1 unknown). Returns false when no shard needs the change. Replicated shapes are consulted on exactly one shard
   * per change: one the change visits anyway when there is one, else the next in round robin.
   */
  dispatch(c: Change, t: number, i: number, masks: Uint8Array[]): boolean {
    if (t < 0) return false;
    const td = this.tables[t] as TableDispatch;
    if (td.total === 0) return false;
    const any = this.dispatchPlaced(td, c, i, masks);
    if (td.replicated === 0) return any;
    let home = -1;
    if (any) {
      for (let s = 0; s < this.shards; s++) {
        if ((masks[s] as Uint8Array)[i] !== 0) {
          home = s;
          break;
        }
      }
    } else {
      home = this.rowRr;
      this.rowRr = home + 1 === this.shards ? 0 : home + 1;
    }
    const m = masks[home] as Uint8Array;
    m[i] = (m[i] as number) | VIA_REPLICATED;
    return true;
  }

  private dispatchPlaced(td: TableDispatch, c: Change, i: number, masks: Uint8Array[]): boolean {
    if (c.op === 'truncate') return this.markAll(td, i, masks);
    let any = false;
    for (let s = 0; s < this.shards; s++) {
      if ((td.open[s] as number) > 0) {
        (masks[s] as Uint8Array)[i] = VIA_PLACED;
        any = true;
      }
    }
    if (td.keyed.size === 0) return any;
    if (c.op === 'update') {
      const a = this.keyRow(td, c.oldRecord, i, masks);
      const b = this.keyRow(td, c.record, i, masks);
      if (a === 2 || b === 2) return this.markAll(td, i, masks);
      return any || a === 1 || b === 1;
    }
    const r = this.keyRow(td, c.op === 'insert' ? c.record : c.oldRecord, i, masks);
    if (r === 2) return this.markAll(td, i, masks);
    return any || r === 1;
  }

  /** 0: no keyed shard, 1: marked some, 2: every shard of the table (undecodable key, or a split hot key). */
  private keyRow(td: TableDispatch, rec: RowRecord, i: number, masks: Uint8Array[]): 0 | 1 | 2 {
    let res: 0 | 1 = 0;
    const list = td.keyedList;
    for (let k = 0; k < list.length; k++) {
      const kc = list[k] as KeyColumn;
      const col = kc.column;
      if (kc.shapes === 0) continue;
      const text = rec[td.info.columnNames[col] as string];
      if (text === null || text === undefined) continue;
      const key = rowKey(kc.codec, text);
      if (key === undefined) return 2;
      if (this.keyFilter && !kc.counts.has(key)) continue;
      if (kc.split.size > 0 && kc.split.has(key)) return 2;
      (masks[shardOfKey(td.info.index, col, key, this.shards)] as Uint8Array)[i] = VIA_PLACED;
      res = 1;
    }
    return res;
  }

  private markAll(td: TableDispatch, i: number, masks: Uint8Array[]): boolean {
    let any = false;
    for (let s = 0; s < this.shards; s++) {
      if ((td.all[s] as number) > 0) {
        (masks[s] as Uint8Array)[i] = VIA_PLACED;
        any = true;
      }
    }
    return any;
  }

  hotKeys(): HotKey[] {
    const out: HotKey[] = [];
    for (const td of this.tables) {
      for (const [col, kc] of td.keyed) {
        for (const key of kc.split)
          out.push({
            table: td.info.display,
            column: td.info.columnNames[col] as string,
            key,
            shapes: kc.counts.get(key) ?? 0,
          });
      }
    }
    return out.sort((a, b) => b.shapes - a.shapes);
  }

  /** Shapes with and without a routing key, and how many of the latter are replicated. */
  keyedCounts(): { keyed: number; open: number; replicated: number } {
    let keyed = 0;
    let total = 0;
    let replicated = 0;
    for (const td of this.tables) {
      total += td.total;
      replicated += td.replicated;
      for (const kc of td.keyed.values()) keyed += kc.shapes;
    }
    return { keyed, open: total - keyed, replicated };
  }
}
