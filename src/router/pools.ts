// Shared compiled code per table: residual predicates and probe expressions, keyed by canonical SQL, refcounted.
import { childrenOf, type Expr } from '../sql/ast.js';
import type { ColumnLayout, RowView } from '../eval/row-view.js';
import type { Value } from '../values/types.js';
import { compileBool, compileExpr } from '../eval/compile.js';
import { EpochMemo } from '../index/epoch-marks.js';
import { SLOW_EVALUATION_UNITS, beginEvaluation, isTooExpensive, workMeter } from '../values/work-budget.js';
import type { RouterCounters } from './types.js';

type Rec = Readonly<Record<string, string | null>>;

/** The columns an expression reads, each once. */
function columnsOf(e: Expr, out: Set<string> = new Set()): Set<string> {
  if (e.kind === 'column') out.add(e.name);
  for (const c of childrenOf(e)) columnsOf(c, out);
  return out;
}

/**
 * Starts metering one expression's evaluation for a row: a new evaluation scope (its shape row budget), and the
 * meter's reading to pass to `meterEvaluation`.
 */
export function startEvaluation(): number {
  beginEvaluation();
  return workMeter.total;
}

/**
 * Counts the work charged since `start` (one evaluation) in the router's counters and returns it: two loads and a
 * compare for the usual evaluation that charges nothing (only arbitrary-precision loops charge).
 */
export function meterEvaluation(counters: RouterCounters, start: number): number {
  const spent = workMeter.total - start;
  if (spent !== 0) {
    counters.evaluationWork += spent;
    if (spent >= SLOW_EVALUATION_UNITS) counters.slowEvaluations++;
  }
  return spent;
}

/**
 * The inputs of the last row an expression raised on. A clause's value depends only on the columns it reads, so a
 * row repeating those column texts raises the same error: it fails open without evaluating (and building and
 * throwing an error, which costs several times a whole routed row) again. One remembered input is what a stream
 * of rows with the same poisonous value (`n = 0` under `1 / n`) needs; a new value just replaces it.
 *
 * An expression that ran out of its shape row budget (too_expensive) is remembered for every row: its shapes are
 * about to be invalidated (the service's exact re-check raises the same), and evaluating it again per row would
 * spend the budget on every row of the transaction.
 */
export class RaiseMemo {
  private readonly columns: readonly string[];
  /** The remembered input key; undefined while nothing is remembered. */
  private key: string | null | undefined = undefined;
  /** Too expensive: raises again on every row. */
  private always = false;
  error: unknown = undefined;

  constructor(expr: Expr) {
    this.columns = [...columnsOf(expr)];
  }

  /** The row's input key: the column's text for one column (null for NULL), else the texts joined. */
  private keyOf(record: Rec): string | null {
    const cols = this.columns;
    if (cols.length === 1) return record[cols[0] as string] ?? null;
    let k = '';
    for (const c of cols) {
      const t = record[c];
      k += t === null || t === undefined ? '\u0000N' : `\u0000T${t}`;
    }
    return k;
  }

  remember(record: Rec, error: unknown): void {
    this.key = this.keyOf(record);
    this.error = error;
    if (isTooExpensive(error)) this.always = true;
  }

  /** True when the row has the inputs the expression last raised on (it would raise `error` again), or it was too expensive. */
  repeats(record: Rec): boolean {
    return this.always || (this.key !== undefined && this.keyOf(record) === this.key);
  }
}

/**
 * Identical residuals (same normalised SQL) are compiled once and evaluated at most once per row, whatever the number
 * of shapes sharing them: `memo` holds this row's verdicts. Freed ids are reused.
 */
export class ResidualPool {
  readonly fns: (((row: RowView) => boolean | null) | undefined)[] = [];
  readonly sqls: (string | undefined)[] = [];
  /** Per residual, the inputs it last raised on. */
  readonly raised: (RaiseMemo | undefined)[] = [];
  /** Per residual, the work units its evaluations charged so far (its running cost). */
  readonly work: number[] = [];
  private readonly refs: number[] = [];
  private readonly byKey = new Map<string, number>();
  private readonly keys: (string | undefined)[] = [];
  private readonly free: number[] = [];
  readonly memo = new EpochMemo(64);
  live = 0;

  constructor(private readonly layout: ColumnLayout) {}

  /** The id of `expr`'s compiled predicate, compiling it on first use. `key` defaults to its SQL (shared). */
  acquire(expr: Expr, sql: string, key: string = sql): number {
    let id = this.byKey.get(key);
    if (id !== undefined) {
      this.refs[id] = (this.refs[id] as number) + 1;
      return id;
    }
    const fn = compileBool(expr, this.layout);
    id = this.free.pop() ?? this.fns.length;
    this.fns[id] = fn;
    this.sqls[id] = sql;
    this.raised[id] = new RaiseMemo(expr);
    this.work[id] = 0;
    this.keys[id] = key;
    this.refs[id] = 1;
    this.byKey.set(key, id);
    this.memo.ensure(id + 1);
    this.memo.clear(id);
    this.live++;
    return id;
  }

  /** References to an acquired id (a residual shared by several shapes has more than one). */
  refsOf(id: number): number {
    return this.refs[id] ?? 0;
  }

  /** One more reference to an acquired id (a disjunct posted under several keys). */
  retain(id: number): void {
    this.refs[id] = (this.refs[id] as number) + 1;
  }

  release(id: number): void {
    const left = (this.refs[id] as number) - 1;
    this.refs[id] = left;
    if (left > 0) return;
    this.byKey.delete(this.keys[id] as string);
    this.fns[id] = undefined;
    this.sqls[id] = undefined;
    this.raised[id] = undefined;
    this.keys[id] = undefined;
    this.free.push(id);
    this.live--;
  }
}

/** A probe: an expression over columns computed at most once per row (its value is memoised by epoch). */
export class ProbeValue {
  private value: Value | null = null;
  private round = -1;
  /** Work units its evaluations charged so far (its running cost). */
  work = 0;

  constructor(
    readonly sql: string,
    private readonly fn: (row: RowView) => Value | null,
    /** The inputs this probe last raised on (see RaiseMemo). */
    readonly raised: RaiseMemo,
    /** Where its evaluations' work is counted (the router's). */
    private readonly counters: RouterCounters,
  ) {}

  static compile(expr: Expr, sql: string, layout: ColumnLayout, counters: RouterCounters): ProbeValue {
    return new ProbeValue(sql, compileExpr(expr, layout), new RaiseMemo(expr), counters);
  }

  /** Computes without the memo (explain). */
  compute(row: RowView): Value | null {
    return this.fn(row);
  }

  /** The probe's value for the current row; `round` is the table's row counter. Throws ValueError. */
  get(row: RowView, round: number): Value | null {
    if (this.round !== round) {
      const start = startEvaluation();
      try {
        this.value = this.fn(row);
      } catch (err) {
        this.raised.remember(row.record, err);
        throw err;
      } finally {
        this.work += meterEvaluation(this.counters, start);
      }
      this.round = round;
    }
    return this.value;
  }
}
