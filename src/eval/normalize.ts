// Constant folding and normalisation of a typed tree: folded constants, NOT pushed inward, col-op-const order.
import { ErrorCode, ValueError, WhereError } from '../errors/index.js';
import { childrenOf, mapChildren, type CompareOp, type ConstExpr, type Expr, type SubqueryExpr } from '../sql/ast.js';
import { subqueryKey } from '../sql/render.js';
import { pgType } from '../values/types.js';
import { TooExpensiveError } from '../values/work-budget.js';
import { interpretExpr } from './interpret.js';
import { ColumnLayout, RowView } from './row-view.js';
import { likeEndsWithEscape } from '../values/like.js';
import { likeMatcher } from './semantics.js';

const BOOL = pgType('bool');
const EMPTY_ROW = new RowView(new ColumnLayout([]));

const NEGATE: Record<CompareOp, CompareOp> = { '=': '<>', '<>': '=', '<': '>=', '<=': '>', '>': '<=', '>=': '<' };
const MIRROR: Record<CompareOp, CompareOp> = { '=': '=', '<>': '<>', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

const hasColumnMemo = new WeakMap<Expr, boolean>();

/** Memoised per node: folding asks it at every level, which would be quadratic on deep trees. */
export function hasColumn(e: Expr): boolean {
  // A subquery's value changes with its table: never a constant, whatever its argument.
  if (e.kind === 'column' || e.kind === 'subquery') return true;
  if (e.kind === 'const') return false;
  let r = hasColumnMemo.get(e);
  if (r === undefined) {
    r = children(e).some(hasColumn);
    hasColumnMemo.set(e, r);
  }
  return r;
}

const children = childrenOf;

const DATETIME = new Set(['date', 'time', 'timestamp', 'timestamptz', 'interval']);

/**
 * Postgres folds only immutable expressions at plan time. Date/time text conversions (DateStyle, TimeZone) and
 * concat() are stable, so an error in them surfaces only where a row evaluates them — or never, when a strict
 * parent has a NULL constant argument or AND/OR is decided first. Such subtrees are left unfolded when they fail.
 */
const stableMemo = new WeakMap<Expr, boolean>();

function isStable(e: Expr): boolean {
  let r = stableMemo.get(e);
  if (r === undefined) {
    r = isStableNode(e) || children(e).some(isStable);
    stableMemo.set(e, r);
  }
  return r;
}

function isStableNode(e: Expr): boolean {
  if (e.kind === 'call' && e.fn === 'concat') return true;
  if (e.kind === 'cast' && !e.arg.type.array && !e.type.array) {
    const f = e.arg.type.scalar;
    const t = e.type.scalar;
    const textual = (s: string): boolean =>
      s === 'text' || s === 'varchar' || s === 'bpchar' || s === 'name' || s === 'unknown';
    if ((DATETIME.has(f) && textual(t)) || (DATETIME.has(t) && textual(f))) return true;
    if ((f === 'timestamptz' && DATETIME.has(t)) || (t === 'timestamptz' && DATETIME.has(f))) return true;
  }
  return false;
}

function foldConstant(e: Expr): Expr {
  try {
    const value = interpretExpr(e, EMPTY_ROW);
    return { kind: 'const', type: e.type, value, span: e.span };
  } catch (err) {
    if (err instanceof ValueError) {
      if (isStable(e)) return e; // raised per row at run time, as Postgres does (see isStable)
      throw new WhereError(ErrorCode.ConstantError, err.message, e.span.start, e.span.end - e.span.start);
    }
    if (err instanceof TooExpensiveError) {
      throw new WhereError(ErrorCode.TooExpensive, err.message, e.span.start, e.span.end - e.span.start);
    }
    throw err;
  }
}

/** Folds every column-free subtree to a constant; an error there rejects the clause (as Postgres would). */
export function fold(e: Expr, keepStable = false): Expr {
  if (e.kind === 'const' || e.kind === 'column') return e;
  if (e.kind === 'subquery') return foldSubquery(e, keepStable);
  const sub = (c: Expr): Expr => fold(c, keepStable);
  // After a stable failure, stable nodes stay unfolded like columns (Postgres never folds them at plan time).
  if (keepStable && isStableNode(e)) {
    const out = mapChildren(e, sub);
    // evaluate_function: a strict function with a NULL constant input is NULL, whatever its volatility.
    if (
      (out.kind === 'cast' || (out.kind === 'call' && out.strict)) &&
      children(out).some((c) => c.kind === 'const' && c.value === null)
    ) {
      return { kind: 'const', type: out.type, value: null, span: out.span };
    }
    return out;
  }
  if (e.kind === 'and' || e.kind === 'or') {
    // Postgres folds AND/OR operands left to right and stops at a constant FALSE (AND) / TRUE (OR) without folding
    // the rest (simplify_and_arguments), so `false AND 1/0 = 1` is accepted while `1/0 = 1 AND false` is not.
    const decider = e.kind === 'or';
    const args: Expr[] = [];
    for (const a of e.args) {
      const f = sub(a);
      if (f.kind === 'const' && f.value === decider) return f;
      args.push(f);
    }
    return { ...e, args };
  }
  if (!hasColumn(e) && !(keepStable && isStable(e))) {
    const f = foldConstant(e);
    if (f.kind === 'const') return f;
    // A failing stable subtree: fold structurally so strict-NULL and AND/OR rules can still decide the parent.
    return fold(e, true);
  }
  if (e.kind === 'coalesce') {
    // As Postgres: NULL constants are dropped, and a non-NULL constant ends the list (later arguments are not folded).
    const args: Expr[] = [];
    for (const a of e.args) {
      const f = sub(a);
      if (f.kind === 'const' && f.value === null) continue;
      if (f.kind === 'const' && args.length === 0) return f;
      args.push(f);
      if (f.kind === 'const') break;
    }
    if (args.length === 0) return { kind: 'const', type: e.type, value: null, span: e.span };
    return args.length === 1 ? (args[0] as Expr) : { ...e, args };
  }
  if (e.kind === 'in' && e.items.length === 1 && e.items[0]?.kind === 'const' && e.items[0].value === null) {
    // `x IN (NULL)` is parsed as the strict `x = NULL`, which the planner folds to NULL without evaluating x.
    return { kind: 'const', type: e.type, value: null, span: e.span };
  }
  const out = mapChildren(e, sub);
  // NULLIF(NULL, x) is NULL whatever x is; the planner folds it without evaluating x.
  if (out.kind === 'nullif' && out.left.kind === 'const' && out.left.value === null) {
    return { kind: 'const', type: out.type, value: null, span: out.span };
  }
  // Postgres's planner turns a strict operator or function with a NULL constant argument into NULL without evaluating
  // its other arguments (evaluate_function), so `(f8 ^ f8) * NULL::interval` is NULL even where f8 ^ f8 overflows.
  const strict = out.kind === 'compare' || out.kind === 'like' || (out.kind === 'call' && out.strict);
  if (strict && children(out).some((c) => c.kind === 'const' && c.value === null)) {
    const c: ConstExpr = { kind: 'const', type: out.type, value: null, span: out.span };
    return c;
  }
  // Children may have folded to constants (a cast of such a NULL): fold the node too, as Postgres would.
  if (!hasColumn(out) && !(keepStable && isStable(out))) {
    const f = foldConstant(out);
    if (f.kind === 'const') return f;
  }
  if (out.kind === 'like' && out.pattern.kind === 'const' && (out.escape === null || out.escape.kind === 'const')) {
    // A constant pattern is validated at shape creation (trailing escape, bad ESCAPE string).
    const p = out.pattern.value as string | null;
    const esc = out.escape === null ? null : (out.escape.value as string | null);
    if (p !== null && (out.escape === null || esc !== null)) {
      try {
        if (likeEndsWithEscape(p, esc)) {
          // Postgres raises this only for rows that reach the trailing escape; the language rejects it up front.
          throw new ValueError(ErrorCode.InvalidLiteral, 'LIKE pattern must not end with escape character');
        }
        likeMatcher(p, esc, out.caseInsensitive);
      } catch (err) {
        if (err instanceof ValueError)
          throw new WhereError(ErrorCode.InvalidLiteral, err.message, out.pattern.span.start);
        throw err;
      }
    }
  }
  return out;
}

/**
 * A subquery's argument is folded in the enclosing scope; its own select and where are folded and normalized as a
 * clause of their own, and its key (the set's identity) is rendered from the result.
 */
function foldSubquery(e: SubqueryExpr, keepStable: boolean): Expr {
  const arg = fold(e.arg, keepStable);
  const where = e.sub.where === null ? null : normalize(fold(e.sub.where));
  const sub0 = {
    ...e.sub,
    select: fold(e.sub.select),
    where: where?.kind === 'const' && where.value === true ? null : where,
  };
  const sub = { ...sub0, key: subqueryKey(sub0) };
  return { ...e, arg, sub };
}

/** NOT pushed inward (exact under three-valued logic), AND/OR flattened, `const op col` flipped to `col op const`. */
export function normalize(e: Expr): Expr {
  switch (e.kind) {
    case 'not':
      return negate(normalize(e.arg));
    case 'and':
    case 'or': {
      const args: Expr[] = [];
      for (const a of e.args.map(normalize)) {
        if (a.kind === e.kind) args.push(...a.args);
        else args.push(a);
      }
      // TRUE in AND / FALSE in OR is neutral; FALSE in AND / TRUE in OR decides.
      const neutral = e.kind === 'or' ? false : true;
      const kept = args.filter((a) => !(a.kind === 'const' && a.value === neutral));
      const decider = kept.find((a) => a.kind === 'const' && a.value === !neutral);
      if (decider) return { kind: 'const', type: BOOL, value: !neutral, span: e.span };
      if (kept.length === 0) return { kind: 'const', type: BOOL, value: neutral, span: e.span };
      if (kept.length === 1) return kept[0] as Expr;
      return { ...e, args: kept };
    }
    case 'compare': {
      const c = mapChildren(e, normalize) as typeof e;
      if (c.left.kind === 'const' && c.right.kind !== 'const')
        return { ...c, op: MIRROR[c.op], left: c.right, right: c.left };
      return c;
    }
    default:
      return mapChildren(e, normalize);
  }
}

function negate(e: Expr): Expr {
  switch (e.kind) {
    case 'const':
      return { ...e, value: e.value === null ? null : !e.value };
    case 'not':
      return e.arg;
    case 'compare':
      return { ...e, op: NEGATE[e.op] };
    case 'and':
      return normalize({ kind: 'or', args: e.args.map(negate), type: BOOL, span: e.span });
    case 'or':
      return normalize({ kind: 'and', args: e.args.map(negate), type: BOOL, span: e.span });
    case 'nulltest':
    case 'in':
    case 'like':
    case 'distinct':
    case 'subquery':
      return { ...e, negated: !e.negated };
    case 'booltest':
      return { ...e, negated: !e.negated };
    case 'quantified': {
      if (e.op === 'like' || e.op === 'ilike' || e.op === 'notlike' || e.op === 'notilike') {
        const flipped = e.op.startsWith('not') ? (e.op.slice(3) as 'like') : (`not${e.op}` as 'notlike');
        return { ...e, op: flipped, all: !e.all };
      }
      return { ...e, op: NEGATE[e.op], all: !e.all };
    }
    default:
      return { kind: 'not', arg: e, type: BOOL, span: e.span };
  }
}
