// Subset snapshots (shape-protocol.md §9): a filtered, ordered page of a shape's rows read under one fresh snapshot.
import { randomInt } from 'node:crypto';
import type pg from 'pg';
import { SwitchyardError, ValueError } from '../errors/index.js';
import type { Predicate } from '../eval/predicate.js';
import { unknownOrderColumn, type OrderItem } from '../sql/order-by.js';
import { compileWhere } from '../where.js';
import { columnTypes, loadTable, quoteName, type TableInfo } from './catalog.js';
import type { LiveShape } from './live-shape.js';
import { insertMessage, snapshotXidHeaders } from './messages.js';
import { SnapshotSession, isDataError, isRowEvaluationError } from './snapshot.js';
import {
  ShapeCreationError,
  ShapeRequestError,
  type SubsetMetadata,
  type SubsetRequest,
  type SubsetSink,
} from './types.js';
import { validateShape, whereRejection } from './validate.js';

/** A subset query may run this long per statement: its clause is client input and must not pin a connection. */
export const SUBSET_STATEMENT_TIMEOUT_MS = 30_000;

export interface SubsetDeps {
  readonly admin: () => Promise<pg.ClientBase>;
  readonly pool: pg.Pool;
  readonly batchSize: number;
  /** A row left out because a clause raised on it (counted with the live and snapshot ones). */
  readonly onEvaluationError?: (schema: string, table: string) => void;
}

/** The SQL of a subset: the shape's clause AND the subset's, then ORDER BY / LIMIT / OFFSET, all rendered by us. */
interface SubsetPlan {
  readonly columns: readonly string[];
  readonly whereSql: string | undefined;
  readonly tailSql: string;
  /** For the in-process fallback (rows on which a clause raises): both clauses, the order, the page bounds. */
  readonly predicates: readonly Predicate[];
  readonly orderSql: string;
  readonly limit: number | undefined;
  readonly offset: number;
}

function orderSql(items: readonly OrderItem[]): string {
  return items
    .map((it) => {
      const nulls = it.nulls === undefined ? '' : it.nulls === 'first' ? ' NULLS FIRST' : ' NULLS LAST';
      return `${quoteName(it.column)} ${it.direction === 'desc' ? 'DESC' : 'ASC'}${nulls}`;
    })
    .join(', ');
}

/**
 * Compiles the subset against the shape as it is now defined on `table`. The subset may use only the shape's
 * selected columns (in its clause and its order), so it reveals nothing the shape does not already send.
 */
export function planSubset(shape: LiveShape, table: TableInfo, subset: SubsetRequest): SubsetPlan {
  const v = validateShape(shape.definition, table);
  const all = columnTypes(table);
  const visible: Record<string, string> = {};
  for (const c of v.record.selected) if (all[c] !== undefined) visible[c] = all[c];
  let subsetPredicate: Predicate | undefined;
  if (subset.where !== undefined && subset.where.trim() !== '') {
    try {
      subsetPredicate = compileWhere(subset.where, visible, {
        ...(subset.params !== undefined ? { params: subset.params } : {}),
        table: { schema: table.schema, name: table.name },
      });
    } catch (err) {
      if (err instanceof SwitchyardError) throw whereRejection(err, subset.where, 'subset__where');
      throw err;
    }
  }
  const subsetSql = subsetPredicate?.sql;
  const parts: string[] = [];
  let order = '';
  if (subset.orderBy !== undefined && subset.orderBy.length > 0) {
    const bad = unknownOrderColumn(subset.orderBy, v.record.selected);
    if (bad !== undefined) throw new ShapeRequestError({ subset__order_by: [bad] });
    order = `ORDER BY ${orderSql(subset.orderBy)}`;
    parts.push(order);
  }
  if (subset.limit !== undefined) parts.push(`LIMIT ${subset.limit}`);
  if (subset.offset !== undefined) parts.push(`OFFSET ${subset.offset}`);
  const shapeSql = v.predicate?.sql;
  const whereSql =
    shapeSql !== undefined && subsetSql !== undefined ? `(${shapeSql}) AND (${subsetSql})` : (shapeSql ?? subsetSql);
  const predicates = [v.predicate, subsetPredicate].filter((p): p is Predicate => p !== undefined);
  return {
    columns: v.queryColumns,
    whereSql,
    tailSql: parts.join(' '),
    predicates,
    orderSql: order,
    limit: subset.limit,
    offset: subset.offset ?? 0,
  };
}

function rowOf(columns: readonly string[], values: readonly (string | null)[]): Record<string, string | null> {
  const row: Record<string, string | null> = {};
  for (let c = 0; c < columns.length; c++) row[columns[c]!] = values[c] ?? null;
  return row;
}

/** Raised inside a batch callback to stop reading once the page is full. */
class PageFull extends Error {}

/** The subset in process: every row in order, kept when both clauses are TRUE (an error: not in), then the page. */
async function filterSubset(
  deps: SubsetDeps,
  session: SnapshotSession,
  def: LiveShape['definition'],
  plan: SubsetPlan,
  send: (rows: readonly Record<string, string | null>[]) => Promise<void>,
): Promise<void> {
  const columns = [...new Set([...plan.columns, ...plan.predicates.flatMap((p) => p.columns)])];
  const keep = (row: Record<string, string | null>): boolean =>
    plan.predicates.every((p) => {
      try {
        return p.matches(row);
      } catch (err) {
        if (!(err instanceof ValueError)) throw err;
        deps.onEvaluationError?.(def.schema, def.table);
        return false;
      }
    });
  let skip = plan.offset;
  let room = plan.limit ?? Infinity;
  try {
    await session.query(
      def.schema,
      def.table,
      columns,
      undefined,
      async (batch) => {
        const out: Record<string, string | null>[] = [];
        for (const values of batch) {
          const row = rowOf(columns, values);
          if (!keep(row)) continue;
          if (skip > 0) skip--;
          else if (room-- > 0) out.push(row);
          else break;
        }
        await send(out);
        if (room <= 0) throw new PageFull();
      },
      deps.batchSize,
      plan.orderSql,
    );
  } catch (err) {
    if (!(err instanceof PageFull)) throw err;
  }
}

function metadataOf(session: SnapshotSession, mark: number): SubsetMetadata {
  const v = session.visibility;
  return {
    ...snapshotXidHeaders(v),
    database_lsn: v.lsn.toString(),
    snapshot_mark: mark,
  };
}

/**
 * Runs the subset under a new REPEATABLE READ snapshot. The first batch is read before `sink.start`, so clause errors
 * Postgres raises on the data (a cast that fails on some row) still become a 400 rather than a cut response.
 */
export async function runSubset(
  deps: SubsetDeps,
  shape: LiveShape,
  subset: SubsetRequest,
  sink: SubsetSink,
): Promise<'done' | 'gone'> {
  const def = shape.definition;
  let table: TableInfo | undefined;
  try {
    table = await loadTable(await deps.admin(), def.schema, def.table);
  } catch (err) {
    throw new ShapeCreationError(`could not read the catalog: ${(err as Error).message}`, 5, { cause: err });
  }
  if (table === undefined || table.oid !== shape.tableOid) return 'gone';
  let plan: SubsetPlan;
  try {
    plan = planSubset(shape, table, subset);
  } catch (err) {
    // The shape's own definition no longer fits its table: it is about to be invalidated; the client refetches.
    if (err instanceof ShapeRequestError && Object.keys(err.errors).every((k) => !k.startsWith('subset__')))
      return 'gone';
    throw err;
  }
  let client: pg.PoolClient;
  try {
    client = await deps.pool.connect();
  } catch (err) {
    throw new ShapeCreationError(`database unreachable: ${(err as Error).message}`, 10, { cause: err });
  }
  let session: SnapshotSession;
  try {
    session = await SnapshotSession.begin(client);
  } catch (err) {
    throw new ShapeCreationError(`could not start the snapshot: ${(err as Error).message}`, 1, { cause: err });
  }
  const mark = randomInt(0, 2 ** 31 - 1);
  const meta = metadataOf(session, mark);
  let started = false;
  const start = async (): Promise<void> => {
    if (started) return;
    started = true;
    await sink.start(meta);
  };
  const send = async (rows: readonly Record<string, string | null>[]): Promise<void> => {
    await start();
    if (rows.length === 0) return;
    await sink.rows(
      rows.map((row) => {
        const msg = insertMessage(shape, row);
        return JSON.stringify({ ...msg, headers: { ...msg.headers, snapshot_mark: mark } });
      }),
    );
  };
  try {
    await session.setStatementTimeout(SUBSET_STATEMENT_TIMEOUT_MS);
    try {
      await session.attempt(() =>
        session.query(
          def.schema,
          def.table,
          plan.columns,
          plan.whereSql,
          (batch) => send(batch.map((values) => rowOf(plan.columns, values))),
          deps.batchSize,
          plan.tailSql,
        ),
      );
    } catch (err) {
      // Rows on which a clause raises are not in the shape (README): read again in the same snapshot, unfiltered,
      // and let the predicates decide. Only possible while nothing has been sent.
      if (started || !isRowEvaluationError(err)) throw err;
      await filterSubset(deps, session, def, plan, send);
    }
    await start();
    await session.close();
    return 'done';
  } catch (err) {
    await session.close(err);
    if (started) throw err;
    if (isDataError(err)) {
      throw new ShapeRequestError({ subset__where: [`${(err as Error).message} (while reading the subset)`] });
    }
    if ((err as { code?: unknown }).code === '57014') {
      throw new ShapeRequestError({
        subset__where: [`the subset query ran longer than ${SUBSET_STATEMENT_TIMEOUT_MS / 1000} s and was cancelled`],
      });
    }
    throw new ShapeCreationError(`subset query failed: ${(err as Error).message}`, 1, { cause: err });
  }
}
