// Shapes whose clause has `IN (SELECT …)`: their rows, found by value, and rows moving in and out with the sets.
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { ValueError } from '../errors/index.js';
import type { Expr } from '../sql/ast.js';
import { renderSql } from '../sql/render.js';
import { compileExpr, type Compiled } from '../eval/compile.js';
import type { Predicate } from '../eval/predicate.js';
import { RowView } from '../eval/row-view.js';
import type { SubqueryPlan } from '../subquery/plan.js';
import { codecFor } from '../values/registry.js';
import type { Codec } from '../values/codec.js';
import type { Change } from '../replication/transaction-types.js';
import { layoutFor } from '../where.js';
import { visibleToSnapshot, type LiveShape, type SnapshotVisibility } from './live-shape.js';
import {
  deleteMessage,
  insertMessage,
  rowKey,
  updateMessage,
  type ChangeMessage,
  type Row,
  type TxHeaders,
} from './messages.js';
import { SnapshotSession } from './snapshot.js';
import { SetShapes } from './subquery-candidates.js';
import { qualifiedTable } from './catalog.js';
import type { MatSet, SetDelta, SubqueryStore } from './subquery-store.js';

export type Emit = (shape: LiveShape, op: number, msg: ChangeMessage) => void;

/** An outer expression that `IN (SELECT …)` conditions of a table compare: evaluated once per row image. */
interface Probe {
  readonly sql: string;
  readonly expr: Expr;
  readonly fn: Compiled;
  readonly codec: Codec;
  readonly view: RowView;
  /** value key → the sets (compared through this probe) holding it: the value index. */
  readonly byValue: Map<string | number, Set<MatSet>>;
  /** set → shapes comparing this probe with it. */
  readonly shapesBySet: Map<MatSet, SetShapes<SubqueryShape>>;
}

interface Atom {
  readonly probe: Probe;
  readonly set: MatSet;
  readonly negated: boolean;
}

/** Rows a move fetched under a snapshot: changes of those rows in transactions it saw are already in them. */
interface MoveSkip {
  readonly visibility: SnapshotVisibility;
  readonly keys: Set<string>;
}

interface SubqueryShape {
  readonly shape: LiveShape;
  readonly predicate: Predicate;
  readonly plan: SubqueryPlan;
  readonly atoms: Atom[];
  /** The shape's rows as the client has them (complete records), by row key. */
  readonly members: Map<string, Row>;
  skips: MoveSkip[];
  /** Resumed after a restart: its log was brought level at this commit LSN (shapes/subquery-resume.ts). */
  resumedAt: bigint | undefined;
}

/** Per table: the probes of its subquery shapes. */
type TableProbes = Map<string, Probe>;

export class SubqueryShapes {
  private readonly shapes = new Map<string, SubqueryShape>();
  private readonly probes = new Map<string, TableProbes>();
  private readonly probesOfSet = new Map<MatSet, Set<Probe>>();
  /** Move queries run and rows they fetched; rows moved in and out (for tests, benches and metrics). */
  readonly counters = { moveQueries: 0, movedIn: 0, movedOut: 0, candidates: 0 };

  constructor(
    private readonly store: SubqueryStore,
    private readonly pool: pg.Pool,
    private readonly columnsOf: (schema: string, table: string) => Record<string, string> | undefined,
    /** Test hook: a wait inside each move-in, between its snapshot and its query (`moveDelayMs`). */
    private readonly moveDelayMs = 0,
  ) {}

  has(handle: string): boolean {
    return this.shapes.has(handle);
  }

  /** Registers a shape whose sets are acquired already; its rows arrive through `noteRow` from its snapshot. */
  register(shape: LiveShape, predicate: Predicate, plan: SubqueryPlan): void {
    const columns = this.columnsOf(shape.schema, shape.table) ?? {};
    const tk = tableKey(shape.schema, shape.table);
    let probes = this.probes.get(tk);
    if (probes === undefined) this.probes.set(tk, (probes = new Map()));
    const s: SubqueryShape = {
      shape,
      predicate,
      plan,
      atoms: [],
      members: new Map(),
      skips: [],
      resumedAt: undefined,
    };
    for (const a of plan.atoms) {
      const set = this.store.matSet(a.sub.key);
      if (set === undefined) throw new Error(`subquery set not acquired: ${a.sub.key}`);
      let probe = probes.get(a.probeSql);
      if (probe === undefined) {
        const { layout } = layoutFor(columns);
        probe = {
          sql: a.probeSql,
          expr: a.probe,
          fn: compileExpr(a.probe, layout, this.store),
          codec: codecFor(a.probe.type),
          view: new RowView(layout),
          byValue: new Map(),
          shapesBySet: new Map(),
        };
        probes.set(a.probeSql, probe);
      }
      let users = probe.shapesBySet.get(set);
      if (users === undefined) {
        probe.shapesBySet.set(set, (users = new SetShapes(qualifiedTable(shape.schema, shape.table), columns)));
        let ps = this.probesOfSet.get(set);
        if (ps === undefined) this.probesOfSet.set(set, (ps = new Set()));
        ps.add(probe);
        for (const k of set.set.keys()) indexValue(probe, k, set);
      }
      users.add(s);
      s.atoms.push({ probe, set, negated: a.negated });
    }
    this.shapes.set(shape.handle, s);
  }

  /** A row of the shape's snapshot (all the clause's columns included). */
  noteRow(handle: string, row: Row): void {
    const s = this.shapes.get(handle);
    if (s !== undefined) s.members.set(rowKey(s.shape, row), row);
  }

  /** A resumed shape's log was brought level at commit LSN `at`: nothing may be applied to it at or below that. */
  markResumed(handle: string, at: bigint): void {
    const s = this.shapes.get(handle);
    if (s !== undefined) s.resumedAt = at;
  }

  /**
   * Whether a transaction applied to the shape (one its snapshot did not see) commits at or below the point its log
   * was brought level at a restart: its entries would belong before entries already in the log.
   */
  behindResume(shape: LiveShape, commitLsn: bigint): boolean {
    const at = this.shapes.get(shape.handle)?.resumedAt;
    return at !== undefined && commitLsn <= at;
  }

  /** Forgets a shape; the caller releases its sets. */
  unregister(handle: string): SubqueryPlan | undefined {
    const s = this.shapes.get(handle);
    if (s === undefined) return undefined;
    this.shapes.delete(handle);
    for (const a of s.atoms) {
      const users = a.probe.shapesBySet.get(a.set);
      users?.delete(s);
      if (users !== undefined && users.size === 0) {
        a.probe.shapesBySet.delete(a.set);
        this.probesOfSet.get(a.set)?.delete(a.probe);
        for (const k of a.set.set.keys()) unindexValue(a.probe, k, a.set);
      }
    }
    return s.plan;
  }

  /**
   * One change of a table with subquery shapes: candidates are the router's ids (the relaxed clause) and the
   * shapes whose sets hold the row's probe values; each decides with its members and its exact clause.
   */
  onChange(
    tx: { xid: number; commitLsn: bigint },
    txh: TxHeaders,
    op: number,
    change: Exclude<Change, { op: 'truncate' }>,
    oldRow: Row | undefined,
    routedIds: readonly string[],
    emit: Emit,
  ): void {
    const newRow = change.op === 'delete' ? undefined : change.record;
    const candidates = new Set<SubqueryShape>();
    for (const id of routedIds) {
      const s = this.shapes.get(id);
      if (s !== undefined) candidates.add(s);
    }
    const probes = this.probes.get(tableKey(change.relation.schema, change.relation.table));
    if (probes !== undefined) {
      for (const row of [oldRow, newRow]) if (row !== undefined) this.byValue(probes, row, candidates);
    }
    this.counters.candidates += candidates.size;
    for (const s of candidates) {
      if (s.shape.state === 'invalidated') continue;
      if (s.shape.visibility !== undefined && visibleToSnapshot(s.shape.visibility, tx.xid, tx.commitLsn)) continue;
      if (this.skipped(s, tx, oldRow, newRow)) continue;
      this.apply(s, txh, op, oldRow, newRow, emit);
    }
  }

  private byValue(probes: TableProbes, row: Row, out: Set<SubqueryShape>): void {
    for (const p of probes.values()) {
      let v;
      try {
        v = p.fn(p.view.reset(row));
      } catch (err) {
        if (err instanceof ValueError) continue; // the clause raises on this row too: it is in no shape by value
        throw err;
      }
      if (v === null) continue;
      const sets = p.byValue.get(p.codec.key(v));
      if (sets === undefined) continue;
      for (const set of sets) p.shapesBySet.get(set)?.candidates(row, out);
    }
  }

  private skipped(s: SubqueryShape, tx: { xid: number; commitLsn: bigint }, oldRow?: Row, newRow?: Row): boolean {
    if (s.skips.length === 0) return false;
    s.skips = s.skips.filter((k) => tx.commitLsn < k.visibility.lsn);
    for (const k of s.skips) {
      if (!visibleToSnapshot(k.visibility, tx.xid, tx.commitLsn)) continue;
      if ((oldRow && k.keys.has(rowKey(s.shape, oldRow))) || (newRow && k.keys.has(rowKey(s.shape, newRow))))
        return true;
    }
    return false;
  }

  /** Membership decides the message: what the client has (members) against the clause on the new row. */
  private apply(
    s: SubqueryShape,
    txh: TxHeaders,
    op: number,
    oldRow: Row | undefined,
    newRow: Row | undefined,
    emit: Emit,
  ): void {
    const sh = s.shape;
    const oldKey = oldRow === undefined ? undefined : rowKey(sh, oldRow);
    const had = oldKey === undefined ? undefined : s.members.get(oldKey);
    const isIn = newRow !== undefined && this.exact(s, newRow);
    if (had !== undefined && oldKey !== undefined) {
      const newKey = newRow === undefined ? undefined : rowKey(sh, newRow);
      if (!isIn || newRow === undefined || newKey === undefined) {
        s.members.delete(oldKey);
        emit(sh, op, deleteMessage(sh, had, txh, op, oldKey));
        return;
      }
      if (newKey === oldKey) {
        s.members.set(newKey, newRow);
        const m = updateMessage(sh, had, newRow, txh, op, newKey);
        if (m !== undefined) emit(sh, op, m);
        return;
      }
      s.members.delete(oldKey);
      const d = deleteMessage(sh, had, txh, op, oldKey);
      d.headers.key_change_to = newKey;
      emit(sh, op, d);
      this.enter(s, txh, op + 1, newRow, emit, oldKey);
      return;
    }
    if (isIn && newRow !== undefined) this.enter(s, txh, op, newRow, emit);
  }

  /** A row that is in the shape now: an insert, or an update when the client has it already. */
  private enter(s: SubqueryShape, txh: TxHeaders, op: number, row: Row, emit: Emit, keyChangeFrom?: string): void {
    const key = rowKey(s.shape, row);
    const had = s.members.get(key);
    s.members.set(key, row);
    if (had !== undefined) {
      const m = updateMessage(s.shape, had, row, txh, op, key);
      if (m !== undefined) emit(s.shape, op, m);
      return;
    }
    const ins = insertMessage(s.shape, row, txh, op, key);
    if (keyChangeFrom !== undefined) ins.headers.key_change_from = keyChangeFrom;
    emit(s.shape, op, ins);
  }

  private exact(s: SubqueryShape, row: Row): boolean {
    try {
      return s.predicate.matches(row);
    } catch (err) {
      if (err instanceof ValueError) return false;
      throw err;
    }
  }

  /**
   * Ends a transaction with the sets' deltas: the value index follows them, then rows move. Out: members whose
   * probe value left (or, for NOT IN, entered) are re-evaluated, and deleted unless another branch holds them. In:
   * one query per probe fetches the outer rows carrying values that entered (for NOT IN: left), under a new
   * snapshot; each row the clause holds for and the client lacks is inserted. A NOT IN set whose NULL or emptiness
   * changed re-checks every member and fetches the shape's rows with its whole clause. Returns the next free op.
   */
  async finish(
    tx: { xid: number; commitLsn: bigint },
    txh: TxHeaders,
    baseOp: number,
    deltas: Map<MatSet, SetDelta>,
    emit: Emit,
  ): Promise<number> {
    let op = baseOp;
    const affected = new Map<SubqueryShape, { out: Map<Probe, Set<string | number>>; full: boolean }>();
    const wanted = new Map<Probe, { values: Map<string | number, string>; shapes: Set<SubqueryShape> }>();
    for (const [set, d] of deltas) {
      for (const p of this.probesOfSet.get(set) ?? []) {
        // A value may have entered and left (or the reverse): the index follows where it ended.
        for (const k of [...d.entered.keys(), ...d.left.keys()]) {
          if (set.set.has(k)) indexValue(p, k, set);
          else unindexValue(p, k, set);
        }
      }
    }
    for (const [set, d] of deltas) {
      for (const p of this.probesOfSet.get(set) ?? []) {
        for (const s of p.shapesBySet.get(set)?.all ?? []) {
          if (s.shape.state === 'invalidated') continue;
          if (s.shape.visibility !== undefined && visibleToSnapshot(s.shape.visibility, tx.xid, tx.commitLsn)) continue;
          let a = affected.get(s);
          if (a === undefined) affected.set(s, (a = { out: new Map(), full: false }));
          for (const atom of s.atoms) {
            if (atom.set !== set || atom.probe !== p) continue;
            // NULL or emptiness changes only a NOT IN for every value: NOT is pushed down to the atoms and the rest
            // is AND/OR, so an IN atom's NULL counts as FALSE and only its values decide it.
            a.full ||= atom.negated && d.wholeSet;
            const outVals = atom.negated ? d.entered : d.left;
            const inVals = atom.negated ? d.left : d.entered;
            if (outVals.size > 0) {
              let o = a.out.get(p);
              if (o === undefined) a.out.set(p, (o = new Set()));
              for (const k of outVals.keys()) o.add(k);
            }
            if (inVals.size > 0) {
              let w = wanted.get(p);
              if (w === undefined) wanted.set(p, (w = { values: new Map(), shapes: new Set() }));
              for (const [k, t] of inVals) w.values.set(k, t);
              w.shapes.add(s);
            }
          }
        }
      }
    }
    for (const [s, a] of affected) op = this.moveOut(s, a.out, a.full, txh, op, emit);
    for (const [p, w] of wanted) {
      const shapes = [...w.shapes].filter((s) => !affected.get(s)?.full);
      if (shapes.length === 0) continue;
      const first = shapes[0] as SubqueryShape;
      const where = `${renderSql(unwidened(p.expr))} IN (${[...w.values.values()].map((t) => literal(p.expr, t)).join(', ')})`;
      op = await this.moveIn(tx, first.shape, where, shapes, txh, op, emit);
    }
    for (const [s, a] of affected) {
      if (a.full) op = await this.moveIn(tx, s.shape, s.predicate.sql, [s], txh, op, emit);
    }
    return op;
  }

  private moveOut(
    s: SubqueryShape,
    out: Map<Probe, Set<string | number>>,
    full: boolean,
    txh: TxHeaders,
    op: number,
    emit: Emit,
  ): number {
    if (!full && out.size === 0) return op;
    for (const [key, row] of [...s.members]) {
      if (!full && !carries(out, row)) continue;
      if (this.exact(s, row)) continue;
      s.members.delete(key);
      this.counters.movedOut++;
      emit(s.shape, op, deleteMessage(s.shape, row, txh, op, key));
      op++;
    }
    return op;
  }

  /** One query under a new snapshot (seeing `tx`) for the rows `where` selects; each shape takes those it holds and lacks. */
  private async moveIn(
    tx: { xid: number; commitLsn: bigint },
    table: LiveShape,
    where: string,
    shapes: SubqueryShape[],
    txh: TxHeaders,
    op: number,
    emit: Emit,
  ): Promise<number> {
    const columns = Object.keys(this.columnsOf(table.schema, table.table) ?? {});
    const session = await SnapshotSession.beginSeeing(this.pool, tx);
    const rows: Row[] = [];
    try {
      if (this.moveDelayMs > 0) await sleep(this.moveDelayMs);
      await session.query(table.schema, table.table, columns, where, (batch) => {
        for (const values of batch) {
          const rec: Record<string, string | null> = {};
          for (let c = 0; c < columns.length; c++) rec[columns[c] as string] = values[c] ?? null;
          rows.push(rec);
        }
      });
      await session.close();
    } catch (err) {
      await session.close(err);
      throw err;
    }
    this.counters.moveQueries++;
    for (const s of shapes) {
      const keys = new Set<string>();
      for (const row of rows) {
        const key = rowKey(s.shape, row);
        if (s.members.has(key) || !this.exact(s, row)) continue;
        // Only rows inserted from the snapshot skip the changes it saw: a member keeps its own version, which those
        // changes (applied as usual) bring up to date; skipping them lost updates when processing lagged behind.
        keys.add(key);
        s.members.set(key, row);
        this.counters.movedIn++;
        emit(s.shape, op, insertMessage(s.shape, row, txh, op, key));
        op++;
      }
      if (keys.size > 0) s.skips.push({ visibility: session.visibility, keys });
    }
    return op;
  }

  /** Shapes reading a table through their subqueries (a TRUNCATE or schema change there invalidates them). */
  dependents(schema: string, table: string): LiveShape[] {
    const out: LiveShape[] = [];
    for (const s of this.shapes.values()) {
      if (s.plan.subqueries.some((q) => q.table.schema === schema && q.table.name === table)) out.push(s.shape);
    }
    return out;
  }
}

function tableKey(schema: string, table: string): string {
  return `${schema}\u0000${table}`;
}

function indexValue(p: Probe, k: string | number, set: MatSet): void {
  let sets = p.byValue.get(k);
  if (sets === undefined) p.byValue.set(k, (sets = new Set()));
  sets.add(set);
}

function unindexValue(p: Probe, k: string | number, set: MatSet): void {
  const sets = p.byValue.get(k);
  if (sets === undefined) return;
  sets.delete(set);
  if (sets.size === 0) p.byValue.delete(k);
}

/** Whether the row's value of some probe is among the values that left. */
function carries(out: Map<Probe, Set<string | number>>, row: Row): boolean {
  for (const [p, keys] of out) {
    try {
      const v = p.fn(p.view.reset(row));
      if (v !== null && keys.has(p.codec.key(v))) return true;
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
      return true; // cannot tell: re-evaluate
    }
  }
  return false;
}

/** The probe without the widening Postgres's cross-type `=` applies itself (so an index on the column is usable). */
function unwidened(e: Expr): Expr {
  return e.kind === 'cast' && e.implicit ? e.arg : e;
}

function literal(probe: Expr, text: string): string {
  return renderSql({ kind: 'const', type: probe.type, value: codecFor(probe.type).parse(text), span: probe.span });
}
