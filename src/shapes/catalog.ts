// Table metadata from the Postgres catalog (columns, types, typmods, primary key) and the `electric-schema` header.
import type pg from 'pg';
import { quoteLiteral } from '../sql/render.js';
import type { SchemaColumn } from './types.js';

export interface CatalogColumn {
  readonly name: string;
  readonly typeOid: number;
  readonly typmod: number;
  /** `format_type(atttypid, atttypmod)` (`character varying(20)`, `int4[]`, `mood`). */
  readonly formatType: string;
  /**
   * What the router and compileWhere parse: formatType, except that an enum (or enum array) is declared with its
   * labels in pg_enum.enumsortorder order (`enum mood ('sad', 'ok')`), and a domain is its base type.
   */
  readonly whereType: string;
  /** The `electric-schema` type: the type's name, or the element type's name for arrays. */
  readonly schemaType: string;
  /** Array dimensions (0 for scalars; at least 1 for array types even when attndims is unset). */
  readonly dims: number;
  readonly notNull: boolean;
  /** 0-based position in the primary key, or -1. */
  readonly pkIndex: number;
  /** Generated columns are not sent by pgoutput on Postgres 15, so shapes cannot use them. */
  readonly generated: boolean;
}

export interface TableInfo {
  readonly oid: number;
  readonly schema: string;
  readonly name: string;
  /** Columns in attnum order. */
  readonly columns: readonly CatalogColumn[];
  /** Primary-key columns in key order; empty for a table without one. */
  readonly pk: readonly string[];
  /** `pg_class.relreplident`: d(efault), n(othing), f(ull), i(ndex). Shapes need `f` (set when a table is published). */
  readonly replicaIdentity: string;
  /** Why the table cannot be replicated as a shape (partitioning, unlogged); absent when it can. */
  readonly unsupported?: string;
}

const TABLE_COLUMNS = `
SELECT c.oid::int8::text AS oid, n.nspname, c.relname, c.relreplident::text AS relreplident, c.relkind::text AS relkind, c.relispartition, c.relpersistence::text AS relpersistence, a.attname, a.atttypid::int8::text AS typid, a.atttypmod, a.attnotnull, a.attndims,
       a.attgenerated <> '' AS generated,
       format_type(a.atttypid, a.atttypmod) AS fmt,
       -- The scalar type (the element for arrays), seen through one domain: an enum gets its labels in sort order.
       CASE
         WHEN b.typtype = 'e' THEN
           'enum ' || format_type(b.oid, NULL) || ' (' ||
           COALESCE((SELECT string_agg('''' || replace(e.enumlabel, '''', '''''') || '''', ', ' ORDER BY e.enumsortorder)
                       FROM pg_enum e WHERE e.enumtypid = b.oid), '') || ')' ||
           CASE WHEN et.oid IS NOT NULL THEN '[]' ELSE '' END
         WHEN s.typtype = 'd' THEN
           format_type(s.typbasetype, s.typtypmod) || CASE WHEN et.oid IS NOT NULL THEN '[]' ELSE '' END
         ELSE format_type(a.atttypid, a.atttypmod)
       END AS wtype,
       t.typname, t.typcategory, et.typname AS elemname,
       -- indkey is an int2vector, whose subscripts start at 0.
       COALESCE(array_position(i.indkey::int2[], a.attnum) - array_lower(i.indkey::int2[], 1), -1) AS pkidx
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
  JOIN pg_type s ON s.oid = COALESCE(et.oid, t.oid)
  JOIN pg_type b ON b.oid = CASE WHEN s.typtype = 'd' THEN s.typbasetype ELSE s.oid END
  LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
 WHERE c.relkind IN ('r', 'p')`;

const TABLE_BY_NAME = `${TABLE_COLUMNS} AND n.nspname = $1 AND c.relname = $2 ORDER BY a.attnum`;
const TABLES_BY_OID = `${TABLE_COLUMNS} AND c.oid = ANY($1::oid[]) ORDER BY c.oid, a.attnum`;

interface Row {
  oid: string;
  nspname: string;
  relname: string;
  relreplident: string;
  relkind: string;
  relispartition: boolean | string;
  relpersistence: string;
  attname: string;
  typid: string;
  atttypmod: number | string;
  attnotnull: boolean | string;
  attndims: number | string;
  generated: boolean | string;
  fmt: string;
  wtype: string;
  typname: string;
  typcategory: string;
  elemname: string | null;
  pkidx: number | string;
}

const bool = (v: boolean | string): boolean => v === true || v === 't' || v === 'true';

/** Loads a table's metadata, or undefined when no ordinary or partitioned table has that exact schema and name. */
export async function loadTable(client: pg.ClientBase, schema: string, name: string): Promise<TableInfo | undefined> {
  // Named: prepared once per connection, so the seven-way catalog join is not planned again on every read.
  const res = await client.query<Row>({
    name: 'switchyard_table_by_name',
    text: TABLE_BY_NAME,
    values: [schema, name],
  });
  return res.rows.length === 0 ? undefined : tableFromRows(res.rows);
}

/**
 * `loadTable`'s query as one statement with its names as literals, to run inside another message (a snapshot
 * batch's, shared-snapshot.ts); `tableFromRecords` reads its rows.
 */
export function tableByNameSql(schema: string, name: string): string {
  // One pass, so a name containing `$2` is never substituted into.
  return TABLE_BY_NAME.replace(/\$([12])/g, (_, n: string) => quoteLiteral(n === '1' ? schema : name));
}

/** The table of `tableByNameSql`'s rows (every value as text), or undefined when there are none. */
export function tableFromRecords(rows: readonly Record<string, string | null>[]): TableInfo | undefined {
  return rows.length === 0 ? undefined : tableFromRows(rows as unknown as readonly Row[]);
}

/**
 * Loads the tables that still exist among `oids`, under whatever name they have now (one query): how schema changes
 * that leave no trace in the WAL (DROP, RENAME, a new primary key) are seen.
 */
export async function loadTablesByOid(client: pg.ClientBase, oids: readonly number[]): Promise<Map<number, TableInfo>> {
  const out = new Map<number, TableInfo>();
  if (oids.length === 0) return out;
  const res = await client.query<Row>(TABLES_BY_OID, [oids.map(String)]);
  let start = 0;
  for (let i = 1; i <= res.rows.length; i++) {
    if (i < res.rows.length && res.rows[i]!.oid === res.rows[start]!.oid) continue;
    const table = tableFromRows(res.rows.slice(start, i));
    out.set(table.oid, table);
    start = i;
  }
  return out;
}

/** One table's rows of the catalog query (attnum order) → its TableInfo. */
function tableFromRows(rows: readonly Row[]): TableInfo {
  const columns: CatalogColumn[] = rows.map((r) => {
    const isArray = r.typcategory === 'A' && r.elemname !== null;
    return {
      name: r.attname,
      typeOid: Number(r.typid),
      typmod: Number(r.atttypmod),
      formatType: r.fmt,
      whereType: r.wtype,
      schemaType: isArray ? (r.elemname as string) : r.typname,
      dims: isArray ? Math.max(1, Number(r.attndims)) : 0,
      notNull: bool(r.attnotnull),
      pkIndex: Number(r.pkidx),
      generated: bool(r.generated),
    };
  });
  const pk = columns
    .filter((c) => c.pkIndex >= 0)
    .sort((a, b) => a.pkIndex - b.pkIndex)
    .map((c) => c.name);
  const first = rows[0]!;
  const schema = first.nspname;
  const name = first.relname;
  // pgoutput sends a partitioned table's changes under its leaf partitions' names, and publication membership of a
  // partition follows its parent's: neither maps onto a shape of one relation. Unlogged tables are not replicated.
  const unsupported =
    first.relkind === 'p'
      ? `table "${schema}.${name}" is partitioned: partitioned tables are not supported`
      : bool(first.relispartition)
        ? `table "${schema}.${name}" is a partition: partitions are not supported`
        : first.relpersistence !== 'p'
          ? `table "${schema}.${name}" is unlogged or temporary and is not replicated`
          : undefined;
  return {
    oid: Number(first.oid),
    schema,
    name,
    columns,
    pk,
    replicaIdentity: first.relreplident,
    ...(unsupported !== undefined ? { unsupported } : {}),
  };
}

/** The column map the router and compileWhere take (`{ column: typeName }`), generated columns left out. */
export function columnTypes(table: TableInfo): Readonly<Record<string, string>> {
  // One object per catalog entry: compileWhere caches a table's column layout by this object's identity, so a
  // fresh object per creation rebuilt the layout (decoders included) for every shape.
  let out = columnTypesOf.get(table);
  if (out === undefined) {
    const types: Record<string, string> = {};
    for (const c of table.columns) if (!c.generated) types[c.name] = c.whereType;
    out = Object.freeze(types);
    columnTypesOf.set(table, out);
  }
  return out;
}

const columnTypesOf = new WeakMap<TableInfo, Readonly<Record<string, string>>>();

/**
 * The columns that make a row's key: the primary key, or for a table without one every column sorted by name
 * (shape-protocol.md §4.2).
 */
export function keyColumns(table: TableInfo): string[] {
  if (table.pk.length > 0) return [...table.pk];
  return table.columns
    .filter((c) => !c.generated)
    .map((c) => c.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** One `electric-schema` entry (§4.6): type, dims, pk_index, not_null and the typmod-derived fields. */
export function schemaColumn(c: CatalogColumn): SchemaColumn {
  const out: { -readonly [K in keyof SchemaColumn]: SchemaColumn[K] } = { type: c.schemaType };
  if (c.dims > 0) out.dims = c.dims;
  if (c.pkIndex >= 0) out.pk_index = c.pkIndex;
  if (c.notNull) out.not_null = true;
  const m = c.typmod;
  if (m >= 0) {
    switch (c.schemaType) {
      case 'varchar':
        out.max_length = m - 4;
        break;
      case 'bpchar':
        out.length = m - 4;
        break;
      case 'bit':
      case 'varbit':
        out.length = m;
        break;
      case 'numeric':
        out.precision = ((m - 4) >> 16) & 0xffff;
        out.scale = (m - 4) & 0xffff;
        break;
      case 'time':
      case 'timetz':
      case 'timestamp':
      case 'timestamptz':
        out.precision = m;
        break;
      case 'interval': {
        // INTERVAL_TYPMOD(precision, range): 0xFFFF is "full precision".
        const precision = m & 0xffff;
        if (precision !== 0xffff) out.precision = precision;
        break;
      }
      default:
        break;
    }
  }
  return out;
}

/** The `electric-schema` object over the selected columns. */
export function schemaHeader(table: TableInfo, selected: readonly string[]): Record<string, SchemaColumn> {
  const byName = new Map(table.columns.map((c) => [c.name, c] as const));
  const out: Record<string, SchemaColumn> = {};
  for (const name of selected) {
    const c = byName.get(name);
    if (c !== undefined) out[name] = schemaColumn(c);
  }
  return out;
}

/** Quotes an identifier for SQL (always quoted: names keep their exact case and characters). */
export function quoteName(name: string): string {
  return '"' + name.replaceAll('"', '""') + '"';
}

export function qualifiedTable(schema: string, name: string): string {
  return `${quoteName(schema)}.${quoteName(name)}`;
}
