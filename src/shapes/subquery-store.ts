// Materialized subquery sets: loaded under a snapshot, kept current from the inner table's routed changes, shared.
import type pg from 'pg';
import type { Subquery } from '../sql/ast.js';
import { subqueriesOf } from '../sql/ast.js';
import { renderSql } from '../sql/render.js';
import type { SubquerySets, ValueSet } from '../eval/subquery-sets.js';
import { planSubqueries } from '../subquery/plan.js';
import { CountedValueSet } from '../subquery/value-set.js';
import { SubqueryView, type Contribution } from '../subquery/view.js';
import type { Change } from '../replication/transaction-types.js';
import { visibleToSnapshot, type SnapshotVisibility } from './live-shape.js';
import type { Row } from './messages.js';
import { SnapshotSession } from './snapshot.js';
import type { TableRouters } from './table-routers.js';

/** What one transaction did to a set. */
export interface SetDelta {
  /**
   * Values that entered and values that left, by key, with their text (to fetch the outer rows carrying them). They
   * do not cancel out: a value that entered and left again is in both, because the transaction's outer rows were
   * decided against the set as it was at their change, so rows carrying it must be decided again either way.
   */
  readonly entered: Map<string | number, string>;
  readonly left: Map<string | number, string>;
  /** Whether the set's NULL or emptiness changed: `NOT IN` then changes for every value. */
  wholeSet: boolean;
}

/** One materialized subquery. */
export interface MatSet {
  readonly key: string;
  readonly sub: Subquery;
  readonly view: SubqueryView;
  readonly set: CountedValueSet;
  /** Each contributing inner row's counted value, by the row's key columns. */
  readonly rows: Map<string, Contribution>;
  readonly keyColumns: readonly string[];
  /** The snapshot the set was (re)loaded under: stream transactions it saw are skipped. */
  visibility: SnapshotVisibility;
  /** Its entry in the inner table's router (the subquery's WHERE, relaxed when it has subqueries of its own). */
  readonly routerId: string;
  /** Shapes and enclosing sets holding it. */
  users: number;
  /** Sets whose WHERE uses this one: reloaded when it changes. */
  readonly parents: Set<MatSet>;
}

/** What a set needs from the service: its table's key columns, and a connection for loading it. */
export interface StoreDeps {
  readonly routers: TableRouters;
  readonly pool: pg.Pool;
  readonly keyColumns: (schema: string, table: string) => readonly string[];
}

/** A transaction from the stream, being applied. */
type StreamTx = { readonly xid: number; readonly commitLsn: bigint };

const ROUTER_PREFIX = '\u0001subquery:';

export class SubqueryStore implements SubquerySets {
  private readonly sets = new Map<string, MatSet>();
  private readonly byRouterId = new Map<string, MatSet>();
  private readonly pending = new Map<MatSet, SetDelta>();
  private nextId = 0;
  /** Inner rows routed to a set, and set reloads (a nested set changed): counters for tests and metrics. */
  readonly counters = { innerRows: 0, reloads: 0 };

  constructor(private readonly deps: StoreDeps) {}

  get(key: string): ValueSet {
    const s = this.sets.get(key);
    if (s === undefined) throw new Error(`subquery set not materialized: ${key}`);
    return s.set;
  }

  has(key: string): boolean {
    return this.sets.has(key);
  }

  matSet(key: string): MatSet | undefined {
    return this.sets.get(key);
  }

  /** The set behind a router id of the inner table, if the id is one of ours. */
  ofRouterId(id: string): MatSet | undefined {
    return id.startsWith(ROUTER_PREFIX) ? this.byRouterId.get(id) : undefined;
  }

  allSets(): IterableIterator<MatSet> {
    return this.sets.values();
  }

  /** Tables the sets read (to publish them). */
  tables(): { schema: string; table: string }[] {
    const out = new Map<string, { schema: string; table: string }>();
    for (const s of this.sets.values())
      out.set(`${s.sub.table.schema}.${s.sub.table.name}`, { schema: s.sub.table.schema, table: s.sub.table.name });
    return [...out.values()];
  }

  /** Sets reading a table. */
  setsOfTable(schema: string, table: string): MatSet[] {
    return [...this.sets.values()].filter((s) => s.sub.table.schema === schema && s.sub.table.name === table);
  }

  /**
   * Takes a reference on each subquery (given nested first), loading the missing ones. Must run under the
   * processing lock: a set is loaded under a snapshot while no transaction is being applied, so every later
   * transaction either was seen by the snapshot (skipped) or is applied to the loaded set.
   */
  async acquire(subs: readonly Subquery[]): Promise<void> {
    const taken: string[] = [];
    try {
      for (const sub of subs) {
        const have = this.sets.get(sub.key);
        if (have !== undefined) have.users++;
        else await this.load(sub);
        taken.push(sub.key);
      }
    } catch (err) {
      for (const k of taken) this.release(k);
      throw err;
    }
  }

  /** Drops a reference; a set nobody holds leaves the router (and drops its nested sets' references). */
  release(key: string): void {
    const s = this.sets.get(key);
    if (s === undefined || --s.users > 0) return;
    this.sets.delete(key);
    this.byRouterId.delete(s.routerId);
    this.pending.delete(s);
    this.deps.routers.remove(s.routerId, s.sub.table.schema, s.sub.table.name);
    for (const n of nestedOf(s.sub)) {
      this.sets.get(n)?.parents.delete(s);
      this.release(n);
    }
  }

  private async load(sub: Subquery): Promise<void> {
    const { schema, name } = sub.table;
    await this.deps.routers.ensureTable(schema, name, { ...sub.columns });
    const routerId = `${ROUTER_PREFIX}${this.nextId++}`;
    // A WHERE with subqueries of its own is routed relaxed (their IN conditions TRUE): a superset, decided exactly by
    // the view. (planSubqueries relaxes IN to FALSE, right for shapes; for candidates TRUE is the safe side.)
    const routerWhere = sub.where === null ? undefined : innerRouterWhere(sub);
    await this.deps.routers.add(routerId, schema, name, routerWhere, undefined);
    const m: MatSet = {
      key: sub.key,
      sub,
      view: new SubqueryView(sub, this),
      set: new CountedValueSet(),
      rows: new Map(),
      keyColumns: this.deps.keyColumns(schema, name),
      visibility: { xmin: 0n, xmax: 0n, xip: new Set(), lsn: 0n },
      routerId,
      users: 1,
      parents: new Set(),
    };
    try {
      await this.fill(m, new Map());
    } catch (err) {
      this.deps.routers.remove(routerId, schema, name);
      throw err;
    }
    this.sets.set(sub.key, m);
    this.byRouterId.set(routerId, m);
    for (const n of nestedOf(sub)) {
      const child = this.sets.get(n);
      if (child !== undefined) {
        child.parents.add(m);
        child.users++;
      }
    }
  }

  /**
   * (Re)reads the set's inner rows under a new snapshot and applies the difference to its counts, into `deltas`.
   * The rows are read with the WHERE pushed down when it has no subqueries (else all rows: nested sets are ours).
   * While the stream applies `tx`, the snapshot must see it (else the reload would undo it).
   */
  private async fill(m: MatSet, deltas: Map<MatSet, SetDelta>, tx?: StreamTx): Promise<void> {
    const { schema, name } = m.sub.table;
    const cols = [...new Set([...m.keyColumns, ...m.sub.referenced])];
    const pushdown =
      m.sub.where !== null && subqueriesOf(m.sub.where).length === 0 ? renderSql(m.sub.where) : undefined;
    const session =
      tx === undefined
        ? await SnapshotSession.begin(await this.deps.pool.connect())
        : await SnapshotSession.beginSeeing(this.deps.pool, tx);
    const seen = new Map<string, Contribution>();
    try {
      await session.query(schema, name, cols, pushdown, (batch) => {
        for (const values of batch) {
          const rec: Record<string, string | null> = {};
          for (let c = 0; c < cols.length; c++) rec[cols[c] as string] = values[c] ?? null;
          const c = m.view.contribution(rec);
          if (c !== undefined) seen.set(innerKey(m, rec), c);
        }
      });
      await session.close();
    } catch (err) {
      await session.close(err);
      throw err;
    }
    m.visibility = session.visibility;
    for (const k of [...m.rows.keys()]) if (!seen.has(k)) this.uncount(m, k, deltas);
    for (const [k, c] of seen) {
      const prev = m.rows.get(k);
      if (prev !== undefined && sameContribution(prev, c)) continue;
      if (prev !== undefined) this.uncount(m, k, deltas);
      this.count(m, k, c, deltas);
    }
  }

  /**
   * Applies one inner-table change to the sets it was routed to (old image's and new image's ids); their deltas
   * accumulate until `settle`. A set whose snapshot saw the transaction skips it.
   */
  onInnerChange(
    tx: { xid: number; commitLsn: bigint },
    change: Exclude<Change, { op: 'truncate' }>,
    oldIds: readonly string[],
    newIds: readonly string[],
    oldRow: Row | undefined,
  ): void {
    const touched = new Set<MatSet>();
    for (const id of [...oldIds, ...newIds]) {
      const m = this.ofRouterId(id);
      if (m !== undefined) touched.add(m);
    }
    for (const m of touched) {
      if (visibleToSnapshot(m.visibility, tx.xid, tx.commitLsn)) continue;
      this.counters.innerRows++;
      if (oldRow !== undefined) {
        const k = innerKey(m, oldRow);
        if (m.rows.has(k)) this.uncount(m, k, this.pending);
      }
      if (change.op !== 'delete') {
        const c = m.view.contribution(change.record);
        if (c !== undefined) {
          const k = innerKey(m, change.record);
          if (m.rows.has(k)) this.uncount(m, k, this.pending);
          this.count(m, k, c, this.pending);
        }
      }
    }
  }

  /**
   * Ends transaction `tx`: sets whose nested sets changed are reloaded (outward, until nothing changes, under
   * snapshots that see `tx`) and every
   * set's delta is returned (a value that entered and left again counts as both: see SetDelta).
   */
  async settle(tx: StreamTx): Promise<Map<MatSet, SetDelta>> {
    const out = new Map<MatSet, SetDelta>();
    let round = new Map(this.pending);
    this.pending.clear();
    while (round.size > 0) {
      const parents = new Set<MatSet>();
      for (const [m, d] of round) {
        if (d.entered.size === 0 && d.left.size === 0 && !d.wholeSet) continue;
        merge(out, m, d);
        for (const p of m.parents) if (this.sets.get(p.key) === p) parents.add(p);
      }
      round = new Map();
      for (const p of parents) {
        this.counters.reloads++;
        await this.fill(p, round, tx);
      }
    }
    return out;
  }

  private count(m: MatSet, k: string, c: Contribution, deltas: Map<MatSet, SetDelta>): void {
    if (c === undefined) return;
    const before = shapeOf(m.set);
    m.rows.set(k, c);
    const entered = m.set.add(c === null ? null : c.key);
    const d = deltaOf(deltas, m);
    if (shapeOf(m.set) !== before) d.wholeSet = true;
    if (entered && c !== null) d.entered.set(c.key, c.text);
  }

  private uncount(m: MatSet, k: string, deltas: Map<MatSet, SetDelta>): void {
    const c = m.rows.get(k);
    if (c === undefined) return;
    const before = shapeOf(m.set);
    m.rows.delete(k);
    const left = m.set.remove(c === null ? null : c.key);
    const d = deltaOf(deltas, m);
    if (shapeOf(m.set) !== before) d.wholeSet = true;
    if (left && c !== null) d.left.set(c.key, c.text);
  }
}

/** Whether a set is empty and whether it holds a NULL: a change of either changes `NOT IN` for every value. */
function shapeOf(s: CountedValueSet): number {
  return (s.empty ? 1 : 0) | (s.hasNull ? 2 : 0);
}

function deltaOf(deltas: Map<MatSet, SetDelta>, m: MatSet): SetDelta {
  let d = deltas.get(m);
  if (d === undefined) {
    d = { entered: new Map(), left: new Map(), wholeSet: false };
    deltas.set(m, d);
  }
  return d;
}

function merge(out: Map<MatSet, SetDelta>, m: MatSet, d: SetDelta): void {
  const o = deltaOf(out, m);
  o.wholeSet ||= d.wholeSet;
  for (const [k, t] of d.entered) o.entered.set(k, t);
  for (const [k, t] of d.left) o.left.set(k, t);
}

function sameContribution(a: Contribution, b: Contribution): boolean {
  return a === b || (a != null && b != null && a.key === b.key);
}

function innerKey(m: MatSet, rec: Row): string {
  return JSON.stringify(m.keyColumns.map((c) => rec[c] ?? null));
}

function nestedOf(sub: Subquery): string[] {
  return sub.where === null ? [] : [...new Set(subqueriesOf(sub.where).map((s) => s.sub.key))];
}

/** The inner WHERE for the router: nested `IN` conditions TRUE and `NOT IN` TRUE (a superset of the rows). */
function innerRouterWhere(sub: Subquery): string | undefined {
  const where = sub.where;
  if (where === null) return undefined;
  if (subqueriesOf(where).length === 0) return renderSql(where);
  planSubqueries(where); // rejects subqueries under other operators (the same rule as shapes)
  return 'true';
}
