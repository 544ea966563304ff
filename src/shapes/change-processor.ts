// Turns one committed transaction into per-shape protocol messages: exact old/new membership, moves, key changes.
import type { LogEntry } from '../log/shape-log.js';
import type { Change, Transaction } from '../replication/transaction-types.js';
import { compareOffsets } from '../log/offset.js';
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
import { TableCounts } from './table-counts.js';
import type { RoutedImages, TableRef, TableRouters } from './table-routers.js';

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
    snapshotSkips: 0,
    replaySkips: 0,
    routeNanos: 0,
  };
  /** `counters.evaluationErrors` per table (live rows here; the service adds snapshot and subset rows). */
  readonly evaluationErrorsByTable = new TableCounts();

  constructor(
    private readonly routers: TableRouters,
    private readonly shapes: (handle: string) => LiveShape | undefined,
    private readonly predicates: PredicateCache,
  ) {}

  /**
   * Routes a transaction and appends every affected shape's messages to its log (not yet fsynced). Every row image
   * (old and new) is routed in one batch before anything is appended, so a routing failure leaves the logs untouched;
   * the result is synchronous for in-process routers and one promise per transaction for sharded ones.
   */
  process(tx: Transaction): ProcessResult | Promise<ProcessResult> {
    this.counters.transactions++;
    const t0 = process.hrtime.bigint();
    const refs: TableRef[] = [];
    const rows: Row[] = [];
    const changes = tx.changes;
    // at[i]: index of change i's first row image, -1 when its table has no shapes (or it is a truncate).
    const at = new Int32Array(changes.length).fill(-1);
    for (let i = 0; i < changes.length; i++) {
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
    const routed = rows.length === 0 ? NOTHING : this.routers.routeImages(refs, rows);
    if (routed instanceof Promise) return routed.then((r) => this.build(tx, r, rows, at, t0));
    return this.build(tx, routed, rows, at, t0);
  }

  /** Turns routed row images into messages, walking the changes in the order `process` collected their images. */
  private build(
    tx: Transaction,
    routed: RoutedImages,
    rows: readonly Row[],
    at: Int32Array,
    t0: bigint,
  ): ProcessResult {
    const pending = new Map<LiveShape, Pending | null>();
    const truncated: LiveShape[] = [];
    const txh: TxHeaders = { lsn: tx.commitLsn.toString(), txids: [tx.xid] };
    for (let i = 0; i < tx.changes.length; i++) {
      const change = tx.changes[i] as Change;
      this.counters.changes++;
      if (change.op === 'truncate') {
        for (const rel of change.relations) {
          for (const id of this.routers.shapesOf(rel.schema, rel.table)) {
            const s = this.shapes(id);
            if (s !== undefined && s.state !== 'invalidated') truncated.push(s);
          }
        }
        continue;
      }
      const img = at[i] as number;
      if (img < 0) continue;
      const op = 2 * i;
      if (change.op === 'insert') {
        for (const s of this.members(routed, img, change.record))
          this.add(pending, s, tx, op, insertMessage(s, change.record, txh, op));
      } else if (change.op === 'delete') {
        for (const s of this.members(routed, img, change.oldRecord))
          this.add(pending, s, tx, op, deleteMessage(s, change.oldRecord, txh, op));
      } else {
        const newRow: Row = change.record;
        const oldRow = rows[img] as Row;
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
    }
    this.counters.routeNanos += Number(process.hrtime.bigint() - t0);
    const touched: LiveShape[] = [];
    for (const p of pending.values()) {
      if (p === null || p.messages.length === 0) continue;
      if (this.appendAll(p, tx.commitLsn)) touched.push(p.shape);
    }
    return { touched, truncated };
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
      const s = this.shapes(id);
      if (s === undefined || s.state === 'invalidated') continue;
      if (failed !== null && failed.has(id)) {
        this.counters.failOpenRechecks++;
        if (!this.exact(s, row)) continue;
      }
      out.push(s);
    }
    return out;
  }

  /** The shape's own predicate verdict; an evaluation error means "not in" (where-language.md §8.2). */
  private exact(s: LiveShape, row: Row): boolean {
    const where = s.definition.where;
    if (where === undefined || where.trim() === '') return true;
    try {
      return this.predicates.get(s).matches(row);
    } catch {
      this.countEvaluationErrors(s.schema, s.table, 1);
      return false;
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

  /** Appends one shape's messages of a transaction, skipping entries a previous run already wrote. */
  private appendAll(p: Pending, commitLsn: bigint): boolean {
    const last = p.shape.log.lastOffset();
    const entries: LogEntry[] = [];
    const n = p.messages.length;
    for (let i = 0; i < n; i++) {
      const { op, msg } = p.messages[i]!;
      if (i === n - 1) msg.headers.last = true;
      const offset = { tx: commitLsn, op };
      if (compareOffsets(offset, last) <= 0) {
        this.counters.replaySkips++;
        continue;
      }
      entries.push({ offset, json: JSON.stringify(msg) });
    }
    if (entries.length === 0) return false;
    p.shape.log.append(entries);
    p.shape.appendedEnd = entries[entries.length - 1]!.offset;
    this.counters.messages += entries.length;
    return true;
  }
}
