// Reads one line of a shape file ({id, table, where?, params?} as JSON) into a shape definition.
//
// JSON.parse was the largest single cost of a load. Lines in the compact layout JSON.stringify and writeShapesFile
// produce — keys in that order, ASCII strings without escapes or control characters — are read straight from the
// file's bytes; any other line (escapes, non-ASCII, other key orders, whitespace) returns null from the fast reader
// and goes through JSON.parse, so a line always means exactly what JSON.parse says it means.
import type { ShapeDef } from '../router/index.js';

export interface Line {
  readonly id: string;
  readonly def: ShapeDef;
}

/** One JSON line → shape; throws TypeError or SyntaxError naming what is wrong. */
export function parseShapeLine(text: string): Line {
  const o = JSON.parse(text) as { id?: unknown; table?: unknown; where?: unknown; params?: unknown };
  if (typeof o !== 'object' || o === null) throw new TypeError('a shape line must be a JSON object');
  if (typeof o.id !== 'string' || typeof o.table !== 'string')
    throw new TypeError('a shape line needs string "id" and "table"');
  if (o.where !== undefined && typeof o.where !== 'string') throw new TypeError('"where" must be a string');
  if (o.params !== undefined && o.params !== null) {
    if (typeof o.params !== 'object' || Array.isArray(o.params))
      throw new TypeError('"params" must be an object of strings');
    for (const v of Object.values(o.params))
      if (typeof v !== 'string') throw new TypeError('"params" values must be strings');
  }
  const def: ShapeDef =
    o.params === undefined || o.params === null
      ? o.where === undefined
        ? { table: o.table }
        : { table: o.table, where: o.where }
      : {
          table: o.table,
          ...(o.where !== undefined ? { where: o.where } : {}),
          params: o.params as Record<string, string>,
        };
  return { id: o.id, def };
}

// ---- the fast reader ----------------------------------------------------------------------------------------------

const enc = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const ID = enc('{"id":');
const TABLE = enc(',"table":');
const WHERE = enc(',"where":');
const PARAMS = enc(',"params":{');

let at = 0;

function lit(b: Uint8Array, end: number, s: Uint8Array): boolean {
  if (at + s.length > end) return false;
  for (let i = 0; i < s.length; i++) if (b[at + i] !== s[i]) return false;
  at += s.length;
  return true;
}

function ch(b: Uint8Array, end: number, c: number): boolean {
  if (at >= end || b[at] !== c) return false;
  at++;
  return true;
}

/** A string token of plain ASCII (no escape, no control character), or null. Leaves `at` after the closing quote. */
function str(b: Buffer, end: number): string | null {
  if (at >= end || b[at] !== 34) return null;
  const start = at + 1;
  for (let i = start; i < end; i++) {
    const c = b[i] as number;
    if (c === 34) {
      at = i + 1;
      // latin1 of ASCII bytes is exact and gives a fresh string (no reference to the chunk it came from).
      return b.toString('latin1', start, i);
    }
    if (c === 92 || c < 32 || c > 126) return null;
  }
  return null;
}

/** One copy of each distinct table name and clause, however many lines repeat it (bounded). */
const shared = new Map<string, string>();
function share(s: string): string {
  const c = shared.get(s);
  if (c !== undefined) return c;
  if (shared.size < 65_536) shared.set(s, s);
  return s;
}

/** The shape on bytes [start, end) of `b` when the line is in the compact ASCII layout; null otherwise. */
export function parseShapeBytes(b: Buffer, start: number, end: number): Line | null {
  at = start;
  if (!lit(b, end, ID)) return null;
  const id = str(b, end);
  if (id === null || !lit(b, end, TABLE)) return null;
  const table = str(b, end);
  if (table === null) return null;
  let where: string | undefined;
  if (lit(b, end, WHERE)) {
    const w = str(b, end);
    if (w === null) return null;
    where = share(w);
  }
  let params: Record<string, string> | undefined;
  if (lit(b, end, PARAMS)) {
    params = {};
    if (!ch(b, end, 125)) {
      for (;;) {
        const k = str(b, end);
        // "__proto__" as a key would set the prototype by assignment; JSON.parse makes it an own property.
        if (k === null || k === '__proto__' || !ch(b, end, 58)) return null;
        const v = str(b, end);
        if (v === null) return null;
        params[k] = v;
        if (ch(b, end, 125)) break;
        if (!ch(b, end, 44)) return null;
      }
    }
  }
  if (!ch(b, end, 125) || at !== end) return null;
  const tb = share(table);
  const def: ShapeDef =
    where === undefined
      ? params === undefined
        ? { table: tb }
        : { table: tb, params }
      : params === undefined
        ? { table: tb, where }
        : { table: tb, where, params };
  return { id, def };
}
