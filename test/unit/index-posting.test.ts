// Unit tests of the index building blocks: interning, epoch marks, entry table, postings and posting maps.
import { describe, it, expect } from 'vitest';
import { EpochMarks, EpochMemo } from '../../src/index/epoch-marks.js';
import { Interner } from '../../src/index/interner.js';
import { EntryTable } from '../../src/index/entries.js';
import { Posting, PostingMap } from '../../src/index/posting.js';
import { PrefixIndex } from '../../src/index/prefix-index.js';
import { InclusionIndex } from '../../src/index/inclusion-index.js';

function collect(pm: PostingMap<string>, key: string): number[] {
  const out: number[] = [];
  pm.forEach(key, (e) => out.push(e));
  return out.sort((a, b) => a - b);
}

describe('Interner', () => {
  it('hands out dense integers and reuses freed ones', () => {
    const i = new Interner();
    expect(i.add('a')).toBe(0);
    expect(i.add('b')).toBe(1);
    expect(i.get('b')).toBe(1);
    expect(i.delete('a')).toBe(0);
    expect(i.get('a')).toBe(-1);
    expect(i.add('c')).toBe(0);
    expect(i.nameOf(0)).toBe('c');
    expect(i.size).toBe(2);
    expect(i.bound).toBe(2);
  });
});

describe('EpochMarks / EpochMemo', () => {
  it('dedupes within a round and resets in O(1)', () => {
    const m = new EpochMarks(2);
    m.ensure(10);
    expect(m.mark(7)).toBe(true);
    expect(m.mark(7)).toBe(false);
    m.next();
    expect(m.has(7)).toBe(false);
    expect(m.mark(7)).toBe(true);
  });
  it('memoises per round', () => {
    const m = new EpochMemo(1);
    m.ensure(5);
    expect(m.get(3)).toBe(-1);
    m.set(3, true);
    expect(m.get(3)).toBe(1);
    m.next();
    expect(m.get(3)).toBe(-1);
  });
});

describe('Posting', () => {
  it('swap-removes in O(1) and keeps positions right', () => {
    const t = new EntryTable(2);
    const p = new Posting(1);
    const es = [0, 1, 2, 3, 4].map((s) => t.alloc(s, -1));
    for (const e of es) {
      p.add(e, t);
      t.place(e, p, null);
    }
    t.release(es[1] as number);
    t.release(es[4] as number);
    expect(Array.from(p.items.subarray(0, p.length)).sort()).toEqual([0, 2, 3]);
    for (let i = 0; i < p.length; i++) expect(t.pos[p.items[i] as number]).toBe(i);
    expect(t.size).toBe(3);
  });
});

describe('PostingMap', () => {
  it('stores a single entry inline, promotes to a posting and demotes again', () => {
    const t = new EntryTable();
    const pm = new PostingMap<string>();
    const a = t.alloc(0, -1);
    const b = t.alloc(1, -1);
    const c = t.alloc(2, -1);
    pm.add('k', a, t);
    expect(typeof pm.get('k')).toBe('number');
    pm.add('k', b, t);
    pm.add('k', c, t);
    expect(pm.count('k')).toBe(3);
    t.release(b);
    expect(collect(pm, 'k')).toEqual([a, c]);
    t.release(a);
    expect(pm.get('k')).toBe(c);
    t.release(c);
    expect(pm.keyCount).toBe(0);
    expect(pm.size).toBe(0);
  });
  it('survives random add/remove against a model', () => {
    const t = new EntryTable();
    const pm = new PostingMap<string>();
    const model = new Map<number, string>();
    let s = 1;
    const rnd = (n: number): number => {
      s = (s * 1103515245 + 12345) & 0x7fffffff;
      return s % n;
    };
    for (let i = 0; i < 5000; i++) {
      if (model.size > 0 && rnd(3) === 0) {
        const keys = [...model.keys()];
        const e = keys[rnd(keys.length)] as number;
        t.release(e);
        model.delete(e);
      } else {
        const e = t.alloc(i, -1);
        const k = `k${rnd(20)}`;
        pm.add(k, e, t);
        model.set(e, k);
      }
    }
    for (let k = 0; k < 20; k++) {
      const want = [...model]
        .filter(([, v]) => v === `k${k}`)
        .map(([e]) => e)
        .sort((a, b) => a - b);
      expect(collect(pm, `k${k}`)).toEqual(want);
    }
  });
});

describe('PrefixIndex', () => {
  it('finds every prefix of the value, one hash probe per prefix length', () => {
    const t = new EntryTable();
    const px = new PrefixIndex();
    const e1 = t.alloc(1, -1);
    const e2 = t.alloc(2, -1);
    const e3 = t.alloc(3, -1);
    px.add(e1, 'ab', t);
    px.add(e2, 'abc', t);
    px.add(e3, '😀', t);
    const hits = (s: string): number[] => {
      const out: number[] = [];
      px.probe(s, (e) => out.push(e));
      return out.sort();
    };
    expect(hits('abcd')).toEqual([e1, e2]);
    expect(hits('ab')).toEqual([e1]);
    expect(hits('a')).toEqual([]);
    expect(hits('😀x')).toEqual([e3]);
    expect(hits('\uD83D')).toEqual([]);
    t.release(e2);
    expect(hits('abcd')).toEqual([e1]);
    const e4 = t.alloc(4, -1);
    const e5 = t.alloc(5, -1);
    px.add(e4, 'ab', t);
    px.add(e5, '', t);
    expect(hits('abz')).toEqual([e1, e4, e5].sort());
    expect(px.count('ab')).toBe(2);
    for (const e of [e1, e3, e4, e5]) t.release(e);
    expect(px.size).toBe(0);
    expect(px.keyCount).toBe(0);
    expect(hits('abcd')).toEqual([]);
  });
});

describe('InclusionIndex', () => {
  it('keeps element, non-null and within postings apart and removes by entry', () => {
    const t = new EntryTable();
    const ix = new InclusionIndex();
    const a = t.alloc(0, -1);
    const b = t.alloc(1, -1);
    const c = t.alloc(2, -1);
    ix.addElement(a, 1, t);
    ix.addNonNull(b, t);
    ix.addWithinAll(c, t);
    expect(ix.size).toBe(3);
    t.release(b);
    t.release(c);
    expect(ix.nonNull.length).toBe(0);
    expect(ix.withinAll.length).toBe(0);
    t.release(a);
    expect(ix.elements.keyCount).toBe(0);
  });
});

describe('splitRawArray (raw array text → element keys)', async () => {
  const { splitRawArray } = await import('../../src/router/table-state.js');
  it('splits canonical one-dimensional output and refuses everything else', () => {
    const out: (string | number | null)[] = [];
    expect(splitRawArray('{}', false, out)).toBe(0);
    expect(splitRawArray('{a,b,NULL}', false, out)).toBe(3);
    expect(out.slice(0, 3)).toEqual(['a', 'b', null]);
    expect(splitRawArray('{1,-2,NULL}', true, out)).toBe(3);
    expect(out.slice(0, 3)).toEqual([1, -2, null]);
    for (const bad of ['{"a b",c}', '{{1,2},{3,4}}', '[0:1]={1,2}', '{a\\,b}', '{1,x}', '{,}', 'x']) {
      expect(splitRawArray(bad, bad.includes('x') && bad.length < 7, out), bad).toBe(-1);
    }
  });
});
