// The reference interpreter: walks the typed tree per row, obviously following Postgres's three-valued semantics.
import { assertNever, type Expr } from '../sql/ast.js';
import { codecFor } from '../values/registry.js';
import type { Value } from '../values/types.js';
import { castImpl } from './casts.js';
import { inSet, NO_SUBQUERY_SETS, type SubquerySets } from './subquery-sets.js';
import { resolveFn } from './functions.js';
import type { RowView } from './row-view.js';
import { buildArray, comparator, itemsOf, likeMatcher, quantify, subscript } from './semantics.js';

/** A WHERE's condition list (planQuals), in order, stopping at the first condition that is not TRUE (ExecQual). */
export function interpretQuals(
  quals: readonly Expr[],
  row: RowView,
  sets: SubquerySets = NO_SUBQUERY_SETS,
): boolean | null {
  for (const q of quals) {
    const v = interpretExpr(q, row, sets) as boolean | null;
    if (v !== true) return v;
  }
  return true;
}

/**
 * Evaluates `e` on the row. AND/OR evaluate left to right and stop at a deciding operand (as Postgres usually
 * does), so an error in an operand after a deciding one is not raised; the compiler follows the same order.
 */
export function interpretExpr(e: Expr, row: RowView, sets: SubquerySets = NO_SUBQUERY_SETS): Value | null {
  const ev = (x: Expr): Value | null => interpretExpr(x, row, sets);
  switch (e.kind) {
    case 'const':
      return e.value;
    case 'column':
      return row.get(row.layout.indexOf(e.name));
    case 'compare': {
      // Strict operators evaluate every argument before the NULL check (so an error on the right is raised).
      const l = ev(e.left);
      const r = ev(e.right);
      if (l === null || r === null) return null;
      return comparator(e.op, e.operandType)(l, r);
    }
    case 'call': {
      const args = e.args.map(ev);
      if (e.strict && args.some((a) => a === null)) return null;
      return resolveFn(
        e.fn,
        e.args.map((a) => a.type),
        e.type,
      )(...args);
    }
    case 'cast': {
      const v = ev(e.arg);
      return v === null ? null : castImpl(e.arg.type, e.type)(v);
    }
    case 'and':
    case 'or':
      return junction(e.args, e.kind === 'or', ev);
    case 'not': {
      const v = ev(e.arg);
      return v === null ? null : !v;
    }
    case 'nulltest':
      return (ev(e.arg) === null) !== e.negated;
    case 'booltest': {
      const v = ev(e.arg);
      const r = e.test === 'true' ? v === true : e.test === 'false' ? v === false : v === null;
      return r !== e.negated;
    }
    case 'distinct': {
      const l = ev(e.left);
      const r = ev(e.right);
      const same = l === null || r === null ? l === r : codecFor(e.operandType).equals(l, r);
      return e.negated ? same : !same;
    }
    case 'in':
      return inList(e, ev);
    case 'quantified':
      return quantified(e, ev);
    case 'like':
      return like(e, ev);
    case 'coalesce':
      for (const a of e.args) {
        const v = ev(a);
        if (v !== null) return v;
      }
      return null;
    case 'minmax':
      return minmax(e, ev);
    case 'nullif': {
      const l = ev(e.left);
      const r = ev(e.right);
      if (l !== null && r !== null && codecFor(e.operandType).equals(l, r)) return null;
      return l === null ? null : e.left.type === e.type ? l : castImpl(e.left.type, e.type)(l);
    }
    case 'array':
      return buildArray(e.elems.map(ev), e.elems.length > 0 && (e.elems[0] as Expr).type.array);
    case 'subscript':
      return subscriptOf(e, ev);
    case 'subquery':
      return inSet(sets.get(e.sub.key), () => ev(e.arg), codecFor(e.operandType), e.negated);
    default:
      return assertNever(e);
  }
}

type Ev = (x: Expr) => Value | null;

/** AND (stops at FALSE) / OR (stops at TRUE), three-valued, left to right. */
function junction(args: readonly Expr[], isOr: boolean, ev: Ev): boolean | null {
  let sawNull = false;
  for (const a of args) {
    const v = ev(a);
    if (v === isOr) return isOr;
    if (v === null) sawNull = true;
  }
  return sawNull ? null : !isOr;
}

function inList(e: Extract<Expr, { kind: 'in' }>, ev: Ev): boolean | null {
  const x = ev(e.arg);
  const eq = codecFor(e.operandType).equals;
  let result: boolean | null = false;
  if (x === null) {
    // Postgres still evaluates every item (each `x = item` is a strict operator).
    for (const item of e.items) ev(item);
    result = null;
  } else {
    for (const item of e.items) {
      const v = ev(item);
      if (v === null) result = null;
      else if (eq(x, v)) {
        result = true;
        break;
      }
    }
  }
  return result === null ? null : result !== e.negated;
}

function quantified(e: Extract<Expr, { kind: 'quantified' }>, ev: Ev): boolean | null {
  const x = ev(e.left);
  const a = ev(e.right);
  if (a === null) return null;
  if (e.op === 'like' || e.op === 'ilike' || e.op === 'notlike' || e.op === 'notilike') {
    const ci = e.op === 'ilike' || e.op === 'notilike';
    const neg = e.op.startsWith('not');
    return quantify(x, itemsOf(a), (s, p) => likeMatcher(p as string, null, ci)(s as string) !== neg, e.all);
  }
  return quantify(x, itemsOf(a), comparator(e.op, e.operandType), e.all);
}

function like(e: Extract<Expr, { kind: 'like' }>, ev: Ev): boolean | null {
  const s = ev(e.arg);
  const p = ev(e.pattern);
  const esc = e.escape === null ? null : ev(e.escape);
  if (s === null || p === null || (e.escape !== null && esc === null)) return null;
  return likeMatcher(p as string, esc as string | null, e.caseInsensitive)(s as string) !== e.negated;
}

function minmax(e: Extract<Expr, { kind: 'minmax' }>, ev: Ev): Value | null {
  const cmp = codecFor(e.type).compare as (a: Value, b: Value) => number;
  let best: Value | null = null;
  for (const a of e.args) {
    const v = ev(a);
    if (v === null) continue;
    if (best === null || (e.op === 'greatest' ? cmp(v, best) > 0 : cmp(v, best) < 0)) best = v;
  }
  return best;
}

/** Postgres evaluates the container first and skips the subscripts when it is NULL. */
function subscriptOf(e: Extract<Expr, { kind: 'subscript' }>, ev: Ev): Value | null {
  const a = ev(e.arg);
  if (a === null) return null;
  const lowers = e.indices.map((i) => (i.lower === null ? null : (ev(i.lower) as number | null)));
  const uppers = e.indices.map((i) => (i.upper === null ? null : (ev(i.upper) as number | null)));
  // A NULL subscript gives NULL; an omitted slice bound (null expression) means "to the end".
  if (e.indices.some((i, k) => (i.lower !== null && lowers[k] === null) || (i.upper !== null && uppers[k] === null)))
    return null;
  return subscript(a, lowers, uppers, e.slice);
}
