// A compiled where clause: the normalized tree, its SQL, its columns, and compiled and interpreted evaluation.
import type { Expr } from '../sql/ast.js';
import { compileQuals, type CompiledBool } from './compile.js';
import { interpretQuals } from './interpret.js';
import { planQuals } from './qual-plan.js';
import { NO_SUBQUERY_SETS, type SubquerySets } from './subquery-sets.js';
import { ColumnLayout, RowView } from './row-view.js';

export type PgRecord = Readonly<Record<string, string | null>>;

export class Predicate {
  /**
   * The conditions as Postgres's planner orders them for a table scan (planQuals): evaluation stops at the first
   * that is not TRUE, so a row raises an error exactly where `SELECT … WHERE <clause>` would.
   */
  readonly quals: readonly Expr[];
  /** Compiled evaluation of `quals` over a row view of this predicate's layout. */
  readonly compiled: CompiledBool;
  private readonly row: RowView;

  constructor(
    /** The typed, folded, normalized tree. */
    readonly expr: Expr,
    /** The normalized clause re-rendered as SQL (explicit types, COLLATE "C" where text is ordered). */
    readonly sql: string,
    /** Columns the clause references, in first-use order. */
    readonly columns: readonly string[],
    /** The layout rows are decoded with (the table's columns). */
    readonly layout: ColumnLayout,
    /** Current results of the clause's subqueries (`IN (SELECT …)`), if it has any. */
    private readonly sets: SubquerySets = NO_SUBQUERY_SETS,
  ) {
    this.quals = planQuals(expr);
    this.compiled = compileQuals(this.quals, layout, sets);
    this.row = new RowView(layout);
  }

  /** True iff the clause is TRUE for the record. Throws ValueError where Postgres would raise an error. */
  matches(record: PgRecord): boolean {
    return this.compiled(this.row.reset(record)) === true;
  }

  /**
   * The compiled result: true, or the value (false or null) of the first condition that is not TRUE — the verdict
   * of a WHERE, which does not tell FALSE from NULL and stops there as Postgres does.
   */
  evaluate(record: PgRecord): boolean | null {
    return this.compiled(this.row.reset(record));
  }

  /** The reference interpreter's result, as `evaluate` (slow; for tests and explanations). */
  interpret(record: PgRecord): boolean | null {
    return interpretQuals(this.quals, new RowView(this.layout).reset(record), this.sets);
  }
}
