// compileWhere and analyzeClause: the public entries of the language core (parse → analyze → fold → normalize → compile).
import { ErrorCode, WhereError } from './errors/index.js';
import { fold, normalize } from './eval/normalize.js';
import { Predicate } from './eval/predicate.js';
import { ColumnLayout } from './eval/row-view.js';
import { analyzeWhere } from './sql/analyze.js';
import { parseClause } from './sql/parse.js';
import { subqueryTableNames } from './sql/analyze-subquery.js';
import type { TableResolver } from './sql/context.js';
import type { SubquerySets } from './eval/subquery-sets.js';
import { renderSql } from './sql/render.js';
import { parseTypeName } from './sql/type-names.js';
import { codecFor } from './values/registry.js';
import { TooExpensiveError, defaultCompileBudgetMs, withWorkBudget } from './values/work-budget.js';
import type { PgType, Value } from './values/types.js';
import type { Expr } from './sql/ast.js';

export interface CompileOptions {
  /** `$n` values keyed by number as a string (`{ "1": "42" }`), as the shape request's `params` carries them. */
  readonly params?: Readonly<Record<string, string>>;
  /** The shape's table, so that `table.col` and `schema.table.col` references resolve. */
  readonly table?: { readonly schema: string; readonly name: string };
  /**
   * Work budget for compiling, constant folding included, in nominal milliseconds (counted work, not wall time,
   * so the verdict is the same on every run): beyond it the clause is rejected with code `too_expensive`.
   * Default 50 (or what setDefaultCompileBudgetMs set); `Infinity` turns it off.
   */
  readonly budgetMs?: number;
  /**
   * Columns of the tables subqueries read, keyed `schema.table` (`{ 'public.members': { user_id: 'int8', … } }`):
   * without an entry a subquery's table is unknown (`subqueryTables` lists the names a clause needs).
   */
  readonly tables?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Current results of the subqueries, by `Subquery.key`, for evaluating rows (the service materializes them). */
  readonly sets?: SubquerySets;
}

/** The `{schema, name}` of every table the clause's subqueries read (parsing only; errors as compileWhere's). */
export function subqueryTables(where: string): { schema: string; name: string }[] {
  const seen = new Map<string, { schema: string; name: string }>();
  for (const [schema, name] of subqueryTableNames(parseClause(where).where))
    seen.set(`${schema}.${name}`, { schema, name });
  return [...seen.values()];
}

function tableResolver(tables: CompileOptions['tables']): TableResolver {
  return (schema, name) => {
    const columns = tables?.[`${schema}.${name}`];
    return columns === undefined ? undefined : { columns, types: layoutFor(columns).types };
  };
}

/** Decoder for a column type: opaque types are never decoded (only IS NULL may use them), so keep them as text. */
function decoderFor(t: PgType): (text: string) => Value {
  if (t.scalar === 'opaque') return (text) => text;
  const c = codecFor(t);
  return (text) => c.parse(text);
}

const layouts = new WeakMap<Readonly<Record<string, string>>, { layout: ColumnLayout; types: Map<string, PgType> }>();

/** The column layout of a table given as `{ column: typeName }` (cached per columns object). */
export function layoutFor(columns: Readonly<Record<string, string>>): {
  layout: ColumnLayout;
  types: Map<string, PgType>;
} {
  let l = layouts.get(columns);
  if (!l) {
    const types = new Map<string, PgType>();
    for (const [name, typeName] of Object.entries(columns)) types.set(name, parseTypeName(typeName));
    const layout = new ColumnLayout([...types].map(([name, type]) => ({ name, type, decode: decoderFor(type) })));
    l = { layout, types };
    layouts.set(columns, l);
  }
  return l;
}

function paramMap(params: Readonly<Record<string, string>> | undefined): Map<number, string> {
  const m = new Map<number, string>();
  for (const [k, v] of Object.entries(params ?? {})) {
    const n = Number(k.replace(/^\$/, ''));
    if (!Number.isInteger(n) || n < 1)
      throw new WhereError(ErrorCode.ParamMissing, `parameter key "${k}" is not a positive integer`);
    if (typeof v !== 'string') throw new WhereError(ErrorCode.InvalidLiteral, `parameter $${n} must be a string`);
    m.set(n, v);
  }
  return m;
}

/**
 * Compiles a where clause for a table whose columns are `{ name: typeName }`. Throws WhereError (with a code, a
 * message naming the offending token, and a 0-based position) for anything Postgres or Switchyard rejects.
 */
export function compileWhere(
  where: string,
  columns: Readonly<Record<string, string>>,
  options: CompileOptions = {},
): Predicate {
  return budgeted(where, options, () => {
    const a = analyzeUnbudgeted(where, columns, options);
    return new Predicate(a.expr, renderSql(a.expr), a.columns, a.layout, options.sets);
  });
}

/** A where clause analysed but not compiled: what the router and shard placement need (they compile lazily). */
export interface AnalyzedClause {
  /** The typed, folded, normalized tree (the same as compileWhere's `Predicate.expr`). */
  readonly expr: Expr;
  /** Columns the clause references, in first-use order. */
  readonly columns: readonly string[];
  readonly layout: ColumnLayout;
}

/**
 * Parses, analyses, folds and normalizes a where clause without compiling it (no closures, row view or rendered SQL):
 * the same checks and errors as compileWhere.
 */
export function analyzeClause(
  where: string,
  columns: Readonly<Record<string, string>>,
  options: CompileOptions = {},
): AnalyzedClause {
  return budgeted(where, options, () => analyzeUnbudgeted(where, columns, options));
}

/** Runs `work` under the compile budget, turning its exhaustion into a WhereError. */
function budgeted<T>(where: string, options: CompileOptions, work: () => T): T {
  if (typeof where !== 'string') throw new WhereError(ErrorCode.Syntax, 'where clause must be a string');
  const budget = options.budgetMs ?? defaultCompileBudgetMs();
  try {
    return withWorkBudget(budget, 'compiling the where clause', work);
  } catch (err) {
    // Raised outside constant folding (e.g. while reading a literal): no position to point at.
    if (err instanceof TooExpensiveError) throw new WhereError(ErrorCode.TooExpensive, err.message);
    throw err;
  }
}

function analyzeUnbudgeted(
  where: string,
  columns: Readonly<Record<string, string>>,
  options: CompileOptions,
): AnalyzedClause {
  const { layout, types } = layoutFor(columns);
  const parsed = parseClause(where);
  const analysis = analyzeWhere(where, parsed.where, parsed.position, {
    columns: types,
    params: paramMap(options.params),
    ...(options.table ? { table: options.table } : {}),
    ...(options.tables ? { tables: tableResolver(options.tables) } : {}),
  });
  return { expr: normalize(fold(analysis.expr)), columns: analysis.columns, layout };
}
