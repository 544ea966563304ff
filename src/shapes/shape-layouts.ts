// Shape layouts (table, columns, key, schema header) held once each, numbered and stored once in the meta store.
import type { MetaStore, MetaValue } from '../log/meta-store.js';
import type { LogSource, ShapeColumns, ShapeLayout } from './live-shape.js';
import { keyPrefix } from './messages.js';
import type { SchemaColumn } from './types.js';

/** Meta-store keys of layouts (retained by the store: a service has a few, not one per shape). */
const LAYOUT_PREFIX = 'layout:';

/** A layout's fields as written by validation, without the log source and number the registry adds. */
export type LayoutFields = Omit<ShapeLayout, 'logs' | 'id' | 'keyPrefix'>;

/**
 * The shapes of a table with the same column selection share everything but their handle, clause parameters and
 * snapshot: that part is one `ShapeLayout`, interned by its JSON text and written once as `layout:<n>`, so a shape
 * record names it by number (a record of a million-shape registry is ~150 bytes, not ~1 KB) and a restart builds one
 * object per layout, not per shape. Layout records are never deleted: there are as many as distinct selections.
 */
export class ShapeLayouts {
  private readonly byText = new Map<string, ShapeLayout>();
  private readonly byId = new Map<number, ShapeLayout>();
  private nextId = 1;

  constructor(
    private readonly meta: MetaStore,
    private readonly logs: LogSource,
  ) {
    for (const [key, value] of meta.entriesWithPrefix(LAYOUT_PREFIX)) {
      const id = Number(key.slice(LAYOUT_PREFIX.length));
      const fields = layoutFromMeta(value);
      this.remember(id, fields, JSON.stringify(value));
      this.nextId = Math.max(this.nextId, id + 1);
    }
  }

  /** The layout with these fields: the existing one, else a new one (its record set in the meta store). */
  intern(fields: LayoutFields): ShapeLayout {
    const value = layoutToMeta(fields);
    const text = JSON.stringify(value);
    const had = this.byText.get(text);
    if (had !== undefined) return had;
    const id = this.nextId++;
    this.meta.set(LAYOUT_PREFIX + String(id), value);
    return this.remember(id, fields, text);
  }

  /** Every layout (a service has a few): what the schema checks judge before looking at any shape. */
  all(): IterableIterator<ShapeLayout> {
    return this.byId.values();
  }

  /** The layout numbered `id` (stored records name it), or undefined when no such layout was stored. */
  get(id: number): ShapeLayout | undefined {
    return this.byId.get(id);
  }

  private remember(id: number, fields: LayoutFields, text: string): ShapeLayout {
    const layout: ShapeLayout = { ...fields, id, keyPrefix: keyPrefix(fields.schema, fields.table), logs: this.logs };
    this.byText.set(text, layout);
    this.byId.set(id, layout);
    return layout;
  }
}

function layoutToMeta(f: LayoutFields): MetaValue {
  return {
    schema: f.schema,
    table: f.table,
    replica: f.replica,
    oid: f.tableOid,
    selected: [...f.selected],
    key: [...f.keyColumns],
    valueKey: [...f.valueKeyColumns],
    used: { ...f.usedColumns },
    ...(f.usedTypmods !== undefined ? { usedMods: { ...f.usedTypmods } } : {}),
    selectsAll: f.selectsAll,
    columnCount: f.columnCount,
    columns: f.columnsSchema as unknown as MetaValue,
  };
}

function layoutFromMeta(m: MetaValue): LayoutFields {
  const o = m as Record<string, MetaValue>;
  return {
    schema: o['schema'] as string,
    table: o['table'] as string,
    replica: o['replica'] as 'default' | 'full',
    ...columnsFromMeta(o),
    columnsSchema: o['columns'] as unknown as Record<string, SchemaColumn>,
  };
}

/** The column fields as layouts (and version 1 shape records) store them. */
export function columnsFromMeta(o: Record<string, MetaValue>): ShapeColumns {
  return {
    tableOid: o['oid'] as number,
    selected: o['selected'] as string[],
    keyColumns: o['key'] as string[],
    valueKeyColumns: o['valueKey'] as string[],
    usedColumns: o['used'] as Record<string, number>,
    ...(o['usedMods'] !== undefined ? { usedTypmods: o['usedMods'] as Record<string, number> } : {}),
    selectsAll: o['selectsAll'] as boolean,
    columnCount: o['columnCount'] as number,
  };
}
