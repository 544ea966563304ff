// One shape's durable log: the chunked initial snapshot, then the change messages, read back by protocol offset.
import { RecordKind } from './frame.js';
import type { Frame } from './frame.js';
import { BEFORE_ALL, SNAPSHOT_END, chunkOffset, compareOffsets, formatOffset } from './offset.js';
import type { LogOffset } from './offset.js';
import type { SegmentStream } from './segment-stream.js';

/** One change to append: its protocol offset and the message, as an object or already-serialised JSON. */
export interface LogEntry {
  readonly offset: LogOffset;
  readonly message?: unknown;
  readonly json?: string;
}

/** One message read back: `json` is the exact bytes that were appended, ready to be streamed into a response. */
export interface LogItem {
  /** The change's offset; for snapshot rows the offset of their chunk (`0_i`). */
  readonly offset: LogOffset;
  readonly json: Buffer;
}

export interface ReadResult {
  readonly items: LogItem[];
  /** Offset the response ends at (`electric-offset`): the last item's, a chunk's, `0_inf`, or the requested one. */
  readonly endOffset: LogOffset;
  /** Total JSON bytes in `items`. */
  readonly bytes: number;
  /** `endOffset` ≥ the log's current end: nothing more is readable now (input to the up-to-date rule). */
  readonly atEnd: boolean;
}

export interface ReadOptions {
  /** Response size target: reading stops after the record that reaches it (always at least one record). */
  readonly maxBytes?: number;
}

export type SnapshotState = 'pending' | 'complete';

export const DEFAULT_MAX_READ_BYTES = 10 * 1024 * 1024;

/**
 * Layout: the snapshot is its own stream (`s-*` segments) whose rows carry their chunk's offset `0_i`, each chunk
 * closed by a chunk-end marker and the whole by a `0_inf` marker; changes are a second stream (`c-*`). Keeping them
 * apart lets the service append changes while a long snapshot is still being written, without buffering them.
 *
 * Reading from `-1` serves chunk 0 (end offset `0_0`), from `0_i` chunk i+1; once past the last chunk (snapshot
 * complete) it continues into the changes from `0_inf`. A chunk is readable only when closed, changes once
 * appended.
 */
export class ShapeLog {
  private chunkCount = 0;
  private snapshotDone = false;
  private openChunkBytes = 0;
  private openChunkRows = 0;
  deleted = false;
  /** Dropped from the store's memory while idle: the store's `getLog` hands out a fresh instance from the files. */
  evicted = false;

  constructor(
    readonly handle: string,
    private readonly snapshot: SegmentStream,
    private readonly changes: SegmentStream,
    private readonly chunkTargetBytes: number,
  ) {
    this.deriveSnapshotState();
  }

  /** Offset of the last change appended, or `-1` when none: replayed entries at or below it must be skipped. */
  lastOffset(): LogOffset {
    this.assertLive();
    return this.changes.last ?? BEFORE_ALL;
  }

  /** The last readable offset (what `offset=now` answers): last change, `0_inf`, the last closed chunk, or `-1`. */
  endOffset(): LogOffset {
    if (this.snapshotDone) return this.changes.last ?? SNAPSHOT_END;
    return this.chunkCount > 0 ? chunkOffset(this.chunkCount - 1) : BEFORE_ALL;
  }

  snapshotState(): SnapshotState {
    return this.snapshotDone ? 'complete' : 'pending';
  }

  /** Closed snapshot chunks so far. */
  snapshotChunks(): number {
    return this.chunkCount;
  }

  /** Bytes stored (snapshot and changes, including not yet written). */
  byteSize(): number {
    return this.snapshot.bytes + this.changes.bytes;
  }

  /**
   * Appends one transaction's entries, in order. All are checked before any is written: offsets must be change
   * offsets (tx ≥ 1), strictly increasing and above `lastOffset()`.
   */
  append(entries: readonly LogEntry[]): void {
    this.assertLive();
    let prev = this.changes.last;
    for (const e of entries) {
      if (e.offset.tx < 1n || e.offset.op === Infinity || !this.changes.accepts(e.offset, prev)) {
        throw new RangeError(
          `shape log ${this.handle}: offset ${formatOffset(e.offset)} does not follow ${prev === undefined ? '-1' : formatOffset(prev)}`,
        );
      }
      prev = e.offset;
    }
    for (const e of entries) this.changes.append(RecordKind.Message, e.offset, e.json ?? JSON.stringify(e.message));
  }

  /**
   * Appends snapshot rows (insert messages, then the snapshot-end control) to the open chunk, closing it whenever it
   * reaches the chunk target, so that each response the HTTP layer serves is one chunk of about that size.
   */
  appendSnapshot(rows: readonly (string | object)[]): void {
    this.assertLive();
    if (this.snapshotDone) throw new RangeError(`shape log ${this.handle}: snapshot already complete`);
    for (const row of rows) {
      const json = typeof row === 'string' ? row : JSON.stringify(row);
      this.snapshot.append(RecordKind.Message, chunkOffset(this.chunkCount), json);
      this.openChunkRows++;
      this.openChunkBytes += json.length;
      if (this.openChunkBytes >= this.chunkTargetBytes) this.closeChunk();
    }
  }

  /** Closes the open chunk early (no-op when it is empty). */
  endSnapshotChunk(): void {
    this.assertLive();
    if (this.openChunkRows > 0) this.closeChunk();
  }

  /** Closes the snapshot: the last chunk (an empty chunk 0 for an empty table or `changes_only`) and `0_inf`. */
  finishSnapshot(): void {
    this.assertLive();
    if (this.snapshotDone) return;
    if (this.openChunkRows > 0 || this.chunkCount === 0) this.closeChunk();
    const count = Buffer.allocUnsafe(4);
    count.writeUInt32BE(this.chunkCount, 0);
    this.snapshot.append(RecordKind.SnapshotEnd, SNAPSHOT_END, count);
    this.snapshotDone = true;
  }

  /** Reads the messages after `after` (exclusive): one snapshot chunk, or changes up to about `maxBytes`. */
  read(after: LogOffset, opts: ReadOptions = {}): ReadResult {
    this.assertLive();
    let from = after;
    if (compareOffsets(after, SNAPSHOT_END) < 0) {
      const k = after.tx < 0n ? 0 : after.op + 1;
      if (k < this.chunkCount) return this.readChunk(k);
      if (!this.snapshotDone) return { items: [], endOffset: after, bytes: 0, atEnd: true };
      from = SNAPSHOT_END;
    }
    const maxBytes = opts.maxBytes ?? DEFAULT_MAX_READ_BYTES;
    const items: LogItem[] = [];
    let bytes = 0;
    this.changes.scan(from, (f: Frame) => {
      items.push({ offset: f.offset, json: f.payload });
      bytes += f.payload.length;
      return bytes < maxBytes;
    });
    const endOffset = items.length > 0 ? items[items.length - 1]!.offset : from;
    return { items, endOffset, bytes, atEnd: compareOffsets(endOffset, this.endOffset()) >= 0 };
  }

  private readChunk(k: number): ReadResult {
    const end = chunkOffset(k);
    const items: LogItem[] = [];
    let bytes = 0;
    const before = k === 0 ? BEFORE_ALL : chunkOffset(k - 1);
    this.snapshot.scan(before.tx < 0n ? undefined : before, (f: Frame) => {
      if (f.kind !== RecordKind.Message) return false;
      items.push({ offset: end, json: f.payload });
      bytes += f.payload.length;
      return true;
    });
    return { items, endOffset: end, bytes, atEnd: compareOffsets(end, this.endOffset()) >= 0 };
  }

  private closeChunk(): void {
    this.snapshot.append(RecordKind.ChunkEnd, chunkOffset(this.chunkCount), Buffer.alloc(0));
    this.chunkCount++;
    this.openChunkRows = 0;
    this.openChunkBytes = 0;
  }

  /** After recovery the snapshot stream's last record says how far the snapshot got. */
  private deriveSnapshotState(): void {
    const last = this.snapshot.last;
    if (last === undefined) return;
    switch (this.snapshot.lastKind) {
      case RecordKind.SnapshotEnd:
        this.snapshotDone = true;
        this.chunkCount = this.snapshot.lastMarkerWord!;
        break;
      case RecordKind.ChunkEnd:
        this.chunkCount = last.op + 1;
        break;
      default:
        // Rows of an unclosed chunk: a snapshot interrupted by a crash. They stay unreadable; the service
        // recreates such shapes under a new handle.
        this.chunkCount = last.op;
        this.openChunkRows = 1;
    }
  }

  /** The snapshot's stream, whose first file the store creates ahead for a new log. */
  snapshotStream(): SegmentStream {
    return this.snapshot;
  }

  /** The two streams, for the store's deletion and sync bookkeeping. */
  streams(): readonly SegmentStream[] {
    return [this.snapshot, this.changes];
  }

  private assertLive(): void {
    if (this.deleted) throw new RangeError(`shape log ${this.handle} was deleted`);
    if (this.evicted) throw new RangeError(`shape log ${this.handle} was evicted from memory: get it from the store`);
  }
}
