// ShardedRouter: the Router's API across worker threads, shapes placed by routing key, rows sent only where needed.
import { defaultCompileBudgetMs, rowOperationLimitMs, shapeRowBudgetMs } from '../values/work-budget.js';
import os from 'node:os';
import { ErrorCode, RouterError } from '../errors/index.js';
import { emptyLanes } from '../router/index.js';
import type {
  Change,
  LaneKind,
  RoutedChange,
  RouterMode,
  RoutingSummary,
  ShapeDef,
  ShapeRouting,
} from '../router/index.js';
import { Packer, type Transport } from './batch-codec.js';
import { Directory, REPLICATED, type Entry, type OpenPlacement } from './directory.js';
import {
  errorFromJson,
  ShardFailureError,
  VIA_PLACED,
  VIA_REPLICATED,
  type ErrorJson,
  type RouteBody,
  type RouteResult,
  type ShapeOp,
  type WorkerStats,
} from './protocol.js';
import { LocalShard } from './local-shard.js';
import { ShardHandle } from './shard-handle.js';
import { wallNow } from './shard-state.js';
import type { AddShapesResult, ShapeEntry, ShardedRouterOptions, ShardedStats, ShardStats } from './types.js';

interface OpBuffer {
  ops: ShapeOp[];
  removed: ShapeOp[];
  waiters: {
    index: number;
    resolve: (v: boolean) => void;
    reject: (e: Error) => void;
    result: boolean;
    entry: Entry | null;
  }[];
}

export const DEFAULT_HOT_KEY_THRESHOLD = 10_000;

/** ShardedRouterOptions.minSplitPart's default: below it a message round trip (tens of µs) costs more than it saves. */
export const DEFAULT_MIN_SPLIT_PART = 64;

/**
 * Measured (bench/results/shard-bench.md, 1M shapes, 2 shards on 2 cores): 'rows' 1.22× one Router on the seed mix
 * and 1.50× on all-complex, against 0.83× / 1.17× for 'replicate' and 0.89× / 1.15× for 'spread' — the per-row
 * dispatch work of key placement costs about what a second core gains once the Router itself is fast. 'rows' pays
 * for it in memory (every shard holds every shape) and in shape adds (each goes to every shard); choose 'replicate'
 * when memory is the limit.
 */
export const DEFAULT_PLACEMENT: OpenPlacement = 'rows';

/**
 * One worker per core (`os.availableParallelism()`), not one fewer for the dispatcher: the dispatcher's per-change
 * work (table lookup, key filter, packing, merging ids) is a small fraction of a worker's routing at 1M shapes, and
 * `cores - 1` is a single shard on a 2-core machine, i.e. no parallel routing. Measured on the 2-core bench machine
 * (bench/results/shard-bench.md): with CPU to spare 2 shards beat 1 (all-complex 1.33× vs 0.90× of a Router), and
 * 3 shards never beat 2 while holding half as many replicated shapes again.
 */
export function defaultShardCount(): number {
  return Math.max(1, os.availableParallelism());
}

const IGNORE = { resolve: (): void => undefined, reject: (): void => undefined, entry: null, result: true };
const NONE: readonly string[] = Object.freeze([]);

/** The definition of an addShapes item, in either accepted form (see ShapeEntry). */
function defOf(item: ShapeEntry): ShapeDef {
  if ('def' in item && typeof item.def === 'object' && item.def !== null) return item.def;
  const flat = item as Partial<ShapeDef>;
  if (typeof flat.table !== 'string')
    throw new RouterError(ErrorCode.UnknownTable, 'a shape needs a "table" (or a "def" holding one)');
  return {
    table: flat.table,
    ...(flat.where !== undefined ? { where: flat.where } : {}),
    ...(flat.params !== undefined ? { params: flat.params } : {}),
  };
}

export class ShardedRouter implements ShapeRouting {
  readonly mode: RouterMode;
  readonly shards: number;
  readonly transport: Transport;
  private readonly minSplitPart: number;
  private readonly dir: Directory;
  /** Shard 0 is a LocalShard under options.localShard, every other shard a worker. */
  private readonly handles: (ShardHandle | LocalShard)[] = [];
  private readonly local: LocalShard | null;
  /**
   * Per shard, its measured speed routing a part of a split batch (estimated cost per ms from the batch's start to the
   * shard's finish, smoothed; 0 until measured): the next batch is cut in proportion, so that the parts finish
   * together whatever each shard's start delay (packing, waking a worker) and share of the CPU.
   */
  private readonly speed: Float64Array;
  private readonly buffers: OpBuffer[] = [];
  private flushScheduled = false;
  /** Free pack buffers (one per range in flight; see Packer). */
  private readonly packers: Packer[] = [];
  private readonly tableColumns: (readonly string[])[];
  private readonly sent: number[];
  private closed = false;
  /** The workers' last stats (summary() is synchronous: each call reports these and starts a refresh). */
  private lastStats: ShardedStats | undefined;

  constructor(options: ShardedRouterOptions) {
    this.mode = options.mode ?? 'indexed';
    this.shards = Math.max(1, Math.floor(options.shards ?? defaultShardCount()));
    this.transport = options.transport ?? 'shared';
    this.minSplitPart = Math.max(1, Math.floor(options.minSplitPart ?? DEFAULT_MIN_SPLIT_PART));
    this.dir = new Directory(
      options.schema,
      this.shards,
      options.hotKeyThreshold ?? DEFAULT_HOT_KEY_THRESHOLD,
      options.keyFilter ?? true,
      options.placement ?? DEFAULT_PLACEMENT,
    );
    this.tableColumns = this.dir.tables.map((t) => t.info.columnNames);
    const tableNames = this.dir.tables.map((t) => t.info.display);
    this.sent = new Array<number>(this.shards).fill(0);
    this.speed = new Float64Array(this.shards);
    const local = options.localShard === true && this.dir.rowsSplit;
    if (options.localShard === true && !local)
      throw new RouterError(ErrorCode.NotSupported, 'localShard needs placement "rows" and 2 or more shards');
    const init = {
      t: 'init' as const,
      schema: options.schema,
      mode: this.mode,
      tableNames,
      tableColumns: this.tableColumns,
      compileBudgetMs: defaultCompileBudgetMs(),
      rowOperationLimitMs: rowOperationLimitMs(),
      shapeRowBudgetMs: shapeRowBudgetMs(),
    };
    for (let s = 0; s < this.shards; s++) {
      this.buffers.push({ ops: [], removed: [], waiters: [] });
      if (local && s === 0) {
        this.handles.push(new LocalShard(0, init));
        continue;
      }
      this.handles.push(
        new ShardHandle(
          s,
          {
            init: () => init,
            registryShapes: (k) => this.dir.shapesOf(k),
            ...(options.onRestart ? { onRestart: options.onRestart } : {}),
          },
          options.maxRetries ?? 1,
        ),
      );
    }
    this.local = local ? (this.handles[0] as LocalShard) : null;
  }

  get shapeCount(): number {
    return this.dir.entries.size;
  }

  hasShape(id: string): boolean {
    return this.dir.entries.has(id);
  }

  /** Adds a shape; resolves once its shard has applied it. Rejects with WhereError/RouterError as Router.addShape throws. */
  addShape(id: string, shape: ShapeDef): Promise<void> {
    let e: Entry;
    try {
      this.assertOpen();
      e = this.dir.add(id, shape);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.enqueueEntry(e, this.dir.op(e), null).then(() => undefined);
  }

  /** Posts a shape op to the entry's shard, or to every shard for a replicated entry; resolves when all applied it. */
  private enqueueEntry(e: Entry, op: ShapeOp, removed: ShapeOp | null): Promise<boolean> {
    const one = (s: number): Promise<boolean> =>
      new Promise<boolean>((resolve, reject) =>
        this.enqueue(s, op, removed, { resolve, reject, entry: op[0] === 1 ? e : null, result: true }),
      );
    if (e.shard !== REPLICATED) return one(e.shard);
    const all: Promise<boolean>[] = [];
    for (let s = 0; s < this.shards; s++) all.push(one(s));
    return Promise.all(all).then(() => true);
  }

  /**
   * Adds many shapes with one promise (the loader's path: no promise per shape). Each item is `{ id, def }` or a shape
   * file's line form `{ id, table, where?, params? }` (ShapeEntry). Shapes that fail validation are reported, not
   * added; the rest are applied.
   */
  async addShapes(shapes: Iterable<ShapeEntry>): Promise<AddShapesResult> {
    this.assertOpen();
    const errors: { id: string; error: Error }[] = [];
    let added = 0;
    const mine = new Set<number>();
    for (const item of shapes) {
      const id = item.id;
      try {
        const e = this.dir.add(id, defOf(item));
        mine.add(e.gid);
        const op = this.dir.op(e);
        if (e.shard !== REPLICATED) (this.buffers[e.shard] as OpBuffer).ops.push(op);
        else for (const b of this.buffers) b.ops.push(op);
        added++;
      } catch (err) {
        errors.push({ id, error: err as Error });
      }
    }
    // A shape a worker refuses (the main thread accepted it) is reported here too, never silently dropped.
    await Promise.all(
      this.flushNow((gid, id, error) => {
        if (!mine.has(gid)) return;
        errors.push({ id, error });
        added--;
      }),
    );
    return { added, errors };
  }

  /** Removes a shape; resolves true once its shard has dropped it (false, at once, for an unknown id). */
  removeShape(id: string): Promise<boolean> {
    const e = this.closed ? undefined : this.dir.remove(id);
    if (e === undefined) return Promise.resolve(false);
    return this.enqueueEntry(e, [0, e.gid], this.dir.op(e));
  }

  async route(change: Change): Promise<string[]> {
    return (await this.routeBatch([change]))[0] as string[];
  }

  /** Routes a batch: result[i] holds the ids of the shapes change i affects. All or nothing: a failed shard rejects. */
  async routeBatch(changes: readonly Change[]): Promise<string[][]> {
    return (await this.routeChanges(changes)).map((r) => r.ids as string[]);
  }

  /**
   * Routes a batch: result[i] holds change i's ids and which of them a shard failed open (see RoutedChange). All or
   * nothing: a failed shard rejects.
   */
  async routeChanges(changes: readonly Change[]): Promise<RoutedChange[]> {
    this.assertOpen();
    const n = changes.length;
    const rows = this.dir.rowsSplit;
    const masks: Uint8Array[] = [];
    if (!rows) for (let s = 0; s < this.shards; s++) masks.push(new Uint8Array(n));
    const tables = new Int32Array(n);
    let anyChange = false;
    for (let i = 0; i < n; i++) {
      const c = changes[i] as Change;
      const t = this.dir.tableIndex(c.table);
      tables[i] = t;
      if (rows ? this.dir.hasShapes(t) : this.dir.dispatch(c, t, i, masks)) anyChange = true;
    }
    const out = new Array<RoutedChange>(n);
    if (!anyChange) {
      for (let i = 0; i < n; i++) out[i] = { ids: [], failedOpen: NONE };
      return out;
    }
    // Each job settles its own waiters and never rejects, so nothing is left to await here.
    void this.flushNow();
    if (rows) await this.routeRows(changes, tables, out);
    else await this.routeMasked(changes, tables, masks, out);
    return out;
  }

  /**
   * Placement 'rows': every shard holds every shape, so any shard can route any row. A batch large enough to pay for
   * a second message is cut into contiguous parts, one per shard, sized by each shard's measured speed (see `speed`),
   * so that a caller awaiting one batch uses every core; each part is packed and posted before the next is packed (the
   * first shard routes while the main thread packs the rest), the local shard's part (if any) is routed last, on this
   * thread, while the workers route theirs, and each answer is placed as soon as it arrives.
   */
  private async routeRows(changes: readonly Change[], tables: Int32Array, out: RoutedChange[]): Promise<void> {
    const n = changes.length;
    const order = this.partShards(Math.max(1, Math.min(this.shards, Math.floor(n / this.minSplitPart))));
    const prefix = order.length === 1 ? null : costPrefix(changes, tables, (t) => this.dir.shapeCountOf(t));
    const cuts = prefix === null ? [0, n] : cutByWeights(prefix, this.weights(order));
    const t0 = wallNow();
    const jobs: Promise<RouteResult>[] = [];
    let localPart = -1;
    for (let p = 0; p < order.length; p++) {
      const from = cuts[p] as number;
      const to = cuts[p + 1] as number;
      const s = order[p] as number;
      this.sent[s] = (this.sent[s] as number) + (to - from);
      const h = this.handles[s] as ShardHandle | LocalShard;
      if (h instanceof LocalShard) {
        localPart = p;
        continue;
      }
      const packer = this.transport === 'clone' ? null : this.takePacker();
      const body = this.body(changes, tables, from, to, packer);
      jobs.push(
        h.request({ t: 'route', mask: null, ...body }).then(
          (r) => {
            if (packer !== null) this.packers.push(packer);
            this.place(r as RouteResult, from, to, out);
            return r as RouteResult;
          },
          (err: unknown) => {
            if (packer !== null) this.packers.push(packer);
            throw err;
          },
        ),
      );
    }
    if (localPart >= 0) {
      const from = cuts[localPart] as number;
      const to = cuts[localPart + 1] as number;
      let job: Promise<RouteResult>;
      try {
        const r = (this.local as LocalShard).routeNow(changes, tables, from, to);
        this.place(r, from, to, out);
        job = Promise.resolve(r);
      } catch (err) {
        job = Promise.reject(err);
      }
      // the local shard's part is the last (partShards), so jobs stay in part order
      jobs.push(job);
    }
    await settleAll(jobs);
    if (prefix !== null) await this.measure(order, cuts, prefix, t0, jobs);
  }

  /** The shards of a batch cut in `parts`: round robin over the workers, the local shard (if any) last. */
  private partShards(parts: number): number[] {
    if (parts === 1) return [this.dir.nextBatchShard()];
    const order: number[] = [];
    const workers = this.local === null ? parts : parts - 1;
    while (order.length < workers) {
      const s = this.dir.nextBatchShard();
      if (this.handles[s] !== this.local) order.push(s);
    }
    if (this.local !== null) order.push(this.local.index);
    return order;
  }

  /** Part weights for these shards: their measured speeds, none below a fifth of the fastest (equal until measured). */
  private weights(order: readonly number[]): number[] {
    const w = order.map((s) => this.speed[s] as number);
    const top = Math.max(...w);
    if (w.some((x) => x <= 0)) return w.map(() => 1);
    return w.map((x) => Math.max(x, top / 5));
  }

  /** Updates each shard's speed from a split batch: its part's cost over the time from the batch's start to its finish. */
  private async measure(
    order: readonly number[],
    cuts: readonly number[],
    prefix: Float64Array,
    t0: number,
    jobs: readonly Promise<RouteResult>[],
  ): Promise<void> {
    const results = await Promise.all(jobs);
    for (let p = 0; p < order.length; p++) {
      const cost = (prefix[cuts[p + 1] as number] as number) - (prefix[cuts[p] as number] as number);
      // an empty part says nothing of its shard's speed
      if (cost <= 0) continue;
      const s = order[p] as number;
      const seen = cost / Math.max(0.01, (results[p] as RouteResult).doneAt - t0);
      const old = this.speed[s] as number;
      this.speed[s] = old <= 0 ? seen : (old + seen) / 2;
    }
  }

  /** Placements 'replicate' and 'spread': the whole batch to each shard some row needs, with a per-row mask. */
  private async routeMasked(
    changes: readonly Change[],
    tables: Int32Array,
    masks: Uint8Array[],
    out: RoutedChange[],
  ): Promise<void> {
    const n = changes.length;
    const packer = this.transport === 'clone' ? null : this.takePacker();
    const body = this.body(changes, tables, 0, n, packer);
    const jobs: Promise<unknown>[] = [];
    for (let s = 0; s < masks.length; s++) {
      const m = masks[s] as Uint8Array;
      let k = 0;
      let full = 0;
      for (let i = 0; i < n; i++) {
        const v = m[i] as number;
        if (v !== 0) k++;
        if (v === (VIA_PLACED | VIA_REPLICATED)) full++;
      }
      if (k === 0) continue;
      this.sent[s] = (this.sent[s] as number) + k;
      jobs.push((this.handles[s] as ShardHandle).request({ t: 'route', mask: full === n ? null : m, ...body }));
    }
    try {
      await settleAll(jobs);
    } finally {
      if (packer !== null) this.packers.push(packer);
    }
    const results = (await Promise.all(jobs)) as RouteResult[];
    for (let i = 0; i < n; i++) {
      const ids: string[] = [];
      let failed: string[] | null = null;
      for (const r of results) {
        this.collect(r.ids, r.offs, i, ids);
        if (r.failOffs[i] !== r.failOffs[i + 1]) this.collect(r.failIds, r.failOffs, i, (failed ??= []));
      }
      out[i] = { ids, failedOpen: failed ?? NONE };
    }
  }

  /** The route request body of changes[from, to) in this router's transport. */
  private body(
    changes: readonly Change[],
    tables: Int32Array,
    from: number,
    to: number,
    packer: Packer | null,
  ): RouteBody {
    if (packer === null)
      return { transport: 'clone', changes: changes.slice(from, to), tables: tables.slice(from, to) };
    const p = packer.pack(changes, from, to, tables, this.tableColumns);
    // 'packed' posts copies (a view would clone its whole buffer); 'shared' posts views of the packer's memory.
    if (!packer.shared) return { transport: 'packed', header: p.header.slice(), text: p.text.slice(), wide: p.wide };
    return { transport: 'shared', header: p.header, text: p.text, wide: p.wide };
  }

  /** A free packer (its memory is the worker's until the request settles, then it returns to the pool). */
  private takePacker(): Packer {
    return this.packers.pop() ?? new Packer(this.transport === 'shared');
  }

  /** Sets out[from, to) from a shard's answer for that part. */
  private place(r: RouteResult, from: number, to: number, out: RoutedChange[]): void {
    for (let i = from; i < to; i++) {
      const k = i - from;
      const ids: string[] = [];
      this.collect(r.ids, r.offs, k, ids);
      let failed: readonly string[] = NONE;
      if (r.failOffs[k] !== r.failOffs[k + 1]) this.collect(r.failIds, r.failOffs, k, (failed = []));
      out[i] = { ids, failedOpen: failed };
    }
  }

  /** Appends the ids of change i's slice of a worker's gid list (a shape removed meanwhile has no name: skipped). */
  private collect(gids: Int32Array, offs: Int32Array, i: number, into: string[]): void {
    const names = this.dir.names;
    const b = offs[i + 1] as number;
    for (let j = offs[i] as number; j < b; j++) {
      const id = names[gids[j] as number];
      if (id !== undefined) into.push(id);
    }
  }

  /** shape id → indices of its changes, as Router.routeTransaction. */
  async routeTransaction(changes: readonly Change[]): Promise<Map<string, number[]>> {
    const per = await this.routeBatch(changes);
    const result = new Map<string, number[]>();
    for (let i = 0; i < per.length; i++) {
      for (const id of per[i] as string[]) {
        let list = result.get(id);
        if (list === undefined) result.set(id, (list = []));
        list.push(i);
      }
    }
    return result;
  }

  async stats(): Promise<ShardedStats> {
    // Each job settles its own waiters and never rejects, so nothing is left to await here.
    void this.flushNow();
    const per = (await Promise.all(this.handles.map((h) => h.request({ t: 'stats' })))) as WorkerStats[];
    const shards: ShardStats[] = per.map(
      (
        {
          placedLanes: _p,
          replicatedLanes: _r,
          failOpen: _f,
          failedOpenIds: _i,
          evaluationWork: _w,
          slowEvaluations: _s,
          ...w
        },
        s,
      ) => ({
        shard: s,
        ...w,
        changesSent: this.sent[s] as number,
        restarts: (this.handles[s] as ShardHandle).restarts,
      }),
    );
    // Placed shapes live on one shard each; replicated ones on every shard: count those from shard 0 only.
    const lanes = { ...(per[0] as WorkerStats).replicatedLanes };
    for (const w of per) for (const [k, v] of Object.entries(w.placedLanes)) lanes[k as LaneKind] += v;
    const failOpen = per.reduce((a, w) => a + w.failOpen, 0);
    const failedOpenIds = per.reduce((a, w) => a + w.failedOpenIds, 0);
    return (this.lastStats = {
      lanes,
      failOpen,
      failedOpenIds,
      evaluationWork: per.reduce((a, w) => a + w.evaluationWork, 0),
      slowEvaluations: per.reduce((a, w) => a + w.slowEvaluations, 0),
      mode: this.mode,
      transport: this.transport,
      shapes: this.shapeCount,
      ...this.dir.keyedCounts(),
      shards,
      hotKeys: this.dir.hotKeys(),
    });
  }

  /**
   * The metrics view, synchronously: the shape count is current, lanes, fail-open counts and memory come from the
   * workers' last stats (each call starts a refresh, so they are one call late; zeros before the first answer).
   */
  summary(): RoutingSummary {
    if (!this.closed) {
      // stats() records its answer in lastStats; a dead shard restarts and is asked again next time.
      this.stats().catch(() => undefined);
    }
    const last = this.lastStats;
    let estimatedBytes = 0;
    for (const sh of last?.shards ?? []) estimatedBytes += sh.estimatedBytes;
    return {
      shapes: this.shapeCount,
      lanes: last?.lanes ?? emptyLanes(),
      failOpen: last?.failOpen ?? 0,
      failedOpenIds: last?.failedOpenIds ?? 0,
      evaluationWork: last?.evaluationWork ?? 0,
      slowEvaluations: last?.slowEvaluations ?? 0,
      estimatedBytes,
    };
  }

  /** Test hook: shard `s`'s worker exits after `afterRoutes` more route batches (0: now). */
  crashShard(s: number, afterRoutes = 0): Promise<unknown> {
    return (this.handles[s] as ShardHandle).crash(afterRoutes);
  }

  /** Test hook: terminates shard `s`'s worker abruptly; it restarts and is rebuilt from the registry. */
  killShard(s: number): Promise<void> {
    return (this.handles[s] as ShardHandle).kill();
  }

  /** The shard a shape was placed on (for tests and diagnostics), REPLICATED (-2) when every shard has it, or -1. */
  shardOf(id: string): number {
    return this.dir.entries.get(id)?.shard ?? -1;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Each job settles its own waiters and never rejects, so nothing is left to await here.
    void this.flushNow();
    this.closed = true;
    await Promise.all(this.handles.map((h) => h.close()));
  }

  private assertOpen(): void {
    if (this.closed) throw new ShardFailureError('the sharded router is closed');
  }

  private enqueue(
    shard: number,
    op: ShapeOp,
    removed: ShapeOp | null,
    w: Omit<OpBuffer['waiters'][number], 'index'>,
  ): void {
    const b = this.buffers[shard] as OpBuffer;
    b.waiters.push({ ...w, index: b.ops.length });
    b.ops.push(op);
    if (removed !== null) b.removed.push(removed);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flushNow());
    }
  }

  /** Posts every shard's buffered shape ops as one message each; ops always precede later batches on a shard. */
  private flushNow(onRefused?: (gid: number, id: string, error: Error) => void): Promise<unknown>[] {
    this.flushScheduled = false;
    const jobs: Promise<unknown>[] = [];
    for (let s = 0; s < this.shards; s++) {
      const b = this.buffers[s] as OpBuffer;
      if (b.ops.length === 0) continue;
      const { ops, removed, waiters } = b;
      this.buffers[s] = { ops: [], removed: [], waiters: [] };
      const job = (this.handles[s] as ShardHandle).request({ t: 'ops', ops }, removed).then(
        (failures) => {
          const failed = new Map((failures as [number, ErrorJson][]).map(([i, e]) => [i, errorFromJson(e)]));
          for (const [i] of failed) {
            // the worker refused an add the main thread accepted: undo it in the registry too
            const op = ops[i] as ShapeOp;
            if (op[0] === 1) {
              const id = this.dir.names[op[1]];
              const e = id === undefined ? undefined : this.dir.remove(id);
              // reported once, by the first shard refusing it (a replicated shape may be refused by several)
              if (e !== undefined) onRefused?.(op[1], e.id, failed.get(i) as Error);
              // a replicated add refused here may have been accepted by another shard: drop it there too
              if (e !== undefined && e.shard === REPLICATED)
                for (let t = 0; t < this.shards; t++) if (t !== s) this.enqueue(t, [0, e.gid], null, IGNORE);
            }
          }
          for (const w of waiters) {
            const f = failed.get(w.index);
            if (f !== undefined) w.reject(f);
            else w.resolve(w.result);
          }
        },
        (err: Error) => {
          for (const w of waiters) w.reject(err);
        },
      );
      jobs.push(job);
    }
    return jobs;
  }
}

/** Waits for every job; rejects with the first failure as a ShardFailureError (all or nothing). */
async function settleAll(jobs: readonly Promise<unknown>[]): Promise<void> {
  const settled = await Promise.allSettled(jobs);
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed === undefined) return;
  const reason = failed.reason as Error;
  throw reason instanceof ShardFailureError
    ? reason
    : new ShardFailureError(`a shard failed routing the batch: ${reason.message}`);
}

/**
 * Estimated routing cost of a change, in quarter rows: a row image 4, an update's two 8, a truncate 4 plus one per
 * 50 shapes of its table (it emits every shape, and each costs the worker and the dispatcher a few tens of ns against
 * a few µs per row), a change of a table without shapes 1 (it is skipped).
 */
export function changeCost(c: Change, tableShapes: number): number {
  if (tableShapes <= 0) return 1;
  if (c.op === 'truncate') return 4 + Math.floor(tableShapes / 50);
  return c.op === 'update' ? 8 : 4;
}

/** Prefix sums of the changes' estimated costs (changeCost): prefix[i] is the cost of changes [0, i). */
export function costPrefix(
  changes: readonly Change[],
  tables: Int32Array,
  tableShapes: (t: number) => number,
): Float64Array {
  const n = changes.length;
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++)
    prefix[i + 1] = (prefix[i] as number) + changeCost(changes[i] as Change, tableShapes(tables[i] as number));
  return prefix;
}

/**
 * Cuts [0, n) (n = prefix.length - 1) into one contiguous range per weight, range p of about weights[p] / Σ weights of
 * the total cost; returns the weights.length + 1 boundaries, 0 first and n last. A range may be empty (one costly
 * change can outweigh a whole share).
 */
export function cutByWeights(prefix: Float64Array, weights: readonly number[]): number[] {
  const n = prefix.length - 1;
  const total = prefix[n] as number;
  let sum = 0;
  for (const w of weights) sum += w;
  const cuts = [0];
  let j = 0;
  let acc = 0;
  for (let p = 0; p + 1 < weights.length; p++) {
    acc += weights[p] as number;
    const goal = (total * acc) / sum;
    while (j < n && (prefix[j] as number) < goal) j++;
    // the boundary nearer the goal: just before or just after the change that crosses it
    const cut = j > 0 && goal - (prefix[j - 1] as number) < (prefix[j] as number) - goal ? j - 1 : j;
    cuts.push(Math.max(cut, cuts[cuts.length - 1] as number));
  }
  cuts.push(n);
  return cuts;
}

/**
 * Cuts [0, n) into at most `parts` contiguous non-empty ranges of about equal estimated cost (changeCost); returns
 * the boundaries, 0 first and n last.
 */
export function splitByCost(
  changes: readonly Change[],
  tables: Int32Array,
  parts: number,
  tableShapes: (t: number) => number,
): number[] {
  const cuts = cutByWeights(costPrefix(changes, tables, tableShapes), new Array<number>(parts).fill(1));
  return cuts.filter((c, i) => i === 0 || c > (cuts[i - 1] as number));
}
