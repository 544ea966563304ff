// A shard's worker thread: owns one Router over its part of the shapes and answers shape ops, batches and stats.
import { parentPort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { Router } from '../router/index.js';
import type { Change } from '../router/index.js';
import { fromShared, unpackBatch } from './batch-codec.js';
import { errorToJson, type ShapeOp, type InitMessage, type Reply, type Request, type RouteResult, type WorkerStats } from './protocol.js';

const port = parentPort;
if (port === null) throw new Error('shard worker must run in a worker thread');

let router: Router | null = null;
let tableNames: readonly string[] = [];
let tableColumns: readonly (readonly string[])[] = [];
let changesRouted = 0;
let rowsRouted = 0;
let busyMs = 0;
let routes = 0;
/** Test hook: exit once this many route batches have been received (0: never). */
let crashAfter = 0;
let ids = new Int32Array(1024);
/** Shapes per table (by display name) and each shape's table: a fail-open that emitted them all is table-wide. */
const perTable = new Map<string, number>();
const tableOfShape = new Map<number, string>();

function reply(r: Reply, transfer?: ArrayBuffer[]): void {
  (port as NonNullable<typeof port>).postMessage(r, transfer);
}

function handle(msg: InitMessage | Request): void {
  if (msg.t === 'init') {
    router = new Router({ schema: msg.schema, mode: msg.mode });
    tableNames = msg.tableNames;
    tableColumns = msg.tableColumns;
    return;
  }
  const r = router as Router;
  switch (msg.t) {
    case 'ops': {
      const failures: [number, ReturnType<typeof errorToJson>][] = [];
      for (let i = 0; i < msg.ops.length; i++) {
        const op = msg.ops[i] as ShapeOp;
        try {
          if (op[0] === 1) {
            const def = op[3] === undefined ? { table: op[2] } : op[4] === undefined ? { table: op[2], where: op[3] } : { table: op[2], where: op[3], params: op[4] };
            r.addShape(String(op[1]), def);
            tableOfShape.set(op[1], op[2]);
            perTable.set(op[2], (perTable.get(op[2]) ?? 0) + 1);
          } else if (r.removeShape(String(op[1]))) {
            const t = tableOfShape.get(op[1]) as string;
            tableOfShape.delete(op[1]);
            perTable.set(t, (perTable.get(t) as number) - 1);
          }
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
      const result = routeBatch(r, msg);
      busyMs += performance.now() - t0;
      reply({ seq: msg.seq, ok: true, result }, [result.offs.buffer as ArrayBuffer, result.ids.buffer as ArrayBuffer, result.fail.buffer as ArrayBuffer]);
      return;
    }
    case 'stats': {
      const s = r.stats();
      let keys = 0;
      for (const ix of s.indexes) keys += ix.keys;
      const out: WorkerStats = { shapes: s.shapes, keys, entries: s.entries, estimatedBytes: s.estimatedBytes, changes: changesRouted, rows: rowsRouted, busyMs };
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

function routeBatch(r: Router, msg: Extract<Request, { t: 'route' }>): RouteResult {
  let n = 0;
  let count: number;
  let offs: Int32Array;
  let fail: Uint8Array;
  const counters = r.ctx.counters;
  const visit = (i: number, c: Change | null, tname: string): void => {
    offs[i] = n;
    if (c === null) return;
    changesRouted++;
    rowsRouted += c.op === 'update' ? 2 : 1;
    const f0 = counters.failOpen;
    const hit = r.route(c);
    // A row that failed open as a whole (an undecodable index key) reached every shape of its table here, so it
    // must reach every shape of the table in every shard, as in one Router. A residual's own fail-open stays local.
    if (counters.failOpen !== f0 && c.op !== 'truncate' && hit.length === (perTable.get(tname) ?? -1)) fail[i] = 1;
    if (n + hit.length > ids.length) {
      const next = new Int32Array(Math.max(ids.length * 2, n + hit.length));
      next.set(ids.subarray(0, n));
      ids = next;
    }
    for (let j = 0; j < hit.length; j++) ids[n++] = +(hit[j] as string);
  };
  if (msg.transport === 'clone') {
    count = msg.changes.length;
    offs = new Int32Array(count + 1);
    fail = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      if (msg.mask !== null && msg.mask[i] === 0) offs[i] = n;
      else visit(i, msg.changes[i] as Change, tableNames[msg.tables[i] as number] ?? '');
    }
  } else {
    const { header, text } = msg.transport === 'shared' ? fromShared(msg.sab, msg.headerWords, msg.textBytes) : msg;
    count = header[0] as number;
    offs = new Int32Array(count + 1);
    fail = new Uint8Array(count);
    let last = 0;
    unpackBatch(header, text, tableColumns, tableNames, msg.mask, (i, c) => {
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
