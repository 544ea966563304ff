// byteain / byteaout (bytea_output = hex), pinned against Postgres 15.
import { describe, expect, it } from 'vitest';
import { byteaCodec, byteaLength, formatBytea, parseBytea } from '../../src/values/bytea.js';

describe('parseBytea (Postgres answers)', () => {
  const ok: [string, string][] = [
    ['\\x0102', '\\x0102'],
    ['\\xDEADbeef', '\\xdeadbeef'],
    ['\\x', '\\x'],
    ['\\x 01 02', '\\x0102'],
    ['\\x01 ', '\\x01'],
    ['abc', '\\x616263'],
    ['a\\\\b', '\\x615c62'],
    ['a\\001b', '\\x610162'],
    ['\\377', '\\xff'],
    ['é', '\\xc3a9'],
    ['😀', '\\xf09f9880'],
    ['', '\\x'],
  ];
  for (const [text, out] of ok) it(JSON.stringify(text), () => expect(formatBytea(parseBytea(text))).toBe(out));
  const bad: [string, string][] = [
    ['\\x0 1', 'invalid hexadecimal digit: " "'],
    ['\\x012', 'invalid hexadecimal data: odd number of digits'],
    ['\\x0g', 'invalid hexadecimal digit: "g"'],
    ['\\xé1', 'invalid hexadecimal digit: "é"'],
    ['\\x01\\n', 'invalid hexadecimal digit: "\\"'],
    ['\\X01', 'invalid input syntax for type bytea'],
    ['\\400', 'invalid input syntax for type bytea'],
    ['\\39', 'invalid input syntax for type bytea'],
    ['\\', 'invalid input syntax for type bytea'],
    ['a\\b', 'invalid input syntax for type bytea'],
    [' \\x01', 'invalid input syntax for type bytea'],
  ];
  for (const [text, msg] of bad)
    it(`rejects ${JSON.stringify(text)}`, () => expect(() => parseBytea(text)).toThrow(msg));
});

describe('bytea order', () => {
  it('is byte-wise with a shorter prefix first', () => {
    const c = (a: string, b: string): number => byteaCodec.compare!(parseBytea(a), parseBytea(b));
    expect(c('\\x01', '\\x0100')).toBeLessThan(0);
    expect(c('\\x02', '\\x0100')).toBeGreaterThan(0);
    expect(c('\\xff', '\\x7f')).toBeGreaterThan(0);
    expect(c('\\x', '\\x00')).toBeLessThan(0);
    expect(byteaLength(parseBytea('\\x010203'))).toBe(3);
  });
});
