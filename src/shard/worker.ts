// A shard's worker thread: owns the Routers of its part of the shapes and answers shape ops, batches and stats.
import { setDefaultCompileBudgetMs, setRowOperationLimitMs } from '../values/work-budget.js';
import { parentPort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { Router } from '../router/index.js';
import type { Change } from '../router/index.js';
import { fromShared, unpackBatch } from './batch-codec.js';
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

/** A router and what the worker keeps beside it: each internal shape number's global id, and shapes per table. */
interface Slot {
  readonly router: Router;
  gidOf: Int32Array;
  /** Shapes per table (by display name): a fail-open that emitted them all is table-wide. */
  readonly perTable: Map<string, number>;
  readonly tableOfShape: Map<number, string>;
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
  return {
    router: new Router({ schema: msg.schema, mode: msg.mode }),
    gidOf: new Int32Array(1024),
    perTable: new Map(),
    tableOfShape: new Map(),
  };
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
    const k = slot.router.interner.get(name);
    if (k >= slot.gidOf.length) {
      const next = new Int32Array(Math.max(slot.gidOf.length * 2, k + 1));
      next.set(slot.gidOf);
      slot.gidOf = next;
    }
    slot.gidOf[k] = op[1];
    slot.tableOfShape.set(op[1], op[2]);
    slot.perTable.set(op[2], (slot.perTable.get(op[2]) ?? 0) + 1);
    return;
  }
  for (const slot of sl) {
    if (slot.router.removeShape(String(op[1]))) {
      const t = slot.tableOfShape.get(op[1]) as string;
      slot.tableOfShape.delete(op[1]);
      slot.perTable.set(t, (slot.perTable.get(t) as number) - 1);
      return;
    }
  }
}

function handle(msg: InitMessage | Request): void {
  if (msg.t === 'init') {
    slots = [newSlot(msg), newSlot(msg)];
    tableNames = msg.tableNames;
    setDefaultCompileBudgetMs(msg.compileBudgetMs);
    setRowOperationLimitMs(msg.rowOperationLimitMs);
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
        result.fail.buffer as ArrayBuffer,
      ]);
      return;
    }
    case 'stats': {
      let shapes = 0;
      let keys = 0;
      let entries = 0;
      let estimatedBytes = 0;
      let failOpen = 0;
      const lanes = sl.map((slot) => {
        const s = slot.router.stats();
        shapes += s.shapes;
        entries += s.entries;
        estimatedBytes += s.estimatedBytes;
        failOpen += s.counters.failOpen;
        for (const ix of s.indexes) keys += ix.keys;
        return s.lanes;
      });
      const out: WorkerStats = {
        placedLanes: lanes[0] as WorkerStats['placedLanes'],
        replicatedLanes: lanes[1] as WorkerStats['replicatedLanes'],
        failOpen,
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
let fail = new Uint8Array(0);

/** Routes change i through one router, appending the global ids it matched; flags a table-wide fail-open. */
function routeVia(slot: Slot, c: Change, tname: string, i: number): void {
  const r = slot.router;
  const counters = r.ctx.counters;
  const f0 = counters.failOpen;
  if (!r.routeInto(c)) return;
  const out = r.ctx.out;
  const m = out.length;
  // A row that failed open as a whole (an undecodable index key) reached every shape of its table here, so it
  // must reach every shape of the table in every shard, as in one Router. A residual's own fail-open stays local.
  if (counters.failOpen !== f0 && c.op !== 'truncate' && m === (slot.perTable.get(tname) ?? -1)) fail[i] = 1;
  if (n + m > ids.length) {
    const next = new Int32Array(Math.max(ids.length * 2, n + m));
    next.set(ids.subarray(0, n));
    ids = next;
  }
  const gidOf = slot.gidOf;
  for (let j = 0; j < m; j++) ids[n++] = gidOf[out[j] as number] as number;
}

function routeBatch(sl: [Slot, Slot], msg: Extract<Request, { t: 'route' }>): RouteResult {
  n = 0;
  let count: number;
  let offs: Int32Array;
  const mask = msg.mask;
  const visit = (i: number, c: Change | null, tname: string): void => {
    offs[i] = n;
    if (c === null) return;
    changesRouted++;
    rowsRouted += c.op === 'update' ? 2 : 1;
    const via = mask === null ? VIA_PLACED | VIA_REPLICATED : (mask[i] as number);
    if ((via & VIA_PLACED) !== 0) routeVia(sl[0], c, tname, i);
    if ((via & VIA_REPLICATED) !== 0) routeVia(sl[1], c, tname, i);
  };
  if (msg.transport === 'clone') {
    count = msg.changes.length;
    offs = new Int32Array(count + 1);
    fail = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      if (mask !== null && mask[i] === 0) offs[i] = n;
      else visit(i, msg.changes[i] as Change, tableNames[msg.tables[i] as number] ?? '');
    }
  } else {
    const { header, text } = msg.transport === 'shared' ? fromShared(msg.sab, msg.headerWords, msg.textBytes) : msg;
    count = header[0] as number;
    offs = new Int32Array(count + 1);
    fail = new Uint8Array(count);
    let last = 0;
    unpackBatch(header, text, tableColumns, tableNames, mask, (i, c) => {
      for (let k = last; k < i; k++) offs[k] = n;
      last = i + 1;
      visit(i, c, c === null ? '' : c.table);
    });
    for (let k = last; k < count; k++) offs[k] = n;
  }
  offs[count] = n;
  return { offs, ids: ids.slice(0, n), fail };
}

port.on('message', (msg: InitMessage | Request) => {
  try {
    handle(msg);
  } catch (err) {
    if (msg.t !== 'init') reply({ seq: msg.seq, ok: false, error: errorToJson(err) });
    else throw err;
  }
});
