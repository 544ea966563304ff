// jsonb (and json validation): Postgres 15's JSON lexer rules, jsonb key order and output, structural equality.
import { ErrorCode, ValueError } from '../errors/index.js';
import type { Codec } from './codec.js';
import { compareNumeric, formatNumeric, numericKey, parseNumeric } from './numeric.js';
import type { JsonbValue } from './types.js';

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const TOKEN_TAIL = /[A-Za-z0-9_$.+-]*/y;

function syntaxError(): ValueError {
  return new ValueError(ErrorCode.InvalidValue, 'invalid input syntax for type json');
}

const JNULL: JsonbValue = Object.freeze({ kind: 'null' });
const JTRUE: JsonbValue = Object.freeze({ kind: 'bool', value: true });
const JFALSE: JsonbValue = Object.freeze({ kind: 'bool', value: false });

/** Recursive-descent parser over the text; `build` false only validates (the json type). */
class Parser {
  pos = 0;
  constructor(
    readonly text: string,
    readonly build: boolean,
  ) {}

  skipWs(): void {
    const t = this.text;
    // JSON whitespace is exactly space, tab, newline and carriage return (no \f or \v).
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c === 32 || c === 9 || c === 10 || c === 13) this.pos++;
      else break;
    }
  }

  value(depth: number): JsonbValue {
    if (depth > 6400) throw new ValueError(ErrorCode.InvalidValue, 'stack depth limit exceeded');
    this.skipWs();
    const t = this.text;
    if (this.pos >= t.length) throw syntaxError();
    const c = t.charCodeAt(this.pos);
    if (c === 123) return this.object(depth);
    if (c === 91) return this.array(depth);
    if (c === 34) {
      const s = this.string();
      return this.build ? { kind: 'string', value: s } : JNULL;
    }
    if (c === 45 || (c >= 48 && c <= 57)) {
      NUMBER.lastIndex = this.pos;
      const m = NUMBER.exec(t);
      if (m === null) throw syntaxError();
      const end = this.pos + m[0].length;
      // A number running straight into letters or digits ("01", "1.", "1x") is one invalid token in Postgres.
      TOKEN_TAIL.lastIndex = end;
      if (TOKEN_TAIL.exec(t)![0].length > 0) throw syntaxError();
      this.pos = end;
      return this.build ? { kind: 'number', value: parseNumeric(m[0]) } : JNULL;
    }
    TOKEN_TAIL.lastIndex = this.pos;
    const word = TOKEN_TAIL.exec(t)![0];
    this.pos += word.length;
    if (word === 'true') return JTRUE;
    if (word === 'false') return JFALSE;
    if (word === 'null') return JNULL;
    throw syntaxError();
  }

  expect(code: number): void {
    this.skipWs();
    if (this.text.charCodeAt(this.pos) !== code) throw syntaxError();
    this.pos++;
  }

  array(depth: number): JsonbValue {
    this.pos++;
    const items: JsonbValue[] = [];
    this.skipWs();
    if (this.text.charCodeAt(this.pos) === 93) {
      this.pos++;
      return { kind: 'array', items };
    }
    for (;;) {
      const v = this.value(depth + 1);
      if (this.build) items.push(v);
      this.skipWs();
      const c = this.text.charCodeAt(this.pos);
      this.pos++;
      if (c === 93) return { kind: 'array', items };
      if (c !== 44) throw syntaxError();
    }
  }

  object(depth: number): JsonbValue {
    this.pos++;
    const map = new Map<string, JsonbValue>();
    this.skipWs();
    if (this.text.charCodeAt(this.pos) === 125) {
      this.pos++;
      return { kind: 'object', entries: [] };
    }
    for (;;) {
      this.skipWs();
      if (this.text.charCodeAt(this.pos) !== 34) throw syntaxError();
      const key = this.string();
      this.expect(58);
      const v = this.value(depth + 1);
      if (this.build) {
        map.delete(key); // duplicate keys: the last one wins
        map.set(key, v);
      }
      this.skipWs();
      const c = this.text.charCodeAt(this.pos);
      this.pos++;
      if (c === 125) break;
      if (c !== 44) throw syntaxError();
    }
    if (!this.build) return JNULL;
    const entries = [...map.entries()];
    entries.sort((a, b) => compareKeys(a[0], b[0]));
    return { kind: 'object', entries };
  }

  /** A string token, de-escaped. Validation (escapes, surrogates, control characters) happens either way. */
  string(): string {
    const t = this.text;
    let i = this.pos + 1;
    let out = '';
    let runStart = i;
    for (;;) {
      if (i >= t.length) throw syntaxError();
      const c = t.charCodeAt(i);
      if (c === 34) break;
      if (c < 32) throw syntaxError(); // control characters must be escaped
      if (c !== 92) {
        i++;
        continue;
      }
      out += t.slice(runStart, i);
      const e = t[i + 1];
      i += 2;
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          const cp = this.hex4(i);
          i += 4;
          if (!this.build) {
            // json keeps the escape as written: Postgres checks neither pairing nor \u0000 there.
          } else if (cp >= 0xd800 && cp <= 0xdbff) {
            if (t[i] !== '\\' || t[i + 1] !== 'u') throw syntaxError();
            const lo = this.hex4(i + 2);
            if (lo < 0xdc00 || lo > 0xdfff) throw syntaxError();
            i += 6;
            out += String.fromCharCode(cp, lo);
          } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            throw syntaxError(); // low surrogate without a high one
          } else if (cp === 0) {
            throw new ValueError(ErrorCode.InvalidValue, 'unsupported Unicode escape sequence');
          } else out += String.fromCharCode(cp);
          break;
        }
        default:
          throw syntaxError();
      }
      runStart = i;
    }
    out += t.slice(runStart, i);
    this.pos = i + 1;
    return out;
  }

  hex4(i: number): number {
    const h = this.text.slice(i, i + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(h)) throw syntaxError();
    return parseInt(h, 16);
  }
}

const encoder = new TextEncoder();

/** jsonb key order: shorter UTF-8 byte length first, then bytewise. */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  const ba = encoder.encode(a);
  const bb = encoder.encode(b);
  if (ba.length !== bb.length) return ba.length - bb.length;
  for (let i = 0; i < ba.length; i++) {
    if (ba[i] !== bb[i]) return ba[i]! - bb[i]!;
  }
  return 0;
}

function parseDocument(text: string, build: boolean): JsonbValue {
  const p = new Parser(text, build);
  const v = p.value(0);
  p.skipWs();
  if (p.pos !== text.length) throw syntaxError();
  return v;
}

export function parseJsonb(text: string): JsonbValue {
  return parseDocument(text, true);
}

/** json input: validates and keeps the text as written. */
export function parseJson(text: string): string {
  parseDocument(text, false);
  return text;
}

/** escape_json: quotes, backslash, the short escapes, other control characters as \u00XX. */
export function quoteJsonString(s: string): string {
  let out = '"';
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 32 && c !== 34 && c !== 92) continue;
    out += s.slice(run, i);
    run = i + 1;
    switch (c) {
      case 34:
        out += '\\"';
        break;
      case 92:
        out += '\\\\';
        break;
      case 8:
        out += '\\b';
        break;
      case 12:
        out += '\\f';
        break;
      case 10:
        out += '\\n';
        break;
      case 13:
        out += '\\r';
        break;
      case 9:
        out += '\\t';
        break;
      default:
        out += '\\u' + c.toString(16).padStart(4, '0');
    }
  }
  return out + s.slice(run) + '"';
}

/** jsonb_out: `{"a": [1.0, 2], "b": null}` — a space after every colon and comma. */
export function formatJsonb(v: JsonbValue): string {
  switch (v.kind) {
    case 'null':
      return 'null';
    case 'bool':
      return v.value ? 'true' : 'false';
    case 'number':
      return formatNumeric(v.value);
    case 'string':
      return quoteJsonString(v.value);
    case 'array':
      return '[' + v.items.map(formatJsonb).join(', ') + ']';
    case 'object':
      return '{' + v.entries.map(([k, x]) => quoteJsonString(k) + ': ' + formatJsonb(x)).join(', ') + '}';
  }
}

/** jsonb `=`: structural, numbers compared numerically (so 1.0 = 1). */
export function jsonbEquals(a: JsonbValue, b: JsonbValue): boolean {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'null':
      return true;
    case 'bool':
      return a.value === (b as typeof a).value;
    case 'number':
      return compareNumeric(a.value, (b as typeof a).value) === 0;
    case 'string':
      return a.value === (b as typeof a).value;
    case 'array': {
      const bi = (b as typeof a).items;
      if (a.items.length !== bi.length) return false;
      for (let i = 0; i < bi.length; i++) if (!jsonbEquals(a.items[i]!, bi[i]!)) return false;
      return true;
    }
    case 'object': {
      const be = (b as typeof a).entries;
      if (a.entries.length !== be.length) return false;
      for (let i = 0; i < be.length; i++) {
        const x = a.entries[i]!;
        const y = be[i]!;
        if (x[0] !== y[0] || !jsonbEquals(x[1], y[1])) return false;
      }
      return true;
    }
  }
}

/** Canonical key: the output form with every number in its canonical (trailing-zero-free) spelling. */
export function jsonbKey(v: JsonbValue): string {
  switch (v.kind) {
    case 'number':
      return String(numericKey(v.value));
    case 'array':
      return '[' + v.items.map(jsonbKey).join(',') + ']';
    case 'object':
      return '{' + v.entries.map(([k, x]) => quoteJsonString(k) + ':' + jsonbKey(x)).join(',') + '}';
    default:
      return formatJsonb(v);
  }
}

export const jsonbCodec: Codec<JsonbValue> = {
  parse: parseJsonb,
  format: formatJsonb,
  compare: undefined,
  equals: jsonbEquals,
  key: jsonbKey,
};
