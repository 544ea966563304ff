// `switchyard check`: compiles a where clause against columns and prints the normalized clause or a caret error.
import { renderCaret, WhereError } from '../errors/index.js';
import { compileWhere } from '../where.js';

export interface CheckResult {
  readonly ok: boolean;
  readonly output: string;
}

/** Runs the check and returns what the CLI prints; never throws for a bad clause or bad column JSON. */
export function checkClause(where: string, columnsJson: string, paramsJson?: string): CheckResult {
  let columns: Record<string, string>;
  let params: Record<string, string> | undefined;
  try {
    columns = JSON.parse(columnsJson) as Record<string, string>;
    if (typeof columns !== 'object' || columns === null || Array.isArray(columns))
      throw new Error('expected an object');
    if (paramsJson !== undefined) params = JSON.parse(paramsJson) as Record<string, string>;
  } catch (e) {
    return {
      ok: false,
      output: `error: --columns/--params must be JSON objects like '{"price":"numeric"}': ${(e as Error).message}`,
    };
  }
  try {
    const p = compileWhere(where, columns, params ? { params } : {});
    return { ok: true, output: `${p.sql}\ncolumns: ${p.columns.join(', ') || '(none)'}` };
  } catch (e) {
    if (e instanceof WhereError) {
      const head = `error [${e.code}]: ${e.message}`;
      return {
        ok: false,
        output: e.position === undefined ? head : `${head}\n${renderCaret(where, e.position, e.length)}`,
      };
    }
    return { ok: false, output: `error: ${(e as Error).message}` };
  }
}
