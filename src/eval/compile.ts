// The compiler: turns a typed tree into specialised closures (constants pre-decoded, patterns pre-compiled).
import { assertNever, type CompareOp, type Expr } from '../sql/ast.js';
import { constantKey } from '../values/comparable.js';
import { codecFor } from '../values/registry.js';
import type { PgType, Value } from '../values/types.js';
import { castImpl } from './casts.js';
import { inSet, NO_SUBQUERY_SETS, type SubquerySets } from './subquery-sets.js';
import { resolveFn } from './functions.js';
import { ColumnLayout, RowView } from './row-view.js';
import { rawComparator, rawKeyable } from './raw-fast.js';
import { buildArray, comparator, itemsOf, likeMatcher, quantify, subscript, type Cmp } from './semantics.js';

export type Compiled = (row: RowView) => Value | null;
export type CompiledBool = (row: RowView) => boolean | null;

/** Compiles `e` for rows of `layout`. Identical results to interpretExpr, including evaluation order of AND/OR. */
export function compileExpr(e: Expr, layout: ColumnLayout, sets: SubquerySets = NO_SUBQUERY_SETS): Compiled {
  return new Compiler(layout, sets).expr(e);
}

export function compileBool(e: Expr, layout: ColumnLayout, sets: SubquerySets = NO_SUBQUERY_SETS): CompiledBool {
  return compileExpr(e, layout, sets) as CompiledBool;
}

/**
 * A WHERE's condition list (planQuals) as Postgres's ExecQual runs it: in order, stopping at the first condition
 * that is not TRUE and answering its value, so later conditions are not evaluated (and cannot raise).
 */
export function compileQuals(
  quals: readonly Expr[],
  layout: ColumnLayout,
  sets: SubquerySets = NO_SUBQUERY_SETS,
): CompiledBool {
  const fns = quals.map((q) => compileBool(q, layout, sets));
  if (fns.length === 0) return () => true;
  if (fns.length === 1) return fns[0] as CompiledBool;
  if (fns.length === 2) {
    const [a, b] = fns as [CompiledBool, CompiledBool];
    return (row) => {
      const x = a(row);
      return x === true ? b(row) : x;
    };
  }
  return (row) => {
    for (let i = 0; i < fns.length; i++) {
      const v = (fns[i] as CompiledBool)(row);
      if (v !== true) return v;
    }
    return true;
  };
}

/** Types whose JS representation orders and compares correctly with the built-in operators (no NaN, no objects). */
const PRIMITIVE_ORDER = new Set(['int2', 'int4', 'int8', 'date', 'time', 'timestamp', 'timestamptz', 'bool']);
/** Types whose values are equal exactly when `===` says so. */
const PRIMITIVE_EQ = new Set([...PRIMITIVE_ORDER, 'text', 'varchar', 'name', 'uuid', 'bytea']);

function fastComparator(op: CompareOp, t: PgType): Cmp {
  if (!t.array && PRIMITIVE_ORDER.has(t.scalar)) {
    switch (op) {
      case '=':
        return (a, b) => a === b;
      case '<>':
        return (a, b) => a !== b;
      case '<':
        return (a, b) => (a as number) < (b as number);
      case '<=':
        return (a, b) => (a as number) <= (b as number);
      case '>':
        return (a, b) => (a as number) > (b as number);
      case '>=':
        return (a, b) => (a as number) >= (b as number);
    }
  }
  if (!t.array && PRIMITIVE_EQ.has(t.scalar)) {
    if (op === '=') return (a, b) => a === b;
    if (op === '<>') return (a, b) => a !== b;
  }
  return comparator(op, t);
}

class Compiler {
  constructor(
    private readonly layout: ColumnLayout,
    private readonly sets: SubquerySets,
  ) {}

  expr(e: Expr): Compiled {
    switch (e.kind) {
      case 'const': {
        const v = e.value;
        return () => v;
      }
      case 'column': {
        const i = this.layout.indexOf(e.name);
        return (row) => row.get(i);
      }
      case 'compare':
        return this.compare(e.op, e.operandType, e.left, e.right);
      case 'call':
        return this.call(e);
      case 'cast':
        return this.cast(e);
      case 'and':
      case 'or':
        return this.junction(
          e.args.map((a) => this.expr(a)),
          e.kind === 'or',
        );
      case 'not':
      case 'nulltest':
      case 'booltest':
        return this.test(e);
      case 'distinct':
        return this.distinct(e);
      case 'in':
        return this.inList(e);
      case 'quantified':
        return this.quantified(e);
      case 'like':
        return this.like(e);
      case 'coalesce':
        return this.coalesce(e);
      case 'minmax':
        return this.minmax(e);
      case 'nullif':
        return this.nullif(e);
      case 'array':
        return this.array(e);
      case 'subscript':
        return this.subscript(e);
      case 'subquery': {
        // The set is looked up per row (its key string is the same object each time, so V8's hash is cached): a
        // set replaced by the service after a rebuild is seen at once.
        const x = this.expr(e.arg);
        const codec = codecFor(e.operandType);
        const { sets } = this;
        const key = e.sub.key;
        const neg = e.negated;
        return (row) => inSet(sets.get(key), () => x(row), codec, neg);
      }
      default:
        return assertNever(e);
    }
  }

  /** A strict call evaluates every argument, then answers NULL if one is NULL; one- and two-argument forms unrolled. */
  private call(e: Extract<Expr, { kind: 'call' }>): Compiled {
    const impl = resolveFn(
      e.fn,
      e.args.map((a) => a.type),
      e.type,
    );
    const args = e.args.map((a) => this.expr(a));
    if (args.length === 1) {
      const [a] = args as [Compiled];
      return e.strict
        ? (row) => {
            const x = a(row);
            return x === null ? null : impl(x);
          }
        : (row) => impl(a(row));
    }
    if (args.length === 2) {
      const [a, b] = args as [Compiled, Compiled];
      return e.strict
        ? (row) => {
            const x = a(row);
            const y = b(row);
            return x === null || y === null ? null : impl(x, y);
          }
        : (row) => impl(a(row), b(row));
    }
    return (row) => {
      const vals = args.map((a) => a(row));
      return e.strict && vals.some((v) => v === null) ? null : impl(...vals);
    };
  }

  private cast(e: Extract<Expr, { kind: 'cast' }>): Compiled {
    const a = this.expr(e.arg);
    const c = castImpl(e.arg.type, e.type);
    return (row) => {
      const v = a(row);
      return v === null ? null : c(v);
    };
  }

  /** NOT, IS [NOT] NULL, IS [NOT] TRUE/FALSE/UNKNOWN. */
  private test(e: Extract<Expr, { kind: 'not' | 'nulltest' | 'booltest' }>): Compiled {
    const a = this.expr(e.arg);
    if (e.kind === 'not')
      return (row) => {
        const v = a(row);
        return v === null ? null : !v;
      };
    if (e.kind === 'nulltest') return e.negated ? (row) => a(row) !== null : (row) => a(row) === null;
    const want = e.test === 'true' ? true : e.test === 'false' ? false : null;
    return e.negated ? (row) => a(row) !== want : (row) => a(row) === want;
  }

  private distinct(e: Extract<Expr, { kind: 'distinct' }>): Compiled {
    const l = this.expr(e.left);
    const r = this.expr(e.right);
    const eq = codecFor(e.operandType).equals;
    const neg = e.negated;
    return (row) => {
      const x = l(row);
      const y = r(row);
      const same = x === null || y === null ? x === y : eq(x, y);
      return neg ? same : !same;
    };
  }

  private coalesce(e: Extract<Expr, { kind: 'coalesce' }>): Compiled {
    const args = e.args.map((a) => this.expr(a));
    return (row) => {
      for (let i = 0; i < args.length; i++) {
        const v = (args[i] as Compiled)(row);
        if (v !== null) return v;
      }
      return null;
    };
  }

  private minmax(e: Extract<Expr, { kind: 'minmax' }>): Compiled {
    const args = e.args.map((a) => this.expr(a));
    const cmp = codecFor(e.type).compare as (a: Value, b: Value) => number;
    const sign = e.op === 'greatest' ? 1 : -1;
    return (row) => {
      let best: Value | null = null;
      for (let i = 0; i < args.length; i++) {
        const v = (args[i] as Compiled)(row);
        if (v !== null && (best === null || cmp(v, best) * sign > 0)) best = v;
      }
      return best;
    };
  }

  private nullif(e: Extract<Expr, { kind: 'nullif' }>): Compiled {
    const l = this.expr(e.left);
    const r = this.expr(e.right);
    const eq = codecFor(e.operandType).equals;
    const back = e.left.type === e.type ? null : castImpl(e.left.type, e.type);
    return (row) => {
      const x = l(row);
      const y = r(row);
      if (x !== null && y !== null && eq(x, y)) return null;
      return x === null || back === null ? x : back(x);
    };
  }

  private array(e: Extract<Expr, { kind: 'array' }>): Compiled {
    const elems = e.elems.map((a) => this.expr(a));
    const nested = e.elems.length > 0 && (e.elems[0] as Expr).type.array;
    return (row) =>
      buildArray(
        elems.map((a) => a(row)),
        nested,
      );
  }

  /** Postgres evaluates the container first and skips the subscripts when it is NULL. */
  private subscript(e: Extract<Expr, { kind: 'subscript' }>): Compiled {
    const a = this.expr(e.arg);
    const lo = e.indices.map((i) => (i.lower === null ? null : this.expr(i.lower)));
    const up = e.indices.map((i) => (i.upper === null ? null : this.expr(i.upper)));
    const slice = e.slice;
    return (row) => {
      const v = a(row);
      if (v === null) return null;
      const lowers = lo.map((f) => (f === null ? null : (f(row) as number | null)));
      const uppers = up.map((f) => (f === null ? null : (f(row) as number | null)));
      for (let k = 0; k < lo.length; k++)
        if ((lo[k] !== null && lowers[k] === null) || (up[k] !== null && uppers[k] === null)) return null;
      return subscript(v, lowers, uppers, slice);
    };
  }

  /** Column index when `e` is a column, or a widening cast of an integer column whose text is valid as `e.type`. */
  private rawColumn(e: Expr): number {
    if (e.kind === 'column') return this.layout.indexOf(e.name);
    if (e.kind === 'cast' && e.implicit && e.arg.kind === 'column' && !e.arg.type.array && !e.type.array) {
      const from = e.arg.type.scalar;
      const to = e.type.scalar;
      if ((from === 'int2' || from === 'int4' || from === 'int8') && (to === 'int8' || to === 'numeric'))
        return this.layout.indexOf(e.arg.name);
    }
    return -1;
  }

  private compare(op: CompareOp, t: PgType, left: Expr, right: Expr): Compiled {
    const cmp = fastComparator(op, t);
    const l = this.expr(left);
    if (right.kind === 'const') {
      const c = right.value;
      if (c === null) return () => null;
      const col = this.rawColumn(left);
      const slow = this.compareConst(col, l, cmp, op, t, c);
      const k = col >= 0 && this.layout.keyers[col] !== undefined ? constantKey(t, c) : NaN;
      if (k === k) return keyCompare(op, col, k, slow);
      if (left.kind === 'column' && nativeTextOrder(t, c)) return textCompare(op, col, c as string);
      return slow;
    }
    const r = this.expr(right);
    // Both sides are evaluated before the NULL check, as Postgres does for a strict operator (errors surface).
    return (row) => {
      const x = l(row);
      const y = r(row);
      return x === null || y === null ? null : cmp(x, y);
    };
  }

  /** `column op constant` without comparable keys: from the raw text when canonical, else decoded. */
  private compareConst(col: number, l: Compiled, cmp: Cmp, op: CompareOp, t: PgType, c: Value): Compiled {
    // The raw text decides only for a column of exactly type `t`: a widened int2/int4 column's text must still be
    // checked against its own range (decoding raises where Postgres would).
    const same = col >= 0 && this.layout.types[col] === t;
    const fast = same ? rawComparator(op, t, c) : undefined;
    if (fast !== undefined) {
      // Decide from the raw text when it is in canonical form; decode only otherwise.
      return (row) => {
        const raw = row.raw(col);
        if (raw === null) return null;
        const r = fast(raw);
        if (r !== undefined) return r;
        const x = l(row);
        return x === null ? null : cmp(x, c);
      };
    }
    return (row) => {
      const x = l(row);
      return x === null ? null : cmp(x, c);
    };
  }

  /** AND (stop at false) / OR (stop at true), three-valued, left to right. */
  private junction(args: Compiled[], isOr: boolean): Compiled {
    const stop = isOr;
    if (args.length === 2) {
      const [a, b] = args as [Compiled, Compiled];
      return (row) => {
        const x = a(row);
        if (x === stop) return stop;
        const y = b(row);
        if (y === stop) return stop;
        return x === null || y === null ? null : !stop;
      };
    }
    return (row) => {
      let sawNull = false;
      for (let i = 0; i < args.length; i++) {
        const v = (args[i] as Compiled)(row);
        if (v === stop) return stop;
        if (v === null) sawNull = true;
      }
      return sawNull ? null : !stop;
    };
  }

  private inList(e: Extract<Expr, { kind: 'in' }>): Compiled {
    const x = this.expr(e.arg);
    const neg = e.negated;
    const codec = codecFor(e.operandType);
    if (e.items.every((i) => i.kind === 'const')) {
      // Constant lists become a hash set of canonical keys: one lookup per row whatever the list length.
      const keys = new Set<string | number>();
      let hasNull = false;
      for (const i of e.items) {
        const v = i.value;
        if (v === null) hasNull = true;
        else keys.add(codec.key(v));
      }
      const key = codec.key;
      const col = this.rawColumn(e.arg);
      const rawKey = col >= 0 ? rawKeyable(e.operandType) : undefined;
      if (rawKey !== undefined) {
        const texts = new Set<string>();
        for (const i of e.items) {
          const v = i.value;
          if (v !== null) texts.add(codec.format(v));
        }
        return (row) => {
          const raw = row.raw(col);
          if (raw === null) return null;
          const k = rawKey(raw);
          if (k !== undefined) return texts.has(k) ? !neg : hasNull ? null : neg;
          const v = x(row);
          if (v === null) return null;
          if (keys.has(key(v))) return !neg;
          return hasNull ? null : neg;
        };
      }
      return (row) => {
        const v = x(row);
        if (v === null) return null;
        if (keys.has(key(v))) return !neg;
        return hasNull ? null : neg;
      };
    }
    const items = e.items.map((i) => this.expr(i));
    const eq = codec.equals;
    return (row) => {
      const v = x(row);
      let result: boolean | null = false;
      if (v === null) {
        for (let i = 0; i < items.length; i++) (items[i] as Compiled)(row);
        result = null;
      } else
        for (let i = 0; i < items.length; i++) {
          const y = (items[i] as Compiled)(row);
          if (y === null) result = null;
          else if (eq(v, y)) {
            result = true;
            break;
          }
        }
      return result === null ? null : result !== neg;
    };
  }

  private quantified(e: Extract<Expr, { kind: 'quantified' }>): Compiled {
    const x = this.expr(e.left);
    const a = this.expr(e.right);
    const all = e.all;
    let test: Cmp;
    if (e.op === 'like' || e.op === 'ilike' || e.op === 'notlike' || e.op === 'notilike') {
      const ci = e.op === 'ilike' || e.op === 'notilike';
      const neg = e.op.startsWith('not');
      test = (s, p) => likeMatcher(p as string, null, ci)(s as string) !== neg;
    } else {
      test = fastComparator(e.op, e.operandType);
    }
    return (row) => {
      const v = x(row);
      const arr = a(row);
      return arr === null ? null : quantify(v, itemsOf(arr), test, all);
    };
  }

  private like(e: Extract<Expr, { kind: 'like' }>): Compiled {
    const s = this.expr(e.arg);
    const neg = e.negated;
    const ci = e.caseInsensitive;
    const escConst = e.escape === null || e.escape.kind === 'const';
    if (e.pattern.kind === 'const' && escConst) {
      const p = e.pattern.value as string | null;
      const esc = e.escape === null ? null : (e.escape.value as string | null);
      if (p === null || (e.escape !== null && esc === null)) return () => null;
      const m = likeMatcher(p, esc, ci);
      return (row) => {
        const v = s(row);
        return v === null ? null : m(v as string) !== neg;
      };
    }
    const p = this.expr(e.pattern);
    const esc = e.escape === null ? null : this.expr(e.escape);
    return (row) => {
      const v = s(row);
      const pv = p(row);
      const ev = esc === null ? null : esc(row);
      if (v === null || pv === null || (esc !== null && ev === null)) return null;
      return likeMatcher(pv as string, ev as string | null, ci)(v as string) !== neg;
    };
  }
}

/**
 * `column op constant` on comparable keys (values/comparable.ts): the row's key, computed once per row and column, is
 * compared with the constant's as doubles, which is exact; a row without a key (NULL, NaN, non-canonical text, out
 * of the exact span) takes `slow`, the ordinary comparison.
 */
function keyCompare(op: CompareOp, col: number, k: number, slow: Compiled): Compiled {
  switch (op) {
    case '=':
      return (row) => {
        const x = row.key(col);
        return x === x ? x === k : slow(row);
      };
    case '<>':
      return (row) => {
        const x = row.key(col);
        return x === x ? x !== k : slow(row);
      };
    case '<':
      return (row) => {
        const x = row.key(col);
        return x === x ? x < k : slow(row);
      };
    case '<=':
      return (row) => {
        const x = row.key(col);
        return x === x ? x <= k : slow(row);
      };
    case '>':
      return (row) => {
        const x = row.key(col);
        return x === x ? x > k : slow(row);
      };
    case '>=':
      return (row) => {
        const x = row.key(col);
        return x === x ? x >= k : slow(row);
      };
  }
}

/**
 * Text and varchar without a length decode to their raw text. Against a constant with no UTF-16 unit at or above
 * D800, JavaScript's native string order is code-point order (the C collation): at the first differing unit the
 * constant's is below every unit whose rank the surrogate fix-up of compareText changes.
 */
function nativeTextOrder(t: PgType, c: Value): boolean {
  if (t.array || t.typmod >= 0 || (t.scalar !== 'text' && t.scalar !== 'varchar')) return false;
  const s = c as string;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0xd800) return false;
  return true;
}

/** `text_column op constant` on the raw text with native string comparison (see nativeTextOrder). */
function textCompare(op: CompareOp, col: number, c: string): Compiled {
  switch (op) {
    case '=':
      return (row) => {
        const x = row.raw(col);
        return x === null ? null : x === c;
      };
    case '<>':
      return (row) => {
        const x = row.raw(col);
        return x === null ? null : x !== c;
      };
    case '<':
      return (row) => {
        const x = row.raw(col);
        return x === null ? null : x < c;
      };
    case '<=':
      return (row) => {
        const x = row.raw(col);
        return x === null ? null : x <= c;
      };
    case '>':
      return (row) => {
        const x = row.raw(col);
        return x === null ? null : x > c;
      };
    case '>=':
      return (row) => {
        const x = row.raw(col);
        return x === null ? null : x >= c;
      };
  }
}

export { ColumnLayout, RowView };
