// Turns one committed transaction into per-shape protocol messages: exact old/new membership, moves, key changes.
import type { LogEntry } from '../log/shape-log.js';
import type { Change, Transaction } from '../replication/transaction-types.js';
import { compareOffsets, type LogOffset } from '../log/offset.js';
import type { LiveShape } from './live-shape.js';
import { visibleToSnapshot } from './live-shape.js';
import {
  deleteMessage,
  insertMessage,
  rowKey,
  updateMessage,
  type ChangeMessage,
  type Row,
  type TxHeaders,
} from './messages.js';
import type { PredicateCache } from './predicate-cache.js';
import type { Subqueries } from './subqueries.js';
import { TableCounts } from './table-counts.js';
import type { RoutedImages, TableRef, TableRouters } from './table-routers.js';
import type { TimeSlicer } from './time-slicer.js';
import { SLOW_EVALUATION_UNITS, isTooExpensive, workMeter } from '../values/work-budget.js';

export interface ProcessCounters {
  transactions: number;
  changes: number;
  messages: number;
  /** Rows whose exact evaluation raised an error (counted as "not in"). */
  evaluationErrors: number;
  /** Row images for which the router failed some shapes open (their membership was re-checked exactly). */
  failOpenRoutes: number;
  /** Shapes re-checked exactly because the router failed them open. */
  failOpenRechecks: number;
  /** Shapes invalidated because evaluating their clause for one row ran out of the shape row budget. */
  tooExpensiveShapes: number;
  /** Shape-transactions skipped because the shape's snapshot already saw them. */
  snapshotSkips: number;
  /** Entries at or below a log's last offset (a replay after restart). */
  replaySkips: number;
  routeNanos: number;
}

export interface ProcessResult {
  /** Shapes that got entries appended. */
  readonly touched: LiveShape[];
  /** Shapes to invalidate (TRUNCATE of their table). */
  readonly truncated: LiveShape[];
  /** Subquery shapes to invalidate: a move of their rows could not be completed. */
  readonly failedMoves: LiveShape[];
  /** Shapes to invalidate: evaluating their clause for one row ran out of the shape row budget (with the error). */
  readonly tooExpensive: ReadonlyMap<LiveShape, string>;
}

interface Pending {
  readonly shape: LiveShape;
  readonly messages: { op: number; msg: ChangeMessage }[];
}

const EMPTY: readonly string[] = [];
const NOTHING: RoutedImages = [];

/** The update's old row; without REPLICA IDENTITY FULL it is partial or absent: completed from the new row. */
function oldImage(change: Extract<Change, { op: 'update' }>): Row {
  const newRow: Row = change.record;
  if (change.oldRecord === null) return newRow;
  return change.oldIdentity === 'full' ? change.oldRecord : { ...newRow, ...change.oldRecord };
}

export class ChangeProcessor {
  readonly counters: ProcessCounters = {
    transactions: 0,
    changes: 0,
    messages: 0,
    evaluationErrors: 0,
    failOpenRoutes: 0,
    failOpenRechecks: 0,
    tooExpensiveShapes: 0,
    snapshotSkips: 0,
    replaySkips: 0,
    routeNanos: 0,
  };
  /** `counters.evaluationErrors` per table (live rows here; the service adds snapshot and subset rows). */
  readonly evaluationErrorsByTable = new TableCounts();
  /** Work units charged by exact re-checks, and re-checks that charged ≥ 1 nominal ms, per table. */
  readonly evaluationWorkByTable = new TableCounts();
  readonly slowEvaluationsByTable = new TableCounts();
  /**
   * Shapes of the transaction being built whose exact re-check ran out of the shape row budget: they are left out of
   * every later row (not re-checked again: each would spend the budget once more) and invalidated at its append.
   */
  private tooExpensive = new Map<LiveShape, string>();

  constructor(
    private readonly routers: TableRouters,
    private readonly shapes: (handle: string) => LiveShape | undefined,
    private readonly predicates: PredicateCache,
    /** Subquery sets and shapes (`IN (SELECT …)`): routed ids they own are decided there, not here. */
    private readonly subqueries?: Subqueries,
  ) {}

  /**
   * Routes a transaction and turns it into each affected shape's messages; nothing is appended yet (`append` does
   * that, in WAL order, possibly while the next transaction is being prepared). Every row image (old and new) is
   * routed before anything is appended, so a routing failure leaves the logs untouched. The work is cut into time
   * slices that yield to the event loop (`slicer`), so a large transaction does not hold HTTP up; the caller runs
   * this under the processing lock, so no router change or snapshot start interleaves with routing.
   */
  async prepare(tx: Transaction, slicer: TimeSlicer): Promise<Prepared> {
    this.counters.transactions++;
    slicer.begin();
    slicer.takeBusyMs();
    const images = await this.collect(tx, slicer);
    const routed = await this.route(images, slicer);
    const built = await this.build(tx, routed, images, slicer);
    slicer.end();
    this.counters.routeNanos += Math.round(slicer.takeBusyMs() * 1e6);
    return {
      tx,
      pending: built.pending,
      truncated: built.truncated,
      failedMoves: built.failedMoves,
      tooExpensive: built.tooExpensive,
    };
  }

  /**
   * Appends a prepared transaction's messages to the shape logs (not yet fsynced), time-sliced. Nothing becomes
   * readable here: each touched shape's `appendedEnd` is set at the very end, and the commit pipeline makes the
   * whole transaction readable at once.
   */
  async append(prepared: Prepared, slicer: TimeSlicer): Promise<ProcessResult> {
    slicer.begin();
    const touched = await this.appendAll(prepared.pending, prepared.tx.commitLsn, slicer);
    slicer.end();
    slicer.takeBusyMs();
    return {
      touched,
      truncated: prepared.truncated,
      failedMoves: prepared.failedMoves,
      tooExpensive: prepared.tooExpensive,
    };
  }

  /** Every row image of the transaction (old and new) with its table, and where each change's images start. */
  private async collect(tx: Transaction, slicer: TimeSlicer): Promise<Images> {
    const refs: TableRef[] = [];
    const rows: Row[] = [];
    const changes = tx.changes;
    // at[i]: index of change i's first row image, -1 when its table has no shapes (or it is a truncate).
    const at = new Int32Array(changes.length).fill(-1);
    for (let i = 0; i < changes.length; i++) {
      if ((i & 1023) === 1023 && slicer.due()) await slicer.pause();
      const change = changes[i] as Change;
      if (change.op === 'truncate') continue;
      const ref = this.routers.tableRef(change.relation.schema, change.relation.table);
      if (ref === undefined) continue;
      at[i] = rows.length;
      if (change.op === 'insert') {
        refs.push(ref);
        rows.push(change.record);
      } else if (change.op === 'delete') {
        refs.push(ref);
        rows.push(change.oldRecord);
      } else {
        refs.push(ref, ref);
        rows.push(oldImage(change), change.record);
      }
    }
    return { refs, rows, at };
  }

  /**
   * Routes the images in chunks sized so one chunk takes about a quarter of a slice (measured as it goes: a chunk of
   * slow rows shrinks the next one). A sharded router routes off this thread: its chunks are posted one after the
   * other without waiting for the answers (the workers route chunk i while this thread packs chunk i + 1 or appends
   * the previous transaction), and the answers are awaited together outside the slice.
   */
  private async route(images: Images, slicer: TimeSlicer): Promise<RoutedImages> {
    const { refs, rows } = images;
    if (rows.length === 0) return NOTHING;
    if (slicer.sliceMs === Infinity) {
      const all = this.routers.routeImages(refs, rows);
      return all instanceof Promise ? slicer.wait(all) : all;
    }
    const out: RoutedImages[number][] = new Array<RoutedImages[number]>(rows.length);
    const place = (part: RoutedImages, at: number): void => {
      for (let k = 0; k < part.length; k++) out[at + k] = part[k] as RoutedImages[number];
    };
    const posted: Promise<void>[] = [];
    let chunk = 64;
    for (let from = 0; from < rows.length;) {
      const to = Math.min(rows.length, from + chunk);
      const t0 = performance.now();
      const part = this.routers.routeImages(refs.slice(from, to), rows.slice(from, to));
      if (part instanceof Promise) {
        const at = from;
        posted.push(part.then((p) => place(p, at)));
        chunk = POSTED_CHUNK;
      } else {
        place(part, from);
        const perImage = (performance.now() - t0) / (to - from);
        chunk = Math.max(16, Math.min(8192, Math.floor(slicer.sliceMs / 4 / Math.max(perImage, 1e-4))));
      }
      from = to;
      if (from < rows.length && slicer.due()) await slicer.pause();
    }
    if (posted.length > 0) await slicer.wait(settled(posted));
    return out;
  }

  /** Turns routed row images into messages per shape, walking the changes in the order `collect` took their images. */
  private async build(tx: Transaction, routed: RoutedImages, images: Images, slicer: TimeSlicer): Promise<Built> {
    const { rows, at } = images;
    const pending = new Map<LiveShape, Pending | null>();
    const truncated: LiveShape[] = [];
    const txh: TxHeaders = { lsn: tx.commitLsn.toString(), txids: [tx.xid] };
    const sq = this.subqueries;
    const tooExpensive = (this.tooExpensive = new Map());
    const emit = (s: LiveShape, op: number, msg: ChangeMessage): void => this.add(pending, s, tx, op, msg);
    for (let i = 0; i < tx.changes.length; i++) {
      if ((i & 63) === 63 && slicer.due()) await slicer.pause();
      const change = tx.changes[i] as Change;
      this.counters.changes++;
      if (change.op === 'truncate') {
        for (const rel of change.relations) {
          for (const id of this.routers.shapesOf(rel.schema, rel.table)) {
            const s = this.shapes(id);
            if (s !== undefined && s.state !== 'invalidated') truncated.push(s);
          }
          for (const s of sq?.dependents(rel.schema, rel.table) ?? []) truncated.push(s);
        }
        continue;
      }
      const img = at[i] as number;
      if (img < 0) continue;
      const op = 2 * i;
      if (sq !== undefined && sq.wants(change.relation.schema, change.relation.table)) {
        const ids = (k: number): readonly string[] => (routed[k] as RoutedImages[number]).ids;
        const isUpdate = change.op === 'update';
        sq.onChange(
          tx,
          txh,
          op,
          change,
          change.op === 'insert' ? undefined : rows[img],
          change.op === 'insert' ? EMPTY : ids(img),
          change.op === 'delete' ? EMPTY : ids(isUpdate ? img + 1 : img),
          emit,
        );
      }
      if (change.op === 'insert') {
        for (const s of this.members(routed, img, change.record))
          this.add(pending, s, tx, op, insertMessage(s, change.record, txh, op));
      } else if (change.op === 'delete') {
        for (const s of this.members(routed, img, change.oldRecord))
          this.add(pending, s, tx, op, deleteMessage(s, change.oldRecord, txh, op));
      } else this.buildUpdate(pending, tx, txh, op, routed, img, rows[img] as Row, change.record);
    }
    const failedMoves = sq === undefined ? [] : await sq.finish(tx, txh, emit);
    // Their messages of this transaction are dropped with their logs.
    for (const s of tooExpensive.keys()) pending.delete(s);
    return { pending, truncated, failedMoves, tooExpensive };
  }

  /** An update's messages: moves out, in-place updates, key changes (delete + insert) and moves in. */
  private buildUpdate(
    pending: Map<LiveShape, Pending | null>,
    tx: Transaction,
    txh: TxHeaders,
    op: number,
    routed: RoutedImages,
    img: number,
    oldRow: Row,
    newRow: Row,
  ): void {
    const inOld = this.members(routed, img, oldRow);
    const inNew = this.members(routed, img + 1, newRow);
    const newSet = new Set(inNew);
    for (const s of inOld) {
      const oldKey = rowKey(s, oldRow);
      if (!newSet.has(s)) {
        this.add(pending, s, tx, op, deleteMessage(s, oldRow, txh, op, oldKey));
        continue;
      }
      newSet.delete(s);
      const newKey = rowKey(s, newRow);
      if (newKey === oldKey) {
        const m = updateMessage(s, oldRow, newRow, txh, op, newKey);
        if (m !== undefined) this.add(pending, s, tx, op, m);
      } else {
        const d = deleteMessage(s, oldRow, txh, op, oldKey);
        d.headers.key_change_to = newKey;
        this.add(pending, s, tx, op, d);
        const ins = insertMessage(s, newRow, txh, op + 1, newKey);
        ins.headers.key_change_from = oldKey;
        this.add(pending, s, tx, op + 1, ins);
      }
    }
    for (const s of newSet) this.add(pending, s, tx, op, insertMessage(s, newRow, txh, op));
  }

  /**
   * Live shapes whose clause is true for row image `i`: the router's answer, where only the ids it failed open (an
   * expression they depend on raised) are re-checked exactly; every other id is exact already.
   */
  private members(routed: RoutedImages, i: number, row: Row): LiveShape[] {
    const r = routed[i] as RoutedImages[number];
    const ids = r.ids;
    if (ids.length === 0) return EMPTY as unknown as LiveShape[];
    const failed = r.failedOpen.length === 0 ? null : new Set(r.failedOpen);
    if (failed !== null) this.counters.failOpenRoutes++;
    const out: LiveShape[] = [];
    for (const id of ids) {
      if (this.subqueries?.owns(id) === true) continue;
      const s = this.shapes(id);
      if (s === undefined || s.state === 'invalidated' || this.tooExpensive.has(s)) continue;
      if (failed !== null && failed.has(id)) {
        this.counters.failOpenRechecks++;
        if (!this.exact(s, row)) continue;
      }
      out.push(s);
    }
    return out;
  }

  /**
   * The shape's own predicate verdict; an evaluation error means "not in" (where-language.md §8.2), except running
   * out of the shape row budget, which marks the shape to be invalidated (§8.3). Its work is metered per table.
   */
  private exact(s: LiveShape, row: Row): boolean {
    const where = s.definition.where;
    if (where === undefined || where.trim() === '') return true;
    const predicate = this.predicates.get(s);
    const start = workMeter.total;
    try {
      return predicate.matches(row);
    } catch (err) {
      if (isTooExpensive(err)) {
        this.counters.tooExpensiveShapes++;
        this.tooExpensive.set(s, (err as Error).message);
      } else this.countEvaluationErrors(s.schema, s.table, 1);
      return false;
    } finally {
      const spent = workMeter.total - start;
      if (spent !== 0) {
        this.evaluationWorkByTable.add(s.schema, s.table, spent);
        if (spent >= SLOW_EVALUATION_UNITS) this.slowEvaluationsByTable.add(s.schema, s.table, 1);
      }
    }
  }

  /** Rows of a table left out of a shape because its clause raised on them, in total and per table. */
  countEvaluationErrors(schema: string, table: string, n: number): void {
    this.counters.evaluationErrors += n;
    this.evaluationErrorsByTable.add(schema, table, n);
  }

  private add(
    pending: Map<LiveShape, Pending | null>,
    s: LiveShape,
    tx: Transaction,
    op: number,
    msg: ChangeMessage,
  ): void {
    let p = pending.get(s);
    if (p === undefined) {
      // Decided once per shape and transaction: the shape's snapshot already contains this transaction's effects.
      if (s.visibility !== undefined && visibleToSnapshot(s.visibility, tx.xid, tx.commitLsn)) {
        this.counters.snapshotSkips++;
        pending.set(s, null);
        return;
      }
      p = { shape: s, messages: [] };
      pending.set(s, p);
    }
    if (p === null) return;
    p.messages.push({ op, msg });
  }

  /**
   * Appends each shape's messages in pieces, yielding between them when the slice is used up. Appended entries stay
   * invisible (`appendedEnd` moves only once every shape has all of its entries), and a shape invalidated meanwhile
   * (its log is gone) is skipped. Entries a previous run already wrote are skipped (replay after a restart).
   */
  private async appendAll(
    pending: Map<LiveShape, Pending | null>,
    commitLsn: bigint,
    slicer: TimeSlicer,
  ): Promise<LiveShape[]> {
    const touched: LiveShape[] = [];
    const ends: LogOffset[] = [];
    for (const p of pending.values()) {
      if (p === null || p.messages.length === 0) continue;
      const last = p.shape.log.lastOffset();
      const n = p.messages.length;
      let end: LogOffset | undefined;
      for (let from = 0; from < n && p.shape.state !== 'invalidated'; from += APPEND_PIECE) {
        const entries: LogEntry[] = [];
        for (let i = from; i < Math.min(n, from + APPEND_PIECE); i++) {
          const { op, msg } = p.messages[i]!;
          if (i === n - 1) msg.headers.last = true;
          const offset = { tx: commitLsn, op };
          if (compareOffsets(offset, last) <= 0) {
            this.counters.replaySkips++;
            continue;
          }
          entries.push({ offset, json: JSON.stringify(msg) });
        }
        if (entries.length > 0) {
          p.shape.log.append(entries);
          end = entries[entries.length - 1]!.offset;
          this.counters.messages += entries.length;
        }
        if (slicer.due()) await slicer.pause();
      }
      if (end !== undefined && p.shape.state !== 'invalidated') {
        touched.push(p.shape);
        ends.push(end);
      }
    }
    for (let i = 0; i < touched.length; i++) touched[i]!.appendedEnd = ends[i];
    return touched;
  }
}

/**
 * Row images per chunk posted to a sharded router: large enough to be split across the shards (2 × its
 * `minSplitPart`), small enough that packing one (≈1 µs per image) stays well inside a slice.
 */
const POSTED_CHUNK = 1024;

/** Waits for every promise, then rejects with the first failure (none is left unobserved). */
async function settled(all: readonly Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(all);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}

/** Messages serialised and appended per piece; the slice clock is read between pieces. */
const APPEND_PIECE = 256;

interface Images {
  readonly refs: TableRef[];
  readonly rows: Row[];
  readonly at: Int32Array;
}

interface Built {
  readonly pending: Map<LiveShape, Pending | null>;
  /** Shapes to invalidate (TRUNCATE of their table). */
  readonly truncated: LiveShape[];
  readonly failedMoves: LiveShape[];
  readonly tooExpensive: ReadonlyMap<LiveShape, string>;
}

/** A routed transaction whose messages wait to be appended (`ChangeProcessor.append`). */
export interface Prepared extends Built {
  readonly tx: Transaction;
}

/** The shapes whose logs appending a prepared transaction uses: those it appends to or invalidates. */
export function preparedHandles(p: Prepared): string[] {
  const out: string[] = [];
  for (const [s, pending] of p.pending) if (pending !== null && pending.messages.length > 0) out.push(s.handle);
  for (const s of p.truncated) out.push(s.handle);
  for (const s of p.failedMoves) out.push(s.handle);
  for (const s of p.tooExpensive.keys()) out.push(s.handle);
  return out;
}
