// A shard's routers and counters, answering shape ops, route batches and stats: run by a worker thread, or by the
// calling thread itself for ShardedRouter's local shard (the same code, so both answer alike).
import { setDefaultCompileBudgetMs, setRowOperationLimitMs, setShapeRowBudgetMs } from '../values/work-budget.js';
import { performance } from 'node:perf_hooks';
import { Router } from '../router/index.js';
import type { Change } from '../router/index.js';
import { routerCore } from '../router/router.js';
import type { RouterCore } from '../router/core.js';
import { unpackBatch } from './batch-codec.js';
import {
  errorToJson,
  VIA_PLACED,
  VIA_REPLICATED,
  type ShapeOp,
  type InitMessage,
  type Request,
  type RouteResult,
  type WorkerStats,
} from './protocol.js';

/** A router (and its core, routed into directly) and each internal shape number's global id. */
interface Slot {
  readonly router: Router;
  readonly core: RouterCore;
  gidOf: Int32Array;
}

/** A request's answer, and the buffers to transfer with it (a worker's route result). */
export interface Answer {
  readonly result: unknown;
  readonly transfer?: ArrayBuffer[];
}

/** Wall-clock time in ms, comparable across threads (each thread's performance.now has its own origin). */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

function newSlot(msg: InitMessage): Slot {
  const router = new Router({ schema: msg.schema, mode: msg.mode });
  return { router, core: routerCore(router), gidOf: new Int32Array(1024) };
}

export class ShardState {
  /** [placed, replicated]: the shapes of this shard, and the replicated ones (fed only the rows sent to them). */
  private readonly slots: readonly [Slot, Slot];
  private readonly tableNames: readonly string[];
  private readonly tableColumns: readonly (readonly string[])[];
  private changesRouted = 0;
  private rowsRouted = 0;
  private busyMs = 0;
  /** Route batches received (the worker's crash hook counts them). */
  routes = 0;
  /** Global ids matched so far in the batch (`n` of them), and the failed-open ones (`fn`). */
  private ids = new Int32Array(1024);
  private n = 0;
  private failIds = new Int32Array(64);
  private fn = 0;

  /** Applies an init message (the process-wide work budgets too: a worker judges as its dispatcher does). */
  constructor(msg: InitMessage) {
    this.slots = [newSlot(msg), newSlot(msg)];
    this.tableNames = msg.tableNames;
    this.tableColumns = msg.tableColumns;
    setDefaultCompileBudgetMs(msg.compileBudgetMs);
    setRowOperationLimitMs(msg.rowOperationLimitMs);
    setShapeRowBudgetMs(msg.shapeRowBudgetMs);
  }

  /** Answers an ops, route or stats request (crash is the worker's own). Throws what the request raised. */
  handle(msg: Exclude<Request, { t: 'crash' }>): Answer {
    switch (msg.t) {
      case 'ops': {
        const failures: [number, ReturnType<typeof errorToJson>][] = [];
        for (let i = 0; i < msg.ops.length; i++) {
          try {
            this.applyOp(msg.ops[i] as ShapeOp);
          } catch (err) {
            failures.push([i, errorToJson(err)]);
          }
        }
        return { result: failures };
      }
      case 'route': {
        this.routes++;
        const t0 = performance.now();
        const result = this.routeBatch(msg);
        this.busyMs += performance.now() - t0;
        return {
          result,
          transfer: [
            result.offs.buffer as ArrayBuffer,
            result.ids.buffer as ArrayBuffer,
            result.failOffs.buffer as ArrayBuffer,
            result.failIds.buffer as ArrayBuffer,
          ],
        };
      }
      case 'stats':
        return { result: this.stats() };
    }
  }

  private applyOp(op: ShapeOp): void {
    const sl = this.slots;
    if (op[0] === 1) {
      const slot = sl[op[5]];
      const def =
        op[3] === undefined
          ? { table: op[2] }
          : op[4] === undefined
            ? { table: op[2], where: op[3] }
            : { table: op[2], where: op[3], params: op[4] };
      const name = String(op[1]);
      slot.router.addShape(name, def);
      const k = slot.core.interner.get(name);
      if (k >= slot.gidOf.length) {
        const next = new Int32Array(Math.max(slot.gidOf.length * 2, k + 1));
        next.set(slot.gidOf);
        slot.gidOf = next;
      }
      slot.gidOf[k] = op[1];
      return;
    }
    for (const slot of sl) if (slot.router.removeShape(String(op[1]))) return;
  }

  private stats(): WorkerStats {
    let shapes = 0;
    let keys = 0;
    let entries = 0;
    let estimatedBytes = 0;
    let failOpen = 0;
    let failedOpenIds = 0;
    let evaluationWork = 0;
    let slowEvaluations = 0;
    const lanes = this.slots.map((slot) => {
      const s = slot.router.stats();
      shapes += s.shapes;
      entries += s.entries;
      estimatedBytes += s.estimatedBytes;
      failOpen += s.counters.failOpen;
      failedOpenIds += s.counters.failedOpenIds;
      evaluationWork += s.counters.evaluationWork;
      slowEvaluations += s.counters.slowEvaluations;
      for (const ix of s.indexes) keys += ix.keys;
      return s.lanes;
    });
    return {
      placedLanes: lanes[0] as WorkerStats['placedLanes'],
      replicatedLanes: lanes[1] as WorkerStats['replicatedLanes'],
      failOpen,
      failedOpenIds,
      evaluationWork,
      slowEvaluations,
      shapes,
      keys,
      entries,
      estimatedBytes,
      changes: this.changesRouted,
      rows: this.rowsRouted,
      busyMs: this.busyMs,
    };
  }

  /** Routes change i through one router, appending the global ids it matched and those it failed open. */
  private routeVia(slot: Slot, c: Change): void {
    const r = slot.core;
    if (!r.routeInto(c)) return;
    const gidOf = slot.gidOf;
    const out = r.ctx.out;
    this.ids = appendGids(this.ids, this.n, out, gidOf);
    this.n += out.length;
    const failed = r.ctx.failed;
    if (failed.length === 0) return;
    this.failIds = appendGids(this.failIds, this.fn, failed, gidOf);
    this.fn += failed.length;
  }

  private routeBatch(msg: Extract<Request, { t: 'route' }>): RouteResult {
    const sl = this.slots;
    this.n = 0;
    this.fn = 0;
    let count: number;
    let offs: Int32Array;
    let failOffs: Int32Array;
    const mask = msg.mask;
    const mark = (i: number): void => {
      offs[i] = this.n;
      failOffs[i] = this.fn;
    };
    const visit = (i: number, c: Change | null): void => {
      mark(i);
      if (c === null) return;
      this.changesRouted++;
      this.rowsRouted += c.op === 'update' ? 2 : 1;
      const via = mask === null ? VIA_PLACED | VIA_REPLICATED : (mask[i] as number);
      if ((via & VIA_PLACED) !== 0) this.routeVia(sl[0], c);
      if ((via & VIA_REPLICATED) !== 0) this.routeVia(sl[1], c);
    };
    if (msg.transport === 'clone') {
      const from = msg.from ?? 0;
      count = (msg.to ?? msg.changes.length) - from;
      offs = new Int32Array(count + 1);
      failOffs = new Int32Array(count + 1);
      for (let i = 0; i < count; i++) {
        if (mask !== null && mask[i] === 0) mark(i);
        else visit(i, msg.changes[from + i] as Change);
      }
    } else {
      count = msg.header[0] as number;
      offs = new Int32Array(count + 1);
      failOffs = new Int32Array(count + 1);
      let last = 0;
      unpackBatch(msg, this.tableColumns, this.tableNames, mask, (i, c) => {
        for (let k = last; k < i; k++) mark(k);
        last = i + 1;
        visit(i, c);
      });
      for (let k = last; k < count; k++) mark(k);
    }
    mark(count);
    return {
      offs,
      ids: this.ids.slice(0, this.n),
      failOffs,
      failIds: this.failIds.slice(0, this.fn),
      doneAt: wallNow(),
    };
  }
}

/** Writes the global ids of `shapes` at `buf[at…]`, growing `buf` as needed; returns the buffer. */
function appendGids(
  buf: Int32Array<ArrayBuffer>,
  at: number,
  shapes: readonly number[],
  gidOf: Int32Array,
): Int32Array<ArrayBuffer> {
  const m = shapes.length;
  if (at + m > buf.length) {
    const next = new Int32Array(Math.max(buf.length * 2, at + m));
    next.set(buf.subarray(0, at));
    buf = next;
  }
  for (let j = 0; j < m; j++) buf[at + j] = gidOf[shapes[j] as number] as number;
  return buf;
}
