// Packs a range of a batch of changes into an Int32 header and one text buffer (for the wire), and unpacks it into
// changes in a worker.
//
// Layout: header[0] = change count, then per change: table index (-1: unknown table), op (0 insert, 1 update,
// 2 delete, 3 truncate), then per row (update: old row first) one length per column of the table in schema order
// (-1 for NULL or a missing column). The text is every non-NULL value's UTF-16 code units concatenated, one byte per
// unit when every unit of the range is below 256 (Latin-1, the common case) and two otherwise, so that any string,
// lone surrogates included, crosses exactly. The packer writes the units with a loop in place (no joined string, no
// UTF-8 encoder: the measured cost of the old join-and-encode was ~4.5 µs per change, a third of routing one); the
// worker decodes the text once per range and slices it.
import { compileTextReader } from '../eval/row-view.js';
import type { Change, RowRecord } from '../router/index.js';

export const OP_INSERT = 0;
export const OP_UPDATE = 1;
export const OP_DELETE = 2;
export const OP_TRUNCATE = 3;

/** How a batch crosses to the workers (measured by bench/shard-bench.ts; see the notes there). */
export type Transport = 'shared' | 'packed' | 'clone';

/** A packed range: `text` holds `wide` ? UTF-16 units : Latin-1 bytes. Views of a Packer's buffers until copied. */
export interface PackedBatch {
  readonly header: Int32Array;
  readonly text: Uint8Array | Uint16Array;
  readonly wide: boolean;
}

const MIN_BYTES = 1 << 16;

/**
 * Reusable pack buffers (SharedArrayBuffers when `shared`, so a packed range is posted without a copy). A packer is
 * busy from pack() until release(): the worker reads its memory in place meanwhile.
 */
export class Packer {
  private hdr: Int32Array;
  private t8: Uint8Array;
  private t16: Uint16Array | null = null;
  private n = 0;
  private p = 0;
  /**
   * Per column list, a generated reader of a record's values in that order: records of one table share a hidden
   * class, so its literal-key loads are monomorphic where `rec[cols[j]]` is a megamorphic lookup per column.
   */
  private readonly readers = new Map<readonly string[], ReturnType<typeof compileTextReader>>();
  private readCols: readonly string[] | null = null;
  private read: ReturnType<typeof compileTextReader> = () => undefined;
  private readonly texts: (string | null | undefined)[] = [];

  constructor(readonly shared: boolean) {
    this.hdr = new Int32Array(this.buffer(MIN_BYTES));
    this.t8 = new Uint8Array(this.buffer(MIN_BYTES));
  }

  private buffer(bytes: number): ArrayBuffer | SharedArrayBuffer {
    return this.shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
  }

  /**
   * Packs changes[from, to); `tables[i]` is change i's table index (-1: unknown) and `columns[t]` table t's column
   * names. The result views this packer's buffers: they are overwritten by its next pack().
   */
  pack(
    changes: readonly Change[],
    from: number,
    to: number,
    tables: Int32Array,
    columns: readonly (readonly string[])[],
  ): PackedBatch {
    if (this.packRange(changes, from, to, tables, columns, false))
      return { header: this.hdr.subarray(0, this.n), text: this.t8.subarray(0, this.p), wide: false };
    // a unit above 255: the whole range again, two bytes per unit
    this.packRange(changes, from, to, tables, columns, true);
    const t16 = this.t16 as Uint16Array;
    return { header: this.hdr.subarray(0, this.n), text: t16.subarray(0, this.p), wide: true };
  }

  /** False when a one-byte pass met a unit above 255 (nothing usable was packed). */
  private packRange(
    changes: readonly Change[],
    from: number,
    to: number,
    tables: Int32Array,
    columns: readonly (readonly string[])[],
    wide: boolean,
  ): boolean {
    this.n = 0;
    this.p = 0;
    this.header(1);
    this.hdr[this.n++] = to - from;
    for (let i = from; i < to; i++) {
      const c = changes[i] as Change;
      const t = tables[i] as number;
      const cols = t < 0 ? null : (columns[t] as readonly string[]);
      this.header(2 + (cols === null ? 0 : cols.length * 2));
      this.hdr[this.n++] = t;
      this.hdr[this.n++] = opCode(c);
      if (cols === null || c.op === 'truncate') continue;
      if (c.op === 'update') {
        if (!this.row(c.oldRecord, cols, wide) || !this.row(c.record, cols, wide)) return false;
      } else if (!this.row(c.op === 'insert' ? c.record : c.oldRecord, cols, wide)) return false;
    }
    return true;
  }

  private row(rec: RowRecord, cols: readonly string[], wide: boolean): boolean {
    const hdr = this.hdr;
    // changes come in runs of one table: the last reader serves without a map lookup
    if (cols !== this.readCols) {
      let read = this.readers.get(cols);
      if (read === undefined) this.readers.set(cols, (read = compileTextReader(cols)));
      this.read = read;
      this.readCols = cols;
    }
    const texts = this.texts;
    this.read(rec, texts);
    for (let j = 0; j < cols.length; j++) {
      const v = texts[j];
      if (v === null || v === undefined) {
        hdr[this.n++] = -1;
        continue;
      }
      const len = v.length;
      hdr[this.n++] = len;
      if (wide) this.wideText(v);
      else if (!this.narrowText(v)) return false;
    }
    return true;
  }

  private narrowText(v: string): boolean {
    const len = v.length;
    if (this.p + len > this.t8.length) this.t8 = grow(this.t8, this.p + len, (b) => new Uint8Array(this.buffer(b)));
    const t8 = this.t8;
    let p = this.p;
    for (let k = 0; k < len; k++) {
      const u = v.charCodeAt(k);
      if (u > 255) return false;
      t8[p++] = u;
    }
    this.p = p;
    return true;
  }

  private wideText(v: string): void {
    const len = v.length;
    let t16 = this.t16;
    if (t16 === null || this.p + len > t16.length)
      t16 = this.t16 = grow(t16, this.p + len, (b) => new Uint16Array(this.buffer(b * 2)));
    let p = this.p;
    for (let k = 0; k < len; k++) t16[p++] = v.charCodeAt(k);
    this.p = p;
  }

  private header(words: number): void {
    if (this.n + words > this.hdr.length)
      this.hdr = grow(this.hdr, this.n + words, (w) => new Int32Array(this.buffer(w * 4)));
  }
}

/** A buffer of at least `need` elements (doubling), holding `old`'s contents. */
function grow<A extends Int32Array | Uint8Array | Uint16Array>(
  old: A | null,
  need: number,
  make: (elements: number) => A,
): A {
  let cap = Math.max(old?.length ?? 0, MIN_BYTES);
  while (cap < need) cap *= 2;
  const next = make(cap);
  if (old !== null) next.set(old);
  return next;
}

function opCode(c: Change): number {
  return c.op === 'insert' ? OP_INSERT : c.op === 'update' ? OP_UPDATE : c.op === 'delete' ? OP_DELETE : OP_TRUNCATE;
}

/**
 * Units decoded per window. A whole range's text as one string (hundreds of KB) lands in V8's large-object space and
 * measured ~20× slower to decode than the same text in windows of this size (2 ms vs 0.1 ms per 5,000 rows).
 */
const WINDOW = 1 << 14;

/** Reads a packed range's values in order as strings, decoding its text one window at a time. */
class TextReader {
  private readonly buf: Buffer;
  private readonly encoding: 'latin1' | 'utf16le';
  private readonly width: number;
  private readonly units: number;
  private window = '';
  private start = 0;
  private end = 0;

  constructor(b: PackedBatch) {
    const t = b.text;
    this.buf = Buffer.from(t.buffer, t.byteOffset, t.byteLength);
    this.encoding = b.wide ? 'utf16le' : 'latin1';
    this.width = b.wide ? 2 : 1;
    this.units = t.length;
  }

  /** The value of `len` units at `pos` (values are read in order, so windows only move forward). */
  read(pos: number, len: number): string {
    if (pos + len > this.end) {
      this.start = pos;
      this.end = Math.min(this.units, pos + Math.max(WINDOW, len));
      this.window = this.buf.toString(this.encoding, pos * this.width, this.end * this.width);
    }
    return this.window.slice(pos - this.start, pos - this.start + len);
  }
}

/**
 * Unpacks a range, calling `visit(index, change)` for each change whose mask byte is set (all when mask is null);
 * `change` is null for a change of an unknown table. Records are fresh objects of one shape per table.
 */
export function unpackBatch(
  b: PackedBatch,
  tables: readonly (readonly string[])[],
  tableNames: readonly string[],
  mask: Uint8Array | null,
  visit: (index: number, change: Change | null) => void,
): void {
  const header = b.header;
  const text = new TextReader(b);
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
          a[cols[j] as string] = text.read(pos, len);
          pos += len;
        }
      }
      if (op === OP_UPDATE) {
        const nb: Record<string, string | null> = {};
        for (let j = 0; j < cols.length; j++) {
          const len = header[n++] as number;
          if (len < 0) nb[cols[j] as string] = null;
          else {
            nb[cols[j] as string] = text.read(pos, len);
            pos += len;
          }
        }
        change = { table, op: 'update', oldRecord: a, record: nb };
      } else change = op === OP_INSERT ? { table, op: 'insert', record: a } : { table, op: 'delete', oldRecord: a };
    }
    visit(i, change);
  }
}
