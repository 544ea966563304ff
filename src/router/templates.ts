// Shape families: clauses that differ only in `$n` values share one analysed tree, re-instantiated per shape.
//
// Parsing and analysing a clause costs hundreds of µs; the seed's shapes are mostly one clause text with different
// parameters (`user_id = $1`). The first shape of a text is compiled fully; later ones substitute their parameter
// values into the constants that came from `$n` (found by their span), parsed with the constant's type exactly as
// the analyser parses an untyped literal. Any doubt (a parameter folded into an expression, a value-dependent
// normalisation, a typmod, an unparsable value) falls back to the full compile, which also produces the errors.
import type { ConstExpr, Expr, LikeExpr } from '../sql/ast.js';
import { likeEndsWithEscape } from '../values/like.js';
import { codecFor } from '../values/registry.js';
import type { ArrayValue, PgType, Value } from '../values/types.js';
import type { Access } from './atoms.js';
import type { DisjunctPlan, ShapePlan } from './decompose.js';
import { childrenOf, mapChildren } from '../sql/ast.js';

export interface Template {
  readonly expr: Expr;
  readonly slots: readonly { readonly node: ConstExpr; readonly param: number; readonly like?: LikeExpr }[];
  /**
   * When the whole clause is one indexable conjunct whose only constant is the parameter (`user_id = $1`,
   * `tags @> $1`), its plan does not depend on statistics: later shapes skip tree building and planning.
   */
  fast?: { readonly access: Access; readonly param: number; readonly type: PgType } | null;
}

/** Derives the fast path from the plan of the template's own tree (its first shape). */
export function deriveFast(t: Template, plan: ShapePlan): Exclude<Template['fast'], undefined> {
  const slot = t.slots[0];
  if (t.slots.length !== 1 || slot === undefined || plan.disjuncts.length !== 1) return null;
  const d = plan.disjuncts[0] as DisjunctPlan;
  const a = d.access;
  if (d.residual !== null || a === null || a.consumed.length !== 1 || a.consumed[0] !== t.expr) return null;
  const atom = t.expr;
  if (a.kind === 'eq' && atom.kind === 'compare' && atom.right === slot.node)
    return { access: a, param: slot.param, type: slot.node.type };
  if (a.kind === 'inclusion' && a.op === 'contains' && atom.kind === 'call' && atom.args[1] === slot.node) {
    return { access: a, param: slot.param, type: slot.node.type };
  }
  return null;
}

/** The access of a fast-path family for other parameter values, or null (fall back to the general path). */
export function fastAccess(t: Template, params: Readonly<Record<string, string>> | undefined): Access | null {
  const f = t.fast;
  if (f === undefined || f === null) return null;
  const text = paramText(params, f.param);
  if (text === undefined) return null;
  let v: Value;
  try {
    v = codecFor(f.type).parse(text);
  } catch {
    return null;
  }
  const a = f.access;
  if (a.kind === 'eq') return { ...a, keys: [v] };
  if (a.kind !== 'inclusion') return null;
  // `@>` is exact (no residual) only with at most one distinct non-NULL element and no NULL element.
  const items = (v as ArrayValue).items;
  if (items.length > 1 || items.some((x) => x === null)) return null;
  return { ...a, elems: items as Value[] };
}

const SAFE_SCALARS = new Set([
  'int2',
  'int4',
  'int8',
  'numeric',
  'float4',
  'float8',
  'text',
  'varchar',
  'name',
  'uuid',
  'bool',
  'date',
  'timestamp',
  'timestamptz',
]);
const PARAM_SPAN = /^\$(\d+)$/;

function safeType(t: PgType): boolean {
  return t.typmod === -1 && SAFE_SCALARS.has(t.scalar);
}

/** Builds the template of a freshly compiled clause, or null when its parameters cannot be substituted safely. */
export function makeTemplate(
  where: string,
  expr: Expr,
  params: Readonly<Record<string, string>> | undefined,
): Template | null {
  const slots: { node: ConstExpr; param: number; like?: LikeExpr }[] = [];
  let ok = true;
  const visit = (e: Expr, parent: Expr | null): void => {
    if (!ok) return;
    if (e.kind === 'const') {
      const m = PARAM_SPAN.exec(where.slice(e.span.start, e.span.end));
      if (m === null) return;
      // A LIKE pattern only gets validated by normalisation (never rewritten), so it may be a slot too.
      const likePattern =
        parent !== null &&
        parent.kind === 'like' &&
        parent.pattern === e &&
        (parent.escape === null || parent.escape.kind === 'const');
      const parentOk =
        parent !== null &&
        (likePattern ||
          parent.kind === 'compare' ||
          parent.kind === 'in' ||
          parent.kind === 'quantified' ||
          (parent.kind === 'call' && parent.fn.startsWith('array_')));
      if (!parentOk || e.value === null || !safeType(e.type)) {
        ok = false;
        return;
      }
      const param = Number(m[1]);
      const text = paramText(params, param);
      // The substitution must reproduce what the analyser produced for this shape's own values.
      try {
        const codec = codecFor(e.type);
        if (text === undefined || codec.key(codec.parse(text)) !== codec.key(e.value)) ok = false;
      } catch {
        ok = false;
      }
      slots.push(likePattern ? { node: e, param, like: parent } : { node: e, param });
      return;
    }
    for (const c of childrenOf(e)) visit(c, e);
  };
  visit(expr, null);
  if (!ok) return null;
  // Every `$n` of the text must be one slot: otherwise some parameter was folded or normalised away.
  const refs = where.match(/\$\d+/g)?.length ?? 0;
  if (refs !== slots.length) return null;
  return { expr, slots };
}

/** The tree for other parameter values, or null when the full compile must decide (missing or invalid value). */
export function instantiate(t: Template, params: Readonly<Record<string, string>> | undefined): Expr | null {
  if (t.slots.length === 0) return t.expr;
  const repl = new Map<Expr, Value>();
  for (const { node, param, like } of t.slots) {
    const text = paramText(params, param);
    if (text === undefined) return null;
    // A pattern that ends in its escape is a creation error: let the full compile raise it.
    if (
      like !== undefined &&
      likeEndsWithEscape(text, like.escape === null ? null : ((like.escape as ConstExpr).value as string | null))
    )
      return null;
    let v: Value;
    try {
      v = codecFor(node.type).parse(text);
    } catch {
      return null;
    }
    repl.set(node, v);
  }
  return subst(t.expr, repl);
}

function paramText(params: Readonly<Record<string, string>> | undefined, n: number): string | undefined {
  if (params === undefined) return undefined;
  const v = params[String(n)] ?? params[`$${n}`];
  return typeof v === 'string' ? v : undefined;
}

/** Rebuilds only the nodes on paths to replaced constants; everything else is shared with the template. */
function subst(e: Expr, repl: ReadonlyMap<Expr, Value>): Expr {
  const v = repl.get(e);
  if (v !== undefined) return { ...(e as ConstExpr), value: v };
  return mapChildren(e, (c) => subst(c, repl));
}
