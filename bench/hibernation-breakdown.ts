// Where a Router's bytes go: drops its internal structures one at a time and records what each drop frees.
//
// Read-only towards src/: the router is reached through its runtime fields (TypeScript `private` is not enforced at
// run time), and the router is unusable afterwards. Each step is measured as the fall of heapUsed + arrayBuffers
// after two full GCs, so a structure is charged only for what it alone keeps alive (strings shared by two
// structures are charged to the step that drops the last reference, which is why key strings are a step of their own).
import type { Router } from '../src/router/index.js';
import { routerCore } from '../src/router/router.js';

const gc = (globalThis as { gc?: () => void }).gc;

export interface Mem {
  readonly heap: number;
  readonly buffers: number;
}

/** heapUsed and ArrayBuffer bytes after two full collections (typed-array stores live outside heapUsed). */
export function memNow(): Mem {
  if (gc === undefined) throw new Error('run with node --expose-gc');
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, buffers: m.arrayBuffers };
}

export function memTotal(m: Mem): number {
  return m.heap + m.buffers;
}

export interface BreakdownRow {
  readonly part: string;
  readonly heap: number;
  readonly buffers: number;
  /** What the structure holds (map slots, strings...), for bytes per member. */
  readonly members: number;
  /** Distinct keys, for the posting maps (members are their entries: a key shared by shapes holds a Posting). */
  readonly keys?: number;
}

type Obj = Record<string, unknown>;
interface KT<K> {
  slots: Int32Array;
  keys: (K | undefined)[];
}
interface PM {
  table: KT<unknown>;
  vals: unknown[];
  size: number;
  keyCount: number;
}
interface ProbeLike {
  sql: string;
  eq?: PM;
  range?: unknown;
  prefix?: unknown;
  iprefix?: unknown;
  incl?: { elements: PM; within: PM };
}
interface TableLike {
  shapes: { items: Int32Array; length: number };
  rawEqs: { column: string; pm: PM }[];
  probes: ProbeLike[];
  residuals: { fns: unknown[]; sqls: unknown[]; live: number };
}
interface Internals {
  interner: { table: KT<string> };
  records: { table: unknown[]; where: unknown[]; entries: unknown[]; owners: unknown[]; flags: Uint8Array };
  ctx: {
    entries: { sr: Int32Array; pos: Int32Array; homes: unknown[]; keys: unknown[] };
    marks: { stamps: Uint32Array };
  };
  shapePos: { pos: Int32Array };
  tables: Map<string, TableLike>;
}

/**
 * Tears `router` down structure by structure. `total` is the router's own bytes (measured by the caller from an
 * empty heap); the last row is what is left (families, probe objects, compiled code, free lists).
 */
export function breakdown(router: Router, total: Mem): BreakdownRow[] {
  const r = routerCore(router) as unknown as Internals;
  const table0 = [...r.tables.values()][0];
  if (!(r.interner.table?.slots instanceof Int32Array) || !(table0?.rawEqs[0]?.pm.table?.slots instanceof Int32Array)) {
    throw new Error(
      'breakdown: this Router no longer has the KeyTable-based Interner/PostingMap it was written for (commit 6bb41f5)',
    );
  }
  const rows: BreakdownRow[] = [];
  let prev = memNow();
  const step = (part: string, members: number, drop: () => void, keys?: number): void => {
    drop();
    const m = memNow();
    rows.push({
      part,
      heap: prev.heap - m.heap,
      buffers: prev.buffers - m.buffers,
      members,
      ...(keys !== undefined ? { keys } : {}),
    });
    prev = m;
  };
  const table = [...r.tables.values()][0] as TableLike;
  const userEq = table.rawEqs.find((x) => x.column === 'user_id');
  const tags = table.probes.find((p) => p.incl !== undefined);
  const email = table.probes.find((p) => p.eq !== undefined);
  const ranged = table.probes.filter((p) => p.range !== undefined);
  const prefixed = table.probes.filter((p) => p.prefix !== undefined || p.iprefix !== undefined);
  const n = r.interner.table.keys.length;
  const keys = r.ctx.entries.keys;
  let stringKeys = 0;
  for (const k of keys) if (typeof k === 'string') stringKeys++;

  step('interner KeyTable slots (id → integer, Int32Array)', n, () => (r.interner.table.slots = new Int32Array(2)));
  step('shape id strings', n, () => r.interner.table.keys.fill(undefined));
  step('interner keys array', n, () => (r.interner.table.keys.length = 0));
  step('ShapeStore arrays (table, where, entries, owners)', n, () => {
    const s = r.records;
    s.table.length = 0;
    s.where.length = 0;
    s.entries.length = 0;
    s.owners.length = 0;
  });
  step('ShapeStore flags (Uint8Array)', n, () => ((r.records as unknown as Obj).flags = new Uint8Array(1)));
  const pmStep = (part: string, pm: PM | undefined): void =>
    step(
      part,
      pm?.size ?? 0,
      () => {
        if (pm === undefined) return;
        pm.table.slots = new Int32Array(2);
        pm.table.keys.length = 0;
        pm.vals.length = 0;
      },
      pm?.keyCount ?? 0,
    );
  pmStep('user_id equality PostingMap (KeyTable slots, key array, values + Postings of shared keys)', userEq?.pm);
  pmStep(
    'tags inclusion PostingMap (KeyTable slots, key array, values + Postings of shared keys)',
    tags?.incl?.elements,
  );
  pmStep('lower(email) equality PostingMap (KeyTable, values + Postings)', email?.eq);
  step('index key strings (user_id text, tag, email)', stringKeys, () => {
    for (let i = 0; i < keys.length; i++) if (typeof keys[i] === 'string') keys[i] = undefined;
  });
  step('entry table homes + keys arrays (and range key wrappers)', keys.length, () => {
    r.ctx.entries.homes.length = 0;
    keys.length = 0;
  });
  step('entry table typed columns (shape + residual interleaved, pos)', r.ctx.entries.pos.length, () => {
    const e = r.ctx.entries as unknown as Obj;
    e.sr = new Int32Array(2);
    e.pos = new Int32Array(1);
  });
  step('range treaps (score BETWEEN)', 0, () => {
    for (const p of ranged) p.range = undefined;
  });
  step('prefix tries (name ILIKE)', 0, () => {
    for (const p of prefixed) {
      p.prefix = undefined;
      p.iprefix = undefined;
    }
  });
  step('residual pool (compiled residuals)', table.residuals.live, () => {
    table.residuals.fns.length = 0;
    table.residuals.sqls.length = 0;
  });
  step('per-shape typed arrays (marks, positions, table shape list)', n, () => {
    (r.ctx.marks as unknown as Obj).stamps = new Uint32Array(1);
    r.shapePos.pos = new Int32Array(1);
    table.shapes.items = new Int32Array(1);
    table.shapes.length = 0;
  });
  const heap = rows.reduce((a, x) => a + x.heap, 0);
  const buffers = rows.reduce((a, x) => a + x.buffers, 0);
  rows.push({
    part: 'rest (families, probe objects, compiled code, free lists)',
    heap: total.heap - heap,
    buffers: total.buffers - buffers,
    members: 0,
  });
  return rows;
}
