// One router per replicated table (in-process Router or ShardedRouter), so one table's schema can change alone.
import { Router } from '../router/router.js';
import type { Change as RouterChange, LaneKind, RouterStats, ShapeDef } from '../router/types.js';
import { ShardedRouter } from '../shard/sharded-router.js';
import { ShardFailureError } from '../shard/protocol.js';
import type { ShardedRouterOptions, ShardedStats } from '../shard/types.js';
import { qualifiedTable } from './catalog.js';

type Row = Readonly<Record<string, string | null>>;

/** A table's routing state; handed to the change processor as an opaque reference (stable across rebuilds). */
export interface TableRef {
  router: Router | ShardedRouter;
  columns: Record<string, string>;
  signature: string;
  /** The sharded router failed a batch: rebuild it before it routes again. */
  broken: boolean;
  /** `"schema"."table"`: the name the router knows the table by (quoted, so no case folding applies). */
  readonly name: string;
  readonly shapes: Map<string, ShapeDef>;
  /** The sharded router's last stats (its stats() is asynchronous): metrics report them one refresh late. */
  lastStats?: ShardedStats;
}

/** Row images routed as inserts: `ids[i]` the shapes image i is in; `failOpen[i]` 1 when that answer must be re-checked. */
export interface RoutedImages {
  readonly ids: readonly (readonly string[])[];
  readonly failOpen: Uint8Array;
}

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
}

const signatureOf = (columns: Record<string, string>): string => JSON.stringify(Object.entries(columns));

/**
 * A Router's schema is fixed at construction; a table appears when its first shape does and its column map is
 * replaced when a new shape sees different catalog types. Rebuilding re-adds the table's shapes (rare: schema
 * changes only); a shape that no longer compiles is reported back so it can be invalidated.
 *
 * Both backends share one routing path, `routeImages`: the in-process one answers synchronously (no promise), the
 * sharded one with one promise per transaction. Rebuilds must not overlap routing (the service runs both under its
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
        shapes: new Map(),
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
    if (router instanceof Router) {
      for (const id of ids) {
        try {
          router.addShape(id, t.shapes.get(id) as ShapeDef);
        } catch {
          failed.push(id);
        }
      }
    } else {
      // addShape per shape (its ops are still posted in one message per shard) so a worker's refusal is reported.
      const settled = await Promise.allSettled(ids.map((id) => router.addShape(id, t.shapes.get(id) as ShapeDef)));
      settled.forEach((r, i) => {
        if (r.status === 'rejected') failed.push(ids[i] as string);
      });
      // A shape invalidated while the new router was filling (removes do not take the lock) must not linger in it.
      for (const id of ids) if (!t.shapes.has(id)) router.removeShape(id).catch(this.reportFailure(`removing ${id}`));
    }
    for (const id of failed) t.shapes.delete(id);
    const old = t.router;
    t.router = router;
    t.columns = columns;
    t.signature = signatureOf(columns);
    t.broken = false;
    if (old instanceof ShardedRouter) await old.close().catch(this.reportFailure(`closing ${t.name}'s old router`));
    return failed;
  }

  private newRouter(name: string, columns: Record<string, string>): Router | ShardedRouter {
    const schema = { [name]: columns };
    if (this.shards === 0) return new Router({ schema, mode: this.mode });
    return new ShardedRouter({ ...this.opts.sharded, schema, mode: this.mode, shards: this.shards });
  }

  /**
   * Adds a shape (ensureTable first); resolves once the router applies it, so a snapshot started afterwards is
   * consistent with routing. Rejects with the router's WhereError/RouterError.
   */
  add(
    id: string,
    schema: string,
    table: string,
    where: string | undefined,
    params: Record<string, string> | undefined,
  ): Promise<void> {
    const t = this.tables.get(this.key(schema, table));
    if (t === undefined) return Promise.reject(new Error(`table ${schema}.${table} has no router`));
    const def: ShapeDef = {
      table: t.name,
      ...(where !== undefined ? { where } : {}),
      ...(params !== undefined ? { params } : {}),
    };
    const r = t.router;
    if (r instanceof Router) {
      try {
        r.addShape(id, def);
      } catch (err) {
        return Promise.reject(err);
      }
      t.shapes.set(id, def);
      return Promise.resolve();
    }
    // Recorded at once so a concurrent rebuild re-adds it; dropped again if the shard refuses it.
    t.shapes.set(id, def);
    return r.addShape(id, def).catch((err: unknown) => {
      if (t.shapes.get(id) === def) t.shapes.delete(id);
      throw err;
    });
  }

  /** Stops routing to a shape. Not awaited: callers mark the shape invalidated first, so a late answer is ignored. */
  remove(id: string, schema: string, table: string): boolean {
    const t = this.tables.get(this.key(schema, table));
    if (t === undefined) return false;
    const had = t.shapes.delete(id);
    const r = t.router;
    if (r instanceof Router) return r.removeShape(id);
    r.removeShape(id).catch(this.reportFailure(`removing ${id}`));
    return had;
  }

  /** The table's routing reference when it has shapes (what the change processor routes with). */
  tableRef(schema: string, table: string): TableRef | undefined {
    const t = this.tables.get(this.key(schema, table));
    return t !== undefined && t.shapes.size > 0 ? t : undefined;
  }

  /**
   * Routes row images, each as an insert of its table (exact membership of that row). Synchronous for in-process
   * routers; for sharded ones one routeBatch per table involved, all or nothing (a shard failure rejects).
   */
  routeImages(refs: readonly TableRef[], rows: readonly Row[]): RoutedImages | Promise<RoutedImages> {
    const n = rows.length;
    const ids = new Array<readonly string[]>(n);
    const failOpen = new Uint8Array(n);
    if (this.shards === 0) {
      for (let i = 0; i < n; i++) {
        const t = refs[i] as TableRef;
        const router = t.router as Router;
        const counters = router.ctx.counters;
        const before = counters.failOpen;
        ids[i] = router.route({ table: t.name, op: 'insert', record: rows[i] as Row });
        if (counters.failOpen !== before) failOpen[i] = 1;
      }
      return { ids, failOpen };
    }
    return this.routeSharded(refs, rows, ids, failOpen);
  }

  private async routeSharded(
    refs: readonly TableRef[],
    rows: readonly Row[],
    ids: (readonly string[])[],
    failOpen: Uint8Array,
  ): Promise<RoutedImages> {
    const groups = new Map<TableRef, number[]>();
    for (let i = 0; i < rows.length; i++) {
      const t = refs[i] as TableRef;
      let g = groups.get(t);
      if (g === undefined) groups.set(t, (g = []));
      g.push(i);
    }
    for (const t of groups.keys()) {
      if (!t.broken) continue;
      const dropped = await this.rebuild(t, t.columns);
      if (dropped.length > 0) this.opts.onDropped?.(dropped);
    }
    const jobs: Promise<void>[] = [];
    for (const [t, idx] of groups) {
      const router = t.router as ShardedRouter;
      const changes: RouterChange[] = idx.map((i) => ({ table: t.name, op: 'insert', record: rows[i] as Row }));
      jobs.push(
        router.routeBatch(changes).then(
          (res) => {
            // A table-wide fail-open comes back as every shape of the table, unflagged: re-check such answers exactly.
            const all = router.shapeCount;
            for (let k = 0; k < idx.length; k++) {
              const got = res[k] as string[];
              const i = idx[k] as number;
              ids[i] = got;
              if (got.length > 0 && got.length === all) failOpen[i] = 1;
            }
          },
          (err: unknown) => {
            // The shard restarts itself; a rebuild on next use also covers a shard that gave up restarting.
            if (err instanceof ShardFailureError) t.broken = true;
            throw err;
          },
        ),
      );
    }
    await Promise.all(jobs);
    return { ids, failOpen };
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

  /** The table's ShardedRouter (tests inject worker crashes through it; diagnostics). */
  shardedRouterOf(schema: string, table: string): ShardedRouter | undefined {
    const r = this.tables.get(this.key(schema, table))?.router;
    return r instanceof ShardedRouter ? r : undefined;
  }

  /**
   * Shapes by lane and routing counters summed over every table. Sharded routers keep lanes and counters in their
   * workers and ShardedRouter.stats() is asynchronous: each call starts a refresh and reports the previous one (the
   * shape count is always current).
   */
  stats(): { shapes: number; lanes: Record<LaneKind, number>; failOpen: number; estimatedBytes: number } {
    const lanes: Record<LaneKind, number> = {
      equality: 0,
      expression: 0,
      range: 0,
      prefix: 0,
      inclusion: 0,
      always: 0,
      unindexed: 0,
    };
    let shapes = 0;
    let failOpen = 0;
    let estimatedBytes = 0;
    for (const t of this.tables.values()) {
      if (t.router instanceof ShardedRouter) {
        shapes += t.router.shapeCount;
        const router = t.router;
        router.stats().then(
          (st) => {
            if (t.router === router) t.lastStats = st;
          },
          () => undefined,
        );
        const last = t.lastStats;
        if (last !== undefined) {
          failOpen += last.failOpen;
          for (const sh of last.shards) estimatedBytes += sh.estimatedBytes;
          for (const [k, v] of Object.entries(last.lanes)) lanes[k as LaneKind] += v;
        }
        continue;
      }
      const s: RouterStats = t.router.stats();
      shapes += s.shapes;
      failOpen += s.counters.failOpen;
      estimatedBytes += s.estimatedBytes;
      for (const [k, v] of Object.entries(s.lanes)) lanes[k as LaneKind] += v;
    }
    return { shapes, lanes, failOpen, estimatedBytes };
  }

  /** Terminates every sharded router's workers. */
  async close(): Promise<void> {
    const all = [...this.tables.values()];
    this.tables.clear();
    await Promise.all(
      all.map((t) =>
        t.router instanceof ShardedRouter
          ? t.router.close().catch(this.reportFailure(`closing ${t.name}'s router`))
          : Promise.resolve(),
      ),
    );
  }

  /** A rejection handler for a step nobody awaits: the failure is reported, not swallowed. */
  private reportFailure(what: string): (err: unknown) => void {
    return (err) => this.opts.onError?.(`router: ${what} failed: ${String(err)}`);
  }
}
