// One ordered stream of framed records split over segment files, with a sparse offset index and torn-tail recovery.
import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, unlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { FdCache } from './fd-cache.js';
import { FrameCursor, RecordKind, encodeFrame } from './frame.js';
import type { ByteReader, Frame } from './frame.js';
import { compareOffsets, offsetFileKey, offsetFromFileKey, readOffset, writeOffset } from './offset.js';
import type { LogOffset } from './offset.js';
import { isNotFound } from './durable-files.js';
import { writeAll } from './write-out.js';
import type { FileWrite } from './write-out.js';

/** What a stream needs from its store: descriptors and group-commit bookkeeping. */
export interface StreamHost {
  readonly fds: FdCache;
  /** A frame was appended at stream position `pos` (journal it, remember the stream as dirty). */
  onAppend(stream: SegmentStream, pos: number, frame: Buffer): void;
  /** Pending (unwritten) bytes changed by `delta`, for the store's memory bound. */
  onPending(delta: number): void;
}

export interface StreamOptions {
  /** File-name prefix: segments are `<prefix>-<first offset>.seg`, their indexes `.idx`. */
  readonly prefix: string;
  /** Bytes between index entries; 0 indexes every change of offset (snapshot chunks). */
  readonly indexEvery: number;
  readonly segmentBytes: number;
  /** Strictly increasing offsets (changes) or non-decreasing (snapshot rows share their chunk's offset). */
  readonly strict: boolean;
}

/**
 * The file reads recovery makes (`SegmentStream.recover`): through the descriptor cache on the calling thread
 * (`fileReads`), or from bytes read ahead on the I/O pool (log-prefetch.ts). The recovery logic is the same either
 * way; its writes (cutting a torn tail, index entries that had not reached the disk) always go through the
 * descriptor cache, and follow a crash only.
 */
export interface RecoveryReads {
  /** A segment file's length. */
  size(path: string): number;
  /** A reader of a segment file's bytes. */
  reader(path: string): ByteReader;
  /** An index file's bytes, undefined when it does not exist; other failures throw. */
  index(path: string): Buffer | undefined;
}

/** Recovery's reads made synchronously, through the descriptor cache (which then keeps the segments open). */
export function fileReads(fds: FdCache): RecoveryReads {
  return {
    size: (path) => fstatSync(fds.get(path)).size,
    reader: (path) => {
      const fd = fds.get(path);
      return (buf, off, len, pos) => readSync(fd, buf, off, len, pos);
    },
    index: (path) => {
      let ifd: number;
      try {
        ifd = openSync(path, 'r');
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
      try {
        const raw = Buffer.allocUnsafe(fstatSync(ifd).size);
        let got = 0;
        while (got < raw.length) {
          const r = readSync(ifd, raw, got, raw.length - got, got);
          if (r === 0) break;
          got += r;
        }
        return raw.subarray(0, got);
      } finally {
        closeSync(ifd);
      }
    },
  };
}

/** An index entry: a record's offset and its position in the segment file. */
export interface IndexEntry {
  readonly offset: LogOffset;
  readonly pos: number;
}

/**
 * The entries of an index file's bytes worth checking against the data: the longest prefix that is ordered and
 * inside the segment (whose first offset is `start` and length `fileLen`).
 */
export function parseIndex(raw: Buffer, start: LogOffset, fileLen: number): IndexEntry[] {
  const entries: IndexEntry[] = [];
  for (let at = 0; at + IDX_ENTRY <= raw.length; at += IDX_ENTRY) {
    const offset = readOffset(raw, at);
    const pos = Number(raw.readBigUInt64BE(at + 12));
    const prev = entries[entries.length - 1];
    // Entries start after the implicit one for position 0 (the segment's first record).
    const ordered =
      prev === undefined
        ? pos > 0 && compareOffsets(offset, start) > 0
        : pos > prev.pos && compareOffsets(offset, prev.offset) > 0;
    if (!ordered || pos >= fileLen) break;
    entries.push({ offset, pos });
  }
  return entries;
}

/** The first offset of a segment file `<prefix>-<key>.seg`, undefined for any other name. */
export function segmentStart(name: string, prefix: string): LogOffset | undefined {
  if (!name.startsWith(prefix) || !name.endsWith('.seg')) return undefined;
  return offsetFromFileKey(name.slice(prefix.length, -4));
}

interface Segment {
  readonly start: LogOffset;
  readonly path: string;
  readonly idxPath: string;
  /** Bytes on file (flushed). */
  size: number;
  idxSize: number;
  idxExists: boolean;
  /** Logical position (file + pending) of the last index entry. */
  lastIndexedPos: number;
  exists: boolean;
}

/** A stream's state with nothing pending (`SegmentStream.memo`); its segments as [start, size, idxSize, lastIndexedPos, flags]. */
export interface StreamMemo {
  readonly segments: readonly (readonly [LogOffset, number, number, number, number])[];
  readonly last: LogOffset | undefined;
  readonly lastKind: RecordKind | undefined;
  readonly lastMarkerWord: number | undefined;
  readonly bytes: number;
}
const SEG_EXISTS = 1;
const IDX_EXISTS = 2;

/** Index entries: 12-byte offset then u64 file position. */
const IDX_ENTRY = 20;
/** Pending bytes above which a stream writes without waiting for syncAll, so memory stays bounded. */
const FLUSH_THRESHOLD = 256 * 1024;

export class SegmentStream {
  private segments: Segment[] = [];
  /** Unwritten frames, packed: one growable buffer per stream instead of a Buffer per frame keeps GC work flat. */
  private pending: Buffer | undefined;
  private pendingBytes = 0;
  private pendingIdx: Buffer[] = [];
  /** Files written since the last sync; allocated only while there are some (most logs are idle). */
  private unsynced: Set<string> | undefined;
  /** A segment file was created since the last takeUnsynced: the directory needs an fsync too. */
  private createdFile = false;
  /** Where the last scan stopped (strict streams): the record after `offset` starts at `pos` of segment `seg`. */
  private resumeAt: { readonly offset: LogOffset; readonly seg: number; readonly pos: number } | undefined;
  /** Offset, kind and (for markers) payload of the last record, from which the snapshot state is derived. */
  last: LogOffset | undefined;
  lastKind: RecordKind | undefined;
  /**
   * The first word of the last marker's payload (a snapshot end's chunk count), as a number: a retained Buffer slice
   * would keep a whole 8 KiB pool slab alive per idle log.
   */
  lastMarkerWord: number | undefined;
  /** Set by the host while the stream is in its dirty set. */
  dirty = false;
  destroyed = false;
  /** Bytes in the stream, on file and pending: the position of the next record. */
  bytes = 0;

  constructor(
    private readonly host: StreamHost,
    readonly dir: string,
    private readonly opts: StreamOptions,
    /** Identity in the journal: the log's handle and which of its streams this is. */
    readonly handle: string,
    readonly streamId: number,
  ) {}

  get pendingSize(): number {
    return this.pendingBytes;
  }

  /** Checks that `offset` may follow the current last record. */
  accepts(offset: LogOffset, after: LogOffset | undefined = this.last): boolean {
    if (after === undefined) return true;
    const c = compareOffsets(offset, after);
    return this.opts.strict ? c > 0 : c >= 0;
  }

  append(kind: RecordKind, offset: LogOffset, payload: string | Buffer): void {
    this.appendFrame(
      kind,
      offset,
      encodeFrame(kind, offset, payload),
      kind === RecordKind.Message ? undefined : (payload as Buffer),
    );
  }

  /** Appends an encoded frame (from `append`, or replayed from the journal). */
  appendFrame(kind: RecordKind, offset: LogOffset, frame: Buffer, markerPayload: Buffer | undefined): void {
    const prev = this.last;
    const newOffset = prev === undefined || compareOffsets(offset, prev) !== 0;
    let seg = this.segments[this.segments.length - 1];
    // Roll only between offsets: a segment's name is its first offset and lookups assume no offset spans two files.
    if (seg === undefined || (newOffset && seg.size + this.pendingBytes + frame.length > this.opts.segmentBytes)) {
      this.flush();
      seg = this.newSegment(offset);
    }
    const pos = seg.size + this.pendingBytes;
    if (pos === 0) {
      // An adopted first segment was named ahead: its name must be its first record's offset.
      if (compareOffsets(offset, seg.start) !== 0) throw new RangeError(`stream ${this.dir}: first offset mismatch`);
      // The first record's entry is implicit (the file name is its offset): small logs never need an index file.
      seg.lastIndexedPos = 0;
    } else if (newOffset && (this.opts.indexEvery === 0 || pos - seg.lastIndexedPos >= this.opts.indexEvery)) {
      const e = Buffer.allocUnsafe(IDX_ENTRY);
      writeOffset(e, 0, offset);
      e.writeBigUInt64BE(BigInt(pos), 12);
      this.pendingIdx.push(e);
      seg.lastIndexedPos = pos;
    }
    this.pushPending(frame);
    this.bytes += frame.length;
    this.last = offset;
    this.lastKind = kind;
    this.lastMarkerWord = markerWord(markerPayload);
    this.host.onPending(frame.length);
    this.host.onAppend(this, this.bytes - frame.length, frame);
    if (this.pendingBytes >= FLUSH_THRESHOLD) this.flush();
  }

  /** The data file a segment starting at `start` has. */
  segmentPath(start: LogOffset): string {
    return join(this.dir, `${this.opts.prefix}-${offsetFileKey(start)}.seg`);
  }

  /**
   * Makes `fd`, an empty file created (off the main thread) at `segmentPath(start)`, the stream's first segment:
   * only before anything was appended, and the first record must then carry offset `start` (a file is named by its
   * first offset).
   */
  adoptFirstSegment(start: LogOffset, fd: number): void {
    if (this.segments.length > 0) throw new RangeError(`stream ${this.dir}: a first segment already exists`);
    const seg = this.newSegment(start);
    this.host.fds.adopt(seg.path, fd);
    seg.exists = true;
    this.createdFile = true;
  }

  /** Writes pending records and index entries to the active segment (no fsync). */
  flush(): void {
    const writes = this.pendingWrites();
    if (writes.length === 0) return;
    for (const w of writes) writeAll(this.host.fds.get(w.path, w.create), w.bufs, w.pos);
    this.markWritten();
  }

  /**
   * The writes `flush` would make, with the stream's state advanced as if they were made: for a write-out elsewhere
   * (the store writes evicted logs on the I/O pool).
   */
  takeWrites(): FileWrite[] {
    const writes = this.pendingWrites();
    if (writes.length > 0) this.markWritten();
    return writes;
  }

  /** What `flush` writes: the pending records to the active segment, then their index entries to its index. */
  private pendingWrites(): FileWrite[] {
    const seg = this.segments[this.segments.length - 1];
    const out: FileWrite[] = [];
    if (seg === undefined) return out;
    if (this.pendingBytes > 0) {
      const bufs = [this.pending!.subarray(0, this.pendingBytes)];
      out.push({ path: seg.path, create: !seg.exists, pos: seg.size, bufs });
    }
    // The index is not fsynced: recovery re-derives any missing tail from the data, which is.
    if (this.pendingIdx.length > 0)
      out.push({ path: seg.idxPath, create: !seg.idxExists, pos: seg.idxSize, bufs: this.pendingIdx });
    return out;
  }

  /** The stream's state once `pendingWrites` are on file. */
  private markWritten(): void {
    const seg = this.segments[this.segments.length - 1]!;
    if (this.pendingBytes > 0) {
      if (!seg.exists) {
        seg.exists = true;
        this.createdFile = true;
      }
      seg.size += this.pendingBytes;
      (this.unsynced ??= new Set()).add(seg.path);
      this.host.onPending(-this.pendingBytes);
      // Released, not kept: most logs are idle most of the time.
      this.pending = undefined;
      this.pendingBytes = 0;
    }
    if (this.pendingIdx.length > 0) {
      seg.idxExists = true;
      seg.idxSize += this.pendingIdx.length * IDX_ENTRY;
      this.pendingIdx = [];
    }
  }

  /**
   * The stream's state while nothing is pending (everything is in its files), for `restore`: a log dropped from
   * memory and used again then needs neither a directory listing nor a read of its files. Undefined while bytes or
   * index entries are pending.
   */
  memo(): StreamMemo | undefined {
    if (this.pendingBytes > 0 || this.pendingIdx.length > 0) return undefined;
    return {
      segments: this.segments.map((g) => [
        g.start,
        g.size,
        g.idxSize,
        g.lastIndexedPos,
        (g.exists ? SEG_EXISTS : 0) | (g.idxExists ? IDX_EXISTS : 0),
      ]),
      last: this.last,
      lastKind: this.lastKind,
      lastMarkerWord: this.lastMarkerWord,
      bytes: this.bytes,
    };
  }

  /** Takes the state `memo` gave (instead of `recover`): valid only if nothing touched the files since. */
  restore(m: StreamMemo): void {
    for (const [start, size, idxSize, lastIndexedPos, flags] of m.segments) {
      const seg = this.newSegment(start);
      seg.size = size;
      seg.idxSize = idxSize;
      seg.lastIndexedPos = lastIndexedPos;
      seg.exists = (flags & SEG_EXISTS) !== 0;
      seg.idxExists = (flags & IDX_EXISTS) !== 0;
    }
    this.last = m.last;
    this.lastKind = m.lastKind;
    this.lastMarkerWord = m.lastMarkerWord;
    this.bytes = m.bytes;
  }

  /** Files written since the last call, and whether one was created (the directory then needs an fsync). */
  takeUnsynced(): { files: string[]; created: boolean } {
    const files = this.unsynced === undefined ? [] : [...this.unsynced];
    const created = this.createdFile;
    this.unsynced = undefined;
    this.createdFile = false;
    return { files, created };
  }

  /**
   * Visits records with offset > `after` in order until `visit` returns false. Pending records are flushed first,
   * so readers see everything appended.
   */
  scan(after: LogOffset | undefined, visit: (f: Frame) => boolean): void {
    this.flush();
    const segs = this.segments;
    let i = 0;
    let pos = 0;
    const resume = this.resumeAt;
    if (
      after !== undefined &&
      resume !== undefined &&
      resume.seg < segs.length &&
      compareOffsets(resume.offset, after) === 0
    ) {
      // A reader continuing where the last scan stopped (a long poll): no index search, no records re-read.
      i = resume.seg;
      pos = resume.pos;
    } else if (after !== undefined) {
      // Last segment whose first offset is ≤ after: the first record > after is in it or in the next one.
      let lo = 0;
      let hi = segs.length - 1;
      i = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (compareOffsets(segs[mid]!.start, after) <= 0) {
          i = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      if (i < 0) i = 0;
      else pos = this.seekInSegment(segs[i]!, after);
    }
    for (; i < segs.length; i++, pos = 0) {
      const seg = segs[i]!;
      const cur = new FrameCursor(this.host.fds.get(seg.path), pos, seg.size);
      for (let f = cur.next(); f !== null; f = cur.next()) {
        if (after !== undefined && compareOffsets(f.offset, after) <= 0) continue;
        const more = visit(f);
        // Offsets of a strict stream name one record each: the next record after this one starts at `cur.pos`.
        if (this.opts.strict) this.resumeAt = { offset: f.offset, seg: i, pos: cur.pos };
        if (!more) return;
      }
      if (cur.torn) throw new Error(`shape log segment ${seg.path} is corrupt at byte ${cur.pos}`);
    }
  }

  /** A position in `seg` at or before the first record > after, by binary search over the on-file index. */
  private seekInSegment(seg: Segment, after: LogOffset): number {
    const n = Math.floor(seg.idxSize / IDX_ENTRY);
    if (n === 0) return 0;
    const fd = this.host.fds.get(seg.idxPath);
    const e = Buffer.allocUnsafe(IDX_ENTRY);
    const entryAt = (k: number): LogOffset => {
      readSync(fd, e, 0, IDX_ENTRY, k * IDX_ENTRY);
      return readOffset(e, 0);
    };
    let lo = 0;
    let hi = n; // first entry with offset > after
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareOffsets(entryAt(mid), after) <= 0) lo = mid + 1;
      else hi = mid;
    }
    // With a dense index the first entry > after is exactly the first record > after.
    const k = this.opts.indexEvery === 0 && lo < n ? lo : lo - 1;
    if (k < 0) return 0;
    entryAt(k);
    return Number(e.readBigUInt64BE(12));
  }

  private pushPending(frame: Buffer): void {
    const need = this.pendingBytes + frame.length;
    if (this.pending === undefined || need > this.pending.length) {
      const grown = Buffer.allocUnsafeSlow(
        Math.max(need, Math.min(FLUSH_THRESHOLD, (this.pending?.length ?? 512) * 2)),
      );
      if (this.pending !== undefined) this.pending.copy(grown, 0, 0, this.pendingBytes);
      this.pending = grown;
    }
    frame.copy(this.pending, this.pendingBytes);
    this.pendingBytes = need;
  }

  private newSegment(start: LogOffset): Segment {
    const key = `${this.opts.prefix}-${offsetFileKey(start)}`;
    const seg: Segment = {
      start,
      path: this.segmentPath(start),
      idxPath: join(this.dir, `${key}.idx`),
      size: 0,
      idxSize: 0,
      idxExists: false,
      lastIndexedPos: -Infinity,
      exists: false,
    };
    this.segments.push(seg);
    return seg;
  }

  /** Deletes the stream's files; the stream must not be used afterwards. */
  destroyFiles(): void {
    for (const s of this.segments) {
      for (const p of [s.path, s.idxPath]) {
        this.host.fds.forget(p);
        unlinkQuiet(p);
      }
    }
    this.segments = [];
    this.host.onPending(-this.pendingBytes);
    this.pending = undefined;
    this.pendingBytes = 0;
    this.pendingIdx = [];
    this.unsynced = undefined;
    this.destroyed = true;
  }

  /**
   * Rebuilds the stream from `names` (the directory listing): validates each segment from its last trustworthy
   * index entry to its end, truncates a torn or corrupt tail, drops any later segment (it cannot hold a record
   * that was acknowledged as durable, since syncAll fsyncs all files of a batch before resolving), and re-adds
   * index entries that had not reached the disk.
   */
  recover(names: readonly string[], reads: RecoveryReads = fileReads(this.host.fds)): { truncatedBytes: number } {
    const prefix = `${this.opts.prefix}-`;
    const starts: LogOffset[] = [];
    for (const name of names) {
      const o = segmentStart(name, prefix);
      if (o !== undefined) starts.push(o);
    }
    starts.sort(compareOffsets);
    // Index files the listing shows: a segment without one (most logs: the first record needs no entry) is not
    // opened for it, which would cost a failed open and an exception per segment at every load.
    const listed = new Set(names.filter((n) => n.startsWith(prefix) && n.endsWith('.idx')));
    let truncated = 0;
    let broken = false;
    for (const start of starts) {
      const seg = this.newSegment(start);
      seg.exists = true;
      if (broken) {
        truncated += this.dropSegment(seg);
        continue;
      }
      const r = this.recoverSegment(seg, listed.has(basename(seg.idxPath)), reads);
      truncated += r.cut;
      if (r.cut > 0) broken = true;
      if (seg.size === 0) truncated += this.dropSegment(seg);
    }
    for (const s of this.segments) this.bytes += s.size;
    // Idx files whose segment is gone (crash between the two creations) are harmless but untidy.
    for (const name of names) {
      if (name.startsWith(prefix) && name.endsWith('.idx')) {
        const p = join(this.dir, name);
        if (!this.segments.some((s) => s.idxPath === p)) unlinkQuiet(p);
      }
    }
    return { truncatedBytes: truncated };
  }

  private dropSegment(seg: Segment): number {
    this.segments.pop();
    const size = fileSize(seg.path);
    this.host.fds.forget(seg.path);
    this.host.fds.forget(seg.idxPath);
    unlinkQuiet(seg.path);
    unlinkQuiet(seg.idxPath);
    return size;
  }

  private recoverSegment(seg: Segment, indexed: boolean, reads: RecoveryReads): { cut: number } {
    const fds = this.host.fds;
    const fileLen = reads.size(seg.path);
    const read = reads.reader(seg.path);
    const entries = indexed ? this.loadIndex(seg, read, fileLen, reads) : [];
    let pos = 0;
    let prev = this.last;
    seg.lastIndexedPos = 0;
    if (entries.length > 0) {
      const e = entries[entries.length - 1]!;
      pos = e.pos;
      prev = undefined; // the entry's own record is re-read and validated below
      seg.lastIndexedPos = e.pos;
    }
    const cur = new FrameCursor(read, pos, fileLen, 1024 * 1024);
    const fresh: Buffer[] = [];
    let first = pos === 0;
    for (let f = cur.next(); f !== null; f = cur.next()) {
      const sameAsPrev = prev !== undefined && compareOffsets(f.offset, prev) === 0;
      if (!this.accepts(f.offset, prev) || (first && compareOffsets(f.offset, seg.start) !== 0)) {
        cur.torn = true;
        cur.pos = f.pos;
        break;
      }
      if (!sameAsPrev && f.pos !== seg.lastIndexedPos) {
        if (this.opts.indexEvery === 0 || f.pos - seg.lastIndexedPos >= this.opts.indexEvery) {
          const b = Buffer.allocUnsafe(IDX_ENTRY);
          writeOffset(b, 0, f.offset);
          b.writeBigUInt64BE(BigInt(f.pos), 12);
          fresh.push(b);
          seg.lastIndexedPos = f.pos;
        }
      }
      first = false;
      prev = f.offset;
      this.last = f.offset;
      this.lastKind = f.kind;
      this.lastMarkerWord = f.kind === RecordKind.Message ? undefined : markerWord(f.payload);
    }
    const validEnd = cur.torn ? cur.pos : fileLen;
    if (validEnd < fileLen) {
      const fd = fds.get(seg.path);
      ftruncateSync(fd, validEnd);
      fsyncSync(fd);
    }
    seg.size = validEnd;
    seg.idxSize = entries.length * IDX_ENTRY;
    if (fresh.length > 0) {
      if (!seg.idxExists) {
        fds.get(seg.idxPath, true);
        seg.idxExists = true;
      }
      writeAll(fds.get(seg.idxPath), fresh, seg.idxSize);
      seg.idxSize += fresh.length * IDX_ENTRY;
    }
    return { cut: fileLen - validEnd };
  }

  /** Reads the index, keeping the longest prefix that is ordered, inside the file and points at its own record. */
  private loadIndex(seg: Segment, read: ByteReader, fileLen: number, reads: RecoveryReads): IndexEntry[] {
    let raw: Buffer;
    try {
      const got = reads.index(seg.idxPath);
      // A missing index is rebuilt from the data below.
      seg.idxExists = got !== undefined;
      raw = got ?? Buffer.alloc(0);
    } catch (e) {
      // Any failure but a missing file is an I/O problem with the log's own files, which must stop the open rather
      // than pass for an empty index.
      throw new Error(`shape log index ${seg.idxPath} is unreadable: ${String(e)}`, { cause: e });
    }
    const entries = parseIndex(raw, seg.start, fileLen);
    // Unsynced index bytes may be garbage that still looks ordered: trust an entry only if its record agrees.
    while (entries.length > 0) {
      const e = entries[entries.length - 1]!;
      const f = new FrameCursor(read, e.pos, fileLen).next();
      if (f !== null && compareOffsets(f.offset, e.offset) === 0) break;
      entries.pop();
    }
    const keep = entries.length * IDX_ENTRY;
    if (seg.idxExists && keep !== raw.length) {
      const ifd = openSync(seg.idxPath, 'r+');
      try {
        ftruncateSync(ifd, keep);
      } finally {
        closeSync(ifd);
      }
    }
    return entries;
  }
}

function markerWord(payload: Buffer | undefined): number | undefined {
  return payload !== undefined && payload.length >= 4 ? payload.readUInt32BE(0) : undefined;
}

/** The size of a file, 0 when it does not exist; other failures propagate. */
function fileSize(path: string): number {
  try {
    const fd = openSync(path, 'r');
    try {
      return fstatSync(fd).size;
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if (isNotFound(e)) return 0;
    throw e;
  }
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}
