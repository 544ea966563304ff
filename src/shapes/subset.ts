// Subset snapshots (shape-protocol.md §9): a filtered, ordered page of a shape's rows read under one fresh snapshot.
import { randomInt } from 'node:crypto';
import type pg from 'pg';
import { SwitchyardError } from '../errors/index.js';
import { unknownOrderColumn, type OrderItem } from '../sql/order-by.js';
import { compileWhere } from '../where.js';
import { columnTypes, loadTable, quoteName, type TableInfo } from './catalog.js';
import type { LiveShape } from './live-shape.js';
import { insertMessage } from './messages.js';
import { SnapshotSession, isDataError } from './snapshot.js';
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
}

/** The SQL of a subset: the shape's clause AND the subset's, then ORDER BY / LIMIT / OFFSET, all rendered by us. */
interface SubsetPlan {
  readonly columns: readonly string[];
  readonly whereSql: string | undefined;
  readonly tailSql: string;
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
  let subsetSql: string | undefined;
  if (subset.where !== undefined && subset.where.trim() !== '') {
    try {
      subsetSql = compileWhere(subset.where, visible, {
        ...(subset.params !== undefined ? { params: subset.params } : {}),
        table: { schema: table.schema, name: table.name },
      }).sql;
    } catch (err) {
      if (err instanceof SwitchyardError) throw whereRejection(err, subset.where, 'subset__where');
      throw err;
    }
  }
  const parts: string[] = [];
  if (subset.orderBy !== undefined && subset.orderBy.length > 0) {
    const bad = unknownOrderColumn(subset.orderBy, v.record.selected);
    if (bad !== undefined) throw new ShapeRequestError({ subset__order_by: [bad] });
    parts.push(`ORDER BY ${orderSql(subset.orderBy)}`);
  }
  if (subset.limit !== undefined) parts.push(`LIMIT ${subset.limit}`);
  if (subset.offset !== undefined) parts.push(`OFFSET ${subset.offset}`);
  const shapeSql = v.predicate?.sql;
  const whereSql =
    shapeSql !== undefined && subsetSql !== undefined ? `(${shapeSql}) AND (${subsetSql})` : (shapeSql ?? subsetSql);
  return { columns: v.queryColumns, whereSql, tailSql: parts.join(' ') };
}

function metadataOf(session: SnapshotSession, mark: number): SubsetMetadata {
  const v = session.visibility;
  return {
    xmin: v.xmin.toString(),
    xmax: v.xmax.toString(),
    xip_list: [...v.xip].map((x) => x.toString()),
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
  try {
    await session.setStatementTimeout(SUBSET_STATEMENT_TIMEOUT_MS);
    const cols = plan.columns;
    await session.query(
      def.schema,
      def.table,
      cols,
      plan.whereSql,
      async (batch) => {
        await start();
        const json = new Array<string>(batch.length);
        for (let i = 0; i < batch.length; i++) {
          const values = batch[i]!;
          const row: Record<string, string | null> = {};
          for (let c = 0; c < cols.length; c++) row[cols[c]!] = values[c] ?? null;
          const msg = insertMessage(shape, row);
          json[i] = JSON.stringify({ ...msg, headers: { ...msg.headers, snapshot_mark: mark } });
        }
        await sink.rows(json);
      },
      deps.batchSize,
      plan.tailSql,
    );
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
