// Pre-checks a where clause with the Postgres 15 grammar (libpg-query) before the oracle embeds it in its own SQL.
import { loadModule, parseSync } from 'libpg-query';

export type ClauseShape =
  /** A single boolean-expression candidate; `params` are the `$n` numbers it references. */
  | { readonly kind: 'expression'; readonly params: ReadonlySet<number> }
  /** Not even valid as `SELECT 1 FROM t WHERE <clause>`: Postgres gives the exact error. */
  | { readonly kind: 'syntax' }
  /** Valid SQL, but more than an expression (ORDER BY, UNION, a second statement…), as where-language.md §2.1. */
  | { readonly kind: 'extra' };

let loaded: Promise<void> | undefined;

export function loadClauseParser(): Promise<void> {
  loaded ??= loadModule();
  return loaded;
}

const ALLOWED_SELECT_KEYS = new Set(['targetList', 'fromClause', 'whereClause', 'limitOption', 'op']);

interface ParseResult {
  stmts?: { stmt?: { SelectStmt?: Record<string, unknown> } }[];
}

/**
 * Why a pre-check at all: the oracle evaluates `NOT (\n<clause>\n)` in a select list, where `a) OR (b` or
 * `true ORDER BY 1` would parse as something else. A clause that parses alone as the WHERE of one plain SELECT is a
 * single a_expr, so wrapping it in parentheses cannot change its meaning. Requires loadClauseParser() first.
 */
export function clauseShape(clause: string): ClauseShape {
  let tree: ParseResult;
  try {
    tree = parseSync(`SELECT 1 FROM t WHERE ${clause}`) as ParseResult;
  } catch {
    return { kind: 'syntax' };
  }
  const stmts = tree.stmts ?? [];
  const select = stmts.length === 1 ? stmts[0]?.stmt?.SelectStmt : undefined;
  if (select === undefined || Object.keys(select).some((k) => !ALLOWED_SELECT_KEYS.has(k))) return { kind: 'extra' };
  const params = new Set<number>();
  collectParams(select['whereClause'], params);
  return { kind: 'expression', params };
}

function collectParams(node: unknown, out: Set<number>): void {
  if (Array.isArray(node)) {
    for (const item of node) collectParams(item, out);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node)) {
    if (key === 'ParamRef' && value !== null && typeof value === 'object') {
      const n = (value as { number?: unknown }).number;
      if (typeof n === 'number') out.add(n);
    } else {
      collectParams(value, out);
    }
  }
}
