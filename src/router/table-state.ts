// One table's routing structures: raw-text equality indexes, per-probe indexes, the always and unindexed lanes.
import type { ColumnExpr, Expr } from '../sql/ast.js';
import { ColumnLayout, RowView } from '../eval/row-view.js';
import { renderSql } from '../sql/render.js';
import { codecFor } from '../values/registry.js';
import type { Codec } from '../values/codec.js';
import type { ArrayValue, Value } from '../values/types.js';
import { Posting, PostingMap } from '../index/posting.js';
import { RangeIndex } from '../index/range-index.js';
import { projectionFor } from '../index/order-key.js';
import type { BoundPairs } from '../index/bound-pairs.js';
import { addBounds, addToFamily, boundsIxFor, boundsOf, familyFor } from './families.js';
import { PrefixIndex } from '../index/prefix-index.js';
import { InclusionIndex, type ElementKey } from '../index/inclusion-index.js';
import type { Access, RangeAccess } from './atoms.js';
import { foldAscii } from './atoms.js';
import type { RouteContext } from './context.js';
import { ProbeValue, ResidualPool, meterEvaluation, startEvaluation, type RaiseMemo } from './pools.js';
import type { RowRecord } from './types.js';
import { Spread } from './spreads.js';
import {
  Group,
  ProbeIx,
  RAW_FAMILY,
  RawEq,
  BoundsIx,
  ThresholdFamily,
  VALIDATORS,
  intKey,
  rawColumn,
  splitRawArray,
  type EqKey,
  type Owner,
} from './lanes.js';

export { BoundsIx, Group, ProbeIx, RawEq, rawColumn, splitRawArray, type Owner } from './lanes.js';

/** Guarded threshold families per index at most (see TableState.guardFor). */
const MAX_GUARDED = 8;

/** Residual verdicts as memoised per row. */
const FALSE = 0;
const TRUE = 1;
const RAISED = 2;

export class TableState {
  readonly layout: ColumnLayout;
  readonly row: RowView;
  readonly residuals: ResidualPool;
  /** Shape integers on this table (a truncate reaches all of them). */
  readonly shapes = new Posting(8);
  readonly rawEqs: RawEq[] = [];
  readonly probes: ProbeIx[] = [];
  readonly groups: Group[] = [];
  /** Conjunctions of ranges decided by one structure of bounds each. */
  readonly boundsIxs: BoundsIx[] = [];
  private readonly boundsBySig = new Map<string, BoundsIx>();
  /** Per bounded probe (SQL and compared type), the spread of its values: what bounds' selectivity is estimated by. */
  private readonly spreads = new Map<string, Spread>();
  private readonly spreadFn = (sql: string, r: RangeAccess): Spread => {
    const key = `${sql}\u0000${r.keyType.scalar}`;
    let sp = this.spreads.get(key);
    if (sp === undefined) {
      sp = new Spread(projectionFor(r.keyType));
      this.spreads.set(key, sp);
    }
    return sp;
  };
  readonly always: Group;
  private readonly rawByColumn = new Map<string, RawEq>();
  private readonly probeBySql = new Map<string, ProbeIx>();
  private readonly groupByResidual = new Map<number, Group>();
  private round = 0;
  private cur: { s: number; rid: number; first: boolean; out: { entries: number[]; owners: Owner[] } } = {
    s: -1,
    rid: -1,
    first: true,
    out: { entries: [], owners: [] },
  };
  private readonly allocFn = (): number => {
    const c = this.cur;
    if (!c.first && c.rid >= 0) this.residuals.retain(c.rid);
    c.first = false;
    return this.ctx.entries.alloc(c.s, c.rid);
  };
  private readonly ownFn = (e: number, o: Owner): void => {
    o.count++;
    this.cur.out.entries.push(e);
    this.cur.out.owners.push(o);
  };
  /** When set (explain only), every entry an index yields is recorded here before its residual is checked. */
  trace: Set<number> | null = null;
  /** Compiles a probe whose evaluations are metered in this router's counters. */
  private readonly compileProbe = (expr: Expr, sql: string): ProbeValue =>
    ProbeValue.compile(expr, sql, this.layout, this.ctx.counters);
  private readonly emitEntryFn: (e: number) => void;
  private readonly failEntryFn: (e: number) => void;
  /** Reused per row: the values of a structure's probes (undefined where one raised). */
  private readonly known: (Value | null | undefined)[] = [];
  private readonly familyVals: ProbeValue[] = [];
  /** Reused per row: element keys of the row's array. */
  private readonly keyBuf: (ElementKey | null)[] = [];

  constructor(
    readonly name: string,
    readonly columns: Record<string, string>,
    layout: ColumnLayout,
    private readonly ctx: RouteContext,
  ) {
    this.layout = layout;
    this.row = new RowView(layout);
    this.residuals = new ResidualPool(layout);
    this.always = new Group(-1, 'true');
    this.emitEntryFn = (e) => this.emitEntry(e);
    this.failEntryFn = (e) => this.failEntry(e);
  }

  get shapeCount(): number {
    return this.shapes.length;
  }

  // ---- installing ----------------------------------------------------------------------------------------------

  /** Live statistics for choosing an access: lower is better (kind rank, then current posting sizes). */
  score(a: Access): number {
    switch (a.kind) {
      case 'eq': {
        const raw = rawColumn(a.probe, a.keyType);
        let n = a.keys.length + (a.nullKey ? 1 : 0);
        if (raw !== undefined) {
          const ix = this.rawByColumn.get(raw.name);
          if (ix !== undefined) {
            const codec = codecFor(a.keyType);
            for (const k of a.keys) n += ix.pm.count(ix.keyOfText(codec.format(k)));
            if (a.nullKey) n += ix.pm.count(null);
          }
          return n;
        }
        const p = this.probeBySql.get(renderSql(a.probe))?.eq;
        if (p !== undefined) {
          const codec = codecFor(a.keyType);
          for (const k of a.keys) n += p.count(codec.key(k));
          if (a.nullKey) n += p.count(null);
        }
        return 1 + n;
      }
      case 'prefix': {
        const p = this.probeBySql.get(renderSql(a.probe));
        return 4 + ((a.fold ? p?.iprefix : p?.prefix)?.count(a.prefix) ?? 0);
      }
      case 'inclusion': {
        const p = this.probeBySql.get(renderSql(a.probe))?.incl;
        const codec = codecFor(a.keyType);
        if (a.op === 'within') return 64;
        if (a.elems.length === 0) return 48;
        let best = Infinity;
        let sum = 0;
        for (const v of a.elems) {
          const c = p?.elements.count(codec.key(v)) ?? 0;
          best = Math.min(best, c);
          sum += c;
        }
        return 8 + (a.op === 'overlap' ? sum : best);
      }
      case 'range':
        // The cost of a range access is its own selectivity, not the tree's size: a threshold passes about half
        // of all rows, so only an equality key shared by very many shapes (a hot key) is worse; two-sided ranges
        // are taken to be narrow.
        return a.lo !== undefined && a.hi !== undefined ? 32 : 1000;
    }
  }

  /** Installs one disjunct of shape `s`; appends the entries created and their owners to `out`. */
  install(
    s: number,
    access: Access | null,
    residual: Expr | null,
    shareKey: (sql: string) => string,
    out: { entries: number[]; owners: Owner[] },
  ): void {
    let rid = -1;
    if (residual !== null) {
      const sql = renderSql(residual);
      rid = this.residuals.acquire(residual, sql, shareKey(sql));
    }
    // Per-install state in fields rather than closures: adds run a million times.
    this.cur = { s, rid, first: true, out };
    if (access === null) {
      this.installUnindexed(rid, residual);
      return;
    }
    if (access.kind === 'eq') {
      const raw = rawColumn(access.probe, access.keyType);
      if (raw !== undefined) {
        const codec = codecFor(access.keyType);
        const ix = this.rawEq(raw);
        const keyOf = (k: Value): string | number => ix.keyOfText(codec.format(k));
        if (access.then !== undefined) this.postFamily(ix, ix.families, access, keyOf);
        else this.postKeys(ix.pm, access.keys, access.nullKey, keyOf, ix);
        return;
      }
    }
    if (access.kind === 'range' && access.more !== undefined) {
      const bounds = boundsOf(access, this.spreadFn);
      const ix = boundsIxFor(this.boundsBySig, this.boundsIxs, bounds, this.compileProbe);
      const e = this.allocFn();
      addBounds(ix, e, bounds, this.ctx.entries);
      this.ownFn(e, ix);
      return;
    }
    const p = this.probeIx(access.probe);
    switch (access.kind) {
      case 'eq': {
        const codec = codecFor(access.keyType);
        const keyOf = (k: Value): EqKey => codec.key(k);
        if (access.then !== undefined) this.postFamily(p, p.families, access, keyOf);
        else this.postKeys((p.eq ??= new PostingMap<EqKey>()), access.keys, access.nullKey, keyOf, p);
        return;
      }
      case 'range': {
        const cmp = codecFor(access.keyType).compare as (a: Value, b: Value) => number;
        const e = this.allocFn();
        (p.range ??= new RangeIndex<Value>(cmp, projectionFor(access.keyType))).add(
          e,
          access.lo,
          access.loIncl,
          access.hi,
          access.hiIncl,
          this.ctx.entries,
        );
        this.ownFn(e, p);
        return;
      }
      case 'prefix': {
        const e = this.allocFn();
        (access.fold ? (p.iprefix ??= new PrefixIndex()) : (p.prefix ??= new PrefixIndex())).add(
          e,
          access.prefix,
          this.ctx.entries,
        );
        this.ownFn(e, p);
        return;
      }
      case 'inclusion':
        this.installInclusion(p, access);
        return;
    }
  }

  /** A disjunct without an access: the always lane (no residual) or the group of its residual. */
  private installUnindexed(rid: number, residual: Expr | null): void {
    const g = rid < 0 ? this.always : this.group(rid, residual as Expr);
    const e = this.allocFn();
    g.posting.add(e, this.ctx.entries);
    this.ctx.entries.place(e, g.posting, null);
    this.ownFn(e, g);
  }

  /** One entry per equality key (and one under NULL for `IS NULL`), keyed as the index looks rows up. */
  private postKeys<K extends string | number | null>(
    pm: PostingMap<K>,
    keys: readonly Value[],
    nullKey: boolean,
    keyOf: (v: Value) => K,
    owner: Owner,
  ): void {
    for (const k of keys) {
      const e = this.allocFn();
      pm.add(keyOf(k), e, this.ctx.entries);
      this.ownFn(e, owner);
    }
    if (nullKey) {
      const e = this.allocFn();
      pm.add(null as K, e, this.ctx.entries);
      this.ownFn(e, owner);
    }
  }

  /** One entry per key (and under NULL for `IS NULL`) in the family of the access's bounds. */
  private postFamily<K extends EqKey>(
    owner: Owner,
    families: ThresholdFamily<K>[],
    eq: Extract<Access, { kind: 'eq' }>,
    keyOf: (v: Value) => K,
  ): void {
    const then = eq.then as RangeAccess;
    const fam = familyFor(families, then, eq.then2, this.compileProbe, this.guardFor(families));
    const keys: K[] = eq.keys.map(keyOf);
    if (eq.nullKey) keys.push(null as K);
    for (const k of keys) {
      const e = this.allocFn();
      addToFamily(fam, k, e, then, eq.then2, this.ctx.entries);
      this.ownFn(e, owner);
    }
  }

  /**
   * The residual a family's entries may share as its guard: the current disjunct's, once another shape holds it too
   * (a residual with per-shape constants never is, and stays checked per entry). At most MAX_GUARDED guarded
   * families per index, so a row never checks many guards.
   */
  private guardFor<K extends EqKey>(families: readonly ThresholdFamily<K>[]): number {
    const rid = this.cur.rid;
    if (rid < 0 || this.residuals.refsOf(rid) < 2) return -1;
    let guarded = 0;
    for (const f of families) {
      if (f.guard === rid) return rid;
      if (f.guard >= 0) guarded++;
    }
    return guarded < MAX_GUARDED ? rid : -1;
  }

  private installInclusion(p: ProbeIx, access: Extract<Access, { kind: 'inclusion' }>): void {
    const incl = (p.incl ??= new InclusionIndex());
    const entries = this.ctx.entries;
    const codec = codecFor(access.keyType);
    const post = (add: (e: number) => void): void => {
      const e = this.allocFn();
      add(e);
      this.ownFn(e, p);
    };
    if (access.op === 'within') {
      for (const v of access.elems) post((e) => incl.addWithin(e, codec.key(v), entries));
      post((e) => incl.addWithinAll(e, entries));
    } else if (access.elems.length === 0) post((e) => incl.addNonNull(e, entries));
    else if (access.op === 'overlap') {
      for (const v of access.elems) post((e) => incl.addElement(e, codec.key(v), entries));
    } else {
      // `@>`: post under the element with the fewest entries now; the residual checks the others.
      let bestKey: ElementKey = codec.key(access.elems[0] as Value);
      let bestCount = Infinity;
      for (const v of access.elems) {
        const k = codec.key(v);
        const c = incl.elements.count(k);
        if (c < bestCount) {
          bestCount = c;
          bestKey = k;
        }
      }
      post((e) => incl.addElement(e, bestKey, entries));
    }
  }

  /** Removes one entry installed by `install`. */
  uninstall(e: number, owner: Owner): void {
    const entries = this.ctx.entries;
    const rid = entries.residualOf(e);
    entries.release(e);
    if (rid >= 0) this.residuals.release(rid);
    if (--owner.count > 0 || owner === this.always) return;
    if (owner instanceof RawEq) {
      this.rawByColumn.delete(owner.column);
      removeFrom(this.rawEqs, owner);
    } else if (owner instanceof ProbeIx) {
      this.probeBySql.delete(owner.sql);
      removeFrom(this.probes, owner);
    } else if (owner instanceof BoundsIx) {
      this.boundsBySig.delete(owner.sql);
      removeFrom(this.boundsIxs, owner);
    } else if (owner instanceof Group) {
      this.groupByResidual.delete(owner.residual);
      removeFrom(this.groups, owner);
    }
  }

  private rawEq(col: ColumnExpr): RawEq {
    let ix = this.rawByColumn.get(col.name);
    if (ix === undefined) {
      const fam = RAW_FAMILY[col.type.scalar] as string;
      ix = new RawEq(
        col.name,
        this.layout.indexOf(col.name),
        renderSql(col),
        VALIDATORS[fam] as (t: string) => boolean,
        fam === 'int',
      );
      this.rawByColumn.set(col.name, ix);
      ix.at = this.rawEqs.push(ix) - 1;
    }
    return ix;
  }

  private probeIx(expr: Expr): ProbeIx {
    const sql = renderSql(expr);
    let p = this.probeBySql.get(sql);
    if (p === undefined) {
      p = new ProbeIx(
        sql,
        this.compileProbe(expr, sql),
        expr.type,
        expr.kind === 'column' ? this.layout.indexOf(expr.name) : -1,
      );
      this.probeBySql.set(sql, p);
      p.at = this.probes.push(p) - 1;
    }
    return p;
  }

  private group(rid: number, residual: Expr): Group {
    let g = this.groupByResidual.get(rid);
    if (g === undefined) {
      g = new Group(rid, renderSql(residual));
      this.groupByResidual.set(rid, g);
      g.at = this.groups.push(g) - 1;
    }
    return g;
  }

  // ---- routing -------------------------------------------------------------------------------------------------
  //
  // Fail-open is confined to what raised: an index whose probe cannot be computed for the row (or whose raw column
  // cannot be decoded) fails open its own entries, and a residual that raises fails open the entries it guards.
  // Entries failed open still pass their residual when it is false: a false conjunct decides the disjunct whatever
  // the raising one would give. Shapes reached that way are reported in the context's `failed` list.

  /** Routes one row into the context's result. */
  routeRow(record: RowRecord): void {
    const ctx = this.ctx;
    ctx.counters.rows++;
    this.row.reset(record);
    this.residuals.memo.next();
    this.round++;
    try {
      this.routeIndexes();
    } catch (err) {
      // Not a value error of one expression (those are confined below): a bug. Stay safe: every shape, re-checked.
      ctx.noteFailure(err);
      this.emitAll(true);
    }
  }

  /** Every shape of the table (truncate; `failed`: the last-resort fail-open, each shape to be re-checked). */
  emitAll(failed = false): void {
    const items = this.shapes.items;
    const ctx = this.ctx;
    for (let i = 0; i < this.shapes.length; i++) {
      if (failed) ctx.emitFailed(items[i] as number);
      else ctx.emitShape(items[i] as number);
    }
  }

  private routeIndexes(): void {
    const counters = this.ctx.counters;
    const rawEqs = this.rawEqs;
    const texts = this.row.texts;
    const record = this.row.record;
    for (let i = 0; i < rawEqs.length; i++) {
      const ix = rawEqs[i] as RawEq;
      const t = texts[ix.col];
      let key: EqKey = t === undefined ? null : t;
      if (key !== null && ix.ints) {
        const k = intKey(key);
        // Not integer text: decode it, so an invalid value is not a silent miss (a valid one keeps its text).
        if (k === undefined) {
          if (!this.decodeRaw(ix)) continue;
        } else key = k;
      }
      counters.lookups++;
      const hit = ix.pm.get(key);
      const fams = ix.families;
      if (hit === undefined) {
        // Text no key has and that does not look canonical: decode it, so an invalid value is not a silent miss.
        if (typeof key === 'string' && !ix.ints && !ix.valid(key) && !this.decodeRaw(ix)) continue;
      } else if (typeof hit === 'number') this.emitEntry(hit);
      else for (let j = 0; j < hit.length; j++) this.emitEntry(hit.items[j] as number);
      for (let j = 0; j < fams.length; j++) this.routeFamily(fams[j] as ThresholdFamily<EqKey>, key);
    }
    const probes = this.probes;
    for (let i = 0; i < probes.length; i++) {
      const p = probes[i] as ProbeIx;
      const raised = p.probe.raised;
      if (raised.repeats(record)) this.failProbe(p, raised.error);
      else {
        try {
          this.routeProbe(p);
        } catch (err) {
          this.failProbe(p, err);
        }
      }
    }
    const bix = this.boundsIxs;
    for (let i = 0; i < bix.length; i++) this.routeBounds(bix[i] as BoundsIx);
    const always = this.always.posting;
    for (let j = 0; j < always.length; j++) this.emitEntry(always.items[j] as number);
    const groups = this.groups;
    for (let i = 0; i < groups.length; i++) this.routeGroup(groups[i] as Group);
  }

  /** The probe expression raised for this row: only the entries indexed by it are undecided. */
  private failProbe(p: ProbeIx, err: unknown): void {
    this.ctx.noteFailure(err);
    p.forEachEntry(this.failEntryFn);
  }

  /**
   * A raw-equality column whose text is not canonical: a value that cannot be decoded fails open that index (its
   * families too). Returns false when it did.
   */
  private decodeRaw(ix: RawEq): boolean {
    try {
      this.row.get(ix.col);
      return true;
    } catch (err) {
      this.ctx.noteFailure(err);
      ix.forEachEntry(this.failEntryFn);
      return false;
    }
  }

  /** The family's part under the row's key, stabbed with the bounded probes' values (NULL passes no bound). */
  private routeFamily<K extends EqKey>(f: ThresholdFamily<K>, key: K): void {
    const part = f.parts.get(key);
    if (part === undefined) return;
    // A shared residual false for the row decides every entry (a raising one is left to each entry's check).
    if (f.guard >= 0 && this.residualVerdict(f.guard) === FALSE) return;
    const vals = this.familyVals;
    const nv = f.second === null ? 1 : 2;
    if (vals.length !== nv) vals.length = nv;
    vals[0] = f.probe;
    if (f.second !== null) vals[1] = f.second;
    if (!this.probeValues(vals)) {
      if (f.second === null) part.forEachEntry(this.failEntryFn);
      else
        (part as BoundPairs).forEachPassing(
          this.known[0] ?? undefined,
          this.known[1] ?? undefined,
          [],
          this.failEntryFn,
        );
      return;
    }
    const v = this.known[0] as Value | null;
    const w = this.known[1] as Value | null;
    if (v === null || (f.second !== null && w === null)) return;
    if (f.second === null) this.ctx.counters.lookups += (part as RangeIndex).stab(v, this.emitEntryFn);
    else this.ctx.counters.lookups += (part as BoundPairs).stab(v, w as Value, this.emitEntryFn);
  }

  /** A conjunction of ranges: every probe's value (a NULL passes no bound), then one stab of the pairs. */
  private routeBounds(ix: BoundsIx): void {
    const known = this.known;
    if (!this.probeValues(ix.probes)) {
      ix.pairs.forEachPassing(
        known[0] ?? undefined,
        known[1] ?? undefined,
        known.slice(2).map((v) => v ?? undefined),
        this.failEntryFn,
      );
      return;
    }
    for (let i = 0; i < ix.probes.length; i++) if (known[i] === null) return;
    // One row in 64 teaches the probes' spreads (a projection each): later shapes pick their pair by live values.
    if ((this.round & 63) === 0) for (let i = 0; i < ix.probes.length; i++) ix.spreads[i]?.noteRow(known[i] as Value);
    const rest = ix.rest;
    for (let i = 2; i < ix.probes.length; i++) rest[i - 2] = known[i] as Value;
    this.ctx.counters.lookups += ix.pairs.stab(
      known[0] as Value,
      known[1] as Value,
      this.emitEntryFn,
      ix.probes.length > 2 ? rest : undefined,
    );
  }

  /**
   * Computes the probes' values into `known` (undefined where one raised). False when some raised — unless another
   * is NULL, which decides the conjunction (no match) whatever the raising one gives: then true, with the NULL known.
   */
  private probeValues(probes: readonly ProbeValue[]): boolean {
    const known = this.known;
    if (known.length !== probes.length) known.length = probes.length;
    let raised = false;
    let sawNull = false;
    for (let i = 0; i < probes.length; i++) {
      try {
        const v = this.probeValue(probes[i] as ProbeValue);
        known[i] = v;
        if (v === null) sawNull = true;
      } catch (err) {
        this.ctx.noteFailure(err);
        known[i] = undefined;
        raised = true;
      }
    }
    return !raised || sawNull;
  }

  /** A probe's value for this row; throws its error again (without evaluating) on inputs it last raised on. */
  private probeValue(p: ProbeValue): Value | null {
    if (p.raised.repeats(this.row.record)) throw p.raised.error;
    return p.get(this.row, this.round);
  }

  private routeGroup(g: Group): void {
    const v = this.residualVerdict(g.residual);
    if (v === FALSE) return;
    const ctx = this.ctx;
    const items = g.posting.items;
    const sr = ctx.entries.sr;
    ctx.counters.postingsProbed += g.posting.length;
    for (let j = 0; j < g.posting.length; j++) {
      const s = sr[2 * (items[j] as number)] as number;
      if (v === RAISED) ctx.emitFailed(s);
      else ctx.emitShape(s);
    }
  }

  private routeProbe(p: ProbeIx): void {
    const counters = this.ctx.counters;
    const ra = p.rawArray;
    if (ra !== undefined && p.incl !== undefined && p.eq === undefined && p.families.length === 0) {
      const t = this.row.texts[ra.col];
      if (t === null || t === undefined) return;
      const n = splitRawArray(t, ra.ints, this.keyBuf);
      if (n >= 0) {
        this.routeArrayKeys(p.incl, this.keyBuf, n);
        return;
      }
    }
    const v = p.probe.get(this.row, this.round);
    const emit = this.emitEntryFn;
    const fams = p.families;
    const key = v === null ? null : p.eq !== undefined || fams.length > 0 ? p.keyCodec.key(v) : null;
    if (p.eq !== undefined) {
      counters.lookups++;
      p.eq.forEach(key, emit);
    }
    for (let j = 0; j < fams.length; j++) this.routeFamily(fams[j] as ThresholdFamily<EqKey>, key);
    if (v === null) return;
    if (p.range !== undefined) counters.lookups += p.range.stab(v, emit);
    if (p.prefix !== undefined) counters.lookups += p.prefix.probe(v as string, emit);
    if (p.iprefix !== undefined) counters.lookups += p.iprefix.probe(foldAscii(v as string), emit);
    if (p.incl !== undefined) this.routeArray(p.incl, p.elemCodec as Codec, v as ArrayValue);
  }

  private routeArray(incl: InclusionIndex, codec: Codec, arr: ArrayValue): void {
    const items = arr.items;
    const buf = this.keyBuf;
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      buf[i] = it === null || it === undefined ? null : codec.key(it);
    }
    this.routeArrayKeys(incl, buf, items.length);
  }

  /** Inclusion routing over the row array's element keys (null for a NULL element). */
  private routeArrayKeys(incl: InclusionIndex, keys: (ElementKey | null)[], count: number): void {
    const counters = this.ctx.counters;
    const emit = this.emitEntryFn;
    const nn = incl.nonNull;
    for (let j = 0; j < nn.length; j++) emit(nn.items[j] as number);
    const hasElements = incl.elements.keyCount > 0;
    const hasWithin = incl.withinAll.length > 0;
    let rarest: ElementKey | undefined;
    let rarestCount = Infinity;
    let sawNull = false;
    for (let i = 0; i < count; i++) {
      const k = keys[i];
      if (k === null || k === undefined) {
        sawNull = true;
        continue;
      }
      if (hasElements) {
        counters.lookups++;
        incl.elements.forEach(k, emit);
      }
      if (hasWithin) {
        const c = incl.within.count(k);
        if (c < rarestCount) {
          rarestCount = c;
          rarest = k;
        }
      }
    }
    // `<@`: a NULL element in the row makes it false; an empty row array is contained in every constant.
    if (!hasWithin || sawNull) return;
    counters.lookups++;
    if (rarest === undefined) for (let j = 0; j < incl.withinAll.length; j++) emit(incl.withinAll.items[j] as number);
    else if (rarestCount > 0) incl.within.forEach(rarest, emit);
  }

  /** An entry the index selected: its shape matches when its residual (if any) is true; a raising one fails open. */
  private emitEntry(e: number): void {
    const ctx = this.ctx;
    ctx.counters.postingsProbed++;
    if (this.trace !== null) this.trace.add(e);
    const sr = ctx.entries.sr;
    const r = sr[2 * e + 1] as number;
    const v = r < 0 ? TRUE : this.residualVerdict(r);
    if (v === TRUE) ctx.emitShape(sr[2 * e] as number);
    else if (v === RAISED) ctx.emitFailed(sr[2 * e] as number);
  }

  /** An entry of an index that could not be probed for this row: undecided unless its residual is false. */
  private failEntry(e: number): void {
    const ctx = this.ctx;
    ctx.counters.postingsProbed++;
    if (this.trace !== null) this.trace.add(e);
    const sr = ctx.entries.sr;
    const r = sr[2 * e + 1] as number;
    if (r >= 0 && this.residualVerdict(r) === FALSE) return;
    ctx.emitFailed(sr[2 * e] as number);
  }

  /** A residual's verdict for this row (FALSE, TRUE or RAISED), evaluated at most once per row. */
  residualVerdict(r: number): number {
    const memo = this.residuals.memo;
    const m = memo.get(r);
    if (m >= 0) return m;
    this.ctx.counters.residualsEvaluated++;
    const raised = this.residuals.raised[r] as RaiseMemo;
    const record = this.row.record;
    let v: number;
    if (raised.repeats(record)) {
      this.ctx.noteFailure(raised.error);
      v = RAISED;
    } else {
      const start = startEvaluation();
      try {
        v = (this.residuals.fns[r] as (row: RowView) => boolean | null)(this.row) === true ? TRUE : FALSE;
      } catch (err) {
        raised.remember(record, err);
        this.ctx.noteFailure(err);
        v = RAISED;
      }
      const spent = meterEvaluation(this.ctx.counters, start);
      if (spent !== 0) this.residuals.work[r] = (this.residuals.work[r] as number) + spent;
    }
    memo.set(r, v);
    return v;
  }
}

function removeFrom<T extends { at: number }>(list: T[], x: T): void {
  const i = x.at;
  const last = list.pop() as T;
  if (last !== x) {
    list[i] = last;
    last.at = i;
  }
  x.at = -1;
}
