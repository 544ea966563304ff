// The bytea type: byteain's hex and escape input forms, hex output, byte-wise ordering.
import type { Codec } from './codec.js';
import { ErrorCode, ValueError } from '../errors/index.js';

const HEX = '0123456789abcdef';
const LOWER_HEX_BODY = /^(?:[0-9a-f]{2})*$/;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

function byteHex(b: number): string {
  return HEX[b >> 4]! + HEX[b & 15]!;
}

/** The character at s[i] as a whole code point (Postgres quotes the whole multibyte character). */
function charAt(s: string, i: number): string {
  const cp = s.codePointAt(i);
  return cp === undefined ? '' : String.fromCodePoint(cp);
}

/** Postgres's hex_decode: pairs of hex digits, with spaces, tabs and newlines allowed between pairs. */
function decodeHex(text: string): string {
  let out = '';
  let i = 2;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d) {
      i++;
      continue;
    }
    const hi = hexValue(c);
    if (hi < 0) throw badHexDigit(text, i);
    i++;
    if (i >= n) throw new ValueError(ErrorCode.InvalidValue, 'invalid hexadecimal data: odd number of digits');
    const lo = hexValue(text.charCodeAt(i));
    if (lo < 0) throw badHexDigit(text, i);
    i++;
    out += HEX[hi]! + HEX[lo]!;
  }
  return out;
}

function badHexDigit(text: string, i: number): ValueError {
  return new ValueError(ErrorCode.InvalidValue, `invalid hexadecimal digit: "${charAt(text, i)}"`);
}

/** The traditional escape form: `\\` is a backslash, `\ooo` (first digit 0–3) an octal byte, other chars UTF-8. */
function decodeEscape(text: string): string {
  let out = '';
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) {
      const d1 = text.charCodeAt(i + 1);
      if (d1 === 0x5c) {
        out += '5c';
        i++;
        continue;
      }
      const d2 = text.charCodeAt(i + 2);
      const d3 = text.charCodeAt(i + 3);
      if (d1 >= 0x30 && d1 <= 0x33 && d2 >= 0x30 && d2 <= 0x37 && d3 >= 0x30 && d3 <= 0x37) {
        out += byteHex((d1 - 0x30) * 64 + (d2 - 0x30) * 8 + (d3 - 0x30));
        i += 3;
        continue;
      }
      throw new ValueError(ErrorCode.InvalidValue, 'invalid input syntax for type bytea');
    }
    if (c < 0x80) out += byteHex(c);
    else {
      const cp = text.codePointAt(i)!;
      if (cp > 0xffff) i++;
      out += utf8Hex(cp);
    }
  }
  return out;
}

function utf8Hex(cp: number): string {
  if (cp < 0x800) return byteHex(0xc0 | (cp >> 6)) + byteHex(0x80 | (cp & 63));
  if (cp < 0x10000) {
    return byteHex(0xe0 | (cp >> 12)) + byteHex(0x80 | ((cp >> 6) & 63)) + byteHex(0x80 | (cp & 63));
  }
  return (
    byteHex(0xf0 | (cp >> 18)) +
    byteHex(0x80 | ((cp >> 12) & 63)) +
    byteHex(0x80 | ((cp >> 6) & 63)) +
    byteHex(0x80 | (cp & 63))
  );
}

/** byteain: `\x` followed by hex (only lower-case `x`), otherwise the escape form. Returns lower-case hex. */
export function parseBytea(text: string): string {
  if (text.charCodeAt(0) === 0x5c && text.charCodeAt(1) === 0x78) {
    const body = text.slice(2);
    if (LOWER_HEX_BODY.test(body)) return body; // the record form
    return decodeHex(text);
  }
  return decodeEscape(text);
}

/** byteaout under bytea_output = 'hex'. */
export function formatBytea(value: string): string {
  return '\\x' + value;
}

/** Byte-wise with a shorter prefix first: exactly the order of the lower-case hex strings. */
export function compareBytea(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** octet_length / length of bytea. */
export function byteaLength(value: string): number {
  return value.length >> 1;
}

export const byteaCodec: Codec<string> = {
  parse: parseBytea,
  format: formatBytea,
  compare: compareBytea,
  equals: (a, b) => a === b,
  key: (value) => value,
};
