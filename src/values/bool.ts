// The boolean type: Postgres's boolin word forms, t/f output, `true`/`false` text casts and false < true ordering.
import type { Codec } from './codec.js';
import { invalidInput } from '../errors/index.js';

/** isspace() in the C locale, which boolin uses to trim its input. */
function isCSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** `word` starts (case-insensitively, ASCII) with s[from, from + len): Postgres's pg_strncasecmp prefix test. */
function isPrefixOf(s: string, from: number, len: number, word: string): boolean {
  if (len > word.length) return false;
  for (let i = 0; i < len; i++) {
    let c = s.charCodeAt(from + i);
    if (c >= 0x41 && c <= 0x5a) c += 32;
    if (c !== word.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * boolin: true/false/yes/no/on/off/1/0 and any unique prefix, case-insensitive, surrounded by optional whitespace.
 * `o` alone is ambiguous (on/off) and rejected, as are `01` and the empty string.
 */
export function parseBool(text: string): boolean {
  // Record values are always `t`/`f`: answer them without trimming.
  if (text.length === 1) {
    const c = text.charCodeAt(0);
    if (c === 0x74) return true;
    if (c === 0x66) return false;
  }
  let start = 0;
  let end = text.length;
  while (start < end && isCSpace(text.charCodeAt(start))) start++;
  while (end > start && isCSpace(text.charCodeAt(end - 1))) end--;
  const len = end - start;
  if (len === 1) {
    const c = text.charCodeAt(start);
    if (c === 0x31) return true;
    if (c === 0x30) return false;
  }
  if (len > 0) {
    switch (text.charCodeAt(start) | 0x20) {
      case 0x74: // t
        if (isPrefixOf(text, start, len, 'true')) return true;
        break;
      case 0x66: // f
        if (isPrefixOf(text, start, len, 'false')) return false;
        break;
      case 0x79: // y
        if (isPrefixOf(text, start, len, 'yes')) return true;
        break;
      case 0x6e: // n
        if (isPrefixOf(text, start, len, 'no')) return false;
        break;
      case 0x6f: // o: at least two characters, since `o` could be either
        if (len >= 2 && isPrefixOf(text, start, len, 'on')) return true;
        if (len >= 2 && isPrefixOf(text, start, len, 'off')) return false;
        break;
    }
  }
  throw invalidInput('boolean', text);
}

/** boolout: the record form. */
export function formatBool(value: boolean): string {
  return value ? 't' : 'f';
}

/** bool → text cast (and `||` with text): the long form, unlike the record form. */
export function boolToText(value: boolean): string {
  return value ? 'true' : 'false';
}

export function compareBool(a: boolean, b: boolean): number {
  return a === b ? 0 : a ? 1 : -1;
}

export const boolCodec: Codec<boolean> = {
  parse: parseBool,
  format: formatBool,
  compare: compareBool,
  equals: (a, b) => a === b,
  key: (value) => (value ? 1 : 0),
};
