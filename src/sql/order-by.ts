// Parses an ORDER BY list of plain columns (`col [ASC|DESC] [NULLS FIRST|LAST], …`) for subset snapshots.
import { MAX_IDENTIFIER_BYTES, didYouMean, readIdentifier } from './identifiers.js';

/** One ORDER BY item: an exact column name and an explicit direction and NULLS placement. */
export interface OrderItem {
  readonly column: string;
  readonly direction: 'asc' | 'desc';
  /** Absent means Postgres's default for the direction (NULLS LAST for ASC, NULLS FIRST for DESC). */
  readonly nulls?: 'first' | 'last';
}

export type OrderByResult =
  | { readonly ok: true; readonly items: readonly OrderItem[] }
  | { readonly ok: false; readonly message: string; readonly position: number };

/** At most this many items: more than any table has useful columns, and it bounds the work of a request. */
export const MAX_ORDER_ITEMS = 64;

const WS = /^\s*/;

/** Reads one keyword (case-insensitive, a whole word) at `at`, after spaces; returns its end or -1. */
function keyword(src: string, at: number, word: string): number {
  const i = at + (WS.exec(src.slice(at))?.[0].length ?? 0);
  const m = /^[A-Za-z_]+/.exec(src.slice(i));
  return m !== null && m[0].toLowerCase() === word ? i + m[0].length : -1;
}

/**
 * Parses the list. Only column names are accepted (no expressions, functions, positions or COLLATE), so the SQL that
 * reaches Postgres is always re-rendered from the parsed items, never the client's text. Errors carry a 0-based
 * position.
 */
export function parseOrderBy(text: string): OrderByResult {
  const fail = (message: string, position: number): OrderByResult => ({ ok: false, message, position });
  const items: OrderItem[] = [];
  let i = 0;
  const skip = (): void => {
    i += WS.exec(text.slice(i))?.[0].length ?? 0;
  };
  for (;;) {
    skip();
    if (i >= text.length) return fail('expected a column name', i);
    const id = readIdentifier(text, i);
    if (id === undefined) {
      return text[i] === '"'
        ? fail('unterminated quoted identifier', i)
        : fail(`expected a column name at "${text.slice(i, i + 20)}"`, i);
    }
    if (id.name === '') return fail('zero-length delimited identifier', i);
    if (Buffer.byteLength(id.name, 'utf8') > MAX_IDENTIFIER_BYTES) {
      return fail(`identifier exceeds ${MAX_IDENTIFIER_BYTES} bytes`, i);
    }
    i = id.end;
    let direction: 'asc' | 'desc' = 'asc';
    let nulls: 'first' | 'last' | undefined;
    let end = keyword(text, i, 'asc');
    if (end < 0 && (end = keyword(text, i, 'desc')) >= 0) direction = 'desc';
    if (end >= 0) i = end;
    end = keyword(text, i, 'nulls');
    if (end >= 0) {
      i = end;
      const first = keyword(text, i, 'first');
      const last = first < 0 ? keyword(text, i, 'last') : -1;
      if (first < 0 && last < 0) return fail('expected FIRST or LAST after NULLS', i);
      nulls = first >= 0 ? 'first' : 'last';
      i = first >= 0 ? first : last;
    }
    items.push(nulls === undefined ? { column: id.name, direction } : { column: id.name, direction, nulls });
    if (items.length > MAX_ORDER_ITEMS) return fail(`too many ORDER BY items (at most ${MAX_ORDER_ITEMS})`, id.end);
    skip();
    if (i >= text.length) return { ok: true, items };
    if (text[i] !== ',') {
      return fail(
        `unexpected "${text.slice(i, i + 20)}": only column names with ASC/DESC and NULLS FIRST/LAST are allowed`,
        i,
      );
    }
    i++;
  }
}

/** The first item naming a column outside `allowed`, as a message with a did-you-mean hint; undefined when all are. */
export function unknownOrderColumn(items: readonly OrderItem[], allowed: readonly string[]): string | undefined {
  const known = new Set(allowed);
  for (const it of items) {
    if (known.has(it.column)) continue;
    const hint = didYouMean(it.column, allowed);
    return `unknown column "${it.column}"${hint !== undefined ? ` (did you mean "${hint}"?)` : ''}: only columns of the shape can be used`;
  }
  return undefined;
}
