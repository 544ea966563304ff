// The typed expression tree of a where clause: a closed union produced by the analyzer, consumed by eval and index.
import type { PgType, Value } from '../values/types.js';
import type { FnId } from './function-ids.js';

/** Half-open byte range [start, end) in the clause text (0-based, UTF-16 offsets of the clause string). */
export interface Span {
  readonly start: number;
  readonly end: number;
}

export type CompareOp = '=' | '<>' | '<' | '<=' | '>' | '>=';

/**
 * Every node is fully typed: operand casts are explicit `cast` nodes (marked `implicit` when Postgres inserted
 * them), constants are folded, and `$n` parameters are substituted as constants before this tree exists.
 */
export type Expr =
  | ConstExpr
  | ColumnExpr
  | CompareExpr
  | CallExpr
  | CastExpr
  | AndExpr
  | OrExpr
  | NotExpr
  | NullTestExpr
  | BoolTestExpr
  | DistinctExpr
  | InListExpr
  | QuantifiedExpr
  | LikeExpr
  | CoalesceExpr
  | MinMaxExpr
  | NullIfExpr
  | ArrayExpr
  | SubscriptExpr
  | SubqueryExpr;

export type ExprKind = Expr['kind'];

/** A constant of a known type; `value` null is SQL NULL. */
export interface ConstExpr {
  readonly kind: 'const';
  readonly type: PgType;
  readonly value: Value | null;
  readonly span: Span;
}

/** A column of the shape's table; `name` is exact (after identifier folding). */
export interface ColumnExpr {
  readonly kind: 'column';
  readonly name: string;
  readonly type: PgType;
  readonly span: Span;
}

/**
 * A comparison: both operands already have type `operandType` (implicit casts inserted), compared with that
 * type's semantics (code-point text order, NaN highest, interval normalised span, …). Result bool.
 */
export interface CompareExpr {
  readonly kind: 'compare';
  readonly op: CompareOp;
  readonly left: Expr;
  readonly right: Expr;
  readonly operandType: PgType;
  readonly type: PgType;
  readonly span: Span;
}

/**
 * A strict operator or function (NULL in → NULL out) resolved to an implementation id (`FnId`, sql/function-ids.ts),
 * e.g. `int4pl`, `numeric_div`, `lower`, `textcat`, `array_contains`, `timestamptz_pl_interval`.
 * Non-strict functions with their own null rules (concat, array_cat, ||, coalesce…) are flagged `strict: false`.
 */
export interface CallExpr {
  readonly kind: 'call';
  readonly fn: FnId;
  /** The SQL spelling for rendering: an operator symbol (`+`, `@>`, `||`) or a function name (`lower`). */
  readonly sqlName: string;
  readonly form: 'operator' | 'prefix' | 'function';
  readonly args: readonly Expr[];
  readonly strict: boolean;
  readonly type: PgType;
  readonly span: Span;
}

/** A cast from `arg.type` to `type`; `implicit` when Postgres inserted it during resolution. */
export interface CastExpr {
  readonly kind: 'cast';
  readonly arg: Expr;
  readonly type: PgType;
  readonly implicit: boolean;
  readonly span: Span;
}

export interface AndExpr {
  readonly kind: 'and';
  readonly args: readonly Expr[];
  readonly type: PgType;
  readonly span: Span;
}

export interface OrExpr {
  readonly kind: 'or';
  readonly args: readonly Expr[];
  readonly type: PgType;
  readonly span: Span;
}

export interface NotExpr {
  readonly kind: 'not';
  readonly arg: Expr;
  readonly type: PgType;
  readonly span: Span;
}

/** `arg IS [NOT] NULL`: never NULL. */
export interface NullTestExpr {
  readonly kind: 'nulltest';
  readonly arg: Expr;
  readonly negated: boolean;
  readonly type: PgType;
  readonly span: Span;
}

/** `arg IS [NOT] TRUE|FALSE|UNKNOWN`: never NULL; arg is bool. */
export interface BoolTestExpr {
  readonly kind: 'booltest';
  readonly arg: Expr;
  readonly test: 'true' | 'false' | 'unknown';
  readonly negated: boolean;
  readonly type: PgType;
  readonly span: Span;
}

/** `left IS [NOT] DISTINCT FROM right`, both of `operandType`: never NULL. */
export interface DistinctExpr {
  readonly kind: 'distinct';
  readonly left: Expr;
  readonly right: Expr;
  readonly operandType: PgType;
  readonly negated: boolean;
  readonly type: PgType;
  readonly span: Span;
}

/** `arg [NOT] IN (items…)`; arg and items share `operandType`; `=` of that type; three-valued per Postgres. */
export interface InListExpr {
  readonly kind: 'in';
  readonly arg: Expr;
  readonly items: readonly Expr[];
  readonly operandType: PgType;
  readonly negated: boolean;
  readonly type: PgType;
  readonly span: Span;
}

/**
 * `left op ANY|ALL (right)`: right is an array whose elements, like left, have `operandType`.
 * `op` is a comparison, or `like`/`ilike`/`notlike`/`notilike` for LIKE ANY.
 */
export interface QuantifiedExpr {
  readonly kind: 'quantified';
  readonly op: CompareOp | 'like' | 'ilike' | 'notlike' | 'notilike';
  readonly all: boolean;
  readonly left: Expr;
  readonly right: Expr;
  readonly operandType: PgType;
  readonly type: PgType;
  readonly span: Span;
}

/**
 * `arg [NOT] [I]LIKE pattern [ESCAPE escape]`. `escape`: the escape character, `''` for none; default `\`.
 * `arg` is text-family (bpchar keeps its padding), `pattern` is text.
 */
export interface LikeExpr {
  readonly kind: 'like';
  readonly arg: Expr;
  readonly pattern: Expr;
  readonly escape: Expr | null;
  readonly caseInsensitive: boolean;
  readonly negated: boolean;
  readonly type: PgType;
  readonly span: Span;
}

/** `COALESCE(args…)`: first non-NULL, later args not evaluated. */
export interface CoalesceExpr {
  readonly kind: 'coalesce';
  readonly args: readonly Expr[];
  readonly type: PgType;
  readonly span: Span;
}

/** `GREATEST`/`LEAST`: NULLs ignored, NULL only if all are. */
export interface MinMaxExpr {
  readonly kind: 'minmax';
  readonly op: 'greatest' | 'least';
  readonly args: readonly Expr[];
  readonly type: PgType;
  readonly span: Span;
}

/** `NULLIF(left, right)`: NULL if equal under `operandType`, else left (as `type`). */
export interface NullIfExpr {
  readonly kind: 'nullif';
  readonly left: Expr;
  readonly right: Expr;
  readonly operandType: PgType;
  readonly type: PgType;
  readonly span: Span;
}

/** `ARRAY[elems…]` with at least one non-constant element (all-constant arrays are folded to a const). */
export interface ArrayExpr {
  readonly kind: 'array';
  readonly elems: readonly Expr[];
  readonly type: PgType;
  readonly span: Span;
}

/** `arg[i]`, `arg[i][j]`, `arg[i:j]`: `slice` when any index is a range (result is an array then). */
export interface SubscriptExpr {
  readonly kind: 'subscript';
  readonly arg: Expr;
  readonly indices: readonly { readonly lower: Expr | null; readonly upper: Expr | null; readonly isSlice: boolean }[];
  readonly slice: boolean;
  readonly type: PgType;
  readonly span: Span;
}

/**
 * `arg [NOT] IN (SELECT select FROM table [WHERE where])`, uncorrelated: `arg` (a tree over the outer table) and
 * `sub.select` (over the inner table) both have `operandType`, compared with its `=`. Three-valued as Postgres: a
 * value in the set is TRUE; else NULL when the set holds a NULL or `arg` is NULL (and the set is not empty), else
 * FALSE. The set itself is not in the tree: evaluation asks a provider for `sub.key`'s current values.
 */
export interface SubqueryExpr {
  readonly kind: 'subquery';
  readonly arg: Expr;
  readonly sub: Subquery;
  readonly operandType: PgType;
  readonly negated: boolean;
  readonly type: PgType;
  readonly span: Span;
}

/** An uncorrelated one-column subquery, analysed against its own table; a scope of its own (not a child node). */
export interface Subquery {
  readonly table: { readonly schema: string; readonly name: string };
  /** The inner table's columns as `{ name: typeName }` (what compileWhere takes), for compiling `select`/`where`. */
  readonly columns: Readonly<Record<string, string>>;
  /** The selected expression over the inner table, already cast to the comparison type. */
  readonly select: Expr;
  /** The inner WHERE (boolean, normalized once folded), or null; may itself hold subqueries. */
  readonly where: Expr | null;
  /** Inner columns referenced by `select` and `where`. */
  readonly referenced: readonly string[];
  /**
   * Identity of the value set: the canonical SQL `SELECT … FROM … WHERE …` with parameters substituted, so equal
   * subqueries of different shapes share one materialized set. Empty until folding has normalized the inner trees.
   */
  readonly key: string;
}

/** The direct sub-expressions of a node, in evaluation order (shared by folding, routing and analysis passes). */
export function childrenOf(e: Expr): readonly Expr[] {
  switch (e.kind) {
    case 'const':
    case 'column':
      return [];
    case 'compare':
    case 'distinct':
    case 'nullif':
    case 'quantified':
      return [e.left, e.right];
    case 'call':
    case 'and':
    case 'or':
    case 'coalesce':
    case 'minmax':
      return e.args;
    case 'cast':
    case 'not':
    case 'nulltest':
    case 'booltest':
    case 'subquery':
      return [e.arg];
    case 'in':
      return [e.arg, ...e.items];
    case 'like':
      return e.escape === null ? [e.arg, e.pattern] : [e.arg, e.pattern, e.escape];
    case 'array':
      return e.elems;
    case 'subscript': {
      const out: Expr[] = [e.arg];
      for (const ix of e.indices) {
        if (ix.lower !== null) out.push(ix.lower);
        if (ix.upper !== null) out.push(ix.upper);
      }
      return out;
    }
    default:
      return assertNever(e);
  }
}

/**
 * Rebuilds `e` with its direct sub-expressions mapped by `f` (same kind, same spans, same other fields). A node whose
 * children all map to themselves is returned as is, so a pass that changes one leaf shares the rest of the tree.
 */
export function mapChildren(e: Expr, f: (x: Expr) => Expr): Expr {
  switch (e.kind) {
    case 'const':
    case 'column':
      return e;
    case 'compare':
    case 'distinct':
    case 'nullif':
    case 'quantified': {
      const left = f(e.left);
      const right = f(e.right);
      return left === e.left && right === e.right ? e : { ...e, left, right };
    }
    case 'call':
    case 'and':
    case 'or':
    case 'coalesce':
    case 'minmax': {
      const args = mapAll(e.args, f);
      return args === e.args ? e : { ...e, args };
    }
    case 'cast':
    case 'not':
    case 'nulltest':
    case 'booltest':
    case 'subquery': {
      const arg = f(e.arg);
      return arg === e.arg ? e : { ...e, arg };
    }
    case 'in': {
      const arg = f(e.arg);
      const items = mapAll(e.items, f);
      return arg === e.arg && items === e.items ? e : { ...e, arg, items };
    }
    case 'like': {
      const arg = f(e.arg);
      const pattern = f(e.pattern);
      const escape = e.escape === null ? null : f(e.escape);
      return arg === e.arg && pattern === e.pattern && escape === e.escape ? e : { ...e, arg, pattern, escape };
    }
    case 'array': {
      const elems = mapAll(e.elems, f);
      return elems === e.elems ? e : { ...e, elems };
    }
    case 'subscript': {
      const arg = f(e.arg);
      let changed = arg !== e.arg;
      const indices = e.indices.map((i) => {
        const lower = i.lower === null ? null : f(i.lower);
        const upper = i.upper === null ? null : f(i.upper);
        if (lower === i.lower && upper === i.upper) return i;
        changed = true;
        return { ...i, lower, upper };
      });
      return changed ? { ...e, arg, indices } : e;
    }
    default:
      return assertNever(e);
  }
}

/** `xs` mapped by `f`, or `xs` itself when every element maps to itself. */
function mapAll(xs: readonly Expr[], f: (x: Expr) => Expr): readonly Expr[] {
  let out: Expr[] | null = null;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i] as Expr;
    const y = f(x);
    if (out === null && y !== x) out = xs.slice(0, i);
    if (out !== null) out.push(y);
  }
  return out ?? xs;
}

/** Every subquery node of `e`, outermost first (not those nested inside another subquery's own trees). */
export function subqueriesOf(e: Expr, out: SubqueryExpr[] = []): SubqueryExpr[] {
  if (e.kind === 'subquery') out.push(e);
  for (const c of childrenOf(e)) subqueriesOf(c, out);
  return out;
}

/** Exhaustiveness guard for switches over node kinds. */
export function assertNever(x: never): never {
  throw new Error(`unhandled node: ${JSON.stringify(x)}`);
}
