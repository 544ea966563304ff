// The router's internal state and operations (not exported from the package root): Router wraps it, explain and stats
// read it, and a shard worker routes through it into integer buffers.
import { ErrorCode, RouterError } from '../errors/index.js';
import { parseTableName } from '../sql/identifiers.js';
import { analyzeClause, layoutFor } from '../where.js';
import { Interner } from '../index/interner.js';
import type { Positions } from '../index/posting.js';
import { FILTER_POLICY, INDEXED_POLICY } from './atoms.js';
import { RouteContext } from './context.js';
import { planClause, type ShapePlan } from './decompose.js';
import { TableState, type Owner } from './table-state.js';
import { ShapeStore } from './shape-store.js';
import { emptyLanes } from './stats.js';
import { deriveFast, fastAccess, instantiate, makeTemplate, type Template } from './templates.js';
import type { Expr } from '../sql/ast.js';
import type { Change, LaneKind, RoutedChange, RouterMode, RouterOptions, ShapeDef } from './types.js';

const TABLE_CACHE_LIMIT = 10_000;
const TEMPLATE_CACHE_LIMIT = 4_096;

interface Family {
  readonly where: string;
  readonly template: Template | null;
}

const NONE: readonly string[] = Object.freeze([]);

export class RouterCore {
  readonly mode: RouterMode;
  readonly ctx = new RouteContext();
  readonly tables = new Map<string, TableState>();
  readonly records = new ShapeStore();
  readonly interner = new Interner();
  readonly laneCounts: Record<LaneKind, number> = emptyLanes();
  private readonly tableCache = new Map<string, TableState | null>();
  private readonly shapePos: Positions = { pos: new Int32Array(1024) };
  private readonly txShapes: (number[] | undefined)[] = [];
  /** Per table, clause text → its family (template, or null when `$n` values cannot be substituted). */
  private readonly families = new Map<TableState, Map<string, Family>>();

  constructor(options: RouterOptions) {
    this.mode = options.mode ?? 'indexed';
    if (this.mode !== 'indexed' && this.mode !== 'filter') {
      throw new RouterError(ErrorCode.NotSupported, `unknown router mode "${String(this.mode)}"`);
    }
    for (const [tableName, columns] of Object.entries(options.schema)) {
      const { schema, name } = parseTableName(tableName);
      const key = tableKey(schema, name);
      const display = `${schema}.${name}`;
      this.tables.set(key, new TableState(display, columns, layoutFor(columns).layout, this.ctx));
    }
  }

  get shapeCount(): number {
    return this.interner.size;
  }

  hasShape(id: string): boolean {
    return this.interner.get(id) >= 0;
  }

  addShape(id: string, shape: ShapeDef): void {
    if (typeof id !== 'string') throw new RouterError(ErrorCode.UnknownShape, 'shape id must be a string');
    if (this.interner.get(id) >= 0) throw new RouterError(ErrorCode.DuplicateShape, `shape "${id}" already exists`);
    const { schema, name } = this.parseName(shape.table);
    const table = this.tables.get(tableKey(schema, name));
    if (table === undefined)
      throw new RouterError(ErrorCode.UnknownTable, `relation "${schema}.${name}" does not exist`);
    const where = shape.where !== undefined && shape.where.trim() !== '' ? shape.where : undefined;
    let plan: ShapePlan;
    let fam: Family | undefined;
    if (where === undefined) plan = { disjuncts: [{ access: null, residual: null }] };
    else {
      fam = this.families.get(table)?.get(where);
      const t = fam?.template;
      const fast = t !== undefined && t !== null ? fastAccess(t, shape.params) : null;
      if (fast !== null) plan = { disjuncts: [{ access: fast, residual: null }] };
      else {
        const expr = this.analyse(table, schema, name, where, shape.params, fam);
        plan = planClause(
          expr,
          this.mode === 'filter' ? FILTER_POLICY : INDEXED_POLICY,
          (a) => table.score(a),
          this.mode,
        );
        fam ??= this.families.get(table)?.get(where);
        const t2 = fam?.template;
        if (t2 !== undefined && t2 !== null && t2.fast === undefined && expr === t2.expr)
          t2.fast = deriveFast(t2, plan);
      }
    }
    const s = this.interner.add(id);
    this.ctx.ensure(this.interner.bound);
    this.ensurePos(this.interner.bound);
    const out = { entries: [] as number[], owners: [] as Owner[] };
    const shareKey =
      this.mode === 'filter' ? (sql: string): string => `${s}\u0000${sql}` : (sql: string): string => sql;
    try {
      for (const d of plan.disjuncts) table.install(s, d.access, d.residual, shareKey, out);
    } catch (err) {
      for (let i = out.entries.length - 1; i >= 0; i--)
        table.uninstall(out.entries[i] as number, out.owners[i] as Owner);
      this.interner.delete(id);
      throw err;
    }
    table.shapes.add(s, this.shapePos);
    const lane = laneOf(plan, out.owners);
    const indexed = plan.disjuncts.every((d) => d.access !== null);
    // Shapes of one family share the family's where string (the caller's copies can be collected).
    this.records.set(s, { table, where: fam?.where ?? where, lane, indexed, entries: out.entries, owners: out.owners });
    this.laneCounts[lane]++;
  }

  /** The normalised tree of a clause: from its family's template when only `$n` values differ, else analysed. */
  private analyse(
    table: TableState,
    schema: string,
    name: string,
    where: string,
    params: Record<string, string> | undefined,
    fam: Family | undefined,
  ): Expr {
    const t = fam?.template;
    if (t !== undefined && t !== null) {
      const expr = instantiate(t, params);
      if (expr !== null) return expr;
    }
    const pred = analyzeClause(where, table.columns, { ...(params ? { params } : {}), table: { schema, name } });
    if (fam === undefined) {
      let byWhere = this.families.get(table);
      if (byWhere === undefined) {
        byWhere = new Map();
        this.families.set(table, byWhere);
      }
      if (byWhere.size >= TEMPLATE_CACHE_LIMIT) byWhere.clear();
      byWhere.set(where, { where, template: makeTemplate(where, pred.expr, params) });
    }
    return pred.expr;
  }

  removeShape(id: string): boolean {
    const s = this.interner.get(id);
    if (s < 0) return false;
    const table = this.records.tableOf(s);
    this.records.forEachEntry(s, (e, o) => table.uninstall(e, o));
    table.shapes.removeEntry(s, null, this.shapePos);
    this.laneCounts[this.records.laneOf(s)]--;
    this.records.clear(s);
    this.interner.delete(id);
    this.ctx.clear(s);
    return true;
  }

  route(change: Change): string[] {
    if (!this.routeInto(change)) return [];
    return this.names(this.ctx.out);
  }

  /** Each change's ids and the failed-open subset (see RoutedChange). */
  routeChanges(changes: readonly Change[]): RoutedChange[] {
    const out = new Array<RoutedChange>(changes.length);
    for (let i = 0; i < changes.length; i++) {
      if (!this.routeInto(changes[i] as Change)) out[i] = { ids: NONE, failedOpen: NONE };
      else {
        const failed = this.ctx.failed;
        out[i] = { ids: this.names(this.ctx.out), failedOpen: failed.length === 0 ? NONE : this.names(failed) };
      }
    }
    return out;
  }

  private names(shapes: readonly number[]): string[] {
    const ids = new Array<string>(shapes.length);
    for (let i = 0; i < shapes.length; i++) ids[i] = this.interner.nameOf(shapes[i] as number) as string;
    return ids;
  }

  /** Routes into `ctx.out` (shape integers; the failed-open ones also in `ctx.failed`); false when the table has no shapes. */
  routeInto(change: Change): boolean {
    const table = this.lookupTable(change.table);
    if (table === null || table.shapes.length === 0) return false;
    const ctx = this.ctx;
    ctx.begin();
    // Value errors raised while routing (a division by zero in a shape's clause) become fail-open answers, reported
    // by message: their stacks are never read, and capturing one costs several times a whole routed row.
    const stackLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      this.routeRows(table, change);
    } finally {
      Error.stackTraceLimit = stackLimit;
    }
    ctx.finish();
    return true;
  }

  private routeRows(table: TableState, change: Change): void {
    switch (change.op) {
      case 'insert':
        table.routeRow(change.record);
        return;
      case 'delete':
        table.routeRow(change.oldRecord);
        return;
      case 'update':
        table.routeRow(change.oldRecord);
        table.routeRow(change.record);
        return;
      case 'truncate':
        table.emitAll();
        return;
    }
  }

  routeTransaction(changes: readonly Change[]): Map<string, number[]> {
    const per = this.txShapes;
    const touched: number[] = [];
    for (let i = 0; i < changes.length; i++) {
      if (!this.routeInto(changes[i] as Change)) continue;
      const out = this.ctx.out;
      for (let j = 0; j < out.length; j++) {
        const s = out[j] as number;
        let list = per[s];
        if (list === undefined) {
          list = [];
          per[s] = list;
          touched.push(s);
        }
        list.push(i);
      }
    }
    const result = new Map<string, number[]>();
    for (const s of touched) {
      result.set(this.interner.nameOf(s) as string, per[s] as number[]);
      per[s] = undefined;
    }
    return result;
  }

  /** The table a change names, or null (unknown or malformed names route nowhere). Cached per spelling. */
  lookupTable(name: string): TableState | null {
    // Changes come in runs on one table: the last name answers without hashing it.
    if (name === this.lastName) return this.lastTable;
    const t = this.lookupTableCached(name);
    this.lastName = name;
    this.lastTable = t;
    return t;
  }

  private lastName: string | undefined = undefined;
  private lastTable: TableState | null = null;

  private lookupTableCached(name: string): TableState | null {
    const hit = this.tableCache.get(name);
    if (hit !== undefined) return hit;
    let t: TableState | null = null;
    try {
      const { schema, name: n } = parseTableName(name);
      t = this.tables.get(tableKey(schema, n)) ?? null;
    } catch {
      t = null;
    }
    if (this.tableCache.size >= TABLE_CACHE_LIMIT) this.tableCache.clear();
    this.tableCache.set(name, t);
    return t;
  }

  private readonly parsedNames = new Map<string, { schema: string; name: string }>();

  /** parseTableName, cached per spelling (shape adds name the same few tables over and over). */
  private parseName(text: string): { schema: string; name: string } {
    let n = this.parsedNames.get(text);
    if (n === undefined) {
      n = parseTableName(text);
      if (this.parsedNames.size >= TABLE_CACHE_LIMIT) this.parsedNames.clear();
      this.parsedNames.set(text, n);
    }
    return n;
  }

  private ensurePos(n: number): void {
    if (n <= this.shapePos.pos.length) return;
    let cap = this.shapePos.pos.length;
    while (cap < n) cap *= 2;
    const next = new Int32Array(cap);
    next.set(this.shapePos.pos);
    this.shapePos.pos = next;
  }
}

function tableKey(schema: string, name: string): string {
  return `${schema}\u0000${name}`;
}

function laneOf(plan: ShapePlan, owners: readonly Owner[]): LaneKind {
  const d = plan.disjuncts[0];
  if (d === undefined) return 'unindexed';
  if (d.access === null) return d.residual === null ? 'always' : 'unindexed';
  if (d.access.kind === 'eq') return owners[0]?.lane === 'expression' ? 'expression' : 'equality';
  return d.access.kind === 'inclusion' ? 'inclusion' : d.access.kind === 'prefix' ? 'prefix' : 'range';
}
