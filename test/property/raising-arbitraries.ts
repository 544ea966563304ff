// fast-check generators of clauses that raise on some rows (divisions, casts, overflows) under guards that may stop them.
import fc from 'fast-check';
import type { BoolTree } from './arbitraries.js';

/** Atoms that raise an error for some record values of the test columns (value-pools.ts edge values). */
export const RAISING_ATOMS: readonly string[] = [
  '10 / i4 > 1',
  'i8 / i2 = 0',
  'n / n > 0',
  'i4 % i2 = 0',
  '1 / (i4 - 1) > 0',
  'f8 / f8 > 0',
  'i8 * i8 > 0',
  'i4 * i4 > 0',
  'i4 + i4 > 0',
  'abs(i4) = -1',
  '-i2 < 0',
  'i2 * 2::int2 > 0',
  'i8 - 1 < i8',
  't::int4 > 0',
  'i8::int4 > 0',
  'i4::int2 > 0',
  'f8::int4 > 0',
  'n::int2 > 0',
  '|/ f8 > 1',
  "t::date > '2020-01-01'",
  'i4 / i2 + i8 * i8 > 0',
  '(i4 * 2)::int2 = 2',
];

/** Guards of every cost class: bare booleans (free), comparisons, ANY/ALL and IN lists, BETWEEN, null tests. */
export const GUARD_ATOMS: readonly string[] = [
  'b',
  'NOT b',
  'b IS TRUE',
  'b = true',
  'i4 <> 0',
  'i2 > 0',
  'i8 < 100',
  'n < 100',
  'f8 > 0',
  'i4 IS NOT NULL',
  't IS NULL',
  'i4 = 1',
  'i2 = 7',
  'i4 = i2',
  'i4 <= ALL (ARRAY[1, NULL])',
  'i4 = ANY (ARRAY[0, 1, 2])',
  'i4 IN (1, 2, 3)',
  'i2 IN (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)',
  'i4 BETWEEN 0 AND 3',
  'i8 + 1 > 1',
  "t LIKE 'a%'",
  'length(t) > 1',
];

const atom = (list: readonly string[]): fc.Arbitrary<BoolTree> =>
  fc.constantFrom(...list).map((sql): BoolTree => ({ k: 'atom', sql }));

function treeArb(depth: number): fc.Arbitrary<BoolTree> {
  const leaf = fc.oneof(atom(RAISING_ATOMS), atom(GUARD_ATOMS));
  if (depth <= 0) return leaf;
  const sub = treeArb(depth - 1);
  return fc.oneof(
    { arbitrary: leaf, weight: 2 },
    {
      arbitrary: fc
        .tuple(fc.constantFrom('and' as const, 'or' as const), fc.array(sub, { minLength: 2, maxLength: 3 }))
        .map(([k, args]): BoolTree => ({ k, args })),
      weight: 3,
    },
    { arbitrary: sub.map((arg): BoolTree => ({ k: 'not', arg })), weight: 1 },
  );
}

function hasRaising(t: BoolTree): boolean {
  if (t.k === 'atom') return RAISING_ATOMS.includes(t.sql);
  if (t.k === 'not') return hasRaising(t.arg);
  return t.args.some(hasRaising);
}

/** A top-level AND or OR of guards and raising atoms (nested up to two levels), with at least one raising atom. */
export const raisingClauseArb: fc.Arbitrary<BoolTree> = fc
  .tuple(fc.constantFrom('and' as const, 'or' as const), fc.array(treeArb(1), { minLength: 2, maxLength: 4 }))
  .map(([k, args]): BoolTree => ({ k, args }))
  .filter(hasRaising);
