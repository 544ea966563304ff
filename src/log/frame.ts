// On-disk record framing: length + CRC32 + body, and a cursor that reads and validates frames from a file.
import { readSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { readOffset, writeOffset } from './offset.js';
import type { LogOffset } from './offset.js';

/**
 * Frame layout (big-endian): u32 body length, u32 CRC32 of the body, body = u8 kind, 12-byte offset, payload.
 * The CRC covers kind and offset as well, so a torn or overwritten header is caught like a torn payload.
 */
export const FRAME_HEADER = 8;
export const BODY_FIXED = 13;
export const FRAME_OVERHEAD = FRAME_HEADER + BODY_FIXED;
/** Anything larger is garbage, not a record: a snapshot chunk row or a change message is far smaller. */
export const MAX_BODY = 256 * 1024 * 1024;

export const enum RecordKind {
  /** A protocol message (JSON bytes). */
  Message = 1,
  /** Closes snapshot chunk `op` (offset `0_op`); empty chunks have only this record. */
  ChunkEnd = 2,
  /** Closes the snapshot (offset `0_inf`); payload is the u32 chunk count. */
  SnapshotEnd = 3,
}

/** Encodes one frame; `payload` is JSON text (written as UTF-8) or raw bytes. */
export function encodeFrame(kind: RecordKind, offset: LogOffset, payload: string | Buffer): Buffer {
  const len = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  const buf = Buffer.allocUnsafe(FRAME_OVERHEAD + len);
  buf.writeUInt32BE(BODY_FIXED + len, 0);
  buf[FRAME_HEADER] = kind;
  writeOffset(buf, FRAME_HEADER + 1, offset);
  if (typeof payload === 'string') buf.write(payload, FRAME_OVERHEAD, 'utf8');
  else payload.copy(buf, FRAME_OVERHEAD);
  buf.writeUInt32BE(crc32(buf.subarray(FRAME_HEADER)), 4);
  return buf;
}

export interface Frame {
  /** File position of the frame's first byte. */
  readonly pos: number;
  /** Whole frame length in bytes. */
  readonly size: number;
  readonly kind: RecordKind;
  readonly offset: LogOffset;
  /** Payload bytes; a view into a buffer the cursor never reuses, so it may be kept. */
  readonly payload: Buffer;
}

const READ_BLOCK = 64 * 1024;

/** Reads up to `len` bytes at file position `pos` into `buf` at `off`, like `readSync`; 0 at the end of the file. */
export type ByteReader = (buf: Buffer, off: number, len: number, pos: number) => number;

/**
 * Reads frames sequentially from `fd` (or a reader: bytes prefetched off the main thread) between `pos` and `end`,
 * validating length and CRC. `next()` returns null at the end; `torn` is then true when the bytes from `pos` on do
 * not form a valid frame (partial write, garbage).
 */
export class FrameCursor {
  private buf: Buffer = Buffer.alloc(0);
  private bufStart = 0;
  torn = false;

  private readonly read: ByteReader;

  constructor(
    source: number | ByteReader,
    public pos: number,
    private readonly end: number,
    private readonly block = READ_BLOCK,
  ) {
    this.read = typeof source === 'number' ? (buf, off, len, at) => readSync(source, buf, off, len, at) : source;
  }

  next(): Frame | null {
    const pos = this.pos;
    if (pos >= this.end) return null;
    if (pos + FRAME_HEADER > this.end || !this.fill(pos, FRAME_HEADER)) return this.fail();
    let at = pos - this.bufStart;
    const bodyLen = this.buf.readUInt32BE(at);
    if (bodyLen < BODY_FIXED || bodyLen > MAX_BODY || pos + FRAME_HEADER + bodyLen > this.end) return this.fail();
    const size = FRAME_HEADER + bodyLen;
    if (!this.fill(pos, size)) return this.fail();
    at = pos - this.bufStart;
    const body = this.buf.subarray(at + FRAME_HEADER, at + size);
    if (crc32(body) !== this.buf.readUInt32BE(at + 4)) return this.fail();
    const kind = body[0] as RecordKind;
    if (kind !== RecordKind.Message && kind !== RecordKind.ChunkEnd && kind !== RecordKind.SnapshotEnd) {
      return this.fail();
    }
    this.pos = pos + size;
    return { pos, size, kind, offset: readOffset(body, 1), payload: body.subarray(BODY_FIXED) };
  }

  private fail(): null {
    this.torn = true;
    return null;
  }

  /** Makes bytes [pos, pos+n) available in `buf`; false when the file is shorter than expected. */
  private fill(pos: number, n: number): boolean {
    if (pos >= this.bufStart && pos + n <= this.bufStart + this.buf.length) return true;
    const want = Math.min(Math.max(n, this.block), this.end - pos);
    // A fresh buffer each time: payload views handed out earlier stay valid.
    const buf = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const r = this.read(buf, got, want - got, pos + got);
      if (r === 0) break;
      got += r;
    }
    this.buf = got === want ? buf : buf.subarray(0, got);
    this.bufStart = pos;
    return got >= n;
  }
}

/** Decodes a frame that fills `bytes` exactly (a frame carried inside a journal record); null if invalid. */
export function decodeFrame(bytes: Buffer, pos = 0): Frame | null {
  if (bytes.length < FRAME_OVERHEAD) return null;
  const bodyLen = bytes.readUInt32BE(0);
  if (bodyLen + FRAME_HEADER !== bytes.length) return null;
  const body = bytes.subarray(FRAME_HEADER);
  if (crc32(body) !== bytes.readUInt32BE(4)) return null;
  const kind = body[0] as RecordKind;
  if (kind !== RecordKind.Message && kind !== RecordKind.ChunkEnd && kind !== RecordKind.SnapshotEnd) return null;
  return { pos, size: bytes.length, kind, offset: readOffset(body, 1), payload: body.subarray(BODY_FIXED) };
}
