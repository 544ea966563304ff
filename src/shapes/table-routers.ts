// One router per replicated table (in-process Router or ShardedRouter), so one table's schema can change alone.
import { Router } from '../router/router.js';
import { emptyLanes } from '../router/stats.js';
import type { Change as RouterChange, LaneKind, RoutedChange, ShapeDef, ShapeRouting } from '../router/types.js';
import { ShardedRouter } from '../shard/sharded-router.js';
import { ShardFailureError } from '../shard/protocol.js';
import type { ShardedRouterOptions } from '../shard/types.js';
import { qualifiedTable } from './catalog.js';
import type { TableCount } from './table-counts.js';

type Row = Readonly<Record<string, string | null>>;

/** A table's routing state; handed to the change processor as an opaque reference (stable across rebuilds). */
export interface TableRef {
  router: ShapeRouting;
  columns: Record<string, string>;
  signature: string;
  /** The sharded router failed a batch: rebuild it before it routes again. */
  broken: boolean;
  /** `"schema"."table"`: the name the router knows the table by (quoted, so no case folding applies). */
  readonly name: string;
  readonly schema: string;
  readonly table: string;
  /**
   * Every shape of the table, with its definition when the router holds it for someone else (subquery sets);
   * `null` for a shape whose definition its owner keeps (`defOf`): a million idle shapes hold no ShapeDef here.
   */
  readonly shapes: Map<string, ShapeDef | null>;
  /** Fail-open count of the routers this table had before its last rebuild (a metrics counter must not go back). */
  retiredFailOpen: number;
  /** The same for evaluation work and slow evaluations. */
  retiredWork: number;
  retiredSlow: number;
}

/** Row images routed as inserts: `routed[i]` the shapes image i is in, and those of them to re-check exactly. */
export type RoutedImages = readonly RoutedChange[];

export interface TableRoutersOptions {
  readonly mode?: 'indexed' | 'filter';
  /** 0 (default): an in-process Router per table; n ≥ 1: a ShardedRouter with n worker threads per table. */
  readonly shards?: number;
  /** Passed to every ShardedRouter (tests lower maxRetries; the service logs restarts). */
  readonly sharded?: Pick<ShardedRouterOptions, 'maxRetries' | 'transport' | 'onRestart' | 'hotKeyThreshold'>;
  /** Shapes a failed sharded router's rebuild could not re-add (they must be invalidated, not silently unrouted). */
  readonly onDropped?: (ids: readonly string[]) => void;
  /** A background step failed (a shard's remove or close); reported so it is not lost, nothing waits on it. */
  readonly onError?: (message: string) => void;
  /** The where clause and parameters of a shape added with `owned` (read again when its router is rebuilt). */
  readonly defOf?: (id: string) => Pick<ShapeDef, 'where' | 'params'> | undefined;
}

const signatureOf = (columns: Record<string, string>): string => JSON.stringify(Object.entries(columns));

/**
 * A Router's schema is fixed at construction; a table appears when its first shape does and its column map is
 * replaced when a new shape sees different catalog types. Rebuilding re-adds the table's shapes (rare: schema
 * changes only); a shape that no longer compiles is reported back so it can be invalidated.
 *
 * Both backends are used through ShapeRouting, whose answers may or may not be promises: the in-process router
 * answers synchronously (so a transaction is processed without a promise), the sharded one with one promise per table
 * and transaction. Rebuilds must not overlap routing (the service runs both under its
 * lock), so the old router can be closed as soon as the new one holds every shape.
 */
export class TableRouters {
  private readonly tables = new Map<string, TableRef>();
  private readonly mode: 'indexed' | 'filter';
  private readonly shards: number;

  constructor(private readonly opts: TableRoutersOptions = {}) {
    this.mode = opts.mode ?? 'indexed';
    this.shards = Math.max(0, Math.floor(opts.shards ?? 0));
  }

  get sharded(): boolean {
    return this.shards > 0;
  }

  private key(schema: string, table: string): string {
    return `${schema}\u0000${table}`;
  }

  /** True when the table's router already uses exactly these column types (no rebuild needed). */
  isCurrent(schema: string, table: string, columns: Record<string, string>): boolean {
    const t = this.tables.get(this.key(schema, table));
    return t !== undefined && !t.broken && t.signature === signatureOf(columns);
  }

  /** Makes the table's router use `columns`; resolves with the ids of shapes that failed to re-add after a rebuild. */
  async ensureTable(schema: string, table: string, columns: Record<string, string>): Promise<string[]> {
    const k = this.key(schema, table);
    const existing = this.tables.get(k);
    if (existing !== undefined && !existing.broken && existing.signature === signatureOf(columns)) return [];
    if (existing === undefined) {
      const name = qualifiedTable(schema, table);
      const ref: TableRef = {
        router: this.newRouter(name, columns),
        columns,
        signature: signatureOf(columns),
        broken: false,
        name,
        schema,
        table,
        shapes: new Map(),
        retiredFailOpen: 0,
        retiredWork: 0,
        retiredSlow: 0,
      };
      this.tables.set(k, ref);
      return [];
    }
    return this.rebuild(existing, columns);
  }

  /** Replaces the table's router in place (so references held by callers stay valid) and closes the old one. */
  private async rebuild(t: TableRef, columns: Record<string, string>): Promise<string[]> {
    const router = this.newRouter(t.name, columns);
    const ids = [...t.shapes.keys()];
    const failed: string[] = [];
    // addShape per shape (a sharded router still posts its ops in one message per shard) so each refusal is reported.
    const settled = await Promise.allSettled(ids.map((id) => attempt(() => router.addShape(id, this.defIn(t, id)))));
    settled.forEach((r, i) => {
      if (r.status === 'rejected') failed.push(ids[i] as string);
    });
    // A shape invalidated while the new router was filling (removes do not take the lock) must not linger in it.
    for (const id of ids)
      if (!t.shapes.has(id)) void attempt(() => router.removeShape(id)).catch(this.reportFailure(`removing ${id}`));
    for (const id of failed) t.shapes.delete(id);
    const old = t.router;
    const retired = old.summary();
    t.retiredFailOpen += retired.failOpen;
    t.retiredWork += retired.evaluationWork;
    t.retiredSlow += retired.slowEvaluations;
    t.router = router;
    t.columns = columns;
    t.signature = signatureOf(columns);
    t.broken = false;
    await old.close().catch(this.reportFailure(`closing ${t.name}'s old router`));
    return failed;
  }

  /** A shape's router definition: held here, or its owner's (`defOf`). */
  private defIn(t: TableRef, id: string): ShapeDef {
    const held = t.shapes.get(id);
    if (held !== null && held !== undefined) return held;
    const d = this.opts.defOf?.(id);
    if (d === undefined) throw new RangeError(`shape ${id} has no definition to re-add`);
    return {
      table: t.name,
      ...(d.where !== undefined ? { where: d.where } : {}),
      ...(d.params ? { params: d.params } : {}),
    };
  }

  private newRouter(name: string, columns: Record<string, string>): ShapeRouting {
    const schema = { [name]: columns };
    if (this.shards === 0) return new Router({ schema, mode: this.mode });
    return new ShardedRouter({ ...this.opts.sharded, schema, mode: this.mode, shards: this.shards });
  }

  /**
   * Adds a shape (ensureTable first); resolves once the router applies it, so a snapshot started afterwards is
   * consistent with routing. Rejects with the router's WhereError/RouterError. `owned`: the caller keeps the
   * definition and answers `defOf(id)` with these `where` and `params` for as long as the shape is here.
   */
  add(
    id: string,
    schema: string,
    table: string,
    where: string | undefined,
    params: Readonly<Record<string, string>> | undefined,
    owned = false,
  ): Promise<void> {
    const t = this.tables.get(this.key(schema, table));
    if (t === undefined) return Promise.reject(new Error(`table ${schema}.${table} has no router`));
    const def: ShapeDef = {
      table: t.name,
      ...(where !== undefined ? { where } : {}),
      ...(params !== undefined ? { params } : {}),
    };
    // Recorded at once so a concurrent rebuild re-adds it; dropped again if the router refuses it.
    const held = owned && this.opts.defOf !== undefined ? null : def;
    t.shapes.set(id, held);
    let applied: void | Promise<void>;
    try {
      applied = t.router.addShape(id, def);
    } catch (err) {
      t.shapes.delete(id);
      return Promise.reject(err);
    }
    return Promise.resolve(applied).catch((err: unknown) => {
      if (t.shapes.get(id) === held) t.shapes.delete(id);
      throw err;
    });
  }

  /**
   * Adds many shapes of one table whose owner keeps their definitions (`defOf`), as a restart does: the in-process
   * router adds them one after another with no promise per shape, the sharded one in one `addShapes` call. Resolves
   * with the ids the router refused (dropped here again); the others are applied.
   */
  async addMany(
    schema: string,
    table: string,
    shapes: readonly {
      readonly id: string;
      readonly where: string | undefined;
      readonly params: Readonly<Record<string, string>> | undefined;
    }[],
  ): Promise<string[]> {
    const t = this.tables.get(this.key(schema, table));
    if (t === undefined) throw new Error(`table ${schema}.${table} has no router`);
    const held = this.opts.defOf !== undefined ? null : undefined;
    const defOf = (where: string | undefined, params: Readonly<Record<string, string>> | undefined): ShapeDef => ({
      table: t.name,
      ...(where !== undefined ? { where } : {}),
      ...(params !== undefined ? { params } : {}),
    });
    const failed: string[] = [];
    if (t.router instanceof ShardedRouter) {
      for (const s of shapes) t.shapes.set(s.id, held === null ? null : defOf(s.where, s.params));
      const r = await t.router.addShapes(shapes.map((s) => ({ id: s.id, def: defOf(s.where, s.params) })));
      for (const e of r.errors) failed.push(e.id);
    } else {
      const router = t.router;
      for (const s of shapes) {
        const def = defOf(s.where, s.params);
        t.shapes.set(s.id, held === null ? null : def);
        try {
          // The in-process router answers synchronously.
          void router.addShape(s.id, def);
        } catch {
          failed.push(s.id);
        }
      }
    }
    for (const id of failed) t.shapes.delete(id);
    return failed;
  }

  /** Stops routing to a shape. Not awaited: callers mark the shape invalidated first, so a late answer is ignored. */
  remove(id: string, schema: string, table: string): boolean {
    const t = this.tables.get(this.key(schema, table));
    if (t === undefined) return false;
    const had = t.shapes.delete(id);
    void attempt(() => t.router.removeShape(id)).catch(this.reportFailure(`removing ${id}`));
    return had;
  }

  /** The table's routing reference when it has shapes (what the change processor routes with). */
  tableRef(schema: string, table: string): TableRef | undefined {
    const t = this.tables.get(this.key(schema, table));
    return t !== undefined && t.shapes.size > 0 ? t : undefined;
  }

  /**
   * Routes row images, each as an insert of its table (exact membership of that row): one routeChanges per table
   * involved. Synchronous when every router answers synchronously; otherwise one promise, all or nothing (a shard
   * failure rejects, and marks the table's router for a rebuild before its next use).
   */
  routeImages(refs: readonly TableRef[], rows: readonly Row[]): RoutedImages | Promise<RoutedImages> {
    const groups = groupByTable(refs);
    if ([...groups.keys()].some((t) => t.broken))
      return this.rebuildBroken(groups).then(() => this.routeGroups(groups, rows));
    return this.routeGroups(groups, rows);
  }

  private async rebuildBroken(groups: Map<TableRef, number[]>): Promise<void> {
    for (const t of groups.keys()) {
      if (!t.broken) continue;
      const dropped = await this.rebuild(t, t.columns);
      if (dropped.length > 0) this.opts.onDropped?.(dropped);
    }
  }

  private routeGroups(groups: Map<TableRef, number[]>, rows: readonly Row[]): RoutedImages | Promise<RoutedImages> {
    const out = new Array<RoutedChange>(rows.length);
    const jobs: Promise<void>[] = [];
    for (const [t, idx] of groups) {
      const changes: RouterChange[] = idx.map((i) => ({ table: t.name, op: 'insert', record: rows[i] as Row }));
      const place = (res: readonly RoutedChange[]): void => {
        for (let k = 0; k < idx.length; k++) out[idx[k] as number] = res[k] as RoutedChange;
      };
      let res: RoutedChange[] | Promise<RoutedChange[]>;
      try {
        res = t.router.routeChanges(changes);
      } catch (err) {
        return this.failed(t, err);
      }
      if (!(res instanceof Promise)) place(res);
      else jobs.push(res.then(place, (err: unknown) => this.failed(t, err)));
    }
    if (jobs.length === 0) return out;
    return Promise.all(jobs).then(() => out);
  }

  /** A routing failure: a shard failure marks the table for a rebuild (the shard restarts itself meanwhile). */
  private failed(t: TableRef, err: unknown): never {
    if (err instanceof ShardFailureError) t.broken = true;
    throw err;
  }

  /** The column map the table's router was built with. */
  columnsOf(schema: string, table: string): Record<string, string> | undefined {
    return this.tables.get(this.key(schema, table))?.columns;
  }

  /** Shape ids of a table (for truncate). */
  shapesOf(schema: string, table: string): string[] {
    return [...(this.tables.get(this.key(schema, table))?.shapes.keys() ?? [])];
  }

  hasShapes(schema: string, table: string): boolean {
    return (this.tables.get(this.key(schema, table))?.shapes.size ?? 0) > 0;
  }

  /** The table's ShardedRouter when tables are sharded (tests inject worker crashes through it; diagnostics). */
  shardedRouterOf(schema: string, table: string): ShardedRouter | undefined {
    if (!this.sharded) return undefined;
    return this.tables.get(this.key(schema, table))?.router as ShardedRouter | undefined;
  }

  /**
   * Shapes by lane and routing counters summed over every table. A sharded router's lanes and counters come from
   * its workers one refresh late (each call starts a refresh); shape counts are always current.
   */
  stats(): {
    shapes: number;
    lanes: Record<LaneKind, number>;
    failOpen: number;
    failedOpenIds: number;
    estimatedBytes: number;
    /** The routers' fail-open counts (expressions that raised) per table, across rebuilds. */
    failOpenByTable: TableCount[];
    /** The routers' evaluation work units and slow evaluations per table, across rebuilds. */
    evaluationWorkByTable: TableCount[];
    slowEvaluationsByTable: TableCount[];
  } {
    const lanes = emptyLanes();
    let shapes = 0;
    let failOpen = 0;
    let failedOpenIds = 0;
    let estimatedBytes = 0;
    const failOpenByTable: TableCount[] = [];
    const evaluationWorkByTable: TableCount[] = [];
    const slowEvaluationsByTable: TableCount[] = [];
    for (const t of this.tables.values()) {
      const s = t.router.summary();
      const { schema, table } = t;
      failOpenByTable.push({ schema, table, count: t.retiredFailOpen + s.failOpen });
      evaluationWorkByTable.push({ schema, table, count: t.retiredWork + s.evaluationWork });
      slowEvaluationsByTable.push({ schema, table, count: t.retiredSlow + s.slowEvaluations });
      shapes += s.shapes;
      failOpen += s.failOpen;
      failedOpenIds += s.failedOpenIds;
      estimatedBytes += s.estimatedBytes;
      for (const [k, v] of Object.entries(s.lanes)) lanes[k as LaneKind] += v;
    }
    return {
      shapes,
      lanes,
      failOpen,
      failedOpenIds,
      estimatedBytes,
      failOpenByTable,
      evaluationWorkByTable,
      slowEvaluationsByTable,
    };
  }

  /** Closes every table's router (terminates sharded routers' workers). */
  async close(): Promise<void> {
    const all = [...this.tables.values()];
    this.tables.clear();
    await Promise.all(all.map((t) => t.router.close().catch(this.reportFailure(`closing ${t.name}'s router`))));
  }

  /** A rejection handler for a step nobody awaits: the failure is reported, not swallowed. */
  private reportFailure(what: string): (err: unknown) => void {
    return (err) => this.opts.onError?.(`router: ${what} failed: ${String(err)}`);
  }
}

/** Runs a call whose answer may be synchronous, a thrown error, or a promise, as one promise. */
function attempt<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err);
  }
}

/** Row image indices per table reference, in first-seen order. */
function groupByTable(refs: readonly TableRef[]): Map<TableRef, number[]> {
  const groups = new Map<TableRef, number[]>();
  for (let i = 0; i < refs.length; i++) {
    const t = refs[i] as TableRef;
    let g = groups.get(t);
    if (g === undefined) groups.set(t, (g = []));
    g.push(i);
  }
  return groups;
}
