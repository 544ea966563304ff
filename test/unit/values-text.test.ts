// The text family, pinned against Postgres 15 (C collation, bpchar padding, length casts, name truncation).
import { describe, expect, it } from 'vitest';
import {
  bpcharCodec,
  bpcharEquals,
  bpcharLength,
  bpcharTrim,
  castToBpchar,
  castToVarchar,
  compareBpchar,
  compareText,
  lowerAscii,
  nameInput,
  textCodec,
  textLength,
  upperAscii,
} from '../../src/values/text.js';
import { like } from '../../src/values/like.js';

const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8');

describe('compareText: code-point order (COLLATE "C")', () => {
  it('matches Postgres', () => {
    expect(compareText('B', 'a')).toBeLessThan(0);
    expect(compareText('\uFFFD', '😀')).toBeLessThan(0); // JS '<' gets this wrong
    expect(compareText('😀', '\uFFFD')).toBeGreaterThan(0);
    expect(compareText('\uE000', '\u{10000}')).toBeLessThan(0);
    expect(compareText('ab', 'abc')).toBeLessThan(0);
    expect(compareText('abc', 'abc')).toBe(0);
    expect(compareText('😀', '😁')).toBeLessThan(0);
    expect(compareText('\u{1F600}a', '\u{1F600}b')).toBeLessThan(0);
  });
  it('agrees with UTF-8 byte order on random strings', () => {
    const pool = ['a', 'B', 'é', '\uD7FF', '\uE000', '\uFFFD', '😀', '\u{10FFFF}', ' ', ''];
    const rnd = (n: number): string =>
      Array.from({ length: n }, () => pool[Math.floor(Math.random() * pool.length)]).join('');
    for (let i = 0; i < 2000; i++) {
      const a = rnd(3);
      const b = rnd(3);
      const bytes = Buffer.compare(Buffer.from(a), Buffer.from(b));
      expect(Math.sign(compareText(a, b))).toBe(bytes);
    }
  });
});

describe('bpchar', () => {
  it('ignores trailing spaces only', () => {
    expect(bpcharTrim('ab  ')).toBe('ab');
    expect(bpcharTrim('ab\t')).toBe('ab\t');
    expect(bpcharEquals('abc  ', 'abc')).toBe(true); // 'abc'::char(5) = 'abc'
    expect(bpcharEquals('a  ', 'a\t ')).toBe(false); // 'a'::char(3) = 'a\t'::char(3) is false
    expect(compareBpchar('a ', 'a')).toBe(0); // 'a '::char(2) < 'a'::char(1) is false
    expect(compareBpchar('ab ', 'ab\t')).toBeLessThan(0);
    expect(bpcharCodec.key('abc  ')).toBe(bpcharCodec.key('abc'));
    expect(bpcharCodec.format('ab   ')).toBe('ab   ');
  });
  it('lengths exclude padding', () => {
    expect(bpcharLength('ab  ')).toBe(2);
    expect(bpcharLength('   ')).toBe(0);
    expect(bpcharLength('é😀 ')).toBe(2);
  });
  it('LIKE sees the padded value', () => {
    const v = castToBpchar('abc', 5);
    expect(v).toBe('abc  ');
    expect(like(v, 'abc%')).toBe(true);
    expect(like(v, 'abc')).toBe(false);
    expect(like(v, 'abc  ')).toBe(true);
  });
});

describe('length casts', () => {
  it('char(n) truncates and pads', () => {
    expect(castToBpchar('abc  ', 2)).toBe('ab');
    expect(castToBpchar('ab', 5)).toBe('ab   ');
    expect(castToBpchar('é😀', 3)).toBe('é😀 ');
    expect(castToBpchar(' a\t', 1)).toBe(' ');
    expect(castToBpchar('abc  ', -1)).toBe('abc  ');
    expect(castToBpchar('😀😀😀', 2)).toBe('😀😀');
  });
  it('varchar(n) truncates', () => {
    expect(castToVarchar('éàü😀x', 3)).toBe('éàü');
    expect(castToVarchar('a😀b', 2)).toBe('a😀');
    expect(castToVarchar('abc', 3)).toBe('abc');
    expect(castToVarchar('abc', -1)).toBe('abc');
  });
  it('name keeps at most 63 bytes without splitting a character', () => {
    const e40 = nameInput('é'.repeat(40));
    expect([textLength(e40), utf8(e40)]).toEqual([31, 62]);
    expect(utf8(nameInput('a' + 'é'.repeat(40)))).toBe(63);
    expect(utf8(nameInput('a'.repeat(61) + '😀'))).toBe(61);
    expect(textLength(nameInput('a'.repeat(70)))).toBe(63);
    expect(nameInput('short')).toBe('short');
  });
});

describe('case mapping and length', () => {
  it('changes ASCII letters only', () => {
    expect(upperAscii('éabcZ')).toBe('éABCZ'); // upper('éabcZ' COLLATE "C")
    expect(lowerAscii('ÉABCz')).toBe('Éabcz');
    const s = 'already lower';
    expect(lowerAscii(s)).toBe(s);
  });
  it('counts code points', () => {
    expect(textLength('a😀b')).toBe(3);
    expect(textLength('')).toBe(0);
    expect(textCodec.compare!('a', 'b')).toBeLessThan(0);
  });
});
