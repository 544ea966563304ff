// LIKE / ILIKE: every case pinned against Postgres 15 (ILIKE with COLLATE "C", as Switchyard's snapshot SQL runs it).
import { describe, expect, it } from 'vitest';
import { compileLike, like, likeEndsWithEscape, likePrefix } from '../../src/values/like.js';
import { ErrorCode, ValueError } from '../../src/errors/index.js';

/** [value, pattern, ESCAPE (null = not given), ILIKE, Postgres's answer or error message]. */
const PG_LIKE: [string, string, string | null, boolean, boolean | string][] = [
  ['abc', 'abc', null, false, true],
  ['abc', 'ab', null, false, false],
  ['abc', 'ab%', null, false, true],
  ['abc', '%bc', null, false, true],
  ['abc', '%b%', null, false, true],
  ['abc', '%', null, false, true],
  ['', '%', null, false, true],
  ['', '', null, false, true],
  ['a', '', null, false, false],
  ['abc', 'a_c', null, false, true],
  ['abc', '___', null, false, true],
  ['abc', '__', null, false, false],
  ['a😀b', 'a_b', null, false, true],
  ['a😀b', 'a__b', null, false, false],
  ['😀', '_', null, false, true],
  ['😀x😀', '%x_', null, false, true],
  ['a\nb', 'a_b', null, false, true],
  ['a\nb', 'a%', null, false, true],
  ['a_c', 'a\\_c', null, false, true],
  ['abc', 'a\\_c', null, false, false],
  ['a%c', 'a\\%c', null, false, true],
  ['a\\c', 'a\\\\c', null, false, true],
  ['abc', 'a\\bc', null, false, true],
  ['a%c', 'a#%c', '#', false, true],
  ['abc', 'a#%c', '#', false, false],
  ['a\\c', 'a\\c', '', false, true],
  ['a%', 'a%', '', false, true],
  ['ab', 'a%', '', false, true],
  ['a%', 'a%%', '%', false, true],
  ['ab', 'a%%', '%', false, false],
  ['a_', 'a__', '_', false, true],
  ['ab', 'a__', '_', false, false],
  ['aéc', 'aééc', 'é', false, true],
  ['abc', 'a😀bc', '😀', false, true],
  ['a\\c', 'a#\\c', '#', false, true],
  ['a\\c', 'a\\c', '#', false, true],
  ['a#c', 'a##c', '#', false, true],
  ['abc', 'abc\\', null, false, false],
  ['abcd', 'abc\\', null, false, 'LIKE pattern must not end with escape character'],
  ['xbc', 'abc\\', null, false, false],
  ['a', '%\\', null, false, 'LIKE pattern must not end with escape character'],
  ['', '%\\', null, false, false],
  ['a', '_%\\', null, false, false],
  ['ab', '_%\\', null, false, 'LIKE pattern must not end with escape character'],
  ['a', '%_\\', null, false, 'LIKE pattern must not end with escape character'],
  ['xab', '%ab\\', null, false, false],
  ['xabc', '%ab\\', null, false, 'LIKE pattern must not end with escape character'],
  ['', '\\', null, false, false],
  ['a', '\\', null, false, 'LIKE pattern must not end with escape character'],
  ['ab', 'ab#', '#', false, false],
  ['abc', 'ab#', '#', false, 'LIKE pattern must not end with escape character'],
  ['xb', 'ab#', '#', false, false],
  ['abc', 'ab', 'xy', false, 'invalid escape string'],
  ['abc', 'abc', 'é', false, true],
  ['ABC', 'abc', null, true, true],
  ['abc', 'A%', null, true, true],
  ['É', 'é', null, true, false],
  ['é', 'É', null, true, false],
  ['aBc', 'a\\bc', null, true, true],
  ['abc', 'A\\BC', null, true, true],
  ['a%', 'AB%', 'B', true, true],
  ['a%', 'Ab%', 'B', true, false],
  ['ab', 'A%', 'a', true, true],
  ['Ab', 'AB', 'b', true, true],
  ['xYz', '%y%', null, true, true],
  ['XYZ', '%Z', null, true, true],
  ['q', 'Q', null, true, true],
  ['abc  ', 'abc%', null, false, true],
  ['abc  ', 'abc', null, false, false],
  ['abc  ', 'abc  ', null, false, true],
  ['aaa', '%a%a%a%', null, false, true],
  ['aa', '%a%a%a%', null, false, false],
  ['abcabc', '%b_a%', null, false, true],
  ['abcab', 'a%b', null, false, true],
  ['mississippi', 'm%iss%pi', null, false, true],
  ['mississippi', 'm%iss%ppi_', null, false, false],
  ['ab', 'a%%%b', null, false, true],
  ['a_b', '%\\_%', null, false, true],
  ['ab', '%\\_%', null, false, false],
  ['x%', '%\\%', null, false, true],
  ['�', '_', null, false, true],
];

const describeCase = (v: string, p: string, e: string | null, ci: boolean): string =>
  `${JSON.stringify(v)} ${ci ? 'ILIKE' : 'LIKE'} ${JSON.stringify(p)}${e === null ? '' : ` ESCAPE ${JSON.stringify(e)}`}`;

describe('LIKE matches Postgres', () => {
  for (const [value, pattern, escape, ci, expected] of PG_LIKE) {
    it(describeCase(value, pattern, escape, ci), () => {
      const run = (): boolean => like(value, pattern, escape, ci);
      if (typeof expected === 'string') {
        expect(run).toThrow(new ValueError(ErrorCode.EvaluationError, expected));
        expect(() => {
          try {
            run();
          } catch (e) {
            throw new Error((e as ValueError).code);
          }
        }).toThrow(ErrorCode.EvaluationError);
      } else {
        expect(run()).toBe(expected);
      }
    });
  }
});

describe('compileLike', () => {
  it('treats an explicit backslash escape like the default', () => {
    expect(like('a_c', 'a\\_c', '\\')).toBe(true);
    expect(like('abc', 'a\\_c', '\\')).toBe(false);
  });
  it('caches compiled matchers', () => {
    expect(compileLike('a%%', null, false)).toBe(compileLike('a%%', null, false));
    expect(compileLike('a%%', null, true)).not.toBe(compileLike('a%%', null, false));
    expect(compileLike('a%%', '', false)).not.toBe(compileLike('a%%', null, false));
  });
  it('does not backtrack exponentially', () => {
    const value = 'a'.repeat(5000);
    const t = Date.now();
    expect(like(value, '%a%a%a%a%a%a%a%a%b', null, false)).toBe(false);
    expect(Date.now() - t).toBeLessThan(500);
  });
  it('counts a surrogate pair as one character everywhere', () => {
    expect(like('😀😀', '%_😀', null, false)).toBe(true);
    expect(like('x😀', '_😀', null, false)).toBe(true);
    expect(like('😀', '__', null, false)).toBe(false);
  });
});

describe('likeEndsWithEscape', () => {
  it('follows the escape in force', () => {
    expect(likeEndsWithEscape('abc\\', null)).toBe(true);
    expect(likeEndsWithEscape('abc\\\\', null)).toBe(false);
    expect(likeEndsWithEscape('abc\\', '')).toBe(false);
    expect(likeEndsWithEscape('ab#', '#')).toBe(true);
    expect(likeEndsWithEscape('ab##', '#')).toBe(false);
  });
});

describe('likePrefix', () => {
  it('splits off the literal prefix', () => {
    expect(likePrefix('abc%', null, false)).toEqual({ prefix: 'abc', exact: false, rest: 'any' });
    expect(likePrefix('abc%%', null, false)).toEqual({ prefix: 'abc', exact: false, rest: 'any' });
    expect(likePrefix('abc', null, false)).toEqual({ prefix: 'abc', exact: true, rest: 'complex' });
    expect(likePrefix('', null, false)).toEqual({ prefix: '', exact: true, rest: 'complex' });
    expect(likePrefix('ab_d%', null, false)).toEqual({ prefix: 'ab', exact: false, rest: 'complex' });
    expect(likePrefix('%abc', null, false)).toEqual({ prefix: '', exact: false, rest: 'complex' });
    expect(likePrefix('%', null, false)).toEqual({ prefix: '', exact: false, rest: 'any' });
    expect(likePrefix('a\\%b%', null, false)).toEqual({ prefix: 'a%b', exact: false, rest: 'any' });
    expect(likePrefix('a#%b%', '#', false)).toEqual({ prefix: 'a%b', exact: false, rest: 'any' });
    expect(likePrefix('a\\%', '', false)).toEqual({ prefix: 'a\\', exact: false, rest: 'any' });
    expect(likePrefix('AbC%', null, true)).toEqual({ prefix: 'abc', exact: false, rest: 'any' });
    expect(likePrefix('abc\\', null, false)).toEqual({ prefix: 'abc', exact: false, rest: 'complex' });
  });
  it('rejects a multi-character escape', () => {
    expect(() => likePrefix('a', 'xy', false)).toThrow('invalid escape string');
  });
});
