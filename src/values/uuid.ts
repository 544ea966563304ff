// The uuid type: uuid_in's accepted spellings, canonical lower-case 8-4-4-4-12 output and byte ordering.
import type { Codec } from './codec.js';
import { invalidInput } from '../errors/index.js';

const CANONICAL = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

const HEX = '0123456789abcdef';

/**
 * uuid_in (Postgres 15 string_to_uuid): 32 hex digits in either case, optionally inside `{…}`, with an optional
 * hyphen after any group of four digits (never first, last or doubled); no whitespace.
 */
export function parseUuid(text: string): string {
  if (text.length === 36 && CANONICAL.test(text)) return text; // the record form
  let p = 0;
  const braces = text.charCodeAt(0) === 0x7b;
  if (braces) p++;
  let out = '';
  for (let i = 0; i < 16; i++) {
    if (p + 1 >= text.length) throw invalidInput('uuid', text);
    const hi = hexValue(text.charCodeAt(p));
    const lo = hexValue(text.charCodeAt(p + 1));
    if (hi < 0 || lo < 0) throw invalidInput('uuid', text);
    out += HEX[hi]! + HEX[lo]!;
    if (i === 3 || i === 5 || i === 7 || i === 9) out += '-';
    p += 2;
    if (text.charCodeAt(p) === 0x2d && i % 2 === 1 && i < 15) p++;
  }
  if (braces) {
    if (text.charCodeAt(p) !== 0x7d) throw invalidInput('uuid', text);
    p++;
  }
  if (p !== text.length) throw invalidInput('uuid', text);
  return out;
}

export function formatUuid(value: string): string {
  return value;
}

/** Canonical lower-case hex strings order exactly as the 16 bytes do (unsigned). */
export function compareUuid(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export const uuidCodec: Codec<string> = {
  parse: parseUuid,
  format: formatUuid,
  compare: compareUuid,
  equals: (a, b) => a === b,
  key: (value) => value,
};
