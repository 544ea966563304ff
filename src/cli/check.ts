// `switchyard check`: compiles a where clause against columns (or only parses it) and prints the result or a caret error.
import { renderCaret, WhereError } from '../errors/index.js';
import { parseClause } from '../sql/parse.js';
import { compileWhere } from '../where.js';

export interface CheckResult {
  readonly ok: boolean;
  readonly output: string;
}

/** What a parse-only check prints: the clause is one expression, and what was not checked. */
export const SYNTAX_ONLY_OK =
  'syntax ok: one boolean expression (no --columns given, so column names and types were not checked)';

/**
 * Runs the check and returns what the CLI prints; never throws for a bad clause or bad column JSON. Without
 * `columnsJson` only the Postgres grammar and the one-expression rule are checked (names and types need the table).
 */
export function checkClause(where: string, columnsJson: string | undefined, paramsJson?: string): CheckResult {
  let columns: Record<string, string> | undefined;
  let params: Record<string, string> | undefined;
  try {
    if (columnsJson !== undefined) {
      columns = JSON.parse(columnsJson) as Record<string, string>;
      if (typeof columns !== 'object' || columns === null || Array.isArray(columns))
        throw new Error('expected an object');
    }
    if (paramsJson !== undefined) params = JSON.parse(paramsJson) as Record<string, string>;
  } catch (e) {
    return {
      ok: false,
      output: `error: --columns/--params must be JSON objects like '{"price":"numeric"}': ${(e as Error).message}`,
    };
  }
  try {
    if (columns === undefined) {
      parseClause(where);
      return { ok: true, output: SYNTAX_ONLY_OK };
    }
    const p = compileWhere(where, columns, params ? { params } : {});
    return { ok: true, output: `${p.sql}\ncolumns: ${p.columns.join(', ') || '(none)'}` };
  } catch (e) {
    return { ok: false, output: describeError(where, e) };
  }
}

/** `error [code]: message` with a caret under the position, or the bare message of an unexpected error. */
function describeError(where: string, e: unknown): string {
  if (!(e instanceof WhereError)) return `error: ${(e as Error).message}`;
  const head = `error [${e.code}]: ${e.message}`;
  return e.position === undefined ? head : `${head}\n${renderCaret(where, e.position, e.length)}`;
}
