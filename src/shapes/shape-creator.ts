// Creating a shape: validate, publish its table, register it in the router under a snapshot, write the snapshot rows.
import type pg from 'pg';
import { SwitchyardError, ValueError } from '../errors/index.js';
import type { Admission } from './admission.js';
import type { CoalescedReads } from './coalesced-commit.js';
import type { ShapeLogStore } from '../log/shape-log-store.js';
import { columnTypes, keyColumns, loadTable, type TableInfo } from './catalog.js';
import { subqueryTables } from '../where.js';
import type { InnerTable, Subqueries } from './subqueries.js';
import type { LiveShape } from './live-shape.js';
import { insertMessage, snapshotEndMessage } from './messages.js';
import type { ShapeRegistry } from './registry.js';
import { SnapshotSession, isDataError, isRowEvaluationError } from './snapshot.js';
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
  readonly pool: pg.Pool;
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
  try {
    return await createShapeWith(deps, def, defKey, 'pushdown');
  } catch (err) {
    if (!(err instanceof WhereRaised)) throw err;
    // One rule for raising rows (README, "Rows on which the clause raises"): such a row is not in the shape, in the
    // snapshot as in live changes. Postgres cannot skip them, so the snapshot is read again, unfiltered, under a new
    // snapshot, and each row is checked here exactly as a live row is.
    return createShapeWith(deps, def, defKey, 'filter');
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

async function createShapeWith(
  deps: CreatorDeps,
  def: ShapeDefinition,
  defKey: string,
  mode: SnapshotMode,
): Promise<CreatedShape> {
  const table = await readTable(deps, def);
  const inner = await readInnerTables(deps, def);
  const v = validateShape(def, table, inner.size > 0 ? { tables: inner, sets: deps.subqueries.store } : undefined);
  if (v.predicate !== undefined) deps.admission.checkWhereTree(v.predicate.expr);
  await prepareRouter(deps, table);
  const handle = deps.registry.newHandle(defKey);
  deps.store.createLog(handle);
  const shape = deps.registry.register(handle, v.record, deps.store);
  try {
    await publishTable(deps, table);
    deps.subqueries.remember(innerTables(inner));
    for (const t of inner.values()) await publishTable(deps, t);
  } catch (err) {
    deps.discard(shape);
    throw err;
  }
  const session = await startSnapshot(deps, shape, v, inner);
  const written = await fillSnapshot(deps, shape, v, session, mode);
  if ((shape.state as string) === 'invalidated') throw new ShapeCreationError('shape invalidated during its snapshot');
  shape.state = 'ready';
  // Rewritten with its completion (not awaited: without it a restart merely checks the log, as for older records).
  deps.registry.persist(shape);
  deps.commitMeta().catch(() => undefined);
  shape.wake();
  return { shape, ...written };
}

/** The table's catalog entry; a missing or unsupported table is the client's error (400). */
async function readTable(deps: CreatorDeps, def: ShapeDefinition): Promise<TableInfo> {
  let table: TableInfo | undefined;
  try {
    table = await deps.catalogReads.read(JSON.stringify([def.schema, def.table]), async () =>
      loadTable(await deps.admin(), def.schema, def.table),
    );
  } catch (err) {
    throw new ShapeCreationError(`could not read the catalog: ${(err as Error).message}`, 5, { cause: err });
  }
  if (table === undefined) throw unknownTableError(def);
  if (table.unsupported !== undefined) throw new ShapeRequestError({ table: [table.unsupported] });
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
    const t = await readTable(deps, { ...def, schema: n.schema, table: n.name }).catch((err: unknown) => {
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

function innerTables(inner: ReadonlyMap<string, TableInfo>): InnerTable[] {
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

/** Adds the shape to its table's router and opens its snapshot, both inside the processing lock. */
async function startSnapshot(
  deps: CreatorDeps,
  shape: LiveShape,
  v: ValidatedShape,
  inner: ReadonlyMap<string, TableInfo>,
): Promise<SnapshotSession> {
  const def = shape.definition;
  let client: pg.PoolClient;
  try {
    client = await deps.pool.connect();
  } catch (err) {
    deps.discard(shape);
    throw new ShapeCreationError(`database unreachable: ${(err as Error).message}`, 10, { cause: err });
  }
  try {
    return await deps.lock.run(async () => {
      try {
        // Applied (a sharded router's workers acknowledged it) before the snapshot starts.
        if (v.subqueries !== undefined && v.predicate !== undefined) {
          // Its sets are loaded here too, under the lock: no transaction is applied between their snapshots and ours.
          for (const t of inner.values()) await prepareInnerRouter(deps, t);
          await deps.subqueries.attach(shape, v.predicate, v.subqueries, innerTables(inner));
        } else {
          await deps.routers.add(
            shape.handle,
            def.schema,
            def.table,
            def.where?.trim() === '' ? undefined : def.where,
            def.params,
          );
        }
      } catch (err) {
        client.release();
        throw err;
      }
      try {
        // On failure `begin` releases the connection itself.
        const s = await SnapshotSession.begin(client);
        shape.visibility = s.visibility;
        return s;
      } catch (err) {
        deps.routers.remove(shape.handle, def.schema, def.table);
        throw err;
      }
    });
  } catch (err) {
    deps.discard(shape);
    if (err instanceof SwitchyardError) throw whereRejection(err, def.where ?? '', 'where');
    throw new ShapeCreationError(`could not start the snapshot: ${(err as Error).message}`, 1, { cause: err });
  }
}

/**
 * Persists the shape's record and writes its initial rows (log=full) and the `snapshot-end` control to its log;
 * durable when this resolves.
 */
async function fillSnapshot(
  deps: CreatorDeps,
  shape: LiveShape,
  v: ValidatedShape,
  session: SnapshotSession,
  mode: SnapshotMode,
): Promise<{ rows: number; evaluationErrors: number }> {
  let written = { rows: 0, evaluationErrors: 0 };
  try {
    deps.registry.persist(shape);
    // The record must be durable before the handle is handed out, not before the snapshot: overlap the two fsyncs.
    const recorded = deps.commitMeta();
    recorded.catch(() => undefined);
    if (shape.definition.log === 'full') written = await writeSnapshot(deps, shape, session, v, mode);
    await session.close();
    if (shape.state === 'invalidated') throw new ShapeCreationError('shape invalidated during its snapshot');
    // Stored as the snapshot's last row, so it is served from the log like the rows, the same after a restart.
    shape.log.appendSnapshot([snapshotEndMessage(session.visibility)]);
    shape.log.finishSnapshot();
    await Promise.all([recorded, deps.store.syncAll()]);
  } catch (err) {
    await session.close(err);
    deps.discard(shape);
    if (err instanceof ShapeCreationError || err instanceof ShapeRequestError) throw err;
    if (mode === 'pushdown' && v.predicate !== undefined && isRowEvaluationError(err)) throw new WhereRaised();
    if (isDataError(err))
      throw new ShapeRequestError({ where: [`${(err as Error).message} (while reading the initial rows)`] });
    throw new ShapeCreationError(`snapshot failed: ${(err as Error).message}`, 1, { cause: err });
  }
  return written;
}

/** Streams the snapshot rows into the shape's log; in `filter` mode the predicate picks them (an error: not in). */
async function writeSnapshot(
  deps: CreatorDeps,
  shape: LiveShape,
  session: SnapshotSession,
  v: ValidatedShape,
  mode: SnapshotMode,
): Promise<{ rows: number; evaluationErrors: number }> {
  const def = shape.definition;
  const predicate = mode === 'filter' ? v.predicate : undefined;
  // A subquery shape keeps its rows (with every column its clause reads) to move them out later.
  const tracked = v.subqueries !== undefined && v.predicate !== undefined;
  const cols =
    predicate === undefined && !tracked
      ? v.queryColumns
      : [...new Set([...v.queryColumns, ...(v.predicate?.columns ?? [])])];
  let rows = 0;
  let evaluationErrors = 0;
  const keep = (row: Record<string, string | null>): boolean => {
    if (predicate === undefined) return true;
    try {
      return predicate.matches(row);
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
      evaluationErrors++;
      return false;
    }
  };
  await session.query(
    def.schema,
    def.table,
    cols,
    predicate === undefined ? v.predicate?.sql : undefined,
    (batch) => {
      if (shape.state === 'invalidated') throw new ShapeCreationError('shape invalidated during its snapshot');
      const json: string[] = [];
      for (const values of batch) {
        const row: Record<string, string | null> = {};
        for (let c = 0; c < cols.length; c++) row[cols[c]!] = values[c] ?? null;
        if (!keep(row)) continue;
        json.push(JSON.stringify(insertMessage(shape, row)));
        if (tracked) deps.subqueries.shapes.noteRow(shape.handle, row);
      }
      rows += json.length;
      shape.log.appendSnapshot(json);
    },
    deps.snapshotBatch,
  );
  return { rows, evaluationErrors };
}
