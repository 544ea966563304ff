// The hibernation prototype's packed cold index finds exactly what a Map would, for random and adversarial keys.
import { describe, it, expect } from 'vitest';
import { ColdIndex, hashKey } from '../../bench/hibernation-cold.js';
import { rng } from '../../bench/router-workloads.js';

function mapOf(keys: readonly string[], values: readonly number[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  keys.forEach((k, i) => {
    const l = m.get(k) ?? [];
    l.push(values[i] as number);
    m.set(k, l);
  });
  return m;
}

function lookup(ix: ColdIndex, key: string): number[] {
  const out: number[] = [];
  ix.forEach(key, (v) => out.push(v));
  return out.sort((a, b) => a - b);
}

const ALPHABET = ['a', 'b', '0', '1', '9', 'é', 'ÿ', '\u0100', '中', '\ud83d', '\ude00', '\u0000', ' '];

describe('ColdIndex', () => {
  it('agrees with a Map on random keys, duplicates, misses and non-Latin-1 keys', () => {
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
    const m = mapOf(keys, values);
    for (const [k, vs] of m) expect(lookup(ix, k)).toEqual([...vs].sort((a, b) => a - b));
    for (let i = 0; i < 20_000; i++) {
      const probe = r() < 0.5 ? String(Math.floor(r() * 100_000)) : word();
      expect(lookup(ix, probe)).toEqual([...(m.get(probe) ?? [])].sort((a, b) => a - b));
    }
    // Latin-1 vs UTF-16 storage never confuses 'é' (one byte) with a wide unit, nor a key with its prefix.
    expect(ix.has('\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9')).toBe(
      m.has('\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9'),
    );
  });

  it('tombstones one pair, finds ids by position and materialises keys exactly', () => {
    const keys = ['x', 'x', 'y', '\ud83d', '', '中文'];
    const ix = ColdIndex.build(keys, [0, 1, 2, 3, 4, 5]);
    expect(lookup(ix, 'x')).toEqual([0, 1]);
    expect(ix.remove('x', 0)).toBe(true);
    expect(ix.remove('x', 0)).toBe(false);
    expect(lookup(ix, 'x')).toEqual([1]);
    expect(ix.live).toBe(5);
    for (const k of ['y', '\ud83d', '', '中文']) {
      const j = ix.indexOf(k);
      expect(j).toBeGreaterThanOrEqual(0);
      expect(ix.keyAt(j)).toBe(k);
    }
    expect(ix.indexOf('z')).toBe(-1);
    expect(ColdIndex.build([], []).has('x')).toBe(false);
  });

  it('keys with the same 32-bit hash are told apart by their bytes', () => {
    // birthday search: a 32-bit collision turns up within a few hundred thousand keys
    const seen = new Map<number, string>();
    let pair: [string, string] | null = null;
    for (let i = 0; pair === null; i++) {
      const k = `c${i}`;
      const h = hashKey(k);
      const other = seen.get(h);
      if (other !== undefined) pair = [other, k];
      else seen.set(h, k);
    }
    const [a, b] = pair;
    const ix = ColdIndex.build([a, b, a], [1, 2, 3]);
    expect(lookup(ix, a)).toEqual([1, 3]);
    expect(lookup(ix, b)).toEqual([2]);
    expect(ix.remove(b, 2)).toBe(true);
    expect(lookup(ix, a)).toEqual([1, 3]);
    expect(ix.has(b)).toBe(false);
  });
});
