// Per-node semantics shared by the interpreter and the compiler: comparison, IN, ANY/ALL, LIKE, subscripts.
import { ErrorCode, ValueError } from '../errors/index.js';
import * as arr from '../values/array-ops.js';
import { compileLike, type LikeMatcher } from '../values/like.js';
import { codecFor } from '../values/registry.js';
import type { ArrayValue, PgType, Value } from '../values/types.js';
import type { CompareOp } from '../sql/ast.js';

export type Cmp = (a: Value, b: Value) => boolean;

/** A comparison of two non-null values of `t` with Postgres's semantics for that type. */
export function comparator(op: CompareOp, t: PgType): Cmp {
  const c = codecFor(t);
  if (op === '=') return c.equals;
  if (op === '<>') return (a, b) => !c.equals(a, b);
  const compare = c.compare;
  if (compare === undefined) throw new ValueError(ErrorCode.NotSupported, `ordering on this type is not supported`);
  switch (op) {
    case '<':
      return (a, b) => compare(a, b) < 0;
    case '<=':
      return (a, b) => compare(a, b) <= 0;
    case '>':
      return (a, b) => compare(a, b) > 0;
    case '>=':
      return (a, b) => compare(a, b) >= 0;
  }
}

/** Flattened items of an array value (ANY/ALL and @> ignore dimensions). */
export function itemsOf(a: Value): readonly (Value | null)[] {
  return (a as ArrayValue).items;
}

/** `x op ANY|ALL (array)` for a non-null array; three-valued as Postgres's ScalarArrayOpExpr. */
export function quantify(
  x: Value | null,
  items: readonly (Value | null)[],
  test: (a: Value, b: Value) => boolean,
  all: boolean,
): boolean | null {
  if (items.length === 0) return all;
  if (x === null) return null;
  let sawNull = false;
  for (let i = 0; i < items.length; i++) {
    const e = items[i] as Value | null;
    if (e === null) {
      sawNull = true;
      continue;
    }
    const r = test(x, e);
    if (all ? !r : r) return !all;
  }
  return sawNull ? null : all;
}

/** LIKE matchers: compileLike keeps its own bounded cache, so column patterns are compiled once per distinct text. */
export const likeMatcher: (pattern: string, escape: string | null, ci: boolean) => LikeMatcher = compileLike;

/** `a[i][j]` or a slice, per Postgres: out-of-range elements are NULL, slices clamp. */
export function subscript(
  a: Value,
  lowers: readonly (number | null)[],
  uppers: readonly (number | null)[],
  slice: boolean,
): Value | null {
  if (slice) return arr.arraySlice(a as ArrayValue, lowers, uppers);
  return arr.arraySubscript(a as ArrayValue, uppers as number[]);
}

/** Builds an ARRAY[…] value; nested constructors stack their sub-arrays into a higher dimension. */
export function buildArray(elems: readonly (Value | null)[], nested: boolean): ArrayValue {
  if (!nested) return { dims: [elems.length], lbounds: [1], items: elems };
  const subs = elems.filter((e): e is ArrayValue => e !== null);
  if (subs.length === 0 || subs.every((s) => s.dims.length === 0)) return { dims: [], lbounds: [], items: [] };
  const first = subs[0] as ArrayValue;
  for (const s of subs) {
    if (
      s.dims.length !== first.dims.length ||
      s.dims.some((d, i) => d !== first.dims[i]) ||
      subs.length !== elems.length
    ) {
      throw new ValueError(
        ErrorCode.EvaluationError,
        'multidimensional arrays must have array expressions with matching dimensions',
      );
    }
  }
  return {
    dims: [subs.length, ...first.dims],
    lbounds: [1, ...first.dims.map(() => 1)],
    items: subs.flatMap((s) => s.items),
  };
}
