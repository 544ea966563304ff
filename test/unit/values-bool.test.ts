// boolin / boolout, pinned against Postgres 15.
import { describe, expect, it } from 'vitest';
import { boolCodec, boolToText, formatBool, parseBool } from '../../src/values/bool.js';

describe('parseBool (Postgres answers)', () => {
  const ok: [string, boolean][] = [
    ['t', true],
    ['tr', true],
    ['true', true],
    ['TRUE', true],
    [' true ', true],
    ['\ttrue\n', true],
    ['y', true],
    ['ye', true],
    ['yes', true],
    ['yES', true],
    ['on', true],
    ['ON', true],
    ['1', true],
    ['f', false],
    ['fa', false],
    ['false', false],
    ['n', false],
    ['no', false],
    ['of', false],
    ['off', false],
    ['of ', false],
    ['0', false],
  ];
  for (const [text, v] of ok) it(JSON.stringify(text), () => expect(parseBool(text)).toBe(v));
  const bad = ['o', '', '  ', 'truee', '01', ' o n', 'x', '\u0011', '\u0010', 'tru e'];
  for (const text of bad) {
    it(`rejects ${JSON.stringify(text)}`, () =>
      expect(() => parseBool(text)).toThrow(`invalid input syntax for type boolean: "${text}"`));
  }
});

describe('bool output and order', () => {
  it('formats', () => {
    expect(formatBool(true)).toBe('t');
    expect(boolToText(false)).toBe('false');
    expect(boolCodec.compare!(false, true)).toBeLessThan(0);
    expect(boolCodec.compare!(true, true)).toBe(0);
    expect(boolCodec.key(true)).not.toBe(boolCodec.key(false));
  });
});
