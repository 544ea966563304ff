// The conditions Postgres's planner runs for `SELECT … FROM t WHERE <clause>` on a table scan, in its order.
import { assertNever, childrenOf, mapChildren, type CompareExpr, type ConstExpr, type Expr } from '../sql/ast.js';
import { renderSql } from '../sql/render.js';
import { pgType } from '../values/types.js';
import { hasColumn } from './normalize.js';
import { interpretExpr } from './interpret.js';
import { mergeableEquality, qualCost } from './qual-cost.js';
import { ColumnLayout, RowView } from './row-view.js';

/**
 * Why this exists: Postgres evaluates a WHERE's top-level conditions in order of estimated cost and stops at the
 * first one that is not TRUE (ExecQual), so a condition that would raise is never reached on rows an earlier,
 * cheaper one rejects. To raise on exactly the rows Postgres raises on, we rebuild the list Postgres's planner
 * builds from the same normalized tree:
 *
 * 1. `x = true` → `x`, `x = false` → `NOT x` (simplify_boolean_equality, which changes the cost).
 * 2. canonicalize_qual: constant NULL/FALSE make an AND FALSE and vanish from an OR (a WHERE treats NULL as FALSE),
 *    and conditions common to every arm of an OR are pulled out of it (`(A AND B) OR (A AND C)` → `A AND (B OR C)`).
 * 3. The top-level AND becomes the condition list; equalities go into equivalence classes and are regenerated after
 *    the other conditions (generate_base_implied_equalities), `a = b AND b = 5` giving `a = 5, b = 5`.
 * 4. order_qual_clauses: a stable sort by cost_qual_eval's per-row cost.
 *
 * Inside each condition AND/OR evaluate left to right and stop at a deciding operand, as the executor does. When no
 * condition can raise, the order is not observable and the clause's own is kept.
 * An empty list is TRUE; a list `[FALSE]` is a clause Postgres answers without reading a row.
 */
export function planQuals(e: Expr): readonly Expr[] {
  const canonical = canonicalize(simplifyBoolEquality(e));
  // A constant clause stays itself (a NULL WHERE is NULL); only inside AND/OR does a WHERE read NULL as FALSE.
  if (canonical.kind === 'const') return canonical.value === true ? [] : [canonical];
  const list = canonical.kind === 'and' ? canonical.args : [canonical];
  // The order is observable only through errors: when no condition can raise, the clause's own order is kept (it is
  // usually the cheaper one here, where Postgres's costs say nothing about our decoding or raw-text fast paths).
  if (!list.some(mayRaise)) return list;
  const conditions = withEquivalences(list);
  return sortByCost(conditions);
}

/** Implicit casts that never fail: widenings within a type family and relabelings among text types. */
const SAFE_CASTS = new Set([
  'int2>int4',
  'int2>int8',
  'int4>int8',
  'int2>numeric',
  'int4>numeric',
  'int8>numeric',
  'int2>float8',
  'int4>float8',
  'int2>float4',
  'float4>float8',
  'varchar>text',
  'bpchar>text',
  'name>text',
  'text>varchar',
]);

/**
 * Whether evaluating `e` can raise an error on some row (conservative). Comparisons, IN lists, null and boolean tests,
 * AND/OR/NOT, COALESCE, GREATEST/LEAST and NULLIF raise only through their operands; calls (arithmetic overflows,
 * division by zero), explicit and narrowing casts, subscripts, ARRAY[…] and patterns read from columns may.
 */
export function mayRaise(e: Expr): boolean {
  switch (e.kind) {
    case 'const':
    case 'column':
      return false;
    case 'call':
    case 'subscript':
    case 'array':
      return true;
    case 'cast': {
      const safe =
        e.implicit &&
        !e.arg.type.array &&
        !e.type.array &&
        e.type.typmod < 0 &&
        SAFE_CASTS.has(`${e.arg.type.scalar}>${e.type.scalar}`);
      return !safe || mayRaise(e.arg);
    }
    case 'like':
      return e.pattern.kind !== 'const' || (e.escape !== null && e.escape.kind !== 'const') || mayRaise(e.arg);
    case 'quantified':
      return e.op !== '=' && e.op !== '<>' && e.op !== '<' && e.op !== '<=' && e.op !== '>' && e.op !== '>='
        ? true
        : mayRaise(e.left) || mayRaise(e.right);
    case 'compare':
    case 'distinct':
    case 'nullif':
    case 'in':
    case 'subquery':
    case 'and':
    case 'or':
    case 'not':
    case 'nulltest':
    case 'booltest':
    case 'coalesce':
    case 'minmax':
      return childrenOf(e).some(mayRaise);
    default:
      return assertNever(e);
  }
}

const BOOL = pgType('bool');
const EMPTY_ROW = new RowView(new ColumnLayout([]));

function boolConst(value: boolean, at: Expr): ConstExpr {
  return { kind: 'const', type: BOOL, value, span: at.span };
}

const keys = new WeakMap<Expr, string>();

/** Structural identity of a subtree (Postgres's equal(), which ignores locations): its canonical SQL. */
function keyOf(e: Expr): string {
  let k = keys.get(e);
  if (k === undefined) {
    k = renderSql(e);
    keys.set(e, k);
  }
  return k;
}

function simplifyBoolEquality(e: Expr): Expr {
  if (e.kind === 'const' || e.kind === 'column') return e;
  const out = mapChildren(e, simplifyBoolEquality);
  if (out.kind !== 'compare' || (out.op !== '=' && out.op !== '<>') || out.operandType.scalar !== 'bool') return out;
  if (out.operandType.array) return out;
  const [c, other] = out.right.kind === 'const' ? [out.right, out.left] : [out.left, out.right];
  if (c.kind !== 'const' || c.value === null || other.kind === 'const') return out;
  const keep = (c.value === true) === (out.op === '=');
  return keep ? other : { kind: 'not', arg: other, type: BOOL, span: out.span };
}

/** find_duplicate_ors in WHERE mode, with AND/OR flattening, over the AND/OR skeleton of the clause. */
function canonicalize(e: Expr): Expr {
  if (e.kind === 'and') {
    const list: Expr[] = [];
    for (const a of e.args) {
      const c = canonicalize(a);
      if (c.kind === 'const') {
        if (c.value === true) continue;
        return boolConst(false, e);
      }
      if (c.kind === 'and') list.push(...c.args);
      else list.push(c);
    }
    if (list.length === 0) return boolConst(true, e);
    return list.length === 1 ? (list[0] as Expr) : { ...e, args: list };
  }
  if (e.kind === 'or') {
    const list: Expr[] = [];
    for (const a of e.args) {
      const c = canonicalize(a);
      if (c.kind === 'const') {
        if (c.value === true) return c;
        continue;
      }
      if (c.kind === 'or') list.push(...c.args);
      else list.push(c);
    }
    return pullCommonConditions(list, e);
  }
  return e;
}

const conjuncts = (e: Expr): readonly Expr[] => (e.kind === 'and' ? e.args : [e]);

/** process_duplicate_ors: conditions present in every arm move out of the OR, ahead of what remains of it. */
function pullCommonConditions(arms: readonly Expr[], or: Expr): Expr {
  if (arms.length === 0) return boolConst(false, or);
  if (arms.length === 1) return arms[0] as Expr;
  // The shortest AND arm is the reference (a non-AND arm is a one-condition AND and wins at once).
  let reference: readonly Expr[] | undefined;
  for (const arm of arms) {
    if (arm.kind !== 'and') {
      reference = [arm];
      break;
    }
    if (reference === undefined || arm.args.length < reference.length) reference = arm.args;
  }
  const winners: Expr[] = [];
  const seen = new Set<string>();
  for (const r of reference ?? []) {
    const k = keyOf(r);
    if (seen.has(k)) continue;
    seen.add(k);
    if (arms.every((arm) => conjuncts(arm).some((c) => keyOf(c) === k))) winners.push(r);
  }
  if (winners.length === 0) return { kind: 'or', args: arms, type: BOOL, span: or.span };
  const won = new Set(winners.map(keyOf));
  const rest: Expr[] = [];
  for (const arm of arms) {
    const left = conjuncts(arm).filter((c) => !won.has(keyOf(c)));
    // (A AND B) OR A is just A: the other arms' extra conditions do not matter.
    if (left.length === 0) {
      rest.length = 0;
      break;
    }
    rest.push(left.length === 1 ? (left[0] as Expr) : { kind: 'and', args: left, type: BOOL, span: arm.span });
  }
  const out = [...winners];
  if (rest.length === 1) out.push(rest[0] as Expr);
  else if (rest.length > 1)
    out.push({ kind: 'or', args: rest.flatMap((x) => (x.kind === 'or' ? x.args : [x])), type: BOOL, span: or.span });
  if (out.length === 1) return out[0] as Expr;
  return { kind: 'and', args: out.flatMap(conjuncts), type: BOOL, span: or.span };
}

interface EquivalenceClass {
  readonly members: Expr[];
  readonly keys: Set<string>;
  sources: Expr[];
}

/** An equality Postgres files into an equivalence class rather than keeping in place. */
function isEquivalence(e: Expr): e is CompareExpr {
  return (
    e.kind === 'compare' &&
    e.op === '=' &&
    !e.operandType.array &&
    mergeableEquality(e.operandType) &&
    hasColumn(e) &&
    keyOf(e.left) !== keyOf(e.right)
  );
}

/** Other conditions in order, then each equivalence class's regenerated equalities, class by class. */
function withEquivalences(list: readonly Expr[]): Expr[] {
  const plain: Expr[] = [];
  const classes: EquivalenceClass[] = [];
  const find = (k: string): EquivalenceClass | undefined => classes.find((c) => c.keys.has(k));
  const join = (ec: EquivalenceClass, m: Expr): void => {
    ec.members.push(m);
    ec.keys.add(keyOf(m));
  };
  for (const q of list) {
    if (!isEquivalence(q)) {
      plain.push(q);
      continue;
    }
    const a = find(keyOf(q.left));
    const b = find(keyOf(q.right));
    if (a !== undefined && b !== undefined && a !== b) {
      for (const m of b.members) join(a, m);
      a.sources = [...a.sources, ...b.sources, q];
      classes.splice(classes.indexOf(b), 1);
    } else if (a !== undefined) {
      if (b === undefined) join(a, q.right);
      a.sources.push(q);
    } else if (b !== undefined) {
      join(b, q.left);
      b.sources.push(q);
    } else {
      classes.push({ members: [q.left, q.right], keys: new Set([keyOf(q.left), keyOf(q.right)]), sources: [q] });
    }
  }
  const out = plain;
  for (const ec of classes) {
    const generated = regenerate(ec);
    if (generated === undefined) return [boolConst(false, list[0] as Expr)];
    out.push(...generated);
  }
  return out;
}

/** The equalities Postgres derives from one class; undefined when two of its constants differ (no row matches). */
function regenerate(ec: EquivalenceClass): Expr[] | undefined {
  const source = ec.sources[0] as CompareExpr;
  const eq = (l: Expr, r: Expr): CompareExpr => ({ ...source, left: l, right: r });
  const constant = ec.members.find((m) => m.kind === 'const');
  if (constant === undefined) {
    const out: Expr[] = [];
    for (let i = 1; i < ec.members.length; i++) out.push(eq(ec.members[i - 1] as Expr, ec.members[i] as Expr));
    return out;
  }
  if (ec.members.length === 2 && ec.sources.length === 1) return [source];
  const out: Expr[] = [];
  for (const m of ec.members) {
    if (m === constant) continue;
    const c = eq(m, constant);
    if (m.kind === 'const') {
      // A comparison of two constants is decided at plan time; anything but TRUE empties the result.
      if (interpretExpr(c, EMPTY_ROW) !== true) return undefined;
      continue;
    }
    out.push(c);
  }
  return out;
}

/** order_qual_clauses: insertion sort by per-row cost, stable for equal costs. */
function sortByCost(list: readonly Expr[]): Expr[] {
  const items = list.map((e) => ({ e, cost: qualCost(e) }));
  for (let i = 1; i < items.length; i++) {
    const item = items[i] as { e: Expr; cost: number };
    let j = i;
    for (; j > 0 && (items[j - 1] as { cost: number }).cost > item.cost; j--) items[j] = items[j - 1] as typeof item;
    items[j] = item;
  }
  return items.map((x) => x.e);
}
