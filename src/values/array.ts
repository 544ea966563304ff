// Array text form (array_in / array_out), equality, ordering, keys and the per-element-type array codec.
import type { Codec } from './codec.js';
import type { ArrayValue, Value } from './types.js';
import { ErrorCode, ValueError } from '../errors/index.js';
import { EMPTY_ARRAY, MAX_DIMS, arrayEquals, arrayKey, checkBounds, compareArrays } from './array-ops.js';

// The operators live in array-ops.ts; re-exported so callers import every array function from here.
export {
  EMPTY_ARRAY,
  MAX_DIMS,
  arrayEquals,
  compareArrays,
  arrayKey,
  arrayContains,
  arrayContainedBy,
  arrayOverlaps,
  arrayConcat,
  arrayAppend,
  arrayPrepend,
  arraySubscript,
  arraySlice,
  arrayNdims,
  arrayLength,
  arrayLower,
  arrayUpper,
  cardinality,
  arrayConstruct,
  arrayConstructNested,
} from './array-ops.js';

/** MaxArraySize: MaxAllocSize / sizeof(Datum). */
const MAX_ARRAY_SIZE = 134217727;

const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const EQUALS = 0x3d;

/** array_isspace: the fixed ASCII set, independent of locale. */
function isArraySpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

const malformed = (s: string): ValueError => new ValueError(ErrorCode.InvalidValue, `malformed array literal: "${s}"`);

const tooManyDims = (n: number): ValueError =>
  new ValueError(ErrorCode.InvalidValue, `number of array dimensions (${n}) exceeds the maximum allowed (${MAX_DIMS})`);

/** Unquoted `NULL` in any ASCII case (pg_strcasecmp). */
function isNullWord(s: string): boolean {
  return (
    s.length === 4 &&
    (s.charCodeAt(0) | 0x20) === 0x6e &&
    (s.charCodeAt(1) | 0x20) === 0x75 &&
    (s.charCodeAt(2) | 0x20) === 0x6c &&
    (s.charCodeAt(3) | 0x20) === 0x6c
  );
}

/**
 * array_in: `{…}` with nested braces per dimension, optionally preceded by `[lo:hi]…=` bounds. Each element's text
 * (unquoted, unescaped, unquoted whitespace trimmed) goes to parseElem exactly as Postgres hands it to the element
 * input function; an unquoted `NULL` in any case is a NULL element.
 */
export function parseArray(text: string, parseElem: (elem: string) => Value): ArrayValue {
  const fast = parseSimple(text, parseElem);
  return fast ?? parseGeneral(text, parseElem);
}

/**
 * The record fast path: `{a,b,c}` without quotes, escapes, whitespace or nesting. Such text is structurally valid
 * for array_in, so parsing elements in order gives the same values and the same first error. Returns undefined
 * when the text needs the general parser.
 */
function parseSimple(text: string, parseElem: (elem: string) => Value): ArrayValue | undefined {
  const n = text.length;
  if (n < 2 || text.charCodeAt(0) !== LBRACE || text.charCodeAt(n - 1) !== RBRACE) return undefined;
  if (n === 2) return EMPTY_ARRAY;
  let start = 1;
  for (let i = 1; i < n - 1; i++) {
    const c = text.charCodeAt(i);
    if (c === COMMA) {
      if (i === start) return undefined;
      start = i + 1;
    } else if (c === LBRACE || c === RBRACE || c === QUOTE || c === BACKSLASH || isArraySpace(c)) {
      return undefined;
    }
  }
  if (start === n - 1) return undefined;
  const items: (Value | null)[] = [];
  start = 1;
  for (;;) {
    let end = text.indexOf(',', start);
    if (end === -1) end = n - 1;
    const elem = text.slice(start, end);
    items.push(isNullWord(elem) ? null : parseElem(elem));
    if (end === n - 1) break;
    start = end + 1;
  }
  return { dims: [items.length], lbounds: [1], items };
}

/** C atoi as glibc does it: (int) strtol, so out-of-range values clamp to ±2^63 and keep their low 32 bits. */
function atoi(s: string): number {
  const m = /^[+-]?\d+/.exec(s);
  if (m === null) return 0;
  let v = BigInt(m[0]);
  const LONG_MAX = 9223372036854775807n;
  if (v > LONG_MAX) v = LONG_MAX;
  else if (v < -LONG_MAX - 1n) v = -LONG_MAX - 1n;
  return Number(BigInt.asIntN(32, v));
}

function isBoundChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b;
}

function parseGeneral(text: string, parseElem: (elem: string) => Value): ArrayValue {
  const n = text.length;
  let p = 0;
  const dims: number[] = [];
  const lbounds: number[] = [];
  for (;;) {
    while (p < n && isArraySpace(text.charCodeAt(p))) p++;
    if (text.charCodeAt(p) !== LBRACKET) break;
    p++;
    if (dims.length >= MAX_DIMS) throw tooManyDims(dims.length + 1);
    let q = p;
    while (q < n && isBoundChar(text.charCodeAt(q))) q++;
    if (q === p) throw malformed(text);
    let lb = 1;
    if (text.charCodeAt(q) === COLON) {
      lb = atoi(text.slice(p, q));
      p = q + 1;
      q = p;
      while (q < n && isBoundChar(text.charCodeAt(q))) q++;
      if (q === p) throw malformed(text);
    }
    if (text.charCodeAt(q) !== RBRACKET) throw malformed(text);
    const ub = atoi(text.slice(p, q));
    p = q + 1;
    if (ub < lb) throw new ValueError(ErrorCode.InvalidValue, 'upper bound cannot be less than lower bound');
    dims.push(ub - lb + 1);
    lbounds.push(lb);
  }
  let counted: number[];
  if (dims.length === 0) {
    if (text.charCodeAt(p) !== LBRACE) throw malformed(text);
    counted = arrayCount(text, p);
    for (let i = 0; i < counted.length; i++) {
      dims.push(counted[i]!);
      lbounds.push(1);
    }
  } else {
    if (text.charCodeAt(p) !== EQUALS) throw malformed(text);
    p++;
    while (p < n && isArraySpace(text.charCodeAt(p))) p++;
    if (text.charCodeAt(p) !== LBRACE) throw malformed(text);
    counted = arrayCount(text, p);
    if (counted.length !== dims.length) throw malformed(text);
    for (let i = 0; i < dims.length; i++) if (dims[i] !== counted[i]) throw malformed(text);
  }
  let nitems = dims.length === 0 ? 0 : 1;
  for (const d of dims) {
    nitems *= d;
    if (nitems > MAX_ARRAY_SIZE) {
      throw new ValueError(ErrorCode.InvalidValue, `array size exceeds the maximum allowed (${MAX_ARRAY_SIZE})`);
    }
  }
  checkBounds(dims, lbounds);
  if (nitems === 0) return EMPTY_ARRAY;
  const items = readArrayStr(text, p, nitems, dims, parseElem);
  return { dims, lbounds, items };
}

// ArrayCount's parse states.
const NO_LEVEL = 0;
const LEVEL_STARTED = 1;
const ELEM_STARTED = 2;
const QUOTED_ELEM_STARTED = 3;
const QUOTED_ELEM_COMPLETED = 4;
const ELEM_DELIMITED = 5;
const LEVEL_COMPLETED = 6;
const LEVEL_DELIMITED = 7;

/**
 * A port of Postgres 15's ArrayCount: validates the brace structure and returns the dimension lengths (empty for
 * `{}`). Kept state-for-state because its quirks decide which texts are accepted and what dimensions they get.
 * Its errors quote the text from the opening brace on, as Postgres does.
 */
function arrayCount(text: string, start: number): number[] {
  const n = text.length;
  const fail = (): ValueError => malformed(text.slice(start));
  let nest = 0;
  let ndim = 1;
  const temp = [0, 0, 0, 0, 0, 0];
  const nelems = [1, 1, 1, 1, 1, 1];
  const nelemsLast = [0, 0, 0, 0, 0, 0];
  let inQuotes = false;
  let eoArray = false;
  let empty = true;
  let state = NO_LEVEL;
  let ptr = start;
  while (!eoArray) {
    let itemDone = false;
    while (!itemDone) {
      if (state === ELEM_STARTED || state === QUOTED_ELEM_STARTED) empty = false;
      if (ptr >= n) throw fail();
      const c = text.charCodeAt(ptr);
      if (c === BACKSLASH) {
        if (
          state !== LEVEL_STARTED &&
          state !== ELEM_STARTED &&
          state !== QUOTED_ELEM_STARTED &&
          state !== ELEM_DELIMITED
        ) {
          throw fail();
        }
        if (state !== QUOTED_ELEM_STARTED) state = ELEM_STARTED;
        if (ptr + 1 < n) ptr++;
        else throw fail();
      } else if (c === QUOTE) {
        if (state !== LEVEL_STARTED && state !== QUOTED_ELEM_STARTED && state !== ELEM_DELIMITED) throw fail();
        inQuotes = !inQuotes;
        state = inQuotes ? QUOTED_ELEM_STARTED : QUOTED_ELEM_COMPLETED;
      } else if (inQuotes) {
        // any other character inside quotes is element content
      } else if (c === LBRACE) {
        if (state !== NO_LEVEL && state !== LEVEL_STARTED && state !== LEVEL_DELIMITED) throw fail();
        state = LEVEL_STARTED;
        if (nest >= MAX_DIMS) throw tooManyDims(nest + 1);
        temp[nest] = 0;
        nest++;
        if (ndim < nest) ndim = nest;
      } else if (c === RBRACE) {
        if (
          state !== ELEM_STARTED &&
          state !== QUOTED_ELEM_COMPLETED &&
          state !== LEVEL_COMPLETED &&
          !(nest === 1 && state === LEVEL_STARTED)
        ) {
          throw fail();
        }
        state = LEVEL_COMPLETED;
        if (nest === 0) throw fail();
        nest--;
        if (nelemsLast[nest] !== 0 && nelems[nest] !== nelemsLast[nest]) throw fail();
        nelemsLast[nest] = nelems[nest]!;
        nelems[nest] = 1;
        if (nest === 0) eoArray = itemDone = true;
        else temp[nest - 1]!++;
      } else if (c === COMMA) {
        if (state !== ELEM_STARTED && state !== QUOTED_ELEM_COMPLETED && state !== LEVEL_COMPLETED) throw fail();
        state = state === LEVEL_COMPLETED ? LEVEL_DELIMITED : ELEM_DELIMITED;
        itemDone = true;
        nelems[nest - 1]!++;
      } else if (!isArraySpace(c)) {
        if (state !== LEVEL_STARTED && state !== ELEM_STARTED && state !== ELEM_DELIMITED) throw fail();
        state = ELEM_STARTED;
      }
      if (!itemDone) ptr++;
    }
    temp[ndim - 1]!++;
    ptr++;
  }
  while (ptr < n) if (!isArraySpace(text.charCodeAt(ptr++))) throw fail();
  return empty ? [] : temp.slice(0, ndim);
}

/**
 * A port of ReadArrayStr: splits the validated text into element strings, removing quotes and backslashes and
 * trimming unquoted leading/trailing whitespace, and places each at its row-major offset.
 */
function readArrayStr(
  text: string,
  start: number,
  nitems: number,
  dims: readonly number[],
  parseElem: (elem: string) => Value,
): (Value | null)[] {
  const n = text.length;
  const ndim = dims.length;
  const prod = new Array<number>(ndim);
  prod[ndim - 1] = 1;
  for (let i = ndim - 2; i >= 0; i--) prod[i] = prod[i + 1]! * dims[i + 1]!;
  const indx = new Array<number>(ndim).fill(0);
  const offset = (): number => {
    let o = 0;
    for (let j = 0; j < ndim; j++) o += indx[j]! * prod[j]!;
    return o;
  };
  const items = new Array<Value | null>(nitems).fill(null);
  let src = start;
  let nest = 0;
  let inQuotes = false;
  let eoArray = false;
  while (!eoArray) {
    let itemDone = false;
    let leadingSpace = true;
    let hasQuoting = false;
    let i = -1;
    let buf = '';
    let end = 0;
    while (!itemDone) {
      if (src >= n) throw malformed(text);
      const c = text.charCodeAt(src);
      if (c === BACKSLASH) {
        src++;
        if (src >= n) throw malformed(text);
        buf += text[src++];
        leadingSpace = false;
        end = buf.length;
        hasQuoting = true;
      } else if (c === QUOTE) {
        inQuotes = !inQuotes;
        if (inQuotes) leadingSpace = false;
        else end = buf.length;
        hasQuoting = true;
        src++;
      } else if (inQuotes) {
        buf += text[src++];
      } else if (c === LBRACE) {
        if (nest >= ndim) throw malformed(text);
        nest++;
        indx[nest - 1] = 0;
        src++;
      } else if (c === RBRACE) {
        if (nest === 0) throw malformed(text);
        if (i === -1) i = offset();
        indx[nest - 1] = 0;
        nest--;
        if (nest === 0) eoArray = itemDone = true;
        else indx[nest - 1]!++;
        src++;
      } else if (c === COMMA) {
        if (i === -1) i = offset();
        itemDone = true;
        indx[ndim - 1]!++;
        src++;
      } else if (isArraySpace(c)) {
        if (leadingSpace) src++;
        else buf += text[src++];
      } else {
        buf += text[src++];
        leadingSpace = false;
        end = buf.length;
      }
    }
    const item = end === buf.length ? buf : buf.slice(0, end);
    if (i < 0 || i >= nitems) throw malformed(text);
    items[i] = !hasQuoting && isNullWord(item) ? null : parseElem(item);
  }
  return items;
}

const NEEDS_QUOTES = /[{}",\\ \t\n\v\f\r]/;

function quoteElem(s: string): string {
  if (s === '' || isNullWord(s)) return `"${s}"`;
  if (!NEEDS_QUOTES.test(s)) return s;
  return `"${s.replace(/["\\]/g, '\\$&')}"`;
}

/** array_out: `{…}` per dimension, elements quoted when needed, a `[lo:hi]…=` prefix unless every bound is 1. */
export function formatArray(arr: ArrayValue, formatElem: (v: Value) => string): string {
  const { dims, lbounds, items } = arr;
  if (items.length === 0) return '{}';
  let prefix = '';
  if (lbounds.some((lb) => lb !== 1)) {
    for (let i = 0; i < dims.length; i++) prefix += `[${lbounds[i]}:${lbounds[i]! + dims[i]! - 1}]`;
    prefix += '=';
  }
  const elem = (v: Value | null): string => (v === null ? 'NULL' : quoteElem(formatElem(v)));
  if (dims.length === 1) return `${prefix}{${items.map(elem).join(',')}}`;
  let k = 0;
  const level = (d: number): string => {
    const parts: string[] = [];
    for (let j = 0; j < dims[d]!; j++) parts.push(d === dims.length - 1 ? elem(items[k++]!) : level(d + 1));
    return `{${parts.join(',')}}`;
  };
  return prefix + level(0);
}

const codecs = new WeakMap<Codec, Codec<ArrayValue>>();

/** The codec of T[] for the codec of T (one instance per element codec). */
export function arrayCodec(elem: Codec): Codec<ArrayValue> {
  let c = codecs.get(elem);
  if (c !== undefined) return c;
  const parseElem = (s: string): Value => elem.parse(s);
  const formatElem = (v: Value): string => elem.format(v);
  const elemEquals = (x: Value, y: Value): boolean => elem.equals(x, y);
  const elemKey = (v: Value): string | number => elem.key(v);
  const elemCompare = elem.compare;
  c = {
    parse: (text) => parseArray(text, parseElem),
    format: (value) => formatArray(value, formatElem),
    compare: elemCompare === undefined ? undefined : (a, b) => compareArrays(a, b, elemCompare),
    equals: (a, b) => arrayEquals(a, b, elemEquals),
    key: (value) => arrayKey(value, elemKey),
  };
  codecs.set(elem, c);
  return c;
}
