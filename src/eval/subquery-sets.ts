// The value sets `x IN (SELECT …)` is evaluated against: the provider contract and Postgres's three-valued verdict.
import type { Codec } from '../values/codec.js';
import type { Value } from '../values/types.js';

/** A subquery's current result: its distinct non-NULL values by canonical key, and whether it holds a NULL. */
export interface ValueSet {
  has(key: string | number): boolean;
  readonly hasNull: boolean;
  /** No row at all (not even a NULL). */
  readonly empty: boolean;
}

/** Gives the current set of a subquery by its key (`Subquery.key`); the service keeps them materialized. */
export interface SubquerySets {
  get(key: string): ValueSet;
}

/** For predicates compiled without sets: a subquery cannot be decided, which is a caller's bug, not a row's. */
export const NO_SUBQUERY_SETS: SubquerySets = {
  get(key: string): ValueSet {
    throw new Error(`no value set is materialized for subquery ${key}`);
  },
};

/**
 * `x IN (set)` as Postgres's hashed subplan answers it: FALSE for an empty set without evaluating `x`; TRUE when x's
 * value is in the set; NULL when x is NULL or the set holds a NULL; else FALSE. `NOT IN` negates (NULL stays NULL).
 */
export function inSet(set: ValueSet, arg: () => Value | null, codec: Codec, negated: boolean): boolean | null {
  if (set.empty) return negated;
  const v = arg();
  let r: boolean | null;
  if (v === null) r = null;
  else if (set.has(codec.key(v))) r = true;
  else r = set.hasNull ? null : false;
  return r === null ? null : r !== negated;
}
