// `expr [NOT] IN (SELECT col FROM table [WHERE …])`: checks the subquery's form and types it against its own table.
import { ErrorCode, WhereError } from '../errors/index.js';
import { pgType } from '../values/types.js';
import type { Expr, Span, SubqueryExpr } from './ast.js';
import { analyzeNode, requireBool } from './analyze.js';
import { compare } from './analyze-ops.js';
import { AnalyzeContext } from './context.js';
import type { RawNode } from './parse.js';

const BOOL = pgType('bool');

/** SelectStmt fields a subquery may carry (plain DISTINCT is harmless under IN: a set has no duplicates anyway). */
const ALLOWED = new Set(['targetList', 'fromClause', 'whereClause', 'limitOption', 'op', 'distinctClause']);

const CLAUSE_NAMES: Record<string, string> = {
  sortClause: 'ORDER BY',
  limitCount: 'LIMIT',
  limitOffset: 'OFFSET',
  groupClause: 'GROUP BY',
  havingClause: 'HAVING',
  windowClause: 'WINDOW',
  lockingClause: 'FOR UPDATE/SHARE',
  withClause: 'WITH',
  intoClause: 'INTO',
  valuesLists: 'VALUES',
};

/** Aggregates and window functions: a set built from them is not a function of the rows one by one. */
const AGGREGATES = new Set([
  'count', 'sum', 'avg', 'min', 'max', 'array_agg', 'string_agg', 'bool_and', 'bool_or', 'every', 'json_agg',
  'jsonb_agg', 'json_object_agg', 'jsonb_object_agg', 'bit_and', 'bit_or', 'xmlagg', 'stddev', 'variance',
  'row_number', 'rank', 'dense_rank',
]); // prettier-ignore

function subLinkName(t: string): string {
  switch (t) {
    case 'EXISTS_SUBLINK':
      return 'EXISTS (subquery)';
    case 'ALL_SUBLINK':
      return 'ALL (subquery)';
    case 'ARRAY_SUBLINK':
      return 'ARRAY(subquery)';
    default:
      return 'a scalar subquery';
  }
}

/** The first `location` at or under a raw node (−1 when it has none), to point an error at the offending clause. */
function firstLocation(node: unknown): number {
  if (node === null || typeof node !== 'object') return -1;
  const loc = (node as RawNode)['location'];
  if (typeof loc === 'number' && loc >= 0) return loc;
  for (const v of Object.values(node as RawNode)) {
    const l = firstLocation(v);
    if (l >= 0) return l;
  }
  return -1;
}

function funcCalls(node: unknown, out: RawNode[] = []): RawNode[] {
  if (node === null || typeof node !== 'object') return out;
  if (Array.isArray(node)) {
    for (const x of node) funcCalls(x, out);
    return out;
  }
  for (const [k, v] of Object.entries(node as RawNode)) {
    if (k === 'FuncCall') out.push(v as RawNode);
    funcCalls(v, out);
  }
  return out;
}

/** Analyzes a SubLink: only the uncorrelated one-column `IN` / `= ANY` form over one table is accepted. */
export function analyzeSubLink(ctx: AnalyzeContext, n: RawNode): Expr {
  const span = ctx.span(n['location'], 2);
  const kind = String(n['subLinkType']);
  if (kind !== 'ANY_SUBLINK') {
    ctx.fail(
      ErrorCode.NotSupported,
      `${subLinkName(kind)} is not supported in where clauses (only expr [NOT] IN (SELECT …))`,
      span,
    );
  }
  const opName = (n['operName'] as RawNode[] | undefined)?.map((x) => (x['String'] as { sval: string }).sval);
  if (opName !== undefined && (opName.length !== 1 || opName[0] !== '=')) {
    ctx.fail(
      ErrorCode.NotSupported,
      `${opName.join('.')} ANY (subquery) is not supported in where clauses (only IN / = ANY)`,
      span,
    );
  }
  const test = n['testexpr'] as RawNode;
  if ('RowExpr' in test) {
    ctx.fail(
      ErrorCode.NotSupported,
      'a row compared with a subquery is not supported in where clauses (one column only)',
      ctx.span(firstLocation(test)),
    );
  }
  if (ctx.opts.tables === undefined) {
    ctx.fail(ErrorCode.NotSupported, 'subqueries are not supported here (no other tables are known)', span);
  }
  const left = analyzeNode(ctx, test);
  const sel = (n['subselect'] as RawNode)['SelectStmt'] as RawNode;
  const inner = innerContext(ctx, sel, span);
  const target = selectTarget(inner, sel, span);
  const selected = inner.settle(innerNode(inner, target));
  const whereRaw = sel['whereClause'] as RawNode | undefined;
  const where = whereRaw === undefined ? null : requireBool(inner, innerNode(inner, whereRaw), 'WHERE');
  const c = compare(ctx, '=', left, selected, span);
  if (c.kind !== 'compare') return ctx.fail(ErrorCode.NotSupported, 'this IN (subquery) cannot be compared', span);
  const out: SubqueryExpr = {
    kind: 'subquery',
    arg: c.left,
    sub: {
      table: { schema: innerSchema(sel), name: innerName(sel) },
      columns: innerColumns.get(inner) as Readonly<Record<string, string>>,
      select: c.right,
      where,
      referenced: [...inner.referenced],
      key: '',
    },
    operandType: c.operandType,
    negated: false,
    type: BOOL,
    span: { start: Math.min(left.span.start, span.start), end: span.end },
  };
  return out;
}

const innerColumns = new WeakMap<AnalyzeContext, Readonly<Record<string, string>>>();

function rangeVar(sel: RawNode): RawNode {
  return ((sel['fromClause'] as RawNode[])[0] as RawNode)['RangeVar'] as RawNode;
}
const innerSchema = (sel: RawNode): string => (rangeVar(sel)['schemaname'] as string | undefined) ?? 'public';
const innerName = (sel: RawNode): string => rangeVar(sel)['relname'] as string;

/** Checks the SELECT's clauses and FROM, and opens the inner scope over its table. */
function innerContext(ctx: AnalyzeContext, sel: RawNode, span: Span): AnalyzeContext {
  if (sel['op'] !== 'SETOP_NONE') {
    const op = String(sel['op']).slice(6);
    // The grammar keeps no location for the operator itself: find its keyword after the left arm's start.
    const from = ctx.span(firstLocation(sel['larg'])).start;
    const m = new RegExp(`\\b${op}\\b`, 'i').exec(ctx.clause.slice(from));
    const at =
      m === null ? ctx.span(firstLocation(sel['larg'])) : { start: from + m.index, end: from + m.index + op.length };
    ctx.fail(ErrorCode.NotSupported, `set operations (${op}) are not supported in subqueries`, at);
  }
  for (const key of Object.keys(sel)) {
    if (ALLOWED.has(key)) continue;
    const name = CLAUSE_NAMES[key] ?? key;
    const at = firstLocation(sel[key]);
    ctx.fail(ErrorCode.NotSupported, `${name} is not supported in subqueries`, at >= 0 ? ctx.span(at) : span);
  }
  const distinct = sel['distinctClause'] as RawNode[] | undefined;
  if (distinct !== undefined && distinct.some((d) => Object.keys(d).length > 0)) {
    ctx.fail(ErrorCode.NotSupported, 'DISTINCT ON is not supported in subqueries', ctx.span(firstLocation(distinct)));
  }
  const from = (sel['fromClause'] as RawNode[] | undefined) ?? [];
  if (from.length !== 1 || !('RangeVar' in (from[0] as RawNode))) {
    const at = from.length > 0 ? ctx.span(firstLocation(from[from.length > 1 ? 1 : 0])) : span;
    const what =
      from.length === 0
        ? 'a subquery must read one table (FROM table)'
        : 'JoinExpr' in (from[0] as RawNode) || from.length > 1
          ? 'joins are not supported in subqueries (one table only)'
          : 'only a table can follow FROM in a subquery';
    ctx.fail(ErrorCode.NotSupported, what, at);
  }
  const rv = rangeVar(sel);
  const at = ctx.span(rv['location']);
  if (rv['catalogname'] !== undefined) ctx.fail(ErrorCode.NotSupported, 'database-qualified table names', at);
  const schema = innerSchema(sel);
  const name = innerName(sel);
  const resolved = (ctx.opts.tables as NonNullable<typeof ctx.opts.tables>)(schema, name);
  if (resolved === undefined) {
    ctx.fail(ErrorCode.UnknownTable, `table "${schema}"."${name}" does not exist (in subquery)`, at);
  }
  const alias = (rv['alias'] as { aliasname?: string } | undefined)?.aliasname;
  // With an alias Postgres accepts only the alias as qualifier; an empty schema can never be written.
  const table = alias === undefined ? { schema, name } : { schema: '', name: alias };
  const inner = new AnalyzeContext(
    ctx.clause,
    {
      columns: resolved.types,
      params: ctx.opts.params,
      table,
      tables: ctx.opts.tables as NonNullable<typeof ctx.opts.tables>,
    },
    ctx.pos,
    ctx,
  );
  innerColumns.set(inner, resolved.columns);
  return inner;
}

/** The one selected expression; `*`, several columns, and aggregates are rejected. */
function selectTarget(ctx: AnalyzeContext, sel: RawNode, span: Span): RawNode {
  const targets = (sel['targetList'] as RawNode[] | undefined) ?? [];
  if (targets.length !== 1) {
    const at = targets.length > 1 ? ctx.span(firstLocation(targets[1])) : span;
    ctx.fail(ErrorCode.NotSupported, `a subquery must select exactly one column (it selects ${targets.length})`, at);
  }
  const val = ((targets[0] as RawNode)['ResTarget'] as RawNode)['val'] as RawNode;
  if ('ColumnRef' in val && JSON.stringify(val).includes('"A_Star"')) {
    ctx.fail(ErrorCode.NotSupported, 'a subquery must select one column, not "*"', ctx.span(firstLocation(val)));
  }
  for (const f of [...funcCalls(val), ...funcCalls(sel['whereClause'])]) {
    const names = (f['funcname'] as RawNode[]).map((x) => (x['String'] as { sval: string }).sval);
    const fn = names[names.length - 1] as string;
    if (AGGREGATES.has(fn.toLowerCase()) || f['over'] !== undefined || f['agg_star'] === true) {
      ctx.fail(
        ErrorCode.NotSupported,
        `aggregate and window functions (${fn}) are not supported in subqueries`,
        ctx.span(f['location'], fn.length),
      );
    }
  }
  return val;
}

/**
 * Analyzes a node of the inner scope. A column unknown there but known to an enclosing query makes the subquery
 * correlated: it would have to be evaluated per outer row, which is not supported.
 */
function innerNode(inner: AnalyzeContext, node: RawNode): Expr {
  try {
    return analyzeNode(inner, node);
  } catch (err) {
    if (err instanceof WhereError && err.code === ErrorCode.UnknownColumn) {
      const m = /^unknown (?:column|reference) "([^"]*)"/.exec(err.message);
      const ref = m?.[1] ?? '';
      const col = ref.split('.').pop() as string;
      for (let p = inner.parent; p !== undefined; p = p.parent) {
        const qualifies = !ref.includes('.') || ref.split('.').slice(-2, -1)[0] === p.opts.table?.name;
        if (p.opts.columns.has(col) && qualifies) {
          throw new WhereError(
            ErrorCode.NotSupported,
            `correlated subqueries are not supported: "${ref}" refers to the enclosing query's table`,
            err.position,
            err.length,
          );
        }
      }
    }
    throw err;
  }
}

/** Tables named in FROM of the clause's subqueries (nested ones too), as `[schema, name]`, before any analysis. */
export function subqueryTableNames(node: unknown, out: [string, string][] = []): [string, string][] {
  if (node === null || typeof node !== 'object') return out;
  if (Array.isArray(node)) {
    for (const x of node) subqueryTableNames(x, out);
    return out;
  }
  for (const [k, v] of Object.entries(node as RawNode)) {
    if (k === 'RangeVar') {
      const rv = v as RawNode;
      out.push([(rv['schemaname'] as string | undefined) ?? 'public', rv['relname'] as string]);
    }
    subqueryTableNames(v, out);
  }
  return out;
}
