// Parses and validates `/v1/shape` query parameters into a shape definition plus request position (protocol §2.1).
import { RouterError } from '../errors/index.js';
import { parseOffset, type LogOffset } from '../log/offset.js';
import { parseTableName } from '../sql/identifiers.js';
import type { ShapeDefinition } from '../shapes/types.js';

/** Where clauses above this many UTF-8 bytes are refused before any parsing (bad-input rule of issue 4). */
export const MAX_WHERE_BYTES = 64 * 1024;

export type RequestOffset = LogOffset | 'now';

/** A validated GET/DELETE `/v1/shape` request. */
export interface ShapeRequest {
  /** Undefined only for a DELETE by handle alone (no `table`). */
  readonly definition: ShapeDefinition | undefined;
  /** Undefined only for DELETE requests, where the offset is not used. */
  readonly offset: RequestOffset | undefined;
  /** The offset text as sent (echoed in ETags). */
  readonly offsetText: string;
  /** Absent when the offset is `-1` or `now` (the protocol says to ignore it then). */
  readonly handle: string | undefined;
  readonly live: boolean;
  /** `live_sse=true` (or the older `experimental_live_sse=true`) with `live=true`: answer as an event stream (§7). */
  readonly sse: boolean;
  readonly cursor: string | undefined;
}

export type FieldErrors = Record<string, string[]>;

export type ParseResult =
  { readonly ok: true; readonly request: ShapeRequest } | { readonly ok: false; readonly errors: FieldErrors };

function addError(errors: FieldErrors, field: string, message: string): void {
  (errors[field] ??= []).push(message);
}

/** The protocol's boolean: any value but the literal `false` is true; absent is false. */
export function parseBool(value: string | null): boolean {
  return value !== null && value !== 'false';
}

/**
 * Splits a `columns` value: unquoted entries are trimmed and ASCII-folded to lower case (Postgres folding), quoted
 * entries keep case and may contain commas, `""` inside quotes is one quote. Returns an error message on bad input.
 */
export function parseColumns(text: string): { columns: string[] } | { error: string } {
  const columns: string[] = [];
  let i = 0;
  const n = text.length;
  for (;;) {
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
    let name: string;
    if (text[i] === '"') {
      name = '';
      i++;
      let closed = false;
      while (i < n) {
        const c = text[i]!;
        if (c === '"') {
          if (text[i + 1] === '"') {
            name += '"';
            i += 2;
            continue;
          }
          i++;
          closed = true;
          break;
        }
        name += c;
        i++;
      }
      if (!closed) return { error: 'unterminated quoted identifier' };
      if (name === '') return { error: 'zero-length delimited identifier' };
      while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
      if (i < n && text[i] !== ',') return { error: `unexpected text after quoted identifier "${name}"` };
    } else {
      const start = i;
      while (i < n && text[i] !== ',') {
        if (text[i] === '"') return { error: 'a double quote inside an unquoted identifier' };
        i++;
      }
      const raw = text.slice(start, i).trim();
      if (raw === '') return { error: 'empty column name' };
      name = raw.replace(/[A-Z]+/g, (s) => s.toLowerCase());
    }
    if (!columns.includes(name)) columns.push(name);
    if (i >= n) break;
    i++; // the comma
    if (i >= n) return { error: 'empty column name' };
  }
  return { columns };
}

/**
 * Collects `params[n]=v` entries, or a `params` JSON object (older clients). Keys must be positive integers: they
 * name `$n` placeholders.
 */
export function parseWhereParams(query: URLSearchParams, errors: FieldErrors): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  const put = (key: string, value: unknown): void => {
    if (!/^[1-9][0-9]{0,4}$/.test(key)) {
      addError(errors, 'params', `parameter keys must be positive integers naming $n placeholders, got "${key}"`);
      return;
    }
    if (typeof value !== 'string') {
      addError(errors, 'params', `the value of parameter $${key} must be a string`);
      return;
    }
    (out ??= {})[key] = value;
  };
  for (const [key, value] of query) {
    if (key === 'params') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        addError(errors, 'params', 'must be given as params[n]=value (or a JSON object)');
        continue;
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        addError(errors, 'params', 'must be given as params[n]=value (or a JSON object)');
        continue;
      }
      for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) put(k, v);
    } else if (key.startsWith('params[') && key.endsWith(']')) {
      put(key.slice(7, -1), value);
    }
  }
  return out;
}

/** Postgres's words for a NUL in text: it cannot reach Postgres, and the C parser would cut the clause short at it. */
const NUL_MESSAGE = 'invalid byte sequence for encoding "UTF8": 0x00';

/** Parses the parameters that make up a shape definition; adds any errors. Undefined when `table` is absent. */
function parseDefinition(
  query: URLSearchParams,
  errors: FieldErrors,
  tableRequired: boolean,
): ShapeDefinition | undefined {
  const tableText = query.get('table');
  let schema = '';
  let table = '';
  if (tableText === null || tableText.trim() === '') {
    if (tableRequired) addError(errors, 'table', "can't be blank");
  } else {
    try {
      const t = parseTableName(tableText);
      schema = t.schema;
      table = t.name;
    } catch (err) {
      if (!(err instanceof RouterError)) throw err;
      addError(
        errors,
        'table',
        `${err.message}. Hint: quote names containing capitals or special characters, e.g. "MyTable"`,
      );
    }
  }
  const where = query.get('where') ?? undefined;
  if (where !== undefined && Buffer.byteLength(where, 'utf8') > MAX_WHERE_BYTES) {
    addError(
      errors,
      'where',
      `the where clause is too large (${Buffer.byteLength(where, 'utf8')} bytes, limit ${MAX_WHERE_BYTES})`,
    );
  }
  if (where !== undefined && where.includes('\u0000')) addError(errors, 'where', NUL_MESSAGE);
  const params = parseWhereParams(query, errors);
  if (params !== undefined && Object.values(params).some((v) => v.includes('\u0000')))
    addError(errors, 'params', NUL_MESSAGE);
  let columns: string[] | undefined;
  const columnsText = query.get('columns');
  if (columnsText !== null) {
    const c = parseColumns(columnsText);
    if ('error' in c) addError(errors, 'columns', `invalid column list: ${c.error}`);
    else columns = c.columns;
  }
  const replicaText = query.get('replica') ?? 'default';
  if (replicaText !== 'default' && replicaText !== 'full') {
    addError(errors, 'replica', `invalid value "${replicaText}": expected "default" or "full"`);
  }
  const logText = query.get('log') ?? 'full';
  if (logText !== 'full' && logText !== 'changes_only') {
    addError(errors, 'log', `invalid value "${logText}": expected "full" or "changes_only"`);
  }
  if (table === '') return undefined;
  const def: {
    schema: string;
    table: string;
    where?: string;
    params?: Record<string, string>;
    columns?: string[];
    replica: 'default' | 'full';
    log: 'full' | 'changes_only';
  } = {
    schema,
    table,
    replica: replicaText === 'full' ? 'full' : 'default',
    log: logText === 'changes_only' ? 'changes_only' : 'full',
  };
  // An all-blank clause means no filter, as an absent one.
  if (where !== undefined && where.trim() !== '') def.where = where;
  if (params !== undefined) def.params = params;
  if (columns !== undefined) def.columns = columns;
  return def;
}

/**
 * Validates a GET/HEAD `/v1/shape` query. Unknown parameters are ignored, as the client sends its own; `subset__*`
 * parameters are read by subset-params.ts.
 */
export function parseShapeGet(query: URLSearchParams): ParseResult {
  const errors: FieldErrors = {};
  const definition = parseDefinition(query, errors, true);
  const offsetText = query.get('offset');
  let offset: RequestOffset | undefined;
  if (offsetText === null || offsetText === '') addError(errors, 'offset', "can't be blank");
  else if (offsetText === 'now') offset = 'now';
  else {
    offset = parseOffset(offsetText);
    if (offset === undefined) addError(errors, 'offset', 'has invalid format');
  }
  const startsFresh = offset === 'now' || (offset !== undefined && offset.tx < 0n);
  const handleText = query.get('handle');
  const handle = startsFresh || handleText === null || handleText === '' ? undefined : handleText;
  if (offset !== undefined && !startsFresh && handle === undefined) {
    addError(errors, 'handle', "can't be blank when offset != -1");
  }
  const live = parseBool(query.get('live'));
  if (live && offset === 'now') addError(errors, 'live', "can't be true when offset is 'now'");
  else if (live && offset !== undefined && offset !== 'now' && offset.tx < 0n)
    addError(errors, 'live', "can't be true when offset == -1");
  const sseText = query.has('live_sse') ? query.get('live_sse') : query.get('experimental_live_sse');
  const sse = parseBool(sseText);
  if (sse && !live) addError(errors, 'live_sse', "can't be true unless live is also true");
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    request: {
      definition,
      offset,
      offsetText: offsetText ?? '',
      handle,
      live,
      sse,
      cursor: query.get('cursor') ?? undefined,
    },
  };
}

/** Validates a DELETE `/v1/shape` query: a definition (same parameters as GET), a handle, or both. */
export function parseShapeDelete(query: URLSearchParams): ParseResult {
  const errors: FieldErrors = {};
  const hasTable = (query.get('table') ?? '').trim() !== '';
  const definition = hasTable ? parseDefinition(query, errors, true) : undefined;
  const handleText = query.get('handle');
  const handle = handleText === null || handleText === '' ? undefined : handleText;
  if (!hasTable && handle === undefined) addError(errors, 'handle', "can't be blank when shape definition is missing");
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    request: { definition, offset: undefined, offsetText: '', handle, live: false, sse: false, cursor: undefined },
  };
}
