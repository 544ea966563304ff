// A compiled where clause: the normalized tree, its SQL, its columns, and compiled and interpreted evaluation.
import type { Expr } from '../sql/ast.js';
import { compileBool, type CompiledBool } from './compile.js';
import { interpretExpr } from './interpret.js';
import { ColumnLayout, RowView } from './row-view.js';

export type PgRecord = Readonly<Record<string, string | null>>;

export class Predicate {
  /** Compiled three-valued evaluation over a row view of this predicate's layout. */
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
  ) {
    this.compiled = compileBool(expr, layout);
    this.row = new RowView(layout);
  }

  /** True iff the clause is TRUE for the record. Throws ValueError where Postgres would raise an error. */
  matches(record: PgRecord): boolean {
    return this.compiled(this.row.reset(record)) === true;
  }

  /** The compiled three-valued result: true, false or null (SQL NULL). */
  evaluate(record: PgRecord): boolean | null {
    return this.compiled(this.row.reset(record));
  }

  /** The reference interpreter's three-valued result (slow; for tests and explanations). */
  interpret(record: PgRecord): boolean | null {
    return interpretExpr(this.expr, new RowView(this.layout).reset(record)) as boolean | null;
  }
}
