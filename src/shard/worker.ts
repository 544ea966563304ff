// A shard's worker thread: owns the Routers of its part of the shapes and answers shape ops, batches and stats.
import { setDefaultCompileBudgetMs, setRowOperationLimitMs, setShapeRowBudgetMs } from '../values/work-budget.js';
import { parentPort } from 'node:worker_threads';
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
  type Reply,
  type Request,
  type RouteResult,
  type WorkerStats,
} from './protocol.js';

const port = parentPort;
if (port === null) throw new Error('shard worker must run in a worker thread');

/** A router (and its core, routed into directly) and each internal shape number's global id. */
interface Slot {
  readonly router: Router;
  readonly core: RouterCore;
  gidOf: Int32Array;
}

/** [placed, replicated]: the shapes of this shard, and the replicated ones (fed only the rows sent to them). */
let slots: [Slot, Slot] | null = null;
let tableNames: readonly string[] = [];
let tableColumns: readonly (readonly string[])[] = [];
let changesRouted = 0;
let rowsRouted = 0;
let busyMs = 0;
let routes = 0;
/** Test hook: exit once this many route batches have been received (0: never). */
let crashAfter = 0;
let ids = new Int32Array(1024);

function reply(r: Reply, transfer?: ArrayBuffer[]): void {
  (port as NonNullable<typeof port>).postMessage(r, transfer);
}

function newSlot(msg: InitMessage): Slot {
  const router = new Router({ schema: msg.schema, mode: msg.mode });
  return { router, core: routerCore(router), gidOf: new Int32Array(1024) };
}

function applyOp(sl: [Slot, Slot], op: ShapeOp): void {
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

function handle(msg: InitMessage | Request): void {
  if (msg.t === 'init') {
    slots = [newSlot(msg), newSlot(msg)];
    tableNames = msg.tableNames;
    setDefaultCompileBudgetMs(msg.compileBudgetMs);
    setRowOperationLimitMs(msg.rowOperationLimitMs);
    setShapeRowBudgetMs(msg.shapeRowBudgetMs);
    tableColumns = msg.tableColumns;
    return;
  }
  const sl = slots as [Slot, Slot];
  switch (msg.t) {
    case 'ops': {
      const failures: [number, ReturnType<typeof errorToJson>][] = [];
      for (let i = 0; i < msg.ops.length; i++) {
        try {
          applyOp(sl, msg.ops[i] as ShapeOp);
        } catch (err) {
          failures.push([i, errorToJson(err)]);
        }
      }
      reply({ seq: msg.seq, ok: true, result: failures });
      return;
    }
    case 'route': {
      routes++;
      if (crashAfter > 0 && routes >= crashAfter) process.exit(3);
      const t0 = performance.now();
      const result = routeBatch(sl, msg);
      busyMs += performance.now() - t0;
      reply({ seq: msg.seq, ok: true, result }, [
        result.offs.buffer as ArrayBuffer,
        result.ids.buffer as ArrayBuffer,
        result.failOffs.buffer as ArrayBuffer,
        result.failIds.buffer as ArrayBuffer,
      ]);
      return;
    }
    case 'stats': {
      let shapes = 0;
      let keys = 0;
      let entries = 0;
      let estimatedBytes = 0;
      let failOpen = 0;
      let failedOpenIds = 0;
      let evaluationWork = 0;
      let slowEvaluations = 0;
      const lanes = sl.map((slot) => {
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
      const out: WorkerStats = {
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
        changes: changesRouted,
        rows: rowsRouted,
        busyMs,
      };
      reply({ seq: msg.seq, ok: true, result: out });
      return;
    }
    case 'crash':
      if (msg.afterRoutes <= 0) process.exit(3);
      crashAfter = routes + msg.afterRoutes;
      reply({ seq: msg.seq, ok: true, result: null });
      return;
  }
}

let n = 0;
/** Failed-open global ids of the batch so far (`fn` of them), and their per-change offsets. */
let failIds = new Int32Array(64);
let fn = 0;

/** Routes change i through one router, appending the global ids it matched and those it failed open. */
function routeVia(slot: Slot, c: Change): void {
  const r = slot.core;
  if (!r.routeInto(c)) return;
  const gidOf = slot.gidOf;
  const out = r.ctx.out;
  ids = appendGids(ids, n, out, gidOf);
  n += out.length;
  const failed = r.ctx.failed;
  if (failed.length === 0) return;
  failIds = appendGids(failIds, fn, failed, gidOf);
  fn += failed.length;
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

function routeBatch(sl: [Slot, Slot], msg: Extract<Request, { t: 'route' }>): RouteResult {
  n = 0;
  fn = 0;
  let count: number;
  let offs: Int32Array;
  let failOffs: Int32Array;
  const mask = msg.mask;
  const mark = (i: number): void => {
    offs[i] = n;
    failOffs[i] = fn;
  };
  const visit = (i: number, c: Change | null): void => {
    mark(i);
    if (c === null) return;
    changesRouted++;
    rowsRouted += c.op === 'update' ? 2 : 1;
    const via = mask === null ? VIA_PLACED | VIA_REPLICATED : (mask[i] as number);
    if ((via & VIA_PLACED) !== 0) routeVia(sl[0], c);
    if ((via & VIA_REPLICATED) !== 0) routeVia(sl[1], c);
  };
  if (msg.transport === 'clone') {
    count = msg.changes.length;
    offs = new Int32Array(count + 1);
    failOffs = new Int32Array(count + 1);
    for (let i = 0; i < count; i++) {
      if (mask !== null && mask[i] === 0) mark(i);
      else visit(i, msg.changes[i] as Change);
    }
  } else {
    count = msg.header[0] as number;
    offs = new Int32Array(count + 1);
    failOffs = new Int32Array(count + 1);
    let last = 0;
    unpackBatch(msg, tableColumns, tableNames, mask, (i, c) => {
      for (let k = last; k < i; k++) mark(k);
      last = i + 1;
      visit(i, c);
    });
    for (let k = last; k < count; k++) mark(k);
  }
  mark(count);
  return { offs, ids: ids.slice(0, n), failOffs, failIds: failIds.slice(0, fn) };
}

port.on('message', (msg: InitMessage | Request) => {
  try {
    handle(msg);
  } catch (err) {
    if (msg.t !== 'init') reply({ seq: msg.seq, ok: false, error: errorToJson(err) });
    else throw err;
  }
});
