// Packs a batch of changes into an Int32 header and one text (for the wire) and unpacks it into changes in a worker.
//
// Layout: header[0] = change count, then per change: table index (-1: unknown table), op (0 insert, 1 update,
// 2 delete, 3 truncate), then per row (update: old row first) one length per column of the table in schema order
// (-1 for NULL or a missing column). The text is every non-NULL value concatenated; lengths are UTF-16 units, so the
// worker slices instead of splitting, and values may hold any character.
import type { Change, RowRecord } from '../router/index.js';

export const OP_INSERT = 0;
export const OP_UPDATE = 1;
export const OP_DELETE = 2;
export const OP_TRUNCATE = 3;

/** How a batch crosses to the workers (measured by bench/shard-bench.ts; see the notes there). */
export type Transport = 'shared' | 'packed' | 'clone';

export interface PackedBatch {
  readonly header: Int32Array;
  readonly headerLength: number;
  readonly text: string;
}

/** Grows-only scratch for the header: batches are packed one at a time on the main thread. */
let scratch = new Int32Array(4096);

function ensure(n: number): void {
  if (n <= scratch.length) return;
  let cap = scratch.length;
  while (cap < n) cap *= 2;
  const next = new Int32Array(cap);
  next.set(scratch);
  scratch = next;
}

/**
 * Packs `changes`; `tableOf` gives a change's table index and column names (null: unknown table). The returned
 * header is a view of shared scratch: copy it out before packing the next batch.
 */
export function packBatch(
  changes: readonly Change[],
  tables: readonly (readonly string[])[],
  tableOf: (c: Change) => number,
): PackedBatch {
  const parts: string[] = [];
  let n = 1;
  ensure(1 + changes.length * 2);
  scratch[0] = changes.length;
  for (let i = 0; i < changes.length; i++) {
    const c = changes[i] as Change;
    const t = tableOf(c);
    const cols = t < 0 ? null : (tables[t] as readonly string[]);
    ensure(n + 2 + (cols === null ? 0 : cols.length * 2));
    scratch[n++] = t;
    const op =
      c.op === 'insert' ? OP_INSERT : c.op === 'update' ? OP_UPDATE : c.op === 'delete' ? OP_DELETE : OP_TRUNCATE;
    scratch[n++] = op;
    if (cols === null) continue;
    if (c.op === 'update') {
      n = packRow(c.oldRecord, cols, parts, n);
      n = packRow(c.record, cols, parts, n);
    } else if (c.op === 'insert') n = packRow(c.record, cols, parts, n);
    else if (c.op === 'delete') n = packRow(c.oldRecord, cols, parts, n);
  }
  return { header: scratch, headerLength: n, text: parts.join('') };
}

function packRow(rec: RowRecord, cols: readonly string[], parts: string[], n: number): number {
  for (let j = 0; j < cols.length; j++) {
    const v = rec[cols[j] as string];
    if (v === null || v === undefined) scratch[n++] = -1;
    else {
      scratch[n++] = v.length;
      parts.push(v);
    }
  }
  return n;
}

/** Unpacks a batch, calling `visit(index, change)` for each change whose mask byte is set (all when mask is null). */
export function unpackBatch(
  header: Int32Array,
  text: string,
  tables: readonly (readonly string[])[],
  tableNames: readonly string[],
  mask: Uint8Array | null,
  visit: (index: number, change: Change | null) => void,
): void {
  const count = header[0] as number;
  let n = 1;
  let pos = 0;
  for (let i = 0; i < count; i++) {
    const t = header[n++] as number;
    const op = header[n++] as number;
    const cols = t < 0 ? null : (tables[t] as readonly string[]);
    const rows = cols === null || op === OP_TRUNCATE ? 0 : op === OP_UPDATE ? 2 : 1;
    const want = mask === null || mask[i] !== 0;
    if (!want || cols === null) {
      // skip this change's fields
      for (let r = 0; r < rows * (cols === null ? 0 : cols.length); r++) {
        const len = header[n++] as number;
        if (len > 0) pos += len;
      }
      if (want) visit(i, null);
      continue;
    }
    const table = tableNames[t] as string;
    let change: Change;
    if (op === OP_TRUNCATE) change = { table, op: 'truncate' };
    else {
      const a: Record<string, string | null> = {};
      for (let j = 0; j < cols.length; j++) {
        const len = header[n++] as number;
        if (len < 0) a[cols[j] as string] = null;
        else {
          a[cols[j] as string] = text.slice(pos, pos + len);
          pos += len;
        }
      }
      if (op === OP_UPDATE) {
        const b: Record<string, string | null> = {};
        for (let j = 0; j < cols.length; j++) {
          const len = header[n++] as number;
          if (len < 0) b[cols[j] as string] = null;
          else {
            b[cols[j] as string] = text.slice(pos, pos + len);
            pos += len;
          }
        }
        change = { table, op: 'update', oldRecord: a, record: b };
      } else change = op === OP_INSERT ? { table, op: 'insert', record: a } : { table, op: 'delete', oldRecord: a };
    }
    visit(i, change);
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Copies a packed batch into one SharedArrayBuffer: [header words | UTF-8 text]. Null when the text is not well-formed UTF-16. */
export function toShared(
  b: PackedBatch,
  pool: SharedArrayBuffer[],
): { sab: SharedArrayBuffer; headerWords: number; textBytes: number } | null {
  const text = b.text;
  if (!(text as unknown as { isWellFormed(): boolean }).isWellFormed()) return null;
  const need = b.headerLength * 4 + text.length * 3;
  let sab = pool.pop();
  if (sab === undefined || sab.byteLength < need)
    sab = new SharedArrayBuffer(Math.max(need, 1 << 16) * (sab === undefined ? 1 : 2));
  new Int32Array(sab, 0, b.headerLength).set(b.header.subarray(0, b.headerLength));
  const { written } = encoder.encodeInto(text, new Uint8Array(sab, b.headerLength * 4));
  return { sab, headerWords: b.headerLength, textBytes: written };
}

/** The worker's side of toShared: the header view and the decoded text. */
export function fromShared(
  sab: SharedArrayBuffer,
  headerWords: number,
  textBytes: number,
): { header: Int32Array; text: string } {
  const header = new Int32Array(sab, 0, headerWords);
  const text = decoder.decode(new Uint8Array(sab, headerWords * 4, textBytes));
  return { header, text };
}
