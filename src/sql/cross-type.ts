// Implicit widenings that Postgres's cross-type operators make unnecessary (int48eq, float48pl, date_lt_timestamp…).
import type { CastExpr, Expr } from './ast.js';

/**
 * The analyzer widens the narrower operand (`i4 = i8` becomes `i4::int8 = i8`), while Postgres calls a cross-type
 * operator on the values as they are. Same result, but not the same plan: the cast is one more function call in
 * Postgres's cost estimate, which orders a WHERE's conditions. So such casts are left out of the rendered SQL
 * (which Postgres then resolves to the cross-type operator) and cost nothing in the planner model.
 */
const WIDENINGS = new Set([
  'int2>int4',
  'int2>int8',
  'int4>int8',
  'float4>float8',
  'date>timestamp',
  'date>timestamptz',
  'timestamp>timestamptz',
  'name>text',
]);
const ARITHMETIC = new Set(['int+', 'int-', 'int*', 'int/', 'float+', 'float-', 'float*', 'float/']);

/**
 * Nodes whose Postgres operator family has cross-type members for its operands. `i2 IN (1, 2, 3)` is
 * `i2 = ANY ('{1,2,3}'::int4[])` with int24eq: transformAExprIn coerces only the list, not the left side.
 */
function takesMixedOperands(parent: Expr): boolean {
  switch (parent.kind) {
    case 'compare':
    case 'quantified':
    case 'distinct':
    case 'in':
    case 'subquery':
      return true;
    case 'call':
      return ARITHMETIC.has(parent.fn);
    default:
      return false;
  }
}

/** True when `child`, a direct operand of `parent`, is an implicit widening Postgres would not perform. */
export function isCrossTypeOperand(parent: Expr, child: Expr): child is CastExpr {
  if (child.kind !== 'cast' || !child.implicit || !takesMixedOperands(parent)) return false;
  const from = child.arg.type;
  const to = child.type;
  return !from.array && !to.array && to.typmod < 0 && WIDENINGS.has(`${from.scalar}>${to.scalar}`);
}
