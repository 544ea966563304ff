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

  /** Deletes journal files with sequence ≤ seq (their content is in fsynced shape files). */
  deleteUpTo(seq: number): void {
    for (const f of listJournal(this.dir)) if (f.seq <= seq) unlinkSync(f.path);
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

/**
 * Visits every intact record of the journal files in order. The first torn or corrupt record ends the replay: the
 * file is cut there and later files are deleted, since no group commit after a lost record was acknowledged.
 */
export function replayJournal(dir: string, visit: (r: JournalRecord) => void): { records: number; cutBytes: number } {
  let records = 0;
  let cutBytes = 0;
  let broken = false;
  for (const f of listJournal(dir)) {
    if (broken) {
      unlinkSync(f.path);
      continue;
    }
    const fd = openSync(f.path, 'r+');
    try {
      const len = fstatSync(fd).size;
      const cur = new JournalCursor(fd, len);
      for (let r = cur.next(); r !== null; r = cur.next()) {
        visit(r);
        records++;
      }
      if (cur.pos < len) {
        ftruncateSync(fd, cur.pos);
        cutBytes += len - cur.pos;
        broken = true;
      }
    } finally {
      closeSync(fd);
    }
  }
  return { records, cutBytes };
}

/** Reads journal records one by one: length, journal CRC, then the inner frame with its own CRC. */
class JournalCursor {
  pos = 0;

  constructor(
    private readonly fd: number,
    private readonly len: number,
  ) {}

  next(): JournalRecord | null {
    const at = this.pos;
    if (at + JHEAD > this.len) return null;
    const head = Buffer.allocUnsafe(JHEAD);
    readFully(this.fd, head, at);
    const bodyLen = head.readUInt32BE(0);
    if (bodyLen < JFIXED + FRAME_HEADER || bodyLen > MAX_BODY + JFIXED + 65_536 || at + JHEAD + bodyLen > this.len) {
      return null;
    }
    const body = Buffer.allocUnsafe(bodyLen);
    readFully(this.fd, body, at + JHEAD);
    const hlen = body.readUInt16BE(1);
    const innerAt = JFIXED + hlen;
    if (innerAt + FRAME_HEADER > bodyLen) return null;
    const c = crc32(body.subarray(innerAt, innerAt + FRAME_HEADER), crc32(body.subarray(0, innerAt)));
    if (c !== head.readUInt32BE(4)) return null;
    const bytes = body.subarray(innerAt);
    const frame = decodeFrame(bytes);
    if (frame === null) return null;
    this.pos = at + JHEAD + bodyLen;
    return {
      handle: body.toString('utf8', 3, 3 + hlen),
      streamId: body[0]!,
      pos: body.readUIntBE(3 + hlen, 6),
      frame,
      bytes,
    };
  }
}

function readFully(fd: number, buf: Buffer, pos: number): void {
  let got = 0;
  while (got < buf.length) {
    const r = readSync(fd, buf, got, buf.length - got, pos + got);
    if (r === 0) break;
    got += r;
  }
}
