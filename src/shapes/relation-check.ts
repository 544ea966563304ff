// Which schema changes invalidate a shape (docs/architecture.md "Schema changes"): from a Relation message or the catalog.
import type { RelationInfo } from '../replication/transaction-types.js';
import { keyColumns, type TableInfo } from './catalog.js';
import type { LiveShape, ShapeLayout } from './live-shape.js';

/** A column as both sources describe it. */
interface ColumnView {
  readonly name: string;
  readonly typeOid: number;
  readonly typmod: number;
}

/**
 * A shape must be refetched when the change can alter its rows, its keys or its columns without the WAL saying so
 * row by row: the table renamed, dropped or replaced; a column it selects or filters on dropped, renamed, retyped or
 * given another typmod (a table rewrite: numeric scale and char length change stored values); for a shape without
 * `columns`, any column added or dropped; the key columns changed; or replica identity no longer FULL (old rows then
 * lose the values that show a row leaving a shape). Anything else — a column the shape does not use, NOT NULL,
 * defaults, indexes other than the primary key — leaves it alone.
 */
function columnsChange(shape: Judged, columns: readonly ColumnView[]): string | undefined {
  const byName = new Map(columns.map((c) => [c.name, c] as const));
  if (shape.selectsAll && (columns.length !== shape.columnCount || shape.selected.some((n) => !byName.has(n))))
    return 'columns were added or dropped';
  for (const [name, typeOid] of Object.entries(shape.usedColumns)) {
    const c = byName.get(name);
    if (c === undefined) return `column "${name}" was dropped or renamed`;
    if (c.typeOid !== typeOid) return `column "${name}" changed type`;
    const typmod = shape.usedTypmods?.[name];
    if (typmod !== undefined && c.typmod !== typmod) return `column "${name}" changed type modifier`;
  }
  return undefined;
}

/**
 * What a Relation message for the shape's own table (same OID) shows changed, or undefined. A message for another
 * OID under the shape's name says nothing by itself (it may describe an older, dropped table still in the stream):
 * the catalog check decides those.
 */
export function relationChange(shape: LiveShape, rel: RelationInfo): string | undefined {
  if (rel.oid !== shape.tableOid) return undefined;
  if (rel.schema !== shape.schema || rel.table !== shape.table) return 'table renamed';
  if (rel.replicaIdentity !== 'full') return 'replica identity is no longer FULL';
  return columnsChange(shape, rel.columns);
}

/** What the checks read of a shape: its layout's fields (a `ShapeLayout` is one, and every `LiveShape`). */
type Judged = Pick<
  ShapeLayout,
  'schema' | 'table' | 'tableOid' | 'keyColumns' | 'selected' | 'usedColumns' | 'selectsAll' | 'columnCount'
> & { readonly usedTypmods?: Readonly<Record<string, number>> | undefined };

/** What the catalog (looked up by the shape's table OID) shows changed, or undefined. */
export function catalogChange(shape: Judged, table: TableInfo | undefined): string | undefined {
  if (table === undefined) return 'table dropped';
  if (table.schema !== shape.schema || table.name !== shape.table) return 'table renamed';
  if (table.replicaIdentity !== 'f') return 'replica identity is no longer FULL';
  const keys = keyColumns(table);
  if (keys.length !== shape.keyColumns.length || keys.some((k, i) => shape.keyColumns[i] !== k))
    return 'primary key changed';
  return columnsChange(
    shape,
    table.columns.filter((c) => !c.generated),
  );
}

/**
 * Electric's rule for a Relation message, used when the catalog cannot be read: any identity mismatch (same OID and
 * another name, or same name and another OID) or column change counts.
 */
export function affectedByRelation(shape: LiveShape, rel: RelationInfo): boolean {
  const oidMatch = shape.tableOid === rel.oid;
  const nameMatch = shape.schema === rel.schema && shape.table === rel.table;
  if (!oidMatch && !nameMatch) return false;
  if (oidMatch !== nameMatch) return true;
  return relationChange(shape, rel) !== undefined;
}

/**
 * `check` remembered per layout over one pass: the checks above read only what a shape's layout holds (table, OID,
 * columns, key, used types), so the shapes of one layout share a verdict and a pass over 100k shapes of a table
 * evaluates a few layouts instead of every shape (the Relation message at each replication start, the periodic
 * catalog check).
 */
export function perLayout(check: (shape: LiveShape) => string | undefined): (shape: LiveShape) => string | undefined {
  const verdicts = new Map<ShapeLayout, string | undefined>();
  return (shape) => {
    if (verdicts.has(shape.layout)) return verdicts.get(shape.layout);
    const v = check(shape);
    verdicts.set(shape.layout, v);
    return v;
  };
}
