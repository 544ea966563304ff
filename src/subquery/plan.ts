// How a clause with subqueries is routed: its `IN (SELECT …)` conditions, and the relaxed clause the router indexes.
import { ErrorCode, WhereError } from '../errors/index.js';
import { childrenOf, mapChildren, subqueriesOf, type Expr, type Subquery, type SubqueryExpr } from '../sql/ast.js';
import { renderSql } from '../sql/render.js';
import { pgType } from '../values/types.js';

const BOOL = pgType('bool');

/** One outer-level `probe [NOT] IN (SELECT …)` condition of a shape's clause. */
export interface SubqueryAtom {
  /** The outer expression compared (cast to the comparison type); its SQL identifies the value index. */
  readonly probe: Expr;
  readonly probeSql: string;
  readonly sub: Subquery;
  /** After NOT was pushed inward: a `NOT IN` condition (the set's values move rows out rather than in). */
  readonly negated: boolean;
}

export interface SubqueryPlan {
  readonly atoms: readonly SubqueryAtom[];
  /**
   * The clause with each `IN` condition replaced by FALSE and each `NOT IN` by TRUE: TRUE for every row the clause
   * may hold for without one of its `IN` values (AND/OR/NOT are monotone once NOT is pushed to the conditions), so
   * router hits on it plus value-index hits are every candidate. `null`: the relaxed clause is FALSE (no router entry).
   */
  readonly routerWhere: string | null;
  /** Every distinct subquery, nested ones before those whose WHERE uses them. */
  readonly subqueries: readonly Subquery[];
}

/**
 * Plans a normalized clause. A subquery is accepted only as a condition combined by AND/OR (NOT is already pushed
 * into `NOT IN`): under any other operator (`(x IN (SELECT …)) IS NULL`, `= true`, COALESCE) its rows could not be
 * found by value, and the clause is rejected.
 */
export function planSubqueries(expr: Expr): SubqueryPlan {
  const atoms: SubqueryAtom[] = [];
  const relaxed = relax(expr, atoms);
  const subqueries: Subquery[] = [];
  const seen = new Set<string>();
  const visit = (sub: Subquery): void => {
    if (seen.has(sub.key)) return;
    if (sub.where !== null) for (const n of subqueriesOf(sub.where)) visit(n.sub);
    seen.add(sub.key);
    subqueries.push(sub);
  };
  for (const a of atoms) visit(a.sub);
  const routerWhere = relaxed.kind === 'const' && relaxed.value !== true ? null : renderSql(relaxed);
  return { atoms, routerWhere, subqueries };
}

function relax(e: Expr, atoms: SubqueryAtom[]): Expr {
  if (e.kind === 'subquery') {
    atoms.push({ probe: e.arg, probeSql: renderSql(e.arg), sub: e.sub, negated: e.negated });
    return { kind: 'const', type: BOOL, value: e.negated, span: e.span };
  }
  if (e.kind === 'and' || e.kind === 'or') return simplify({ ...e, args: e.args.map((a) => relax(a, atoms)) });
  const nested = childrenOf(e).some(hasSubquery);
  if (nested) {
    const inner = subqueriesOf(e)[0] as SubqueryExpr;
    throw new WhereError(
      ErrorCode.NotSupported,
      'a subquery can only be a condition combined with AND, OR and NOT (not an operand of another expression)',
      inner.span.start,
      inner.span.end - inner.span.start,
    );
  }
  return mapChildren(e, (x) => x);
}

function hasSubquery(e: Expr): boolean {
  return subqueriesOf(e).length > 0;
}

/** Constant operands of AND/OR decided or dropped, as normalize does. */
function simplify(e: Extract<Expr, { kind: 'and' | 'or' }>): Expr {
  const neutral = e.kind === 'and';
  const kept: Expr[] = [];
  for (const a of e.args) {
    if (a.kind === 'const' && a.value === !neutral) return { kind: 'const', type: BOOL, value: !neutral, span: e.span };
    if (!(a.kind === 'const' && a.value === neutral)) kept.push(a);
  }
  if (kept.length === 0) return { kind: 'const', type: BOOL, value: neutral, span: e.span };
  return kept.length === 1 ? (kept[0] as Expr) : { ...e, args: kept };
}
