// Creating a shape: validate, publish its table, register it in the router under a snapshot, write the snapshot rows.
import type pg from 'pg';
import { ErrorCode, SwitchyardError, ValueError } from '../errors/index.js';
import type { Admission } from './admission.js';
import type { CoalescedReads } from './coalesced-commit.js';
import type { ShapeLogStore } from '../log/shape-log-store.js';
import type { Predicate } from '../eval/predicate.js';
import { subqueryTables } from '../where.js';
import type { InnerTable, Subqueries } from './subqueries.js';
import { columnTypes, keyColumns, loadTable, tableByNameSql, tableFromRecords, type TableInfo } from './catalog.js';
import type { LiveShape, SnapshotVisibility } from './live-shape.js';
import { insertMessage, snapshotEndMessage } from './messages.js';
import type { ShapeRegistry } from './registry.js';
import {
  BatchReadFailed,
  type SharedSnapshots,
  type SnapshotClaim,
  type SnapshotTicket,
  type TextRows,
} from './shared-snapshot.js';
import type { TableCache } from './table-cache.js';
import { SnapshotSession, selectStatement, isDataError, isRowEvaluationError } from './snapshot.js';
import type { TableRouters } from './table-routers.js';
import type { PublishedTable } from './publication.js';
import { ShapeCreationError, ShapeRequestError, type ShapeDefinition } from './types.js';
import { unknownTableError, validateShape, whereRejection, type ValidatedShape } from './validate.js';

/** Serialises critical sections (transaction processing vs. router registration + snapshot start). */
export class AsyncLock {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => T | Promise<T>): Promise<T> {
    const p = this.tail.then(fn);
    this.tail = p.catch(() => undefined);
    return p;
  }
}

export interface CreatorDeps {
  readonly admin: () => Promise<pg.ClientBase>;
  /** Catalog reads of concurrent creations on one table, shared (each still sees the catalog as of after its call). */
  readonly catalogReads: CoalescedReads<TableInfo | undefined>;
  /** Catalog entries remembered between creations (each confirmed in the creation's snapshot). */
  readonly tables: TableCache;
  /** Connections that read the rows of a snapshot. */
  readonly pool: pg.Pool;
  /** Snapshots shared by concurrent creations (taken under `lock`). */
  readonly snapshots: SharedSnapshots;
  readonly store: ShapeLogStore;
  /** Makes the registry durable (coalesced across concurrent creations). */
  readonly commitMeta: () => Promise<void>;
  readonly registry: ShapeRegistry;
  readonly routers: TableRouters;
  readonly lock: AsyncLock;
  /** Adds the table to the publication (REPLICA IDENTITY FULL) unless it is there already. */
  readonly publish: (table: PublishedTable) => Promise<void>;
  /** Invalidates shapes whose clauses no longer compile after the table's router was rebuilt. */
  readonly invalidateIds: (ids: readonly string[], reason: string) => void;
  readonly discard: (shape: LiveShape) => void;
  readonly snapshotBatch: number;
  /** Where-clause complexity limit (the other admission limits are checked before creation starts). */
  readonly admission: Admission;
  /** Materialized subquery sets and subquery shapes. */
  readonly subqueries: Subqueries;
}

/**
 * The order matters for a gap-free, duplicate-free stitch: the shape enters the router and the snapshot is taken
 * inside the same critical section as transaction processing, so every transaction processed afterwards is filtered
 * by the snapshot's visibility (skipped if the snapshot saw it) and every one processed before was visible to it.
 * The shape is registered (state `creating`) before its table is published, so a concurrent publication sync counts
 * the table as wanted.
 */
export async function createShape(deps: CreatorDeps, def: ShapeDefinition, defKey: string): Promise<CreatedShape> {
  let mode: SnapshotMode = 'pushdown';
  let remembered = true;
  let alone = false;
  for (;;) {
    try {
      return await createShapeWith(deps, def, defKey, mode, remembered, alone);
    } catch (err) {
      if (err instanceof BatchReadFailed && !alone) {
        // Another clause of the batch may have raised: read this shape's rows on its own, under a new snapshot.
        alone = true;
      } else if (err instanceof WhereRaised && mode === 'pushdown') {
        // One rule for raising rows (README, "Rows on which the clause raises"): such a row is not in the shape, in
        // the snapshot as in live changes. Postgres cannot skip them, so the snapshot is read again, unfiltered,
        // under a new snapshot, and each row is checked here exactly as a live row is.
        mode = 'filter';
      } else if (err instanceof FromRememberedTable && remembered) {
        // The remembered catalog entry may be what failed (a column added since, the table replaced): once more
        // with the catalog read anew.
        remembered = false;
      } else {
        throw err;
      }
    }
  }
}

export interface CreatedShape {
  readonly shape: LiveShape;
  readonly rows: number;
  /** Rows of the snapshot left out because the clause raised an error on them. */
  readonly evaluationErrors: number;
}

/**
 * `pushdown`: the snapshot query carries the rendered WHERE. `filter`: it reads every row and the shape's predicate
 * decides, an error meaning "not in".
 */
type SnapshotMode = 'pushdown' | 'filter';

/** Postgres raised a data error evaluating the WHERE on some row of the snapshot query. */
class WhereRaised extends Error {}

/** A creation built on a remembered catalog entry failed (with `cause`); it is tried again with a fresh read. */
class FromRememberedTable extends Error {}

/** The catalog inside the creation's snapshot differs from the remembered entry the shape was built on. */
class TableChanged extends Error {}

async function createShapeWith(
  deps: CreatorDeps,
  def: ShapeDefinition,
  defKey: string,
  mode: SnapshotMode,
  remembered: boolean,
  alone: boolean,
): Promise<CreatedShape> {
  const key = JSON.stringify([def.schema, def.table]);
  const cached = remembered ? rememberedTable(deps, key) : undefined;
  try {
    return await createOnTable(
      deps,
      def,
      defKey,
      mode,
      cached ?? (await readTable(deps, def, key)),
      cached !== undefined,
      alone,
    );
  } catch (err) {
    // A clause over the complexity limit is refused whatever the table's columns are.
    if (cached === undefined || err instanceof WhereRaised || err instanceof BatchReadFailed || isTooComplex(err))
      throw err;
    deps.tables.forget(key);
    throw new FromRememberedTable('created on a remembered catalog entry', { cause: err });
  }
}

function isTooComplex(err: unknown): boolean {
  return err instanceof ShapeRequestError && err.code === ErrorCode.WhereTooComplex;
}

/**
 * The remembered entry of the table, when its router was built with the same column types: a stale entry must never
 * make a creation rebuild a router (and invalidate shapes) before its snapshot shows the entry is stale.
 */
function rememberedTable(deps: CreatorDeps, key: string): TableInfo | undefined {
  const t = deps.tables.get(key);
  return t !== undefined && deps.routers.isCurrent(t.schema, t.name, columnTypes(t)) ? t : undefined;
}

async function createOnTable(
  deps: CreatorDeps,
  def: ShapeDefinition,
  defKey: string,
  mode: SnapshotMode,
  table: TableInfo,
  confirm: boolean,
  alone: boolean,
): Promise<CreatedShape> {
  const inner = await readInnerTables(deps, def);
  const v = validateShape(def, table, inner.size > 0 ? { tables: inner, sets: deps.subqueries.store } : undefined);
  if (v.predicate !== undefined) deps.admission.checkWhereTree(v.predicate.expr);
  await prepareRouter(deps, table);
  const handle = deps.registry.newHandle(defKey);
  await deps.store.createLogAsync(handle);
  const shape = deps.registry.register(handle, v.record);
  try {
    await publishTable(deps, table);
    deps.subqueries.remember(innerTables(inner));
    for (const t of inner.values()) await publishTable(deps, t);
  } catch (err) {
    deps.discard(shape);
    throw err;
  }
  const query = def.log === 'full' ? snapshotQuery(def, v, mode) : undefined;
  const snap = await startSnapshot(deps, shape, query, confirm ? table : undefined, alone, v, inner);
  const written = await fillSnapshot(deps, shape, v, snap, query, mode);
  if ((shape.state as string) === 'invalidated') throw new ShapeCreationError('shape invalidated during its snapshot');
  shape.state = 'ready';
  // Rewritten with its completion (not awaited: without it a restart merely checks the log, as for older records).
  deps.registry.persist(shape);
  deps.commitMeta().catch(() => undefined);
  shape.wake();
  return { shape, ...written };
}

/** The table's catalog entry, read now (and remembered); a missing or unsupported table is the client's error (400). */
async function readTable(deps: CreatorDeps, def: ShapeDefinition, key: string): Promise<TableInfo> {
  let table: TableInfo | undefined;
  try {
    table = await deps.catalogReads.read(key, async () => loadTable(await deps.admin(), def.schema, def.table));
  } catch (err) {
    throw new ShapeCreationError(`could not read the catalog: ${(err as Error).message}`, 5, { cause: err });
  }
  if (table === undefined) throw unknownTableError(def);
  if (table.unsupported !== undefined) throw new ShapeRequestError({ table: [table.unsupported] });
  deps.tables.set(key, table);
  return table;
}

/** The tables named by the clause's subqueries (none for a clause without), each a client error when missing. */
async function readInnerTables(deps: CreatorDeps, def: ShapeDefinition): Promise<Map<string, TableInfo>> {
  const out = new Map<string, TableInfo>();
  const where = def.where ?? '';
  if (!/select/i.test(where)) return out;
  let names: { schema: string; name: string }[];
  try {
    names = subqueryTables(where);
  } catch {
    return out; // a syntax error: validateShape reports it with its position
  }
  for (const n of names) {
    // A missing or unsupported table is left out: the clause's analysis then names it, with its position.
    const t = await readTable(deps, { ...def, schema: n.schema, table: n.name }, tableKey(n)).catch((err: unknown) => {
      if (err instanceof ShapeRequestError) return undefined;
      throw err;
    });
    if (t !== undefined) out.set(`${n.schema}.${n.name}`, t);
  }
  return out;
}

/** Rebuilds the table's router when the catalog's column types differ from the ones it was built with. */
async function prepareRouter(deps: CreatorDeps, table: TableInfo): Promise<void> {
  const columns = columnTypes(table);
  if (deps.routers.isCurrent(table.schema, table.name, columns)) return;
  let failed: string[];
  try {
    // A rebuild replaces the table's router: under the lock, so no transaction is being routed by the old one.
    failed = await deps.lock.run(() => deps.routers.ensureTable(table.schema, table.name, columns));
  } catch (err) {
    throw new ShapeCreationError(`could not build the table's router: ${(err as Error).message}`, 1, { cause: err });
  }
  if (failed.length > 0) deps.invalidateIds(failed, 'schema changed');
}

/** An inner table's router (where its sets' WHEREs are registered), built or rebuilt for its current columns. */
async function prepareInnerRouter(deps: CreatorDeps, t: TableInfo): Promise<void> {
  const failed = await deps.routers.ensureTable(t.schema, t.name, columnTypes(t));
  if (failed.length > 0) deps.invalidateIds(failed, 'schema changed');
}

/** The inner tables as the subquery service keeps them. */
export function innerTables(inner: ReadonlyMap<string, TableInfo>): InnerTable[] {
  return [...inner.values()].map((t) => ({ oid: t.oid, schema: t.schema, name: t.name, keyColumns: keyColumns(t) }));
}

async function publishTable(deps: CreatorDeps, table: TableInfo): Promise<void> {
  try {
    await deps.publish({ oid: table.oid, schema: table.schema, table: table.name });
  } catch (err) {
    if (err instanceof ShapeCreationError) throw err;
    // Postgres refuses some relations for good (system catalogs: 22023; unsupported kinds: 55000): a client error.
    const code = (err as { code?: unknown }).code;
    if (code === '22023' || code === '55000')
      throw new ShapeRequestError({
        table: [`cannot replicate table "${table.schema}.${table.name}": ${(err as Error).message}`],
      });
    throw new ShapeCreationError(`could not add the table to the publication: ${(err as Error).message}`, 5, {
      cause: err,
    });
  }
}

/** The snapshot query of a shape: its columns, its statement and, in `filter` mode, the predicate that picks rows. */
interface SnapshotQuery {
  readonly cols: readonly string[];
  readonly select: string;
  readonly predicate: Predicate | undefined;
  /** A subquery shape: its rows (with every column its clause reads) are kept to move them out later. */
  readonly tracked: boolean;
}

function snapshotQuery(def: ShapeDefinition, v: ValidatedShape, mode: SnapshotMode): SnapshotQuery {
  const predicate = mode === 'filter' ? v.predicate : undefined;
  const tracked = v.subqueries !== undefined && v.predicate !== undefined;
  const cols =
    predicate === undefined && !tracked
      ? v.queryColumns
      : [...new Set([...v.queryColumns, ...(v.predicate?.columns ?? [])])];
  const where = predicate === undefined ? v.predicate?.sql : undefined;
  return { cols, select: selectStatement(def.schema, def.table, cols, where), predicate, tracked };
}

/** The shape's snapshot and its rows: read by the batch, or to be read through `session` (an imported snapshot). */
interface TakenSnapshot {
  readonly visibility: SnapshotVisibility;
  readonly rows: TextRows | undefined;
  readonly session: SnapshotSession | undefined;
}

/**
 * Adds the shape to its table's router and takes its snapshot, both inside the processing lock (shared with the
 * creations waiting at the same time). The batch reads the rows (unless `alone`) and, for a shape built on a
 * remembered catalog entry, the table's entry in the same snapshot, which must equal it.
 */
async function startSnapshot(
  deps: CreatorDeps,
  shape: LiveShape,
  query: SnapshotQuery | undefined,
  remembered: TableInfo | undefined,
  alone: boolean,
  v: ValidatedShape,
  inner: ReadonlyMap<string, TableInfo>,
): Promise<TakenSnapshot> {
  const def = shape.definition;
  const claim: SnapshotClaim = {
    // Applied (a sharded router's workers acknowledged it) before the snapshot is taken.
    register: async () => {
      if (v.subqueries !== undefined && v.predicate !== undefined) {
        // Its sets are loaded here too, under the lock: no transaction is applied between their snapshots and ours.
        for (const t of inner.values()) await prepareInnerRouter(deps, t);
        await deps.subqueries.attach(shape, v.predicate, v.subqueries, innerTables(inner));
        return;
      }
      await deps.routers.add(
        shape.handle,
        def.schema,
        def.table,
        def.where?.trim() === '' ? undefined : def.where,
        def.params,
        true,
      );
    },
    taken: (visibility) => {
      shape.visibility = visibility;
    },
    ...(query !== undefined && !alone ? { read: { select: query.select, limit: deps.snapshotBatch } } : {}),
    ...(remembered !== undefined
      ? { check: { key: tableKey(remembered), sql: tableByNameSql(remembered.schema, remembered.name) } }
      : {}),
  };
  let ticket: SnapshotTicket;
  try {
    ticket = await deps.snapshots.take(claim);
  } catch (err) {
    // Removes the shape from its router too.
    deps.discard(shape);
    if (err instanceof BatchReadFailed) throw err;
    if (err instanceof SwitchyardError) throw whereRejection(err, def.where ?? '', 'where');
    throw new ShapeCreationError(`could not start the snapshot: ${(err as Error).message}`, 1, { cause: err });
  }
  try {
    if (remembered !== undefined) confirmTable(deps, remembered, tableFromRecords(ticket.checked ?? []));
    if (query === undefined || ticket.rows !== undefined) {
      ticket.release();
      return { visibility: ticket.visibility, rows: ticket.rows, session: undefined };
    }
  } catch (err) {
    ticket.release();
    deps.discard(shape);
    throw err;
  }
  let client: pg.PoolClient;
  try {
    client = await deps.pool.connect();
  } catch (err) {
    ticket.release();
    deps.discard(shape);
    throw new ShapeCreationError(`database unreachable: ${(err as Error).message}`, 10, { cause: err });
  }
  return { visibility: ticket.visibility, rows: undefined, session: SnapshotSession.imported(client, ticket) };
}

function tableKey(t: { readonly schema: string; readonly name: string }): string {
  return JSON.stringify([t.schema, t.name]);
}

/**
 * Throws TableChanged when the table's catalog entry in the snapshot differs from the remembered one the shape was
 * built on (the current one is remembered instead).
 */
function confirmTable(deps: CreatorDeps, remembered: TableInfo, current: TableInfo | undefined): void {
  const key = tableKey(remembered);
  if (deps.tables.confirms(key, remembered, current)) return;
  if (current === undefined) deps.tables.forget(key);
  else deps.tables.set(key, current);
  throw new TableChanged(`table ${key} changed since its catalog entry was read`);
}

/**
 * Persists the shape's record and writes its initial rows (log=full) and the `snapshot-end` control to its log;
 * durable when this resolves.
 */
async function fillSnapshot(
  deps: CreatorDeps,
  shape: LiveShape,
  v: ValidatedShape,
  snap: TakenSnapshot,
  query: SnapshotQuery | undefined,
  mode: SnapshotMode,
): Promise<{ rows: number; evaluationErrors: number }> {
  let written = { rows: 0, evaluationErrors: 0 };
  const session = snap.session;
  try {
    deps.registry.persist(shape);
    // The record must be durable before the handle is handed out, not before the snapshot: overlap the two fsyncs.
    const recorded = deps.commitMeta();
    recorded.catch(() => undefined);
    if (query !== undefined) written = await writeSnapshot(deps, shape, snap, query);
    // Ending a read-only transaction cannot lose anything: it runs beside the fsyncs below.
    const closed = session?.close();
    if (shape.state === 'invalidated') throw new ShapeCreationError('shape invalidated during its snapshot');
    // Stored as the snapshot's last row, so it is served from the log like the rows, the same after a restart.
    shape.log.appendSnapshot([snapshotEndMessage(snap.visibility)]);
    shape.log.finishSnapshot();
    await Promise.all([recorded, deps.store.syncAll(), closed]);
  } catch (err) {
    await session?.close(err);
    deps.discard(shape);
    if (err instanceof ShapeCreationError || err instanceof ShapeRequestError) throw err;
    if (mode === 'pushdown' && v.predicate !== undefined && isRowEvaluationError(err)) throw new WhereRaised();
    if (isDataError(err))
      throw new ShapeRequestError({ where: [`${(err as Error).message} (while reading the initial rows)`] });
    throw new ShapeCreationError(`snapshot failed: ${(err as Error).message}`, 1, { cause: err });
  }
  return written;
}

/** Writes the snapshot rows into the shape's log; in `filter` mode the predicate picks them (an error: not in). */
async function writeSnapshot(
  deps: CreatorDeps,
  shape: LiveShape,
  snap: TakenSnapshot,
  query: SnapshotQuery,
): Promise<{ rows: number; evaluationErrors: number }> {
  const { cols, predicate } = query;
  let rows = 0;
  let evaluationErrors = 0;
  const keep = (row: Record<string, string | null>): boolean => {
    if (predicate === undefined) return true;
    try {
      return predicate.matches(row);
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
      // Out of the shape row budget: the clause is too costly to keep (as a live row would invalidate the shape).
      if (err.code === ErrorCode.TooExpensive) throw whereRejection(err, shape.definition.where ?? '', 'where');
      evaluationErrors++;
      return false;
    }
  };
  const onBatch = (batch: TextRows): void => {
    if (shape.state === 'invalidated') throw new ShapeCreationError('shape invalidated during its snapshot');
    const json: string[] = [];
    for (const values of batch) {
      const row: Record<string, string | null> = {};
      for (let c = 0; c < cols.length; c++) row[cols[c]!] = values[c] ?? null;
      if (!keep(row)) continue;
      json.push(JSON.stringify(insertMessage(shape, row)));
      if (query.tracked) deps.subqueries.shapes.noteRow(shape.handle, row);
    }
    rows += json.length;
    shape.log.appendSnapshot(json);
  };
  if (snap.rows !== undefined) onBatch(snap.rows);
  else await snap.session!.cursor(query.select, onBatch, deps.snapshotBatch);
  return { rows, evaluationErrors };
}
