// Protocol change messages (shape-protocol.md §4.2–4.4): row keys, values per replica mode, headers, JSON text.

export type Row = Readonly<Record<string, string | null>>;

/** What a shape's messages need to know about its columns. */
export interface MessageShape {
  readonly schema: string;
  readonly table: string;
  /** Selected columns, in table order. */
  readonly selected: readonly string[];
  /** Key columns (primary key, or all columns by name for a table without one). */
  readonly keyColumns: readonly string[];
  /** Key columns that are selected: the `value` of a default-replica update or delete. */
  readonly valueKeyColumns: readonly string[];
  readonly replica: 'default' | 'full';
  /** `"schema"."table"` with `/` and `.` doubled, computed once per shape. */
  readonly keyPrefix: string;
}

/** `"<schema>"."<table>"` with `/` and `.` doubled inside the names (§4.2). */
export function keyPrefix(schema: string, table: string): string {
  const esc = (s: string): string => s.replaceAll('/', '//').replaceAll('.', '..');
  return `"${esc(schema)}"."${esc(table)}"`;
}

/** The row key: prefix, then `/"<pk value>"` per key column with `/` doubled, NULL as `_`. */
export function rowKey(shape: MessageShape, row: Row): string {
  let key = shape.keyPrefix;
  for (const c of shape.keyColumns) {
    const v = row[c];
    key += v === null || v === undefined ? '/_' : `/"${v.indexOf('/') === -1 ? v : v.replaceAll('/', '//')}"`;
  }
  return key;
}

function pick(row: Row, cols: readonly string[]): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const c of cols) {
    const v = row[c];
    out[c] = v === undefined ? null : v;
  }
  return out;
}

/** Per-transaction headers shared by every change message of the transaction. */
export interface TxHeaders {
  /** Decimal commit LSN. */
  readonly lsn: string;
  readonly txids: readonly number[];
}

export interface ChangeMessage {
  key: string;
  value: Record<string, string | null>;
  old_value?: Record<string, string | null>;
  headers: {
    operation: 'insert' | 'update' | 'delete';
    relation: readonly [string, string];
    lsn?: string;
    op_position?: number;
    txids?: readonly number[];
    last?: true;
    key_change_to?: string;
    key_change_from?: string;
  };
}

function headers(
  shape: MessageShape,
  operation: 'insert' | 'update' | 'delete',
  tx: TxHeaders | undefined,
  op: number,
): ChangeMessage['headers'] {
  const relation = [shape.schema, shape.table] as const;
  return tx === undefined
    ? { operation, relation }
    : { operation, relation, lsn: tx.lsn, op_position: op, txids: tx.txids };
}

/** An insert of the full (selected) row: snapshot rows (no `tx`), inserts and moves in. */
export function insertMessage(
  shape: MessageShape,
  row: Row,
  tx?: TxHeaders,
  op = 0,
  key = rowKey(shape, row),
): ChangeMessage {
  return { key, value: pick(row, shape.selected), headers: headers(shape, 'insert', tx, op) };
}

/** A delete of the old row: PK columns only (`default`) or the whole old row (`full`). */
export function deleteMessage(
  shape: MessageShape,
  old: Row,
  tx: TxHeaders,
  op: number,
  key = rowKey(shape, old),
): ChangeMessage {
  const cols = shape.replica === 'full' ? shape.selected : shape.valueKeyColumns;
  return { key, value: pick(old, cols), headers: headers(shape, 'delete', tx, op) };
}

/**
 * An update staying in the shape with an unchanged key, or undefined when no selected column changed.
 * `default`: PK + changed columns; `full`: the whole new row plus `old_value` of the changed columns.
 * A column absent from the new row (unchanged TOAST with no old value known) counts as unchanged.
 */
export function updateMessage(
  shape: MessageShape,
  old: Row,
  row: Row,
  tx: TxHeaders,
  op: number,
  key: string,
): ChangeMessage | undefined {
  let changed: string[] | undefined;
  for (const c of shape.selected) {
    const nv = row[c];
    if (nv === undefined) continue;
    if (nv !== old[c]) (changed ??= []).push(c);
  }
  if (changed === undefined) return undefined;
  if (shape.replica === 'full') {
    const value = pick(row, shape.selected);
    for (const c of shape.selected) if (row[c] === undefined && old[c] !== undefined) value[c] = old[c];
    return { key, value, old_value: pick(old, changed), headers: headers(shape, 'update', tx, op) };
  }
  const value = pick(row, shape.valueKeyColumns);
  for (const c of changed) value[c] = row[c] as string | null;
  return { key, value, headers: headers(shape, 'update', tx, op) };
}

/** The Postgres snapshot a shape's or subset's rows were read in, as the protocol carries it (§9). */
export interface SnapshotXids {
  readonly xmin: bigint;
  readonly xmax: bigint;
  readonly xip: Iterable<bigint>;
}

/** xmin, xmax and the in-progress list as decimal strings: they are 64-bit, which JSON numbers would round. */
export function snapshotXidHeaders(v: SnapshotXids): { xmin: string; xmax: string; xip_list: string[] } {
  return { xmin: v.xmin.toString(), xmax: v.xmax.toString(), xip_list: [...v.xip].map((x) => x.toString()) };
}

/**
 * The control message ending a shape's initial snapshot, after its last row (also for `log=changes_only`, whose
 * snapshot has no rows): the client learns which transactions the rows already include.
 */
export function snapshotEndMessage(v: SnapshotXids): string {
  return JSON.stringify({ headers: { control: 'snapshot-end', ...snapshotXidHeaders(v) } });
}
