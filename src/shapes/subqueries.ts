// The service's subquery support in one place: materialized sets, subquery shapes, and the hooks the processor calls.
import type pg from 'pg';
import type { Predicate } from '../eval/predicate.js';
import type { SubqueryPlan } from '../subquery/plan.js';
import type { Change, RelationInfo, Transaction } from '../replication/transaction-types.js';
import type { LiveShape } from './live-shape.js';
import type { Row, TxHeaders } from './messages.js';
import type { PublishedTable } from './publication.js';
import type { SubqueryCounters } from './service-types.js';
import { SubqueryShapes, type Emit } from './subquery-shapes.js';
import { SubqueryStore } from './subquery-store.js';
import type { TableRouters } from './table-routers.js';

export interface InnerTable {
  readonly oid: number;
  readonly schema: string;
  readonly name: string;
  readonly keyColumns: readonly string[];
}

export class Subqueries {
  readonly store: SubqueryStore;
  readonly shapes: SubqueryShapes;
  private readonly inner = new Map<string, InnerTable>();
  /** Tables with subquery shapes or sets, counted per registration. */
  private readonly tableUse = new Map<string, number>();
  /** Shapes the current transaction reached below their resume point (see `finish`). */
  private readonly behind = new Set<LiveShape>();

  constructor(
    private readonly routers: TableRouters,
    pool: pg.Pool,
    private readonly onError: (message: string) => void = () => undefined,
    /** Test hook: a wait inside each move-in (`SwitchyardServiceOptions.moveDelayMs`). */
    moveDelayMs = 0,
  ) {
    this.store = new SubqueryStore({
      routers,
      pool,
      keyColumns: (schema, name) => this.inner.get(`${schema}.${name}`)?.keyColumns ?? [],
    });
    this.shapes = new SubqueryShapes(
      this.store,
      pool,
      (schema, table) => routers.columnsOf(schema, table),
      moveDelayMs,
    );
  }

  counters(): SubqueryCounters {
    const { moveQueries, movedIn, movedOut } = this.shapes.counters;
    const { innerRows, reloads } = this.store.counters;
    return { moveQueries, movedIn, movedOut, innerRows, reloads };
  }

  /** Router ids that are not plain shapes: sets' internal entries and subquery shapes (decided here, not by the router). */
  owns(id: string): boolean {
    return this.shapes.has(id) || this.store.ofRouterId(id) !== undefined;
  }

  /** Whether changes of this table concern sets or subquery shapes. */
  wants(schema: string, table: string): boolean {
    return (this.tableUse.get(`${schema}.${table}`) ?? 0) > 0;
  }

  /** Inner tables a shape being created will read: published from now on (before its sets exist). */
  remember(inner: readonly InnerTable[]): void {
    for (const t of inner) this.inner.set(`${t.schema}.${t.name}`, t);
  }

  /** Inner tables of sets and of shapes being created (the publication must hold them). */
  published(): PublishedTable[] {
    return [...this.inner.values()].map((t) => ({ oid: t.oid, schema: t.schema, table: t.name }));
  }

  /**
   * Attaches a shape: its sets are acquired (loaded if new) and it enters the value index and the router (its relaxed
   * clause). Runs under the processing lock, right before the shape's snapshot starts.
   */
  async attach(
    shape: LiveShape,
    predicate: Predicate,
    plan: SubqueryPlan,
    inner: readonly InnerTable[],
  ): Promise<void> {
    this.remember(inner);
    await this.store.acquire(plan.subqueries);
    try {
      this.shapes.register(shape, predicate, plan);
      await this.routers.add(shape.handle, shape.schema, shape.table, plan.routerWhere ?? 'false', undefined);
    } catch (err) {
      this.detach(shape.handle);
      for (const q of plan.subqueries) this.store.release(q.key);
      throw err;
    }
    this.use(shape.schema, shape.table, 1);
    for (const q of plan.subqueries) this.use(q.table.schema, q.table.name, 1);
  }

  /** Forgets a shape (invalidated, deleted or failed) and releases its sets. The router entry is the caller's. */
  detach(handle: string): void {
    const plan = this.shapes.unregister(handle);
    if (plan === undefined) return;
    for (const q of plan.subqueries) {
      this.store.release(q.key);
      this.use(q.table.schema, q.table.name, -1);
    }
  }

  private use(schema: string, table: string, n: number): void {
    const k = `${schema}.${table}`;
    const v = (this.tableUse.get(k) ?? 0) + n;
    if (v > 0) this.tableUse.set(k, v);
    else this.tableUse.delete(k);
  }

  /** One routed change: sets first (inner tables), then subquery shapes (outer tables). */
  onChange(
    tx: Transaction,
    txh: TxHeaders,
    op: number,
    change: Exclude<Change, { op: 'truncate' }>,
    oldRow: Row | undefined,
    oldIds: readonly string[],
    newIds: readonly string[],
    emit: Emit,
  ): void {
    this.store.onInnerChange(tx, change, oldIds, newIds, oldRow);
    const ids = oldIds.length === 0 ? newIds : newIds.length === 0 ? oldIds : [...oldIds, ...newIds];
    this.shapes.onChange(tx, txh, op, change, oldRow, ids, this.guarded(tx, emit));
  }

  /** `emit`, except for shapes the transaction reaches below their resume point: those are set aside. */
  private guarded(tx: Transaction, emit: Emit): Emit {
    return (shape, op, msg) => {
      if (this.shapes.behindResume(shape, tx.commitLsn)) this.behind.add(shape);
      else emit(shape, op, msg);
    };
  }

  /**
   * Ends a transaction: nested sets settled, then rows moved in and out (after every change op). When a move cannot
   * be completed (its query failed), the shapes depending on the changed sets are returned to be invalidated: their
   * clients refetch rather than miss a move (the sets themselves are current).
   */
  async finish(tx: Transaction, txh: TxHeaders, emit: Emit): Promise<LiveShape[]> {
    let deltas;
    try {
      deltas = await this.store.settle(tx);
      if (deltas.size > 0) await this.shapes.finish(tx, txh, 2 * tx.changes.length, deltas, this.guarded(tx, emit));
      // A transaction racing a restart's snapshot (shapes/subquery-resume.ts): its shapes are invalidated rather than
      // given entries out of order.
      const behind = [...this.behind];
      this.behind.clear();
      return behind;
    } catch (err) {
      this.onError(
        `moving rows for subqueries at ${tx.commitLsn} failed; their shapes are invalidated: ${String(err)}`,
      );
      const out = new Set<LiveShape>(this.behind);
      this.behind.clear();
      for (const m of deltas?.keys() ?? this.store.allSets())
        for (const s of this.shapes.dependents(m.sub.table.schema, m.sub.table.name)) out.add(s);
      return [...out];
    }
  }

  /**
   * Shapes to invalidate for a Relation message of an inner table: one of its sets reads a column the table no
   * longer has, or the table lost REPLICA IDENTITY FULL (old rows would no longer say what they contributed), or it
   * is another table under the same name.
   */
  affectedByRelation(rel: RelationInfo): LiveShape[] {
    const info = this.inner.get(`${rel.schema}.${rel.table}`);
    if (info === undefined) return [];
    const names = new Set(rel.columns.map((c) => c.name));
    const broken =
      info.oid !== rel.oid ||
      rel.replicaIdentity !== 'full' ||
      this.store.setsOfTable(rel.schema, rel.table).some((m) => m.sub.referenced.some((c) => !names.has(c)));
    return broken ? this.dependents(rel.schema, rel.table) : [];
  }

  /** Shapes whose subqueries read this table. */
  dependents(schema: string, table: string): LiveShape[] {
    return this.shapes.dependents(schema, table);
  }
}
