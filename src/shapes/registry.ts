// The live shapes by handle and by definition, their handles, and their durable records in the meta store.
import { createHash } from 'node:crypto';
import type { MetaStore, MetaValue } from '../log/meta-store.js';
import {
  LiveShape,
  definitionFromKey,
  xipSet,
  type LogSource,
  type ShapeColumns,
  type ShapeLayout,
  type SnapshotVisibility,
} from './live-shape.js';
import { readSnapshotChunk, snapshotChunks } from './registry-snapshot.js';
import { ShapeLayouts, columnsFromMeta } from './shape-layouts.js';
import type { SchemaColumn, ShapeDefinition } from './types.js';

/** Meta-store keys of shape records; the store keeps none of them in memory (see MetaStore's externalPrefix). */
export const SHAPE_RECORD_PREFIX = 'shape:';
const SHAPE_PREFIX = SHAPE_RECORD_PREFIX;
const LAST_TS_KEY = 'handles:last-ts';

/**
 * Whether a handle (`<hash>-<µs timestamp>`) was issued no later than `ts`; a handle of another form (not issued by
 * `newHandle`) counts as issued before.
 */
export function issuedNoLaterThan(handle: string, ts: bigint): boolean {
  const m = /-([0-9]{1,30})$/.exec(handle);
  return m === null || BigInt(m[1]!) <= ts;
}

/** Canonical identity of a definition: equal definitions share one shape (columns compared as a set). */
export function definitionKey(def: ShapeDefinition): string {
  const params =
    def.params === undefined
      ? null
      : Object.fromEntries(Object.entries(def.params).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const columns = def.columns === undefined ? null : [...def.columns].sort();
  const where = def.where === undefined || def.where.trim() === '' ? null : def.where;
  return JSON.stringify([def.schema, def.table, where, params, columns, def.replica, def.log]);
}

/** Everything needed to bring a shape back after a restart. */
export interface ShapeRecord extends ShapeColumns {
  readonly definition: ShapeDefinition;
  readonly schema: Readonly<Record<string, SchemaColumn>>;
}

/** `xmin:xmax:xip,…:lsn` (decimal): the record's form of a snapshot visibility. */
function visibilityToMeta(v: SnapshotVisibility | undefined): string | null {
  if (v === undefined) return null;
  return `${v.xmin}:${v.xmax}:${[...v.xip].join(',')}:${v.lsn}`;
}

/**
 * The visibility of a stored record. The shapes of one snapshot batch share one visibility in memory, so equal ones
 * read back at open share one instance again (`seen`, by their text).
 */
function visibilityFromMeta(
  m: MetaValue | undefined,
  seen: Map<string, SnapshotVisibility>,
): SnapshotVisibility | undefined {
  let text: string;
  if (typeof m === 'string') text = m;
  else if (m === null || m === undefined || typeof m !== 'object' || Array.isArray(m)) return undefined;
  else {
    // Version 1 records: an object of decimal strings.
    const o = m as Record<string, MetaValue>;
    text = `${o['xmin'] as string}:${o['xmax'] as string}:${(o['xip'] as string[]).join(',')}:${o['lsn'] as string}`;
  }
  const had = seen.get(text);
  if (had !== undefined) return had;
  const [xmin, xmax, xip, lsn] = text.split(':') as [string, string, string, string];
  const v: SnapshotVisibility = {
    xmin: BigInt(xmin),
    xmax: BigInt(xmax),
    xip: xipSet(xip === '' ? [] : xip.split(',').map((x) => BigInt(x))),
    lsn: BigInt(lsn),
  };
  seen.set(text, v);
  return v;
}

/**
 * A shape's durable record as stored under `shape:<handle>` (version 2): its handle, definition key, layout number,
 * snapshot visibility and completion. Version 1 records (a whole layout per shape) are still read.
 */
function recordValue(shape: LiveShape): MetaValue {
  return {
    v: 2,
    h: shape.handle,
    k: shape.defKey,
    l: shape.layout.id,
    vis: visibilityToMeta(shape.visibility),
    // The snapshot is complete and durable: a restart resumes the shape without opening its log.
    ...(shape.state === 'ready' ? { done: true } : {}),
  };
}

/** A persisted shape as read back at open. */
export interface StoredShape {
  readonly handle: string;
  readonly defKey: string;
  readonly definition: ShapeDefinition;
  /** The stored layout (version 2 records), or the record to intern one from (version 1). */
  readonly layout: ShapeLayout | ShapeRecord;
  readonly visibility: SnapshotVisibility | undefined;
  /** Written once the snapshot was durable (records written before that flag existed lack it). */
  readonly done: boolean;
}

export class ShapeRegistry {
  private readonly byHandle = new Map<string, LiveShape>();
  private readonly byDef = new Map<string, LiveShape>();
  /** Shapes per `schema\u0000table` of their definitions (admission limits per table). */
  private readonly perTable = new Map<string, number>();
  private readonly tableKeys = new WeakMap<ShapeLayout, string>();
  private lastTs: bigint;
  /** Column lists, type maps and schema headers are the same for most shapes of a table: held once. */
  private readonly layouts: ShapeLayouts;

  constructor(
    private readonly meta: MetaStore,
    logs: LogSource,
  ) {
    this.layouts = new ShapeLayouts(meta, logs);
    const t = meta.get(LAST_TS_KEY);
    this.lastTs = typeof t === 'string' ? BigInt(t) : 0n;
    // The meta store keeps no copy of shape records: a compaction renders them from the live shapes, as snapshot
    // chunks (a restart parses a few large records; `stored` still reads the records of every earlier format).
    meta.setSnapshotSource(() => snapshotChunks(this.persistedShapes(), (s) => visibilityToMeta(s.visibility)));
  }

  get size(): number {
    return this.byHandle.size;
  }

  /** Registered shapes of a table (as named by the definitions). */
  tableCount(schema: string, table: string): number {
    return this.perTable.get(`${schema}\u0000${table}`) ?? 0;
  }

  get(handle: string): LiveShape | undefined {
    return this.byHandle.get(handle);
  }

  findByKey(defKey: string): LiveShape | undefined {
    return this.byDef.get(defKey);
  }

  all(): IterableIterator<LiveShape> {
    return this.byHandle.values();
  }

  /** The shapes' layouts (interned: a few per table), for checks whose verdict depends on the layout alone. */
  allLayouts(): IterableIterator<ShapeLayout> {
    return this.layouts.all();
  }

  /**
   * A new handle `<hash>-<µs timestamp>`: the timestamp strictly increases across the process and across restarts
   * (the last one is persisted), so a handle is never issued twice.
   */
  newHandle(defKey: string): string {
    const now = BigInt(Date.now()) * 1000n + BigInt(Math.floor((performance.now() % 1) * 1000));
    const ts = now > this.lastTs ? now : this.lastTs + 1n;
    this.lastTs = ts;
    this.meta.set(LAST_TS_KEY, ts.toString());
    const hash = createHash('sha256').update(defKey).digest().readUInt32BE(0);
    // join makes one flat string; a template literal would keep a rope of three pieces per shape.
    return [hash, ts].join('-');
  }

  /** The timestamp of the last handle issued (or read back): every later handle's is larger. */
  get lastHandleTs(): bigint {
    return this.lastTs;
  }

  /** Builds the in-memory shape for a record and registers it (not yet persisted: call `persist`). */
  register(handle: string, rec: ShapeRecord): LiveShape {
    return this.add(new LiveShape(handle, definitionKey(rec.definition), this.layoutOf(rec)));
  }

  /** Registers a stored shape (marked persisted; the caller sets its state). */
  registerStored(st: StoredShape): LiveShape {
    const layout = 'id' in st.layout ? st.layout : this.layoutOf(st.layout);
    const shape = this.add(new LiveShape(st.handle, st.defKey, layout));
    shape.persisted = true;
    shape.visibility = st.visibility;
    return shape;
  }

  private layoutOf(rec: ShapeRecord): ShapeLayout {
    const d = rec.definition;
    return this.layouts.intern({
      schema: d.schema,
      table: d.table,
      replica: d.replica,
      tableOid: rec.tableOid,
      selected: rec.selected,
      keyColumns: rec.keyColumns,
      valueKeyColumns: rec.valueKeyColumns,
      usedColumns: rec.usedColumns,
      ...(rec.usedTypmods !== undefined ? { usedTypmods: rec.usedTypmods } : {}),
      selectsAll: rec.selectsAll,
      columnCount: rec.columnCount,
      columnsSchema: rec.schema,
    });
  }

  private add(shape: LiveShape): LiveShape {
    const previous = this.byHandle.get(shape.handle);
    if (previous !== undefined) this.countTable(previous, -1); // never expected: handles are unique
    this.byHandle.set(shape.handle, shape);
    this.byDef.set(shape.defKey, shape);
    this.countTable(shape, 1);
    return shape;
  }

  /** Writes (or rewrites) the shape's durable record into the meta store; the caller commits. */
  persist(shape: LiveShape): void {
    shape.persisted = true;
    this.meta.set(SHAPE_PREFIX + shape.handle, recordValue(shape));
  }

  private *persistedShapes(): Iterable<LiveShape> {
    for (const s of this.byHandle.values()) if (s.persisted && s.state !== 'invalidated') yield s;
  }

  /** Forgets a shape in memory and in the meta store (the caller commits and deletes the log). */
  remove(shape: LiveShape): void {
    if (this.byHandle.get(shape.handle) === shape) {
      this.byHandle.delete(shape.handle);
      this.countTable(shape, -1);
    }
    if (this.byDef.get(shape.defKey) === shape) this.byDef.delete(shape.defKey);
    if (shape.persisted) this.meta.delete(SHAPE_PREFIX + shape.handle);
    shape.persisted = false;
  }

  private countTable(shape: LiveShape, delta: number): void {
    // The key is made once per layout, not once per shape (a restart counts a million shapes here).
    let k = this.tableKeys.get(shape.layout);
    if (k === undefined) this.tableKeys.set(shape.layout, (k = `${shape.schema}\u0000${shape.table}`));
    const n = (this.perTable.get(k) ?? 0) + delta;
    if (n === 0) this.perTable.delete(k);
    else this.perTable.set(k, n);
  }

  /**
   * Persisted shapes, as written by `persist` and by compactions (snapshot chunks, overridden by the records written
   * after them); records naming a layout that was not stored are dropped.
   */
  *stored(): IterableIterator<StoredShape> {
    const visibilities = new Map<string, SnapshotVisibility>();
    const records = this.meta.takeStored();
    const snapshot = this.meta.takeSnapshot();
    // Shapes written or deleted after the chunks: their records (or their absence) win.
    const overridden = new Set<string>();
    for (const key of records.keys()) overridden.add(key.slice(SHAPE_PREFIX.length));
    for (const key of snapshot.deleted) overridden.add(key.slice(SHAPE_PREFIX.length));
    for (const m of snapshot.chunks) {
      const c = readSnapshotChunk(m);
      const notDone = new Set(c.nd);
      for (let i = 0; i < c.h.length; i++) {
        const handle = c.h[i]!;
        if (overridden.size > 0 && overridden.has(handle)) continue;
        const layout = this.layouts.get(c.l[i]!);
        if (layout === undefined) {
          this.dropStored(handle);
          continue;
        }
        const defKey = c.k[i]!;
        const vi = c.vis[i]!;
        const visibility = vi < 0 ? undefined : visibilityFromMeta(c.vt[vi], visibilities);
        yield { handle, defKey, definition: definitionFromKey(defKey), layout, visibility, done: !notDone.has(i) };
      }
    }
    for (const [key, value] of records) {
      if (!key.startsWith(SHAPE_PREFIX)) continue;
      const o = value as Record<string, MetaValue>;
      const visibility = visibilityFromMeta(o['vis'], visibilities);
      const done = o['done'] === true;
      if (o['v'] === 2) {
        const layout = this.layouts.get(o['l'] as number);
        const defKey = o['k'] as string;
        if (layout === undefined) this.dropStored(key.slice(SHAPE_PREFIX.length));
        // The handle inside the value is a string of its own (one sliced from the key would keep the key alive).
        else
          yield { handle: o['h'] as string, defKey, definition: definitionFromKey(defKey), layout, visibility, done };
        continue;
      }
      const record = recordFromV1(o);
      const handle = key.slice(SHAPE_PREFIX.length);
      yield {
        handle,
        defKey: definitionKey(record.definition),
        definition: record.definition,
        layout: record,
        visibility,
        done,
      };
    }
  }

  /** Removes a stored record that could not be resumed. */
  dropStored(handle: string): void {
    this.meta.delete(SHAPE_PREFIX + handle);
  }
}

/** The record a live shape was registered from (its layout's fields and its definition). */
export function recordOf(shape: LiveShape): ShapeRecord {
  const l = shape.layout;
  return {
    definition: shape.definition,
    tableOid: l.tableOid,
    selected: l.selected,
    keyColumns: l.keyColumns,
    valueKeyColumns: l.valueKeyColumns,
    usedColumns: l.usedColumns,
    ...(l.usedTypmods !== undefined ? { usedTypmods: l.usedTypmods } : {}),
    selectsAll: l.selectsAll,
    columnCount: l.columnCount,
    schema: l.columnsSchema,
  };
}

/** A version 1 record: the whole layout inline. */
function recordFromV1(o: Record<string, MetaValue>): ShapeRecord {
  const d = o['def'] as Record<string, MetaValue>;
  const definition: ShapeDefinition = {
    schema: d['schema'] as string,
    table: d['table'] as string,
    replica: d['replica'] as 'default' | 'full',
    log: d['log'] as 'full' | 'changes_only',
    ...(d['where'] !== undefined ? { where: d['where'] as string } : {}),
    ...(d['params'] !== undefined ? { params: d['params'] as Record<string, string> } : {}),
    ...(d['columns'] !== undefined ? { columns: d['columns'] as string[] } : {}),
  };
  return { definition, ...columnsFromMeta(o), schema: o['schema'] as unknown as Record<string, SchemaColumn> };
}
