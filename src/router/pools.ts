// Shared compiled code per table: residual predicates and probe expressions, keyed by canonical SQL, refcounted.
import type { Expr } from '../sql/ast.js';
import type { ColumnLayout, RowView } from '../eval/row-view.js';
import type { Value } from '../values/types.js';
import { compileBool, compileExpr } from '../eval/compile.js';
import { EpochMemo } from '../index/epoch-marks.js';

/**
 * Identical residuals (same normalised SQL) are compiled once and evaluated at most once per row, whatever the number
 * of shapes sharing them: `memo` holds this row's verdicts. Freed ids are reused.
 */
export class ResidualPool {
  readonly fns: (((row: RowView) => boolean | null) | undefined)[] = [];
  readonly sqls: (string | undefined)[] = [];
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
    this.keys[id] = key;
    this.refs[id] = 1;
    this.byKey.set(key, id);
    this.memo.ensure(id + 1);
    this.memo.clear(id);
    this.live++;
    return id;
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
    this.keys[id] = undefined;
    this.free.push(id);
    this.live--;
  }
}

/** A probe: an expression over columns computed at most once per row (its value is memoised by epoch). */
export class ProbeValue {
  private value: Value | null = null;
  private round = -1;

  constructor(
    readonly sql: string,
    private readonly fn: (row: RowView) => Value | null,
  ) {}

  static compile(expr: Expr, sql: string, layout: ColumnLayout): ProbeValue {
    return new ProbeValue(sql, compileExpr(expr, layout));
  }

  /** Computes without the memo (explain). */
  compute(row: RowView): Value | null {
    return this.fn(row);
  }

  /** The probe's value for the current row; `round` is the table's row counter. Throws ValueError. */
  get(row: RowView, round: number): Value | null {
    if (this.round !== round) {
      this.value = this.fn(row);
      this.round = round;
    }
    return this.value;
  }
}
