// Subquery shapes across a restart: sets and rows read again under a new snapshot, the log brought level by the difference.
import type pg from 'pg';
import { SwitchyardError } from '../errors/index.js';
import { BEFORE_ALL, compareOffsets, type LogOffset } from '../log/offset.js';
import type { LogEntry, ShapeLog } from '../log/shape-log.js';
import { subqueryTables } from '../where.js';
import { columnTypes, loadTable, type TableInfo } from './catalog.js';
import type { LiveShape } from './live-shape.js';
import { lastCompleteOffset } from './log-tail.js';
import {
  deleteMessage,
  insertMessage,
  rowKey,
  updateMessage,
  type ChangeMessage,
  type MessageShape,
  type Row,
} from './messages.js';
import type { ShapeRecord } from './registry.js';
import { innerTables } from './shape-creator.js';
import { SnapshotSession, isDataError, selectStatement } from './snapshot.js';
import type { Subqueries } from './subqueries.js';
import type { TableRouters } from './table-routers.js';
import type { ShapeDefinition } from './types.js';
import { validateShape } from './validate.js';

/*
 * Why a difference, and why at that offset. A subquery shape's entries are not a function of the WAL alone: rows
 * moving in are read by a query under a later snapshot, which a replay cannot repeat. So nothing of the old run's
 * state is replayed; instead, before replication starts:
 *  - the sets are loaded again (each under its own snapshot, as at creation) and the shape's rows are read under a
 *    snapshot S taken after them, exactly like a new shape's (transactions S saw are skipped for the shape, the
 *    others applied; the sets skip what their snapshots saw);
 *  - the log is folded into the rows a client holds once it has read all of it (C);
 *  - the difference C → rows(S) is appended as one transaction at offset `<L + 1>_<2i>`, L the commit LSN of the
 *    log's last transaction (0 when it has none).
 * Readers of a subquery shape only ever see durable entries (CommitPipeline `durableOnly`), so every offset a client
 * holds is in the log and C is what it ends with before the difference. Every transaction the old run processed
 * committed before S and was decoded before the crash: the difference, at the log's last commit LSN + 1, comes after
 * everything a client read. Every transaction S did not see commits after everything the old run decoded, so it is
 * applied after the difference, a commit racing S (in its xip) included. Should one commit at or below that point
 * anyway, its entries would belong before the difference, so the shape is invalidated then
 * (SubqueryShapes.behindResume). A move whose query was in flight at a crash is covered the same way: its transaction was
 * not acknowledged, S saw it, and its rows are in the difference, once.
 */

/** Why a stored subquery shape could not be resumed; it is dropped (its clients get 409 and refetch). */
export class NotResumable extends Error {}

export interface ResumeDeps {
  readonly admin: () => Promise<pg.ClientBase>;
  readonly routers: TableRouters;
  readonly subqueries: Subqueries;
  /** Connections for the shape's row query. */
  readonly pool: pg.Pool;
}

/** A resumed shape's log end: the difference appended (to be made durable before it is readable), or none. */
export interface Resumed {
  readonly appended: number;
  readonly end: LogOffset | undefined;
}

/** Whether a stored definition's clause reads other tables (such shapes resume here, not through the plain path). */
export function hasSubqueries(def: ShapeDefinition): boolean {
  const where = def.where ?? '';
  if (!/select/i.test(where)) return false;
  try {
    return subqueryTables(where).length > 0;
  } catch {
    return false;
  }
}

/**
 * Brings back a registered subquery shape (state still `creating`): attached with its sets, rows read under a new
 * snapshot, the difference appended to its log (not yet synced). Throws NotResumable (the shape attached nothing then)
 * when the tables changed so that the stored record no longer describes the shape, or the rows cannot be read.
 */
export async function resumeSubqueryShape(
  deps: ResumeDeps,
  shape: LiveShape,
  record: ShapeRecord,
  table: TableInfo,
): Promise<Resumed> {
  const def = record.definition;
  if (def.log !== 'full') throw new NotResumable('a changes_only subquery shape holds no rows to compare');
  try {
    void shape.log;
  } catch {
    throw new NotResumable('its log is gone');
  }
  const admin = await deps.admin();
  const inner = new Map<string, TableInfo>();
  for (const n of subqueryTables(def.where ?? '')) {
    const t = await loadTable(admin, n.schema, n.name);
    if (t === undefined || t.unsupported !== undefined) throw new NotResumable(`table ${n.schema}.${n.name} is gone`);
    inner.set(`${n.schema}.${n.name}`, t);
  }
  let v;
  try {
    v = validateShape(def, table, { tables: inner, sets: deps.subqueries.store });
  } catch (err) {
    throw new NotResumable(`the clause no longer compiles: ${(err as Error).message}`);
  }
  if (v.subqueries === undefined || v.predicate === undefined || !sameLayout(v.record, record))
    throw new NotResumable('the table changed');
  for (const t of [table, ...inner.values()]) {
    const failed = await deps.routers.ensureTable(t.schema, t.name, columnTypes(t));
    if (failed.length > 0) throw new NotResumable('a router could not be rebuilt');
  }
  try {
    await deps.subqueries.attach(shape, v.predicate, v.subqueries, innerTables(inner));
  } catch (err) {
    throw notResumableIfData(err, 'its sets could not be loaded');
  }
  try {
    const cols = [...new Set([...v.queryColumns, ...record.keyColumns, ...v.predicate.columns])];
    const session = await SnapshotSession.begin(await deps.pool.connect());
    const rows = new Map<string, Row>();
    try {
      await session.cursor(
        selectStatement(def.schema, def.table, cols, v.predicate.sql),
        (batch) => {
          for (const values of batch) {
            const row: Record<string, string | null> = {};
            for (let c = 0; c < cols.length; c++) row[cols[c]!] = values[c] ?? null;
            rows.set(rowKey(shape, row), row);
          }
        },
        2000,
      );
      await session.close();
    } catch (err) {
      await session.close(err);
      throw notResumableIfData(err, 'its rows could not be read');
    }
    // Fetched again after the awaits: the store may have evicted the instance meanwhile.
    const log = shape.log;
    const last = log.lastOffset();
    // Right after the log's last transaction: every transaction S did not see commits later than anything the old
    // run appended (those it appended were decoded, so committed, before S), and a commit record takes more than one
    // byte of WAL, so no transaction commits at `at` itself. Placing it at S.lsn − 1 instead would put a commit
    // racing S (in S's xip, committed before S.lsn) behind the difference, and the shape would have to be dropped.
    const at = (last.tx >= 1n ? last.tx : 0n) + 1n;
    const entries = difference(shape, heldRows(log), rows, at);
    const whole = last.tx < 1n || compareOffsets(lastCompleteOffset(log) ?? BEFORE_ALL, last) === 0;
    // A log ending inside a transaction is shown only up to that transaction's start; only a difference appended
    // after it ends it (and its entries are part of what the difference was taken against).
    if (entries.length === 0 && !whole) throw new NotResumable('its log ends inside a transaction');
    if (entries.length > 0) log.append(entries);
    for (const row of rows.values()) deps.subqueries.shapes.noteRow(shape.handle, row);
    deps.subqueries.shapes.markResumed(shape.handle, at);
    shape.visibility = session.visibility;
    const end = entries.length > 0 ? entries[entries.length - 1]!.offset : last.tx >= 1n ? last : undefined;
    return { appended: entries.length, end };
  } catch (err) {
    deps.subqueries.detach(shape.handle);
    deps.routers.remove(shape.handle, shape.schema, shape.table);
    throw err;
  }
}

/**
 * A query failing on the data (a clause raising on some row, a column gone) makes the shape not resumable; any other
 * failure (the database unreachable) fails the start, which is retried, rather than dropping shapes.
 */
function notResumableIfData(err: unknown, what: string): unknown {
  return isDataError(err) || err instanceof SwitchyardError
    ? new NotResumable(`${what}: ${(err as Error).message}`)
    : err;
}

/** The stored record still describes the shape the clause selects now (same columns, keys, schema header). */
function sameLayout(now: ShapeRecord, stored: ShapeRecord): boolean {
  const layout = (r: ShapeRecord): string =>
    JSON.stringify([r.tableOid, r.selected, r.keyColumns, r.valueKeyColumns, r.schema]);
  return layout(now) === layout(stored);
}

interface LoggedMessage {
  readonly key?: string;
  readonly value?: Record<string, string | null>;
  readonly headers: { readonly operation?: string };
}

/** The rows (selected columns, by key) a client holds after reading the whole log: snapshot, then changes in order. */
export function heldRows(log: ShapeLog): Map<string, Row> {
  const held = new Map<string, Row>();
  let after = BEFORE_ALL;
  for (;;) {
    const r = log.read(after, { maxBytes: 1 << 20 });
    for (const it of r.items) {
      const m = JSON.parse(it.json.toString('utf8')) as LoggedMessage;
      if (m.key === undefined || m.value === undefined) continue; // control messages
      if (m.headers.operation === 'delete') held.delete(m.key);
      else if (m.headers.operation === 'update') held.set(m.key, { ...held.get(m.key), ...m.value });
      else held.set(m.key, m.value);
    }
    if (r.atEnd || compareOffsets(r.endOffset, after) <= 0) return held;
    after = r.endOffset;
  }
}

/**
 * The entries taking a client from `held` to `rows`: deletes of rows gone, inserts of rows new to it, updates of
 * rows whose selected values differ; one transaction at commit LSN `at`, its last entry marked.
 */
export function difference(
  shape: MessageShape,
  held: ReadonlyMap<string, Row>,
  rows: ReadonlyMap<string, Row>,
  at: bigint,
): LogEntry[] {
  const txh = { lsn: at.toString(), txids: [] };
  const messages: ChangeMessage[] = [];
  for (const [key, old] of held) if (!rows.has(key)) messages.push(deleteMessage(shape, old, txh, 0, key));
  for (const [key, row] of rows) {
    const old = held.get(key);
    const m = old === undefined ? insertMessage(shape, row, txh, 0, key) : updateMessage(shape, old, row, txh, 0, key);
    if (m !== undefined) messages.push(m);
  }
  return messages.map((m, i) => {
    m.headers.op_position = 2 * i;
    if (i === messages.length - 1) m.headers.last = true;
    return { offset: { tx: at, op: 2 * i }, json: JSON.stringify(m) };
  });
}
