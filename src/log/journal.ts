// The shared write-ahead journal: one fsync per group commit makes appends to any number of shape logs durable.
import {
  closeSync,
  fdatasync,
  fsync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readSync,
  readdirSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { crc32 } from 'node:zlib';
import { FRAME_HEADER, MAX_BODY, decodeFrame } from './frame.js';
import type { Frame } from './frame.js';
import { isNotFound } from './durable-files.js';

const fdatasyncAsync = promisify(fdatasync);
const fsyncAsync = promisify(fsync);

/**
 * Why a journal: fsync costs about the same for 100 bytes as for 100 KiB, so one fsync per dirty shape file caps
 * throughput at the disk's fsyncs/s (measured ~2,400/s here, i.e. ~2,400 messages/s when changes scatter over 10k
 * logs). Every append is also written here; a group commit fsyncs only this file. Shape segment files are fsynced
 * later, in the background, by a checkpoint, after which older journal files are deleted.
 *
 * Record: u32 body length, u32 CRC32, body = u8 stream id, u16 handle length, handle, u48 logical position of the
 * record in its stream, then the stream's own frame (which carries its own CRC over its body). The journal CRC
 * covers everything before the inner frame's body plus the inner frame's length and CRC, so the inner body is
 * checksummed once, not twice.
 */
const JHEAD = 8;
const JFIXED = 1 + 2 + 6;

export interface JournalRecord {
  readonly handle: string;
  readonly streamId: number;
  /** Byte position of the frame in its stream (all segments together). */
  readonly pos: number;
  readonly frame: Frame;
  /** The inner frame's bytes, ready to be re-appended as is. */
  readonly bytes: Buffer;
}

export class Journal {
  /** Records since the last write, packed into one reused buffer. */
  private pending: Buffer = Buffer.allocUnsafeSlow(1024 * 1024);
  private pendingBytes = 0;
  private fd = -1;
  private seq = 0;
  private size = 0;
  bytesWritten = 0;

  constructor(readonly dir: string) {}

  /** Opens a fresh active file after existing ones (which recovery has replayed). */
  start(): void {
    mkdirSync(this.dir, { recursive: true });
    const seqs = listJournal(this.dir).map((f) => f.seq);
    this.seq = seqs.length > 0 ? Math.max(...seqs) : 0;
    this.openNext();
  }

  get activeSize(): number {
    return this.size + this.pendingBytes;
  }

  add(handle: string, streamId: number, pos: number, frame: Buffer): void {
    const hlen = Buffer.byteLength(handle);
    const total = JHEAD + JFIXED + hlen + frame.length;
    // Written (not fsynced) as it fills: a large transaction then never leaves tens of MiB for the group commit to
    // write in one synchronous call, nor regrows the buffer by copying. Bytes written early are harmless: only a
    // completed syncAll makes anything count as durable, and recovery cuts a torn tail.
    if (this.pendingBytes > 0 && this.pendingBytes + total > this.pending.length) this.write();
    if (this.pendingBytes + total > this.pending.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(this.pending.length * 2, this.pendingBytes + total));
      this.pending.copy(grown, 0, 0, this.pendingBytes);
      this.pending = grown;
    }
    const b = this.pending;
    const at = this.pendingBytes;
    b.writeUInt32BE(JFIXED + hlen + frame.length, at);
    b[at + JHEAD] = streamId;
    b.writeUInt16BE(hlen, at + JHEAD + 1);
    b.write(handle, at + JHEAD + 3, 'utf8');
    b.writeUIntBE(pos, at + JHEAD + 3 + hlen, 6);
    frame.copy(b, at + JHEAD + JFIXED + hlen);
    const innerAt = at + JHEAD + JFIXED + hlen;
    const c = crc32(b.subarray(innerAt, innerAt + FRAME_HEADER), crc32(b.subarray(at + JHEAD, innerAt)));
    b.writeUInt32BE(c, at + 4);
    this.pendingBytes += total;
  }

  /** Writes pending records to the active file (no fsync); returns its descriptor for the caller to sync. */
  write(): number {
    if (this.pendingBytes > 0) {
      const n = this.pendingBytes;
      for (let at = 0; at < n;) at += writeSync(this.fd, this.pending, at, n - at, this.size + at);
      this.size += n;
      this.bytesWritten += n;
      this.pendingBytes = 0;
      // Do not keep a buffer grown by one huge batch.
      if (this.pending.length > 8 * 1024 * 1024) this.pending = Buffer.allocUnsafeSlow(1024 * 1024);
    }
    return this.fd;
  }

  /** fdatasync of a descriptor this journal handed out (kept open until `release`). */
  sync(fd: number): Promise<void> {
    return fdatasyncAsync(fd);
  }

  /**
   * Starts a new active file. Returns the old file's descriptor and sequence: everything in files up to that
   * sequence may be deleted once the checkpoint that follows has fsynced the shape files they cover.
   */
  rotate(): { fd: number; seq: number } {
    const old = { fd: this.fd, seq: this.seq };
    this.write();
    this.openNext();
    return old;
  }

  /** fsync of the journal directory, needed once a new file's entry must survive a crash. */
  async syncDir(): Promise<void> {
    const d = openSync(this.dir, 'r');
    try {
      await fsyncAsync(d);
    } finally {
      closeSync(d);
    }
  }

  /**
   * Deletes journal files with sequence ≤ seq (their content is in fsynced shape files), except those ≤ `keep`
   * (records of a replay not yet applied to their logs).
   */
  deleteUpTo(seq: number, keep = 0): void {
    for (const f of listJournal(this.dir)) if (f.seq <= seq && f.seq > keep) unlinkSync(f.path);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  closeFd(fd: number): void {
    if (fd !== this.fd) closeSync(fd);
  }

  private openNext(): void {
    this.seq++;
    this.fd = openSync(journalPath(this.dir, this.seq), 'wx+');
    this.size = 0;
  }
}

function journalPath(dir: string, seq: number): string {
  return join(dir, `j-${seq.toString().padStart(12, '0')}.wal`);
}

/**
 * The journal files in sequence order; none when the directory does not exist yet. Any other failure to list it
 * propagates: treating an unreadable journal as empty would skip acknowledged records on replay.
 */
export function listJournal(dir: string): { seq: number; path: string }[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if (isNotFound(e)) return [];
    throw e;
  }
  const out: { seq: number; path: string }[] = [];
  for (const n of names) {
    const m = /^j-([0-9]{12})\.wal$/.exec(n);
    if (m !== null) out.push({ seq: Number(m[1]), path: join(dir, n) });
  }
  return out.sort((a, b) => a.seq - b.seq);
}

/** Where a journal record lies: the file (by its position in the scanned list) and the record's byte range. */
export interface JournalRef {
  readonly file: number;
  readonly at: number;
  readonly length: number;
}

/**
 * Visits every intact record of the journal files in order (each file read whole, not a read per record). The first
 * torn or corrupt record ends the scan: the file is cut there and later files are deleted, since no group commit
 * after a lost record was acknowledged. `files` are the scanned files, indexed as `JournalRef.file`.
 */
export function scanJournal(
  dir: string,
  visit: (r: JournalRecord, ref: JournalRef) => void,
): { files: { seq: number; path: string }[]; records: number; cutBytes: number } {
  let records = 0;
  let cutBytes = 0;
  let broken = false;
  const files: { seq: number; path: string }[] = [];
  for (const f of listJournal(dir)) {
    if (broken) {
      unlinkSync(f.path);
      continue;
    }
    const file = files.push(f) - 1;
    const fd = openSync(f.path, 'r+');
    try {
      const len = fstatSync(fd).size;
      const data = Buffer.allocUnsafe(len);
      readFully(fd, data, 0);
      let at = 0;
      for (let r = decodeJournalRecord(data, at); r !== null; r = decodeJournalRecord(data, at)) {
        visit(r.record, { file, at, length: r.end - at });
        at = r.end;
        records++;
      }
      if (at < len) {
        ftruncateSync(fd, at);
        cutBytes += len - at;
        broken = true;
      }
    } finally {
      closeSync(fd);
    }
  }
  return { files, records, cutBytes };
}

/** Reads one record found by `scanJournal` again (it was intact then; the file is only ever cut after it). */
export function readJournalRecord(fd: number, ref: JournalRef): JournalRecord {
  const data = Buffer.allocUnsafe(ref.length);
  readFully(fd, data, ref.at);
  const r = decodeJournalRecord(data, 0);
  if (r === null) throw new Error(`journal record at ${ref.at} no longer reads back`);
  return r.record;
}

/** The record at `at` (length, journal CRC, then the inner frame with its own CRC), or null at a torn or bad one. */
function decodeJournalRecord(data: Buffer, at: number): { record: JournalRecord; end: number } | null {
  const len = data.length;
  if (at + JHEAD > len) return null;
  const bodyLen = data.readUInt32BE(at);
  if (bodyLen < JFIXED + FRAME_HEADER || bodyLen > MAX_BODY + JFIXED + 65_536 || at + JHEAD + bodyLen > len) {
    return null;
  }
  const body = data.subarray(at + JHEAD, at + JHEAD + bodyLen);
  const hlen = body.readUInt16BE(1);
  const innerAt = JFIXED + hlen;
  if (innerAt + FRAME_HEADER > bodyLen) return null;
  const c = crc32(body.subarray(innerAt, innerAt + FRAME_HEADER), crc32(body.subarray(0, innerAt)));
  if (c !== data.readUInt32BE(at + 4)) return null;
  const bytes = body.subarray(innerAt);
  const frame = decodeFrame(bytes);
  if (frame === null) return null;
  return {
    record: {
      handle: body.toString('utf8', 3, 3 + hlen),
      streamId: body[0]!,
      pos: body.readUIntBE(3 + hlen, 6),
      frame,
      bytes,
    },
    end: at + JHEAD + bodyLen,
  };
}

function readFully(fd: number, buf: Buffer, pos: number): void {
  let got = 0;
  while (got < buf.length) {
    const r = readSync(fd, buf, got, buf.length - got, pos + got);
    if (r === 0) break;
    got += r;
  }
}
