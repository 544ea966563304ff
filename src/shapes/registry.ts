// The live shapes by handle and by definition, their handles, and their durable records in the meta store.
import { createHash } from 'node:crypto';
import type { MetaStore, MetaValue } from '../log/meta-store.js';
import { LiveShape, xipSet, type LogSource, type SnapshotVisibility } from './live-shape.js';
import { keyPrefix } from './messages.js';
import type { SchemaColumn, ShapeDefinition } from './types.js';

/** Meta-store keys of shape records; the store keeps none of them in memory (see MetaStore's externalPrefix). */
export const SHAPE_RECORD_PREFIX = 'shape:';
const SHAPE_PREFIX = SHAPE_RECORD_PREFIX;
const LAST_TS_KEY = 'handles:last-ts';

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
export interface ShapeRecord {
  readonly definition: ShapeDefinition;
  readonly tableOid: number;
  readonly selected: readonly string[];
  readonly keyColumns: readonly string[];
  readonly valueKeyColumns: readonly string[];
  readonly usedColumns: Readonly<Record<string, number>>;
  /** The used columns' typmods (absent in records written before they were kept: then only types are compared). */
  readonly usedTypmods?: Readonly<Record<string, number>>;
  readonly selectsAll: boolean;
  readonly columnCount: number;
  readonly schema: Readonly<Record<string, SchemaColumn>>;
}

function visibilityToMeta(v: SnapshotVisibility | undefined): MetaValue {
  if (v === undefined) return null;
  return { xmin: v.xmin.toString(), xmax: v.xmax.toString(), xip: [...v.xip].map(String), lsn: v.lsn.toString() };
}

function visibilityFromMeta(m: MetaValue | undefined): SnapshotVisibility | undefined {
  if (m === null || m === undefined || typeof m !== 'object' || Array.isArray(m)) return undefined;
  const o = m as Record<string, MetaValue>;
  return {
    xmin: BigInt(o['xmin'] as string),
    xmax: BigInt(o['xmax'] as string),
    xip: xipSet((o['xip'] as string[]).map((x) => BigInt(x))),
    lsn: BigInt(o['lsn'] as string),
  };
}

/** A shape's durable record as stored under `shape:<handle>`. */
function recordValue(shape: LiveShape): MetaValue {
  const d = shape.definition;
  const def: Record<string, MetaValue> = { schema: d.schema, table: d.table, replica: d.replica, log: d.log };
  if (d.where !== undefined) def['where'] = d.where;
  if (d.params !== undefined) def['params'] = { ...d.params };
  if (d.columns !== undefined) def['columns'] = [...d.columns];
  return {
    v: 1,
    def,
    oid: shape.tableOid,
    selected: [...shape.selected],
    key: [...shape.keyColumns],
    valueKey: [...shape.valueKeyColumns],
    used: { ...shape.usedColumns },
    ...(shape.usedTypmods !== undefined ? { usedMods: { ...shape.usedTypmods } } : {}),
    selectsAll: shape.selectsAll,
    columnCount: shape.columnCount,
    schema: shape.columnsSchema as unknown as MetaValue,
    vis: visibilityToMeta(shape.visibility),
    // The snapshot is complete and durable: a restart resumes the shape without opening its log.
    ...(shape.state === 'ready' ? { done: true } : {}),
  };
}

/**
 * Equal JSON-like values (by their JSON text) share one instance, so a million shapes of a few tables hold a few
 * column lists and schema headers, not a million copies. The values are never mutated after registration. Bounded:
 * past `cap` distinct values the table starts over (sharing is an optimisation, not a contract).
 */
class LayoutInterner {
  private readonly seen = new Map<string, unknown>();

  constructor(private readonly cap = 4096) {}

  get<T>(value: T): T {
    const key = JSON.stringify(value);
    const had = this.seen.get(key);
    if (had !== undefined) return had as T;
    if (this.seen.size >= this.cap) this.seen.clear();
    this.seen.set(key, value);
    return value;
  }
}

/** A persisted shape as read back at open. */
export interface StoredShape {
  readonly handle: string;
  readonly record: ShapeRecord;
  readonly visibility: SnapshotVisibility | undefined;
  /** Written once the snapshot was durable (records written before that flag existed lack it). */
  readonly done: boolean;
}

export class ShapeRegistry {
  private readonly byHandle = new Map<string, LiveShape>();
  private readonly byDef = new Map<string, LiveShape>();
  /** Shapes per `schema\u0000table` of their definitions (admission limits per table). */
  private readonly perTable = new Map<string, number>();
  private lastTs: bigint;
  /** Column lists, type maps and schema headers are the same for most shapes of a table: held once. */
  private readonly layouts = new LayoutInterner();

  constructor(private readonly meta: MetaStore) {
    const t = meta.get(LAST_TS_KEY);
    this.lastTs = typeof t === 'string' ? BigInt(t) : 0n;
    // The meta store keeps no copy of shape records: a compaction renders them from the live shapes.
    meta.setSource(() => this.persistedRecords());
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

  /** Builds the in-memory shape for a record and registers it (not yet persisted: call `persist`). */
  register(handle: string, rec: ShapeRecord, logs: LogSource): LiveShape {
    const defKey = definitionKey(rec.definition);
    const i = this.layouts;
    const shape = new LiveShape(
      handle,
      rec.definition,
      defKey,
      rec.tableOid,
      i.get(rec.selected),
      i.get(rec.keyColumns),
      i.get(rec.valueKeyColumns),
      i.get(rec.usedColumns),
      rec.selectsAll,
      rec.columnCount,
      i.get(rec.schema),
      i.get(keyPrefix(rec.definition.schema, rec.definition.table)),
      logs,
    );
    if (rec.usedTypmods !== undefined) shape.usedTypmods = i.get(rec.usedTypmods);
    const previous = this.byHandle.get(handle);
    if (previous !== undefined) this.countTable(previous, -1); // never expected: handles are unique
    this.byHandle.set(handle, shape);
    this.byDef.set(defKey, shape);
    this.countTable(shape, 1);
    return shape;
  }

  /** Writes (or rewrites) the shape's durable record into the meta store; the caller commits. */
  persist(shape: LiveShape): void {
    shape.persisted = true;
    this.meta.set(SHAPE_PREFIX + shape.handle, recordValue(shape));
  }

  private *persistedRecords(): Iterable<readonly [string, MetaValue]> {
    for (const s of this.byHandle.values())
      if (s.persisted && s.state !== 'invalidated') yield [SHAPE_PREFIX + s.handle, recordValue(s)];
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
    const k = `${shape.definition.schema}\u0000${shape.definition.table}`;
    const n = (this.perTable.get(k) ?? 0) + delta;
    if (n === 0) this.perTable.delete(k);
    else this.perTable.set(k, n);
  }

  /** Persisted shapes, as written by `persist`. */
  *stored(): IterableIterator<StoredShape> {
    for (const [key, value] of this.meta.takeStored()) {
      if (!key.startsWith(SHAPE_PREFIX)) continue;
      const o = value as Record<string, MetaValue>;
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
      yield {
        handle: key.slice(SHAPE_PREFIX.length),
        record: {
          definition,
          tableOid: o['oid'] as number,
          selected: o['selected'] as string[],
          keyColumns: o['key'] as string[],
          valueKeyColumns: o['valueKey'] as string[],
          usedColumns: o['used'] as Record<string, number>,
          ...(o['usedMods'] !== undefined ? { usedTypmods: o['usedMods'] as Record<string, number> } : {}),
          selectsAll: o['selectsAll'] as boolean,
          columnCount: o['columnCount'] as number,
          schema: o['schema'] as unknown as Record<string, SchemaColumn>,
        },
        visibility: visibilityFromMeta(o['vis']),
        done: o['done'] === true,
      };
    }
  }

  /** Removes a stored record that could not be resumed. */
  dropStored(handle: string): void {
    this.meta.delete(SHAPE_PREFIX + handle);
  }
}
