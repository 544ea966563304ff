// Validation of a shape definition against its table: columns, primary key, where clause → a shape record.
import { SwitchyardError } from '../errors/index.js';
import type { Predicate } from '../eval/predicate.js';
import { compileWhere } from '../where.js';
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

/** A WhereError's message with its code and position, as the `where` entry of a 400 body. */
export function whereMessage(err: SwitchyardError): string {
  const pos = (err as { position?: number }).position;
  return pos === undefined ? `${err.message} [${err.code}]` : `${err.message} [${err.code}] at position ${pos}`;
}

export interface ValidatedShape {
  readonly record: ShapeRecord;
  /** Compiled against the table's columns; its `sql` is what the snapshot query uses. */
  readonly predicate: Predicate | undefined;
  /** Columns the snapshot query reads: selected ∪ key columns. */
  readonly queryColumns: readonly string[];
}

export function validateShape(def: ShapeDefinition, table: TableInfo): ValidatedShape {
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
  if (where !== undefined) {
    try {
      predicate = compileWhere(where, columnTypes(table), {
        ...(def.params !== undefined ? { params: def.params } : {}),
        table: { schema: table.schema, name: table.name },
      });
    } catch (err) {
      if (err instanceof SwitchyardError) throw new ShapeRequestError({ where: [whereMessage(err)] });
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
