// Shape-log offsets (`-1`, `<tx>_<op>`, `<tx>_inf`): parsing, printing, ordering and the fixed binary form.

/**
 * A position in a shape log. `tx` is the commit LSN (0 for snapshot chunks, -1 for "before everything"); `op` is the
 * operation index, `Infinity` for `inf`. Offsets are compared numerically, never as strings (`10_0` > `9_0`).
 */
export interface LogOffset {
  readonly tx: bigint;
  readonly op: number;
}

/** The largest `op` the binary form stores; it encodes `inf`. */
export const OP_INF_CODE = 0xffffffff;

/** `-1`: before everything, the start of a shape. */
export const BEFORE_ALL: LogOffset = Object.freeze({ tx: -1n, op: 0 });
/** `0_inf`: end of the snapshot, before any change. */
export const SNAPSHOT_END: LogOffset = Object.freeze({ tx: 0n, op: Infinity });

const MAX_TX = (1n << 64n) - 1n;
const OFFSET_RE = /^(0|[1-9][0-9]*)_(0|[1-9][0-9]*|inf)$/;

export function makeOffset(tx: bigint, op: number): LogOffset {
  return { tx, op };
}

/** Offset of snapshot chunk `i` (`0_i`): the end offset of the response that serves that chunk. */
export function chunkOffset(i: number): LogOffset {
  return { tx: 0n, op: i };
}

/**
 * Parses a request offset strictly (`1_2_3`, `10`, `1_2 `, `10_32.1` and leading zeros are rejected); `now` is the
 * HTTP layer's business. Returns undefined when the text is not an offset, so the caller can answer 400
 * `has invalid format` without an exception on the request path.
 */
export function parseOffset(text: string): LogOffset | undefined {
  if (text === '-1') return BEFORE_ALL;
  const m = OFFSET_RE.exec(text);
  if (m === null) return undefined;
  const tx = BigInt(m[1]!);
  if (tx > MAX_TX) return undefined;
  if (m[2] === 'inf') return { tx, op: Infinity };
  const op = Number(m[2]);
  // op must fit the u32 binary form below its inf code.
  if (op >= OP_INF_CODE) return undefined;
  return { tx, op };
}

export function formatOffset(o: LogOffset): string {
  if (o.tx < 0n) return '-1';
  return o.op === Infinity ? `${o.tx}_inf` : `${o.tx}_${o.op}`;
}

/** Total order: by `tx` numerically, then by `op` with `inf` above every number. */
export function compareOffsets(a: LogOffset, b: LogOffset): number {
  if (a.tx !== b.tx) return a.tx < b.tx ? -1 : 1;
  return a.op === b.op ? 0 : a.op < b.op ? -1 : 1;
}

export function offsetsEqual(a: LogOffset, b: LogOffset): boolean {
  return a.tx === b.tx && a.op === b.op;
}

/** The larger of two offsets. */
export function maxOffset(a: LogOffset, b: LogOffset): LogOffset {
  return compareOffsets(a, b) >= 0 ? a : b;
}

/** Writes the 12-byte binary form (u64 tx, u32 op with inf as 0xffffffff, big-endian so bytes sort like offsets). */
export function writeOffset(buf: Buffer, pos: number, o: LogOffset): void {
  buf.writeBigUInt64BE(o.tx, pos);
  buf.writeUInt32BE(o.op === Infinity ? OP_INF_CODE : o.op, pos + 8);
}

export function readOffset(buf: Buffer, pos: number): LogOffset {
  const tx = buf.readBigUInt64BE(pos);
  const op = buf.readUInt32BE(pos + 8);
  return { tx, op: op === OP_INF_CODE ? Infinity : op };
}

/** Postgres `X/Y` LSN text → the 64-bit integer the protocol prints in decimal. */
export function lsnFromText(text: string): bigint | undefined {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
  if (m === null) return undefined;
  return (BigInt('0x' + m[1]!) << 32n) | BigInt('0x' + m[2]!);
}

/** Name-safe, order-preserving text of an offset, used in segment file names. */
export function offsetFileKey(o: LogOffset): string {
  const op = o.op === Infinity ? OP_INF_CODE : o.op;
  return `${o.tx.toString().padStart(20, '0')}-${op.toString().padStart(10, '0')}`;
}

export function offsetFromFileKey(key: string): LogOffset | undefined {
  const m = /^([0-9]{20})-([0-9]{10})$/.exec(key);
  if (m === null) return undefined;
  const op = Number(m[2]);
  return { tx: BigInt(m[1]!), op: op === OP_INF_CODE ? Infinity : op };
}
