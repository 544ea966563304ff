// The text family (text, varchar, name, bpchar): C-collation ordering, ASCII case mapping, lengths and length casts.
import type { Codec } from './codec.js';

/**
 * Orders strings by Unicode code point, as Postgres does under the C collation (UTF-8 byte order).
 * JavaScript compares UTF-16 code units, which only disagrees with code-point order when the first differing
 * units involve a surrogate; so compare units and fix up just that case.
 */
export function compareText(a: string, b: string): number {
  if (a === b) return 0;
  return compareRange(a, a.length, b, b.length);
}

/** compareText on the prefixes a[0, alen) and b[0, blen): lets bpchar compare without slicing off padding. */
function compareRange(a: string, alen: number, b: string, blen: number): number {
  const n = alen < blen ? alen : blen;
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      // Surrogates (D800–DFFF) encode code points above FFFF, so they must sort after E000–FFFF.
      if (x >= 0xd800 && y >= 0xd800) return surrogateRank(x) - surrogateRank(y);
      return x - y;
    }
  }
  return alen - blen;
}

function surrogateRank(u: number): number {
  return u >= 0xe000 ? u - 0x800 : u + 0x2000;
}

export function textEquals(a: string, b: string): boolean {
  return a === b;
}

/** Length of s without trailing ASCII spaces (the only padding bpchar ignores; tabs are significant). */
function trimmedLength(s: string): number {
  let n = s.length;
  while (n > 0 && s.charCodeAt(n - 1) === 0x20) n--;
  return n;
}

/** Strips trailing ASCII spaces: the bpchar → text/varchar cast, and the bpchar comparison key. */
export function bpcharTrim(s: string): string {
  const n = trimmedLength(s);
  return n === s.length ? s : s.slice(0, n);
}

export function compareBpchar(a: string, b: string): number {
  return compareRange(a, trimmedLength(a), b, trimmedLength(b));
}

export function bpcharEquals(a: string, b: string): boolean {
  const n = trimmedLength(a);
  if (n !== trimmedLength(b)) return false;
  if (n === a.length && n === b.length) return a === b;
  for (let i = 0; i < n; i++) if (a.charCodeAt(i) !== b.charCodeAt(i)) return false;
  return true;
}

/** ASCII-only lower case, as Postgres's lower() under COLLATE "C" (`lower('É')` stays `É`). */
export function lowerAscii(s: string): string {
  return mapAscii(s, 0x41, 32);
}

/** ASCII-only upper case, as Postgres's upper() under COLLATE "C" (`upper('é')` stays `é`). */
export function upperAscii(s: string): string {
  return mapAscii(s, 0x61, -32);
}

/**
 * Shifts the 26 ASCII letters from `first` by `shift`, nothing else. An all-ASCII string goes through the engine's
 * own case mapping (it maps exactly those letters there) in one flat allocation; only strings with other characters
 * (which the engine would map too) are rebuilt code unit by code unit.
 */
function mapAscii(s: string, first: number, shift: number): string {
  const n = s.length;
  let hit = false;
  let ascii = true;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if ((c - first) >>> 0 < 26) hit = true;
    else if (c >= 0x80) ascii = false;
  }
  if (!hit) return s;
  if (ascii) return shift > 0 ? s.toLowerCase() : s.toUpperCase();
  const units = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    units[i] = (c - first) >>> 0 < 26 ? c + shift : c;
  }
  let out = '';
  for (let i = 0; i < n; i += 4096) out += String.fromCharCode(...units.slice(i, i + 4096));
  return out;
}

/** Number of code points in s[0, end): a surrogate pair is one character. */
function codePointCount(s: string, end: number): number {
  let count = end;
  for (let i = 0; i < end - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        count--;
        i++;
      }
    }
  }
  return count;
}

/** length()/char_length() of text: characters (code points), not UTF-16 units. */
export function textLength(s: string): number {
  return codePointCount(s, s.length);
}

/** length() of bpchar: characters excluding trailing spaces. */
export function bpcharLength(s: string): number {
  return codePointCount(s, trimmedLength(s));
}

export function textConcat(a: string, b: string): string {
  return a + b;
}

/** UTF-16 offset just after the first n code points of s, or -1 when s has at most n code points. */
function offsetAfterChars(s: string, n: number): number {
  if (s.length <= n) return -1;
  let i = 0;
  for (let k = 0; k < n; k++) {
    const c = s.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && isLow(s.charCodeAt(i + 1)) ? 2 : 1;
    if (i >= s.length) return -1;
  }
  return i;
}

function isLow(u: number): boolean {
  return u >= 0xdc00 && u <= 0xdfff;
}

/** Explicit cast to varchar(n): silently truncates to n characters. n < 0 means no length limit. */
export function castToVarchar(s: string, n: number): string {
  if (n < 0) return s;
  const cut = offsetAfterChars(s, n);
  return cut === -1 ? s : s.slice(0, cut);
}

/**
 * Explicit cast to char(n): truncates to n characters, then pads with spaces to n (`'abc  '::char(2)` is `ab`).
 * n < 0 (plain bpchar) keeps the string as is, trailing spaces included.
 */
export function castToBpchar(s: string, n: number): string {
  if (n < 0) return s;
  const cut = offsetAfterChars(s, n);
  if (cut !== -1) return s.slice(0, cut);
  const len = textLength(s);
  return len < n ? s + ' '.repeat(n - len) : s;
}

/** NAMEDATALEN − 1: the longest name in bytes. */
const NAME_MAX_BYTES = 63;

/** name input: truncates to 63 UTF-8 bytes without splitting a character (Postgres's pg_mbcliplen). */
export function nameInput(s: string): string {
  if (s.length * 3 <= NAME_MAX_BYTES) return s; // every UTF-16 unit is at most 3 UTF-8 bytes
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let w: number;
    let units = 1;
    if (c < 0x80) w = 1;
    else if (c < 0x800) w = 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && isLow(s.charCodeAt(i + 1))) {
      w = 4;
      units = 2;
    } else w = 3;
    if (bytes + w > NAME_MAX_BYTES) return s.slice(0, i);
    bytes += w;
    i += units - 1;
  }
  return s;
}

/** text, varchar, json (and unknown): the value is the raw string. */
export const textCodec: Codec<string> = {
  parse: (text) => text,
  format: (value) => value,
  compare: compareText,
  equals: textEquals,
  key: (value) => value,
};

/** name: input truncates to 63 bytes; otherwise as text. */
export const nameCodec: Codec<string> = {
  parse: nameInput,
  format: (value) => value,
  compare: compareText,
  equals: textEquals,
  key: (value) => value,
};

/** bpchar: stored padded; comparisons and keys ignore trailing spaces. */
export const bpcharCodec: Codec<string> = {
  parse: (text) => text,
  format: (value) => value,
  compare: compareBpchar,
  equals: bpcharEquals,
  key: bpcharTrim,
};
