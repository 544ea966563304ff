// Validation of a shape definition against its table: columns, primary key, where clause → a shape record.
import { ErrorCode, SwitchyardError, WhereError, renderCaret } from '../errors/index.js';
import type { Predicate } from '../eval/predicate.js';
import { compileWhere } from '../where.js';
import type { SubquerySets } from '../eval/subquery-sets.js';
import { subqueriesOf } from '../sql/ast.js';
import { planSubqueries, type SubqueryPlan } from '../subquery/plan.js';
import { columnTypes, keyColumns, schemaHeader, type TableInfo } from './catalog.js';
import type { ShapeRecord } from './registry.js';
import { ShapeRequestError, type ShapeDefinition } from './types.js';

/** The 400 for a table that does not exist, with the quoting hint clients usually need. */
export function unknownTableError(def: ShapeDefinition): ShapeRequestError {
  const shown = `${def.schema}.${def.table}`;
  const hint = /[A-Z]|[^a-z0-9_]/.test(def.table)
    ? ''
    : ' (hint: table names are case-folded unless quoted: write "MyTable" with double quotes for capitals or special characters)';
  return new ShapeRequestError({ table: [`table "${shown}" does not exist${hint}`] });
}

/** Electric parses `SELECT 1 WHERE <clause>` and reports syntax errors at the parser's offset into that text. */
const ELECTRIC_PREFIX_CHARS = 'SELECT 1 WHERE '.length;
/** Characters of a long line kept on each side of the caret. */
const CARET_WINDOW = 60;

/**
 * Where Electric reports the error: for a syntax error the parser's character offset into `SELECT 1 WHERE <clause>`,
 * for other errors the byte offset into the clause (Electric subtracts its prefix from a node's byte location).
 */
export function electricLocation(err: SwitchyardError, clause: string, position: number): number {
  const before = clause.slice(0, position);
  return err.code === ErrorCode.Syntax ? ELECTRIC_PREFIX_CHARS + [...before].length : Buffer.byteLength(before, 'utf8');
}

/** The line of `text` holding `position` (cut to a window around it when long) with a caret line under it. */
export function caretExcerpt(text: string, position: number, length = 1): string {
  const lineStart = text.lastIndexOf('\n', position - 1) + 1;
  const lineEndRaw = text.indexOf('\n', position);
  const lineEnd = lineEndRaw === -1 ? text.length : lineEndRaw;
  const from = Math.max(lineStart, position - CARET_WINDOW);
  const to = Math.min(lineEnd, position + Math.max(length, 1) + CARET_WINDOW);
  const head = from > lineStart ? '…' : '';
  const tail = to < lineEnd ? '…' : '';
  const width = Math.min(length, to - position);
  return renderCaret(head + text.slice(from, to) + tail, head.length + position - from, width);
}

/**
 * The 400 for a rejected where clause under `field` (`where`, `subset__where`): Electric's text,
 * `At location N: <message>` (just the message when the error has no place), with our error code, the 0-based
 * position and a caret as details.
 */
export function whereRejection(err: SwitchyardError, clause: string, field: string): ShapeRequestError {
  const pos = err instanceof WhereError ? err.position : undefined;
  if (pos === undefined) {
    return new ShapeRequestError({ [field]: [err.message] }, undefined, { [field]: { code: err.code } });
  }
  const caret = caretExcerpt(clause, pos, (err as WhereError).length);
  return new ShapeRequestError(
    { [field]: [`At location ${electricLocation(err, clause, pos)}: ${err.message}`] },
    undefined,
    {
      [field]: { code: err.code, position: pos, caret },
    },
  );
}

export interface ValidatedShape {
  readonly record: ShapeRecord;
  /** For a clause with subqueries: its conditions, relaxed router clause and sets (the predicate reads the sets). */
  readonly subqueries?: SubqueryPlan;
  /** Compiled against the table's columns; its `sql` is what the snapshot query uses. */
  readonly predicate: Predicate | undefined;
  /** Columns the snapshot query reads: selected ∪ key columns. */
  readonly queryColumns: readonly string[];
}

/** Tables a clause's subqueries read (by `schema.name`) and the sets its predicate evaluates against. */
export interface SubqueryContext {
  readonly tables: ReadonlyMap<string, TableInfo>;
  readonly sets: SubquerySets;
}

export function validateShape(def: ShapeDefinition, table: TableInfo, sq?: SubqueryContext): ValidatedShape {
  const usable = table.columns.filter((c) => !c.generated);
  const byName = new Map(table.columns.map((c) => [c.name, c] as const));
  let selected: string[];
  if (def.columns === undefined) {
    selected = usable.map((c) => c.name);
  } else {
    const errors: string[] = [];
    if (def.columns.length === 0 || def.columns.some((c) => c === ''))
      errors.push('must contain at least one column and no empty entries');
    const unknown = def.columns.filter((c) => c !== '' && !byName.has(c));
    if (unknown.length > 0) errors.push(`unknown columns: ${unknown.map((c) => JSON.stringify(c)).join(', ')}`);
    const generated = def.columns.filter((c) => byName.get(c)?.generated === true);
    if (generated.length > 0)
      errors.push(`generated columns cannot be selected: ${generated.map((c) => JSON.stringify(c)).join(', ')}`);
    const missing = table.pk.filter((c) => !def.columns!.includes(c));
    if (missing.length > 0)
      errors.push(`must include all primary key columns, missing: ${missing.map((c) => JSON.stringify(c)).join(', ')}`);
    if (errors.length > 0) throw new ShapeRequestError({ columns: errors });
    const wanted = new Set(def.columns);
    selected = usable.filter((c) => wanted.has(c.name)).map((c) => c.name);
  }
  const where = def.where !== undefined && def.where.trim() !== '' ? def.where : undefined;
  let predicate: Predicate | undefined;
  let subqueries: SubqueryPlan | undefined;
  if (where !== undefined) {
    try {
      const tables: Record<string, Record<string, string>> = {};
      for (const [k, t] of sq?.tables ?? []) tables[k] = columnTypes(t);
      predicate = compileWhere(where, columnTypes(table), {
        ...(def.params !== undefined ? { params: def.params } : {}),
        table: { schema: table.schema, name: table.name },
        ...(sq !== undefined ? { tables, sets: sq.sets } : {}),
      });
      if (subqueriesOf(predicate.expr).length > 0) subqueries = planSubqueries(predicate.expr);
    } catch (err) {
      if (err instanceof SwitchyardError) throw whereRejection(err, where, 'where');
      throw err;
    }
  }
  const keys = keyColumns(table);
  const selectedSet = new Set(selected);
  const used: Record<string, number> = {};
  const usedTypmods: Record<string, number> = {};
  for (const c of [...selected, ...(predicate?.columns ?? [])]) {
    used[c] = byName.get(c)!.typeOid;
    usedTypmods[c] = byName.get(c)!.typmod;
  }
  const queryColumns = [...selected, ...keys.filter((k) => !selectedSet.has(k))];
  return {
    ...(subqueries !== undefined ? { subqueries } : {}),
    record: {
      definition: def,
      tableOid: table.oid,
      selected,
      keyColumns: keys,
      valueKeyColumns: keys.filter((k) => selectedSet.has(k)),
      usedColumns: used,
      usedTypmods,
      selectsAll: def.columns === undefined,
      columnCount: usable.length,
      schema: schemaHeader(table, selected),
    },
    predicate,
    queryColumns,
  };
}
