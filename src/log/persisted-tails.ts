// The state of every log at a clean close, kept in one file, so that after a restart no log is read to be appended to.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { readOffset, writeOffset } from './offset.js';
import type { StreamMemo } from './segment-stream.js';

/** A log's two streams' state: what `SegmentStream.memo` gives and `restore` takes (snapshot, then changes). */
export type LogMemo = readonly [StreamMemo, StreamMemo];

const FILE = '.tails';
const MAGIC = Buffer.from('SYTAILS1');
const NONE_KIND = 0xff;

/**
 * Written by a clean close (everything flushed and fsynced), read by the next open only if that close left its mark
 * (shape-log-store.ts): the file then describes every log exactly as its files are. Entries are sorted by handle
 * (ASCII) and found by binary search over an offset table, so a million logs cost one buffer (~130 B each) and no
 * object per log; an entry is used at most once (a log loaded from it may change) — `take` marks it consumed.
 *
 * Layout: magic, u32 count, count × u32 entry positions, then per entry: u8 handle length, handle bytes, and each
 * stream: u16 segment count, per segment [offset(12) start, u32 size, u32 index size, u32 last indexed position,
 * u8 flags], u8 has-last + offset(12), u8 last kind (0xff none), u8 has-marker + u32 marker, f64 bytes.
 */
export class PersistedTails {
  private readonly consumed: Uint8Array;
  private lastHandle: string | undefined;
  private lastIndex = -1;

  private constructor(
    private readonly buf: Buffer,
    private readonly count: number,
  ) {
    this.consumed = new Uint8Array(Math.ceil(count / 8));
  }

  /** The file a clean close left in `dir`, or undefined (none, or unreadable: logs are then read from their files). */
  static load(dir: string): PersistedTails | undefined {
    const path = join(dir, FILE);
    if (!existsSync(path)) return undefined;
    try {
      const buf = readFileSync(path);
      if (buf.length < 12 || !buf.subarray(0, 8).equals(MAGIC)) return undefined;
      return new PersistedTails(buf, buf.readUInt32BE(8));
    } catch {
      return undefined;
    }
  }

  /** Removes the file (an open that may not trust it: nothing must read it later). */
  static remove(dir: string): void {
    const path = join(dir, FILE);
    if (existsSync(path)) unlinkSync(path);
  }

  /**
   * Writes `entries` (any order; handles ASCII) durably: a temporary file fsynced, renamed over the old one. The caller
   * fsyncs the directory (with the clean mark written after it).
   */
  static write(dir: string, all: Iterable<readonly [string, string]>): void {
    const entries = [...all];
    entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const parts: Buffer[] = [];
    const head = Buffer.alloc(12 + 4 * entries.length);
    MAGIC.copy(head, 0);
    head.writeUInt32BE(entries.length, 8);
    let pos = head.length;
    entries.forEach(([handle, packed], i) => {
      const b = Buffer.allocUnsafe(1 + handle.length + packed.length);
      b[0] = handle.length;
      b.write(handle, 1, 'latin1');
      b.write(packed, 1 + handle.length, 'latin1');
      head.writeUInt32BE(pos, 12 + 4 * i);
      pos += b.length;
      parts.push(b);
    });
    if (pos > 0xffffffff) throw new RangeError(`log state file would exceed 4 GiB (${entries.length} logs)`);
    const tmp = join(dir, `${FILE}.tmp`);
    const fd = openSync(tmp, 'w');
    try {
      for (const b of [head, ...parts]) {
        let done = 0;
        while (done < b.length) done += writeSync(fd, b, done, b.length - done);
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(dir, FILE));
  }

  /** Whether the file holds the log's state not yet taken. */
  available(handle: string): boolean {
    const i = this.find(handle);
    return i >= 0 && !this.isConsumed(i);
  }

  /** The log's state, once: undefined if absent or already taken. */
  take(handle: string): LogMemo | undefined {
    const i = this.find(handle);
    if (i < 0 || this.isConsumed(i)) return undefined;
    this.consume(i);
    return decodeEntry(this.buf, this.entryPos(i) + 1 + this.buf[this.entryPos(i)]!);
  }

  /** Forgets the log (deleted, or loaded another way). */
  drop(handle: string): void {
    const i = this.find(handle);
    if (i >= 0) this.consume(i);
  }

  /** Every entry not taken or dropped (handle, packed state), for the next close's file. */
  *remaining(): IterableIterator<[string, string]> {
    for (let i = 0; i < this.count; i++) {
      if (this.isConsumed(i)) continue;
      const at = this.entryPos(i);
      const len = this.buf[at]!;
      const end = i + 1 < this.count ? this.entryPos(i + 1) : this.buf.length;
      yield [this.buf.toString('latin1', at + 1, at + 1 + len), this.buf.toString('latin1', at + 1 + len, end)];
    }
  }

  private entryPos(i: number): number {
    return this.buf.readUInt32BE(12 + 4 * i);
  }

  private isConsumed(i: number): boolean {
    return (this.consumed[i >> 3]! & (1 << (i & 7))) !== 0;
  }

  private consume(i: number): void {
    this.consumed[i >> 3]! |= 1 << (i & 7);
  }

  /** Binary search by handle bytes; -1 when absent. The last answer is kept: a load asks several times in a row. */
  private find(handle: string): number {
    if (handle === this.lastHandle) return this.lastIndex;
    this.lastHandle = handle;
    this.lastIndex = this.search(handle);
    return this.lastIndex;
  }

  private search(handle: string): number {
    const key = Buffer.from(handle, 'latin1');
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = this.entryPos(mid);
      const c = this.buf.compare(key, 0, key.length, at + 1, at + 1 + this.buf[at]!);
      // `compare` orders the stored handle against the key: > 0 means the stored one sorts after.
      if (c === 0) return mid;
      if (c > 0) hi = mid - 1;
      else lo = mid + 1;
    }
    return -1;
  }
}

function representable(m: StreamMemo): boolean {
  return m.segments.every(([, size, idxSize, pos]) => size <= 0xffffffff && idxSize <= 0xffffffff && pos <= 0xffffffff);
}

/**
 * A log's state packed into a one-byte string (~75 B for a log of one segment per stream; the objects took ~400): how
 * the store remembers evicted logs, and what the file holds per log. Undefined for a state this form cannot hold (a
 * segment over 4 GiB): such a log is read from its files.
 */
export function packMemo(memo: LogMemo): string | undefined {
  if (!representable(memo[0]) || !representable(memo[1])) return undefined;
  const b = Buffer.alloc(streamSize(memo[0]) + streamSize(memo[1]));
  encodeStream(b, encodeStream(b, 0, memo[0]), memo[1]);
  return b.toString('latin1');
}

export function unpackMemo(packed: string): LogMemo {
  return decodeEntry(Buffer.from(packed, 'latin1'), 0);
}

const SEGMENT_BYTES = 12 + 4 + 4 + 4 + 1;

function streamSize(m: StreamMemo): number {
  return 2 + m.segments.length * SEGMENT_BYTES + 13 + 1 + 5 + 8;
}

function encodeStream(b: Buffer, at: number, m: StreamMemo): number {
  b.writeUInt16BE(m.segments.length, at);
  at += 2;
  for (const [start, size, idxSize, lastIndexedPos, flags] of m.segments) {
    writeOffset(b, at, start);
    b.writeUInt32BE(size, at + 12);
    b.writeUInt32BE(idxSize, at + 16);
    b.writeUInt32BE(lastIndexedPos, at + 20);
    b[at + 24] = flags;
    at += SEGMENT_BYTES;
  }
  b[at] = m.last === undefined ? 0 : 1;
  if (m.last !== undefined) writeOffset(b, at + 1, m.last);
  b[at + 13] = m.lastKind ?? NONE_KIND;
  b[at + 14] = m.lastMarkerWord === undefined ? 0 : 1;
  b.writeUInt32BE(m.lastMarkerWord ?? 0, at + 15);
  b.writeDoubleBE(m.bytes, at + 19);
  return at + 27;
}

function decodeEntry(b: Buffer, at: number): LogMemo {
  const [snapshot, next] = decodeStream(b, at);
  const [changes] = decodeStream(b, next);
  return [snapshot, changes];
}

function decodeStream(b: Buffer, at: number): [StreamMemo, number] {
  const n = b.readUInt16BE(at);
  at += 2;
  const segments: [ReturnType<typeof readOffset>, number, number, number, number][] = [];
  for (let i = 0; i < n; i++) {
    segments.push([
      readOffset(b, at),
      b.readUInt32BE(at + 12),
      b.readUInt32BE(at + 16),
      b.readUInt32BE(at + 20),
      b[at + 24]!,
    ]);
    at += SEGMENT_BYTES;
  }
  const memo: StreamMemo = {
    segments,
    last: b[at] === 1 ? readOffset(b, at + 1) : undefined,
    lastKind: b[at + 13] === NONE_KIND ? undefined : b[at + 13],
    lastMarkerWord: b[at + 14] === 1 ? b.readUInt32BE(at + 15) : undefined,
    bytes: b.readDoubleBE(at + 19),
  };
  return [memo, at + 27];
}
