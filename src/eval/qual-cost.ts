// Postgres's per-row cost estimate of a condition (costsize.c cost_qual_eval), which orders a WHERE's conditions.
import { assertNever, type Expr } from '../sql/ast.js';
import { isCrossTypeOperand } from '../sql/cross-type.js';
import { baseType, typeCategory, type PgType } from '../values/types.js';

/**
 * Postgres charges cpu_operator_cost × pg_proc.procost per operator or function node. Every function a where
 * clause can call has procost 1, so a node costs one CPU_OPERATOR_COST; the sums are formed in the same order as
 * Postgres forms them (node first, then children left to right), so equal costs compare equal here as they do there.
 */
const CPU_OPERATOR_COST = 0.0025;

/** A constant array of at least this many items makes `= ANY` / `<> ALL` a hash probe (MIN_ARRAY_SIZE_FOR_HASHED_SAOP). */
const HASHED_ARRAY_MIN = 9;
/** estimate_array_length for an array that is neither a constant nor an ARRAY[…] constructor. */
const UNKNOWN_ARRAY_LENGTH = 10;

/** Casts Postgres runs as a function (pg_cast castmethod 'f'); binary-coercible ones ('b') cost nothing. */
const FUNCTION_CASTS = new Set(
  (
    'bool>bpchar bool>int4 bool>text bool>varchar bpchar>name bpchar>text bpchar>varchar date>timestamp ' +
    'date>timestamptz float4>float8 float4>int2 float4>int4 float4>int8 float4>numeric float8>float4 float8>int2 ' +
    'float8>int4 float8>int8 float8>numeric int2>float4 int2>float8 int2>int4 int2>int8 int2>numeric int4>bool ' +
    'int4>float4 int4>float8 int4>int2 int4>int8 int4>numeric int8>float4 int8>float8 int8>int2 int8>int4 ' +
    'int8>numeric interval>time jsonb>bool jsonb>float4 jsonb>float8 jsonb>int2 jsonb>int4 jsonb>int8 ' +
    'jsonb>numeric name>bpchar name>text name>varchar numeric>float4 numeric>float8 numeric>int2 numeric>int4 ' +
    'numeric>int8 text>name time>interval timestamp>date timestamp>time timestamp>timestamptz timestamptz>date ' +
    'timestamptz>time timestamptz>timestamp varchar>name'
  ).split(' '),
);
const BINARY_CASTS = new Set(['text>bpchar', 'text>varchar', 'varchar>bpchar', 'varchar>text']);
/** Types with a length-coercion function (`numeric(numeric, int4)`, `varchar(varchar, int4, bool)`, …). */
const LENGTH_COERCED = new Set(['bpchar', 'varchar', 'numeric', 'time', 'timestamp', 'timestamptz', 'interval']);

/** Per-row cost of `e` as Postgres estimates it (QualCost.per_tuple of cost_qual_eval_node). */
export function qualCost(e: Expr): number {
  let total = 0;
  const add = (c: number): void => {
    total += c;
  };
  const walk = (x: Expr): void => {
    charge(x, add);
    const kids = childrenForCost(x);
    for (let i = 0; i < kids.length; i++) {
      const c = kids[i] as Expr;
      // `x LIKE p ESCAPE e` is `x ~~ like_escape(p, e)`: the second call is charged where the walker reaches it.
      if (x.kind === 'like' && i === 1 && likeEscapeCall(x)) add(CPU_OPERATOR_COST);
      walk(isCrossTypeOperand(x, c) ? c.arg : c);
    }
  };
  walk(e);
  return total;
}

function likeEscapeCall(e: Extract<Expr, { kind: 'like' }>): boolean {
  return e.escape !== null && !(e.escape.kind === 'const' && e.pattern.kind === 'const');
}

/** Charges one node's own cost as Postgres does, one add_function_cost (one addition) per function it calls. */
function charge(e: Expr, add: (c: number) => void): void {
  switch (e.kind) {
    case 'const':
    case 'column':
    case 'and':
    case 'or':
    case 'not':
    case 'nulltest':
    case 'booltest':
    case 'coalesce':
    case 'array':
    case 'subscript':
      return;
    case 'compare':
    case 'distinct':
    case 'nullif':
    case 'minmax':
    case 'like':
    case 'call':
    case 'subquery': // uncorrelated IN (SELECT …): a hashed subplan, one probe per row (cost_subplan)
      add(CPU_OPERATOR_COST);
      return;
    case 'cast':
      chargeCast(e.arg, e.type, add);
      return;
    // A hash probe needs one hash function for both sides: never for a cross-type operator (int24eq, float48eq).
    case 'in':
      add(arrayOpCost(e.items.length, !isCrossTypeOperand(e, e.arg)));
      return;
    case 'quantified': {
      const hashable =
        ((e.op === '=' && !e.all) || (e.op === '<>' && e.all)) &&
        e.right.kind === 'const' &&
        !isCrossTypeOperand(e, e.left);
      add(arrayOpCost(arrayLength(e.right), hashable));
      return;
    }
    default:
      return assertNever(e);
  }
}

/** ScalarArrayOpExpr: a hash probe (hash function + equality) or about half the items compared. */
function arrayOpCost(length: number, hashable: boolean): number {
  if (hashable && length >= HASHED_ARRAY_MIN) return CPU_OPERATOR_COST + CPU_OPERATOR_COST;
  return CPU_OPERATOR_COST * length * 0.5;
}

/** estimate_array_length: items of a constant, elements of ARRAY[…], else a guess of 10. */
function arrayLength(e: Expr): number {
  if (e.kind === 'const') return e.value === null ? 0 : (e.value as { items: readonly unknown[] }).items.length;
  if (e.kind === 'array') return e.elems.length;
  return UNKNOWN_ARRAY_LENGTH;
}

function chargeCast(arg: Expr, to: PgType, add: (c: number) => void): void {
  const from = arg.type;
  const a = baseType(from);
  const b = baseType(to);
  if (a.array && b.array && a.scalar !== b.scalar) {
    // ArrayCoerceExpr: the element conversion's cost times the estimated number of elements.
    let per = 0;
    chargeScalarCast(a.scalar, b.scalar, (c) => (per += c));
    if (per > 0) add(per * arrayLength(arg));
  } else if (!a.array && !b.array) chargeScalarCast(a.scalar, b.scalar, add);
  const sameType = a.scalar === b.scalar && a.array === b.array && from.typmod === to.typmod && from.scale === to.scale;
  if (to.typmod >= 0 && LENGTH_COERCED.has(to.scalar) && !sameType) add(CPU_OPERATOR_COST);
}

function chargeScalarCast(from: string, to: string, add: (c: number) => void): void {
  const key = `${from}>${to}`;
  if (from === to || BINARY_CASTS.has(key)) return;
  add(CPU_OPERATOR_COST);
  // Not in pg_cast: an I/O conversion (CoerceViaIO) calls the target's input and the source's output function.
  if (!FUNCTION_CASTS.has(key)) add(CPU_OPERATOR_COST);
}

/** Children in the order Postgres's expression walker visits them (an ESCAPE pattern is one like_escape call). */
function childrenForCost(e: Expr): readonly Expr[] {
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
      return [e.arg];
    case 'in':
    case 'subquery':
      return [e.arg];
    case 'like':
      return e.escape === null ? [e.arg, e.pattern] : [e.arg, e.pattern, e.escape];
    case 'array':
      return e.elems;
    case 'subscript': {
      const out: Expr[] = [];
      for (const ix of e.indices) {
        if (ix.upper !== null) out.push(ix.upper);
        if (ix.lower !== null) out.push(ix.lower);
      }
      out.push(e.arg);
      return out;
    }
    default:
      return assertNever(e);
  }
}

/** True when `t` has a btree equality Postgres can put in an equivalence class (every comparable type here). */
export function mergeableEquality(t: PgType): boolean {
  return t.scalar !== 'json' && t.scalar !== 'opaque' && t.scalar !== 'unknown' && typeCategory(t) !== 'user';
}
