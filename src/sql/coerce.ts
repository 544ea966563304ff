// Postgres's implicit-cast graph and its candidate-selection rules for operators, functions and common types.
import { baseType, pgType, typeCategory, type PgType, type ScalarName } from '../values/types.js';

/** Implicit casts (pg_cast castcontext 'i') between the scalar types Switchyard evaluates. */
const IMPLICIT: Partial<Record<ScalarName, readonly ScalarName[]>> = {
  int2: ['int4', 'int8', 'float4', 'float8', 'numeric'],
  int4: ['int8', 'float4', 'float8', 'numeric'],
  int8: ['float4', 'float8', 'numeric'],
  numeric: ['float4', 'float8'],
  float4: ['float8'],
  varchar: ['text', 'bpchar', 'name'],
  bpchar: ['text', 'varchar', 'name'],
  name: ['text'],
  text: ['varchar', 'bpchar', 'name'],
  date: ['timestamp', 'timestamptz'],
  timestamp: ['timestamptz'],
  time: ['interval'],
};

/** Preferred type of each category (pg_type.typispreferred). */
const PREFERRED: Partial<Record<ScalarName, true>> = {
  float8: true,
  text: true,
  timestamptz: true,
  interval: true,
  bool: true,
};

export function isPreferred(t: PgType): boolean {
  return !t.array && PREFERRED[t.scalar] === true;
}

export const UNKNOWN = pgType('unknown');
export const BOOL = pgType('bool');
export const TEXT = pgType('text');

/** Can a value of `from` be implicitly coerced to `to`? (unknown literals coerce to anything). */
export function canCoerce(from: PgType, to: PgType): boolean {
  if (from.scalar === 'unknown' && !from.array) return true;
  const f = baseType(from);
  const t = baseType(to);
  if (f === t) return true;
  if (f.array !== t.array) return false;
  // Arrays coerce elementwise when their elements coerce implicitly (array_coerce in find_coercion_pathway).
  if (f.array) return canCoerce(pgType(f.scalar), pgType(t.scalar));
  return IMPLICIT[f.scalar]?.includes(t.scalar) ?? false;
}

/** One overload of an operator or function: its declared argument types. */
export interface Candidate {
  readonly args: readonly PgType[];
}

/**
 * Postgres's func_select_candidate / oper_select_candidate over a candidate list (parse_func.c), including the
 * step that assumes an unknown operand of a binary operator has the other operand's type.
 * Returns the chosen candidate, 'ambiguous', or 'none'.
 */
export function selectCandidate<C extends Candidate>(
  cands: readonly C[],
  argTypes: readonly PgType[],
): C | 'ambiguous' | 'none' {
  const types = argTypes.map(baseType);
  const isUnknown = (t: PgType): boolean => t.scalar === 'unknown' && !t.array;
  // Exact match, with a lone unknown operand of a binary operator taken as the other operand's type.
  let probe = types;
  if (types.length === 2) {
    const [a, b] = types as [PgType, PgType];
    if (isUnknown(a) && !isUnknown(b)) probe = [b, b];
    else if (isUnknown(b) && !isUnknown(a)) probe = [a, a];
  }
  const exact = cands.find((c) => c.args.length === probe.length && c.args.every((t, i) => baseType(t) === probe[i]));
  if (exact) return exact;

  let live = cands.filter(
    (c) => c.args.length === types.length && c.args.every((t, i) => canCoerce(types[i] as PgType, t)),
  );
  if (live.length === 0) return 'none';
  if (live.length === 1) return live[0] as C;

  // Most exact matches on known input types.
  live = keepMax(
    live,
    (c) => c.args.filter((t, i) => !isUnknown(types[i] as PgType) && baseType(t) === types[i]).length,
  );
  if (live.length === 1) return live[0] as C;

  // Most preferred types at positions that need coercion.
  live = keepMax(
    live,
    (c) => c.args.filter((t, i) => !isUnknown(types[i] as PgType) && baseType(t) !== types[i] && isPreferred(t)).length,
  );
  if (live.length === 1) return live[0] as C;

  // Unknown positions: prefer the string category, else a category all candidates agree on; then preferred types.
  if (types.some(isUnknown)) {
    // As func_select_candidate: a category conflict at any unknown position skips this step (it does not fail), and
    // the last-gasp rule below may still decide (`time + 'P1D'` is time + interval, not ambiguous with time + date).
    const chosen = new Map<number, string>();
    for (let i = 0; i < types.length; i++) {
      if (!isUnknown(types[i] as PgType)) continue;
      const cats = new Set(live.map((c) => typeCategory(c.args[i] as PgType)));
      if (cats.has('string')) chosen.set(i, 'string');
      else if (cats.size === 1) chosen.set(i, [...cats][0] as string);
      else {
        chosen.clear();
        break;
      }
    }
    for (const [i, cat] of chosen) {
      const inCat = live.filter((c) => typeCategory(c.args[i] as PgType) === cat);
      const preferred = inCat.filter((c) => isPreferred(c.args[i] as PgType));
      const next = preferred.length > 0 ? preferred : inCat;
      if (next.length > 0) live = next;
    }
    if (live.length === 1) return live[0] as C;
    // Unknowns take the type shared by all known inputs, if that picks exactly one candidate.
    const known = types.filter((t) => !isUnknown(t));
    if (known.length > 0 && known.every((t) => t === known[0])) {
      const k = known[0] as PgType;
      const fit = live.filter((c) => c.args.every((t, i) => !isUnknown(types[i] as PgType) || canCoerce(k, t)));
      if (fit.length === 1) return fit[0] as C;
    }
  }
  return 'ambiguous';
}

function keepMax<C>(xs: readonly C[], score: (c: C) => number): C[] {
  let best = -1;
  let out: C[] = [];
  for (const x of xs) {
    const s = score(x);
    if (s > best) {
      best = s;
      out = [x];
    } else if (s === best) out.push(x);
  }
  return out;
}

/**
 * select_common_type (parse_coerce.c) for COALESCE, GREATEST/LEAST, IN lists, ARRAY[], CASE-like unions.
 * Returns the common type or an error message naming the two clashing types.
 */
export function selectCommonType(types: readonly PgType[]): PgType | { clash: [PgType, PgType] } {
  const known = types.map(baseType).filter((t) => !(t.scalar === 'unknown' && !t.array));
  if (known.length === 0) return TEXT;
  let p = known[0] as PgType;
  for (const n of known.slice(1)) {
    if (n === p) continue;
    if (
      typeCategory(n) !== typeCategory(p) ||
      ((typeCategory(n) === 'user' || typeCategory(n) === 'enum') && n !== p)
    ) {
      return { clash: [p, n] };
    }
    if (!isPreferred(p) && canCoerce(p, n) && !canCoerce(n, p)) p = n;
  }
  // Every input must then coerce to the winner.
  for (const t of known) if (!canCoerce(t, p)) return { clash: [p, t] };
  return p;
}
