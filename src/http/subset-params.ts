// Parses subset snapshot parameters (`subset__*` on GET, a JSON body on POST) into a validated SubsetRequest (§9).
import { parseOrderBy, MAX_ORDER_ITEMS, type OrderItem } from '../sql/order-by.js';
import type { SubsetRequest } from '../shapes/types.js';
import { MAX_WHERE_BYTES, type FieldErrors } from './params.js';

/** The subset keys, as they appear in a POST body and (prefixed with `subset__`) in a GET query. */
export const SUBSET_KEYS = ['where', 'params', 'limit', 'offset', 'order_by', 'where_expr', 'order_by_expr'] as const;
export type SubsetKey = (typeof SUBSET_KEYS)[number];
export type RawSubset = Partial<Record<SubsetKey, unknown>>;

/** A subset returns at most this many rows: a page, not a dump (a shape's full rows come from its log). */
export const MAX_SUBSET_LIMIT = 1_000_000;
/** OFFSET makes Postgres read and discard rows: bounded so one request cannot scan without end. */
export const MAX_SUBSET_OFFSET = 10_000_000;
/** Nesting depth of a `where_expr` tree (deeper is refused rather than recursed into). */
export const MAX_EXPR_DEPTH = 64;

const PREFIX = 'subset__';

/** Whether any `subset__*` parameter is present: the request is then a subset snapshot. */
export function hasSubsetParams(query: URLSearchParams): boolean {
  for (const key of query.keys()) if (key.startsWith(PREFIX)) return true;
  return false;
}

function addError(errors: FieldErrors, key: SubsetKey | 'body', message: string): void {
  (errors[key === 'body' ? 'body' : PREFIX + key] ??= []).push(message);
}

/** JSON text of a GET parameter, or the error. */
function parseJsonParam(text: string, key: SubsetKey, errors: FieldErrors): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    addError(errors, key, 'must be valid JSON');
    return undefined;
  }
}

/** The raw subset of a GET query: `subset__params` is a JSON object (or `subset__params[n]=v`), `_expr` forms JSON. */
export function subsetFromQuery(query: URLSearchParams, errors: FieldErrors): RawSubset {
  const raw: RawSubset = {};
  let bracketParams: Record<string, string> | undefined;
  for (const [name, value] of query) {
    if (!name.startsWith(PREFIX)) continue;
    const key = name.slice(PREFIX.length);
    const m = /^params\[(.*)\]$/.exec(key);
    if (m !== null) (bracketParams ??= {})[m[1]!] = value;
    else if (key === 'params' || key === 'where_expr' || key === 'order_by_expr')
      raw[key] = parseJsonParam(value, key, errors);
    else if ((SUBSET_KEYS as readonly string[]).includes(key)) raw[key as SubsetKey] = value;
  }
  if (bracketParams !== undefined) raw.params = { ...bracketParams, ...(raw.params as object | undefined) };
  return raw;
}

/** Splits a POST body into its subset part (top-level keys, or a nested `subset` object) and the other parameters. */
export function subsetFromBody(
  body: Readonly<Record<string, unknown>>,
  errors: FieldErrors,
): { subset: RawSubset; others: Record<string, string> } {
  const subset: RawSubset = {};
  const others: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) {
    if ((SUBSET_KEYS as readonly string[]).includes(k)) subset[k as SubsetKey] = v;
    else if (k === 'subset' && v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [sk, sv] of Object.entries(v as Record<string, unknown>)) {
        if ((SUBSET_KEYS as readonly string[]).includes(sk)) subset[sk as SubsetKey] = sv;
      }
    } else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') others[k] = String(v);
    else addError(errors, 'body', `the value of "${k}" must be a string`);
  }
  return { subset, others };
}

/** A Postgres array literal for a JSON array parameter (`{"a","b"}`), so `col = ANY($1)` can take a list. */
function arrayLiteral(items: readonly unknown[]): string | undefined {
  const parts: string[] = [];
  for (const it of items) {
    if (it === null) parts.push('NULL');
    else if (typeof it === 'string' || typeof it === 'number' || typeof it === 'boolean')
      parts.push(`"${String(it).replace(/[\\"]/g, (c) => `\\${c}`)}"`);
    else return undefined;
  }
  return `{${parts.join(',')}}`;
}

function parseParams(value: unknown, errors: FieldErrors): Record<string, string> | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    addError(errors, 'params', 'must be a JSON object mapping parameter numbers to values, e.g. {"1":"abc"}');
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (!/^[1-9][0-9]{0,4}$/.test(k)) {
      addError(errors, 'params', `parameter keys must be positive integers naming $n placeholders, got "${k}"`);
      continue;
    }
    const text =
      typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
        ? String(v)
        : Array.isArray(v)
          ? arrayLiteral(v)
          : undefined;
    if (text === undefined) {
      addError(errors, 'params', `the value of parameter $${k} must be a string, number, boolean or flat array`);
      continue;
    }
    if (text.includes('\u0000')) addError(errors, 'params', `parameter $${k} contains a NUL character`);
    out[k] = text;
  }
  return out;
}

function parseCount(value: unknown, key: 'limit' | 'offset', min: number, max: number, errors: FieldErrors) {
  const n = typeof value === 'string' && /^\s*[0-9]+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    addError(errors, key, `must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
    return undefined;
  }
  return n;
}

/** Quotes an identifier for the where text compiled from `where_expr` (always quoted: exact names). */
function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

const BINARY: Readonly<Record<string, string>> = { eq: '=', gt: '>', gte: '>=', lt: '<', lte: '<=' };
const UNARY_FUNCS: Readonly<Record<string, string>> = { upper: 'upper', lower: 'lower', length: 'length' };

/**
 * Renders the client's structured expression (`{type:'ref'|'val'|'func'}`, the functions its expression compiler
 * knows) as where text, which is then compiled by our language like any clause. Throws a message on bad input.
 */
export function whereFromExpr(expr: unknown, depth = 0): string {
  if (depth > MAX_EXPR_DEPTH) throw new Error(`nested deeper than ${MAX_EXPR_DEPTH} levels`);
  if (expr === null || typeof expr !== 'object' || Array.isArray(expr)) throw new Error('each node must be an object');
  const e = expr as Record<string, unknown>;
  if (e['type'] === 'ref') {
    if (typeof e['column'] !== 'string' || e['column'] === '') throw new Error('a "ref" node needs a column name');
    return quoteIdent(e['column']);
  }
  if (e['type'] === 'val') {
    const i = e['paramIndex'];
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 1 || i > 99_999)
      throw new Error('a "val" node needs a positive integer paramIndex');
    return `$${i}`;
  }
  if (e['type'] !== 'func') throw new Error(`unknown node type ${JSON.stringify(e['type'])}`);
  const name = e['name'];
  const rawArgs = e['args'];
  if (typeof name !== 'string' || !Array.isArray(rawArgs)) throw new Error('a "func" node needs a name and args');
  const args = rawArgs.map((a) => whereFromExpr(a, depth + 1));
  const arity = (n: number): void => {
    if (args.length !== n) throw new Error(`"${name}" takes ${n} argument${n === 1 ? '' : 's'}, got ${args.length}`);
  };
  const atLeast = (n: number): void => {
    if (args.length < n) throw new Error(`"${name}" takes at least ${n} arguments, got ${args.length}`);
  };
  if (BINARY[name] !== undefined) {
    arity(2);
    return `(${args[0]}) ${BINARY[name]} (${args[1]})`;
  }
  if (UNARY_FUNCS[name] !== undefined) {
    arity(1);
    return `${UNARY_FUNCS[name]}(${args[0]})`;
  }
  switch (name) {
    case 'and':
    case 'or':
      atLeast(1);
      return args.map((a) => `(${a})`).join(name === 'and' ? ' AND ' : ' OR ');
    case 'not':
      arity(1);
      return `NOT (${args[0]})`;
    case 'in':
      arity(2);
      return `(${args[0]}) = ANY(${args[1]})`;
    case 'like':
    case 'ilike':
      arity(2);
      return `(${args[0]}) ${name === 'like' ? 'LIKE' : 'ILIKE'} (${args[1]})`;
    case 'isNull':
    case 'isUndefined':
      arity(1);
      return `(${args[0]}) IS NULL`;
    case 'concat':
    case 'coalesce':
      atLeast(1);
      return `${name}(${args.join(', ')})`;
    default:
      throw new Error(`unknown function ${JSON.stringify(name)}`);
  }
}

function orderFromExpr(value: unknown): OrderItem[] {
  if (!Array.isArray(value)) throw new Error('must be an array of {column, direction?, nulls?}');
  if (value.length > MAX_ORDER_ITEMS) throw new Error(`too many ORDER BY items (at most ${MAX_ORDER_ITEMS})`);
  return value.map((c: unknown) => {
    const o = (c ?? {}) as Record<string, unknown>;
    const column = o['column'];
    const direction = o['direction'] ?? 'asc';
    const nulls = o['nulls'];
    if (typeof column !== 'string' || column === '') throw new Error('each item needs a column name');
    if (direction !== 'asc' && direction !== 'desc') throw new Error(`direction must be "asc" or "desc"`);
    if (nulls !== undefined && nulls !== 'first' && nulls !== 'last')
      throw new Error(`nulls must be "first" or "last"`);
    return nulls === undefined ? { column, direction } : { column, direction, nulls };
  });
}

function parseWhere(raw: RawSubset, errors: FieldErrors): string | undefined {
  let where: string | undefined;
  if (raw.where !== undefined && raw.where !== null) {
    if (typeof raw.where !== 'string') addError(errors, 'where', 'must be a string');
    else where = raw.where;
  } else if (raw.where_expr !== undefined && raw.where_expr !== null) {
    // The client also sends the clause compiled from this tree as `where`; the tree alone is compiled here.
    try {
      where = whereFromExpr(raw.where_expr);
    } catch (err) {
      addError(errors, 'where_expr', `invalid expression: ${(err as Error).message}`);
    }
  }
  if (where === undefined) return undefined;
  const bytes = Buffer.byteLength(where, 'utf8');
  if (bytes > MAX_WHERE_BYTES) addError(errors, 'where', `too large (${bytes} bytes, limit ${MAX_WHERE_BYTES})`);
  if (where.includes('\u0000')) addError(errors, 'where', 'invalid byte sequence for encoding "UTF8": 0x00');
  return where;
}

function parseOrder(raw: RawSubset, errors: FieldErrors): OrderItem[] | undefined {
  if (raw.order_by !== undefined && raw.order_by !== null) {
    if (typeof raw.order_by !== 'string') {
      addError(errors, 'order_by', 'must be a string');
      return undefined;
    }
    const r = parseOrderBy(raw.order_by);
    if (r.ok) return [...r.items];
    addError(errors, 'order_by', `${r.message} (at position ${r.position})`);
    return undefined;
  }
  if (raw.order_by_expr === undefined || raw.order_by_expr === null) return undefined;
  try {
    return orderFromExpr(raw.order_by_expr);
  } catch (err) {
    addError(errors, 'order_by_expr', (err as Error).message);
    return undefined;
  }
}

/** Validates a raw subset: the clause, its params, the order, and bounded limit/offset (which require an order). */
export function parseSubset(raw: RawSubset, errors: FieldErrors): SubsetRequest {
  const where = parseWhere(raw, errors);
  const params = raw.params === undefined || raw.params === null ? undefined : parseParams(raw.params, errors);
  const orderBy = parseOrder(raw, errors);
  const limit =
    raw.limit === undefined || raw.limit === null
      ? undefined
      : parseCount(raw.limit, 'limit', 1, MAX_SUBSET_LIMIT, errors);
  const offset =
    raw.offset === undefined || raw.offset === null
      ? undefined
      : parseCount(raw.offset, 'offset', 0, MAX_SUBSET_OFFSET, errors);
  const ordered = orderBy !== undefined && orderBy.length > 0;
  const paged = limit !== undefined || offset !== undefined;
  if (paged && !ordered && errors['subset__order_by'] === undefined && errors['subset__order_by_expr'] === undefined) {
    addError(errors, 'order_by', 'is required when limit or offset is present (a page needs a defined order)');
  }
  return {
    ...(where !== undefined ? { where } : {}),
    ...(params !== undefined ? { params } : {}),
    ...(orderBy !== undefined ? { orderBy } : {}),
    ...(limit !== undefined ? { limit } : {}),
    ...(offset !== undefined ? { offset } : {}),
  };
}
