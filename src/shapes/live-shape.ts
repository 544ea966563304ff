// One live shape in memory: its definition, message layout, snapshot visibility filter, visible end and waiters.
import type { ShapeLog } from '../log/shape-log.js';
import { SNAPSHOT_END, compareOffsets, type LogOffset } from '../log/offset.js';
import { lastCompleteOffset } from './log-tail.js';
import type { MessageShape } from './messages.js';
import type { SchemaColumn, ShapeDefinition, ShapeInfo, WaitResult } from './types.js';

/**
 * The snapshot a shape's initial rows were read under (`pg_current_snapshot()`), plus the WAL insert position read
 * right after it: a transaction visible to the snapshot committed before that position, so transactions committing
 * at or after it are always applied and the xid test is needed only below it.
 */
export interface SnapshotVisibility {
  readonly xmin: bigint;
  readonly xmax: bigint;
  readonly xip: ReadonlySet<bigint>;
  readonly lsn: bigint;
}

/** The in-progress set of most snapshots: one shared instance, not an empty Set per shape. */
const NO_XIP: ReadonlySet<bigint> = new Set();

/** The set of in-progress xids (the shared empty set when there are none). */
export function xipSet(xids: readonly bigint[]): ReadonlySet<bigint> {
  return xids.length === 0 ? NO_XIP : new Set(xids);
}

/** Parses `pg_current_snapshot()` text: `xmin:xmax:xip1,xip2`. */
export function parseSnapshot(text: string, lsn: bigint): SnapshotVisibility {
  const [xmin, xmax, xip] = text.split(':') as [string, string, string];
  const list = xip === '' || xip === undefined ? [] : xip.split(',').map((x) => BigInt(x));
  return { xmin: BigInt(xmin), xmax: BigInt(xmax), xip: xipSet(list), lsn };
}

/** The 64-bit xid of a 32-bit pgoutput xid, taken as the one nearest the snapshot's xmax (epoch-aware). */
export function fullXid(xid32: number, ref: bigint): bigint {
  const ref32 = Number(ref & 0xffffffffn);
  const d = (ref32 - xid32) >>> 0;
  return d < 0x80000000 ? ref - BigInt(d) : ref + BigInt(0x100000000 - d);
}

/** True when the snapshot already saw this transaction's effects, so the shape must skip its changes. */
export function visibleToSnapshot(v: SnapshotVisibility, xid32: number, commitLsn: bigint): boolean {
  if (commitLsn >= v.lsn) return false;
  const xid = fullXid(xid32, v.xmax);
  if (xid < v.xmin) return true;
  return xid < v.xmax && !v.xip.has(xid);
}

interface Waiter {
  readonly after: LogOffset;
  resolve(r: WaitResult): void;
}

export type ShapeState = 'creating' | 'ready' | 'invalidated';

/** Where a shape's log is loaded from on each use (the store evicts idle logs, so shapes hold no log object). */
export interface LogSource {
  getLog(handle: string): ShapeLog | undefined;
}

/**
 * What a shape has in common with the other shapes of its table and column selection: held once per distinct layout
 * (interned by the registry), so an idle shape costs its handle, its definition key and a few fields.
 */
/** What validation derives from a shape's table and column selection (stored with the shape). */
export interface ShapeColumns {
  readonly tableOid: number;
  readonly selected: readonly string[];
  readonly keyColumns: readonly string[];
  readonly valueKeyColumns: readonly string[];
  /** Columns the shape depends on (selected and referenced by the where clause) → type OID, for §9.5 checks. */
  readonly usedColumns: Readonly<Record<string, number>>;
  /** The used columns' typmods (absent in records written before they were kept: then only types are compared). */
  readonly usedTypmods?: Readonly<Record<string, number>>;
  /** True when the shape selects every column: any change of the column count affects it. */
  readonly selectsAll: boolean;
  readonly columnCount: number;
}

export interface ShapeLayout extends ShapeColumns {
  /** Its number in the meta store (shape records name their layout by it). */
  readonly id: number;
  readonly schema: string;
  readonly table: string;
  readonly replica: 'default' | 'full';
  readonly keyPrefix: string;
  /** The schema header. */
  readonly columnsSchema: Readonly<Record<string, SchemaColumn>>;
  readonly logs: LogSource;
}

/** Bits of `LiveShape.flags`. */
const PERSISTED = 1;
const TAIL_UNKNOWN = 2;
/** With TAIL_UNKNOWN: the log is known to end with a whole transaction (the store's previous close was clean). */
const TAIL_WHOLE = 4;

/**
 * Where clauses read back from keys, by text: the shapes of one clause with different parameters (the common case at
 * scale) then share one string here and in their router. Bounded: past the cap it starts over.
 */
const clauses = new Map<string, string>();
const CLAUSES_CAP = 4096;

function sharedClause(where: string): string {
  const had = clauses.get(where);
  if (had !== undefined) return had;
  if (clauses.size >= CLAUSES_CAP) clauses.clear();
  clauses.set(where, where);
  return where;
}

/** The definition a canonical key (`definitionKey`) stands for. */
export function definitionFromKey(key: string): ShapeDefinition {
  const [schema, table, where, params, columns, replica, log] = JSON.parse(key) as [
    string,
    string,
    string | null,
    Record<string, string> | null,
    string[] | null,
    'default' | 'full',
    'full' | 'changes_only',
  ];
  return {
    schema,
    table,
    ...(where !== null ? { where: sharedClause(where) } : {}),
    ...(params !== null ? { params } : {}),
    ...(columns !== null ? { columns } : {}),
    replica,
    log,
  };
}

/**
 * A shape in memory. Idle shapes are the bulk of a large service, so an instance holds only what differs per shape
 * (handle, definition key, state, snapshot visibility, log ends, waiters): the layout is shared, the definition is
 * parsed from the key on use.
 */
export class LiveShape implements MessageShape {
  state: ShapeState = 'creating';
  /** PERSISTED | TAIL_UNKNOWN | TAIL_WHOLE. */
  private flags = 0;
  /** Shared by the shapes of one snapshot batch (and interned at restart). */
  visibility: SnapshotVisibility | undefined;
  /** Offset of the last change appended to the log (durable or not). */
  appendedEnd: LogOffset | undefined;
  /**
   * Offset of the last change readers may see: the end of the last whole transaction appended (or, with
   * `earlyVisibility: false`, made durable). Readers and waiters see nothing beyond it.
   */
  readableEnd: LogOffset | undefined;
  /** Parked long-polls; allocated only while someone waits. */
  private waiters: Waiter[] | undefined;

  constructor(
    readonly handle: string,
    /** `definitionKey(definition)`: the shape's identity, from which its definition is read back. */
    readonly defKey: string,
    readonly layout: ShapeLayout,
  ) {}

  /** Parsed from the key on each use (an idle shape holds no definition object). */
  get definition(): ShapeDefinition {
    return definitionFromKey(this.defKey);
  }

  /** Its record was written to the meta store (and is rendered again by a compaction). */
  get persisted(): boolean {
    return (this.flags & PERSISTED) !== 0;
  }

  set persisted(v: boolean) {
    this.flags = v ? this.flags | PERSISTED : this.flags & ~PERSISTED;
  }

  /**
   * Resumed after a restart without reading its log: `appendedEnd` and `readableEnd` are taken from the log's tail on
   * its first use (a restart then reads no log of a cold shape).
   */
  private get tailUnknown(): boolean {
    return (this.flags & TAIL_UNKNOWN) !== 0;
  }

  get schema(): string {
    return this.layout.schema;
  }

  get table(): string {
    return this.layout.table;
  }

  get replica(): 'default' | 'full' {
    return this.layout.replica;
  }

  get keyPrefix(): string {
    return this.layout.keyPrefix;
  }

  get tableOid(): number {
    return this.layout.tableOid;
  }

  get selected(): readonly string[] {
    return this.layout.selected;
  }

  get keyColumns(): readonly string[] {
    return this.layout.keyColumns;
  }

  get valueKeyColumns(): readonly string[] {
    return this.layout.valueKeyColumns;
  }

  get usedColumns(): Readonly<Record<string, number>> {
    return this.layout.usedColumns;
  }

  get usedTypmods(): Readonly<Record<string, number>> | undefined {
    return this.layout.usedTypmods;
  }

  get selectsAll(): boolean {
    return this.layout.selectsAll;
  }

  get columnCount(): number {
    return this.layout.columnCount;
  }

  get columnsSchema(): Readonly<Record<string, SchemaColumn>> {
    return this.layout.columnsSchema;
  }

  /** What the HTTP layer needs of the shape; built per call so an idle shape holds no extra object. */
  get info(): ShapeInfo {
    return { handle: this.handle, definition: this.definition, schema: this.columnsSchema };
  }

  /** The shape's log, loaded from its files if it was evicted; fetch it for each use rather than keeping it. */
  get log(): ShapeLog {
    const log = this.layout.logs.getLog(this.handle);
    if (log === undefined) throw new RangeError(`shape ${this.handle} has no log`);
    if (this.tailUnknown) {
      const whole = (this.flags & TAIL_WHOLE) !== 0;
      this.flags &= ~(TAIL_UNKNOWN | TAIL_WHOLE);
      const last = log.lastOffset();
      if (last.tx >= 1n) {
        this.appendedEnd = last;
        // After a crash the log may end inside a transaction (between its append slices): readers wait for its
        // replay. Reading the tail to tell costs a file read on this thread, unless the last stop was clean.
        this.readableEnd = whole ? last : lastCompleteOffset(log);
      }
    }
    return log;
  }

  /**
   * Marks a shape resumed without reading its log: its ends are read from the log's tail on first use. `whole`: the
   * log is known to end with a whole transaction (a clean stop), so its last offset is readable as it is.
   */
  resumeCold(whole: boolean): void {
    this.flags |= whole ? TAIL_UNKNOWN | TAIL_WHOLE : TAIL_UNKNOWN;
  }

  /** The last readable offset: the readable change end, else `0_inf` (the shape is only served once ready). */
  visibleEnd(): LogOffset {
    if (this.tailUnknown) void this.log;
    return this.readableEnd ?? SNAPSHOT_END;
  }

  hasDataAfter(after: LogOffset): boolean {
    return compareOffsets(this.visibleEnd(), after) > 0;
  }

  wait(after: LogOffset, timeoutMs: number, signal?: AbortSignal): Promise<WaitResult> {
    if (this.state === 'invalidated') return Promise.resolve('invalidated');
    if (signal?.aborted === true) return Promise.resolve('aborted');
    if (this.state === 'ready' && this.hasDataAfter(after)) return Promise.resolve('data');
    return new Promise<WaitResult>((resolve) => {
      const onAbort = (): void => finish('aborted');
      const waiter: Waiter = { after, resolve: (r) => finish(r) };
      const finish = (r: WaitResult): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.removeWaiter(waiter);
        resolve(r);
      };
      const timer = setTimeout(() => finish('timeout'), Math.max(0, timeoutMs));
      signal?.addEventListener('abort', onAbort, { once: true });
      (this.waiters ??= []).push(waiter);
    });
  }

  /** Wakes the waiters that now have data (after a transaction's appends became readable). */
  wake(): void {
    const ws = this.waiters;
    if (ws === undefined) return;
    for (const w of [...ws]) if (this.hasDataAfter(w.after)) w.resolve('data');
  }

  /** Ends every wait with 'invalidated'. */
  invalidateWaiters(): void {
    const ws = this.waiters;
    if (ws === undefined) return;
    for (const w of [...ws]) w.resolve('invalidated');
    this.waiters = undefined;
  }

  get waiterCount(): number {
    return this.waiters?.length ?? 0;
  }

  private removeWaiter(w: Waiter): void {
    const ws = this.waiters;
    if (ws === undefined) return;
    const i = ws.indexOf(w);
    if (i >= 0) ws.splice(i, 1);
    if (ws.length === 0) this.waiters = undefined;
  }
}
