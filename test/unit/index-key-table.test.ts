// KeyTable against a Map model: inserts, finds, interning and backward-shift removals under heavy collisions.
import { describe, expect, it } from 'vitest';
import { rng } from '../../bench/router-workloads.js';
import { hashKey, KeyTable } from '../../src/index/key-table.js';

describe('KeyTable', () => {
  it('agrees with SameValueZero on numbers: -0 is 0, NaN is NaN, ints and doubles are distinct keys', () => {
    const t = new KeyTable<number | string>();
    const z = t.insert(0);
    expect(t.find(-0)).toBe(z);
    const n = t.insert(NaN);
    expect(t.find(Number.NaN)).toBe(n);
    const d = t.insert(1.5);
    expect(t.find(1.5)).toBe(d);
    expect(t.find(1)).toBe(-1);
    expect(t.find('1.5')).toBe(-1);
    expect(hashKey(-0)).toBe(hashKey(0));
  });

  it('matches a Map model through random inserts, interns and removals (ids reused, table grows)', () => {
    for (const seed of [1, 2, 3]) {
      const r = rng(seed);
      const t = new KeyTable<string | number>();
      const model = new Map<string | number, number>();
      const domain = 3000;
      const keyOf = (): string | number => {
        const k = Math.floor(r() * domain);
        return k % 3 === 0 ? k : k % 3 === 1 ? `k${k}` : k + 0.25;
      };
      for (let step = 0; step < 40_000; step++) {
        const k = keyOf();
        const op = r();
        if (op < 0.45) {
          const id = t.intern(k);
          if (model.has(k)) expect(id).toBe(model.get(k));
          else model.set(k, id);
        } else if (op < 0.8) {
          const id = t.remove(k);
          expect(id).toBe(model.has(k) ? model.get(k) : -1);
          model.delete(k);
        } else expect(t.find(k)).toBe(model.has(k) ? model.get(k) : -1);
        if (step % 5000 === 0) {
          expect(t.size).toBe(model.size);
          for (const [mk, id] of model) {
            expect(t.find(mk)).toBe(id);
            expect(t.keys[id]).toBe(mk);
          }
        }
      }
      const ids = [...model.values()];
      expect(new Set(ids).size).toBe(ids.length);
      for (const id of ids) expect(id).toBeLessThan(t.bound);
    }
  });

  it('keeps every key findable through insert/remove churn in a small table (probe runs wrap around its end)', () => {
    const t = new KeyTable<number>();
    // A 16–32 slot table holding up to 12 keys: runs wrap around the end and removals shift members back.
    const keys = Array.from({ length: 200 }, (_, i) => i * 16 + 15);
    const present = new Set<number>();
    const r = rng(9);
    for (let round = 0; round < 2000; round++) {
      const k = keys[Math.floor(r() * 12)] as number;
      if (present.has(k)) {
        expect(t.remove(k)).toBeGreaterThanOrEqual(0);
        present.delete(k);
      } else {
        t.insert(k);
        present.add(k);
      }
      for (const p of present) expect(t.find(p)).toBeGreaterThanOrEqual(0);
      expect(t.size).toBe(present.size);
    }
  });

  it('a withValues table keeps every key value in its slot through growth and backward shifts', () => {
    for (const seed of [4, 5]) {
      const r = rng(seed);
      const t = new KeyTable<string | number>(true);
      const model = new Map<string | number, number>();
      for (let step = 0; step < 30_000; step++) {
        const k0 = Math.floor(r() * 2000);
        const k = k0 % 2 === 0 ? k0 : `v${k0}`;
        if (r() < 0.55) {
          const v = Math.floor(r() * 2 ** 31) - 2 ** 30;
          t.intern(k);
          t.setValueAt(t.lastSlot, v);
          model.set(k, v);
        } else {
          t.remove(k);
          model.delete(k);
        }
        if (step % 3000 === 0) {
          for (const [mk, v] of model) {
            expect(t.find(mk)).toBeGreaterThanOrEqual(0);
            expect(t.valueAt(t.lastSlot)).toBe(v);
          }
          const seen = new Map<string | number, number>();
          t.forEachValue((id, v) => seen.set(t.keys[id] as string | number, v));
          expect(seen).toEqual(model);
        }
      }
    }
  });
});
