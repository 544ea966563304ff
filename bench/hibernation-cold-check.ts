// Self-check of the hibernation prototype's packed cold index, run by bench/hibernation.ts before it measures.
//
// The prototype is bench code, not product: its figures are only worth citing if the ColdIndex finds exactly what a
// Map would. These checks used to be a unit test of the product suite; they now run where the figures are made and
// stop the bench (assertion error) if the index is wrong. Run alone: `npx tsx bench/hibernation-cold-check.ts`.
import { deepStrictEqual, equal, ok } from 'node:assert/strict';
import { ColdIndex, hashKey } from './hibernation-cold.js';
import { rng } from './router-workloads.js';

const ALPHABET = ['a', 'b', '0', '1', '9', 'é', 'ÿ', '\u0100', '中', '\ud83d', '\ude00', '\u0000', ' '];

function lookup(ix: ColdIndex, key: string): number[] {
  const out: number[] = [];
  ix.forEach(key, (v) => out.push(v));
  return out.sort((a, b) => a - b);
}

/** Random keys (numbers, duplicates, misses, non-Latin-1 and lone surrogates) agree with a Map. */
function checkAgainstMap(): void {
  const r = rng(5);
  const word = (): string => {
    let s = '';
    const len = Math.floor(r() * 6);
    for (let i = 0; i < len; i++) s += ALPHABET[Math.floor(r() * ALPHABET.length)];
    return s;
  };
  const keys: string[] = [];
  const values: number[] = [];
  for (let i = 0; i < 20_000; i++) {
    keys.push(r() < 0.5 ? String(Math.floor(r() * 50_000)) : word());
    values.push(i);
  }
  const ix = ColdIndex.build(keys, values);
  const m = new Map<string, number[]>();
  keys.forEach((k, i) => m.set(k, [...(m.get(k) ?? []), values[i]!]));
  for (const [k, vs] of m) deepStrictEqual(lookup(ix, k), vs, `key ${JSON.stringify(k)}`);
  for (let i = 0; i < 20_000; i++) {
    const probe = r() < 0.5 ? String(Math.floor(r() * 100_000)) : word();
    deepStrictEqual(lookup(ix, probe), m.get(probe) ?? [], `probe ${JSON.stringify(probe)}`);
  }
  // Latin-1 vs UTF-16 storage never confuses 'é' (one byte) with a wide unit, nor a key with its prefix.
  const e7 = '\u00e9'.repeat(7);
  equal(ix.has(e7), m.has(e7));
}

/** Removing one pair tombstones only it; positions map back to their keys. */
function checkTombstonesAndPositions(): void {
  const ix = ColdIndex.build(['x', 'x', 'y', '\ud83d', '', '中文'], [0, 1, 2, 3, 4, 5]);
  deepStrictEqual(lookup(ix, 'x'), [0, 1]);
  equal(ix.remove('x', 0), true);
  equal(ix.remove('x', 0), false);
  deepStrictEqual(lookup(ix, 'x'), [1]);
  equal(ix.live, 5);
  for (const k of ['y', '\ud83d', '', '中文']) {
    const j = ix.indexOf(k);
    ok(j >= 0, `indexOf(${JSON.stringify(k)})`);
    equal(ix.keyAt(j), k);
  }
  equal(ix.indexOf('z'), -1);
  equal(ColdIndex.build([], []).has('x'), false);
}

/** Keys with the same 32-bit hash (found by a birthday search) are told apart by their bytes. */
function checkHashCollisions(): void {
  const seen = new Map<number, string>();
  let pair: [string, string] | null = null;
  for (let i = 0; pair === null; i++) {
    const k = `c${i}`;
    const other = seen.get(hashKey(k));
    if (other !== undefined) pair = [other, k];
    else seen.set(hashKey(k), k);
  }
  const [a, b] = pair;
  const ix = ColdIndex.build([a, b, a], [1, 2, 3]);
  deepStrictEqual(lookup(ix, a), [1, 3]);
  deepStrictEqual(lookup(ix, b), [2]);
  equal(ix.remove(b, 2), true);
  deepStrictEqual(lookup(ix, a), [1, 3]);
  equal(ix.has(b), false);
}

/** Throws (AssertionError) when the cold index disagrees with a Map anywhere the checks look. */
export function checkColdIndex(): void {
  checkAgainstMap();
  checkTombstonesAndPositions();
  checkHashCollisions();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  checkColdIndex();
  process.stdout.write('cold index: all checks passed\n');
}
