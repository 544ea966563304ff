// Reads what loading a shape log needs (directory listing, segment lengths and tails, index files) on the I/O pool.
import { close, fstat, open, read } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isNotFound } from './durable-files.js';
import type { ByteReader } from './frame.js';
import { parseIndex, segmentStart } from './segment-stream.js';
import type { RecoveryReads } from './segment-stream.js';

const openAsync = promisify(open) as (path: string, flags: string) => Promise<number>;
const fstatAsync = promisify(fstat);
const readAsync = promisify(read);

/**
 * Bytes of a segment's tail read ahead at most: recovery validates from the last index entry (≤ 32 KiB of changes
 * before the end), so more is needed only when the index is lost, and is then read synchronously.
 */
const TAIL_CAP = 1024 * 1024;
/** First read of a file: a short read is its end, so most files cost open, one read, close (no fstat). */
const FIRST_READ = 64 * 1024;
const MAX_FILE_POS = 2 ** 52;

interface SegmentBytes {
  readonly size: number;
  /** File position of `tail`'s first byte: the last plausible index entry's record, else 0. */
  readonly tailPos: number;
  readonly tail: Buffer;
}

/**
 * A log directory's files as recovery reads them, read ahead off the main thread: building the log from it makes no
 * syscall unless recovery wants bytes the read-ahead did not take (an index entry that fails validation after a
 * crash, a tail beyond `TAIL_CAP`), which are then read through `fallback` and counted in `misses`.
 */
export class PrefetchedFiles implements RecoveryReads {
  misses = 0;

  constructor(
    readonly names: readonly string[],
    private readonly segments: ReadonlyMap<string, SegmentBytes>,
    private readonly indexes: ReadonlyMap<string, Buffer | undefined>,
    private readonly fallback: RecoveryReads,
  ) {}

  size(path: string): number {
    const f = this.segments.get(path);
    if (f !== undefined) return f.size;
    this.misses++;
    return this.fallback.size(path);
  }

  reader(path: string): ByteReader {
    const f = this.segments.get(path);
    if (f === undefined) {
      this.misses++;
      return this.fallback.reader(path);
    }
    let slow: ByteReader | undefined;
    return (buf, off, len, pos) => {
      const at = pos - f.tailPos;
      if (at >= 0 && at < f.tail.length) return f.tail.copy(buf, off, at, Math.min(f.tail.length, at + len));
      if (pos >= f.size) return 0;
      this.misses++;
      return (slow ??= this.fallback.reader(path))(buf, off, len, pos);
    };
  }

  index(path: string): Buffer | undefined {
    if (this.indexes.has(path)) return this.indexes.get(path);
    this.misses++;
    return this.fallback.index(path);
  }
}

/**
 * Lists `dir` and reads, for every segment file in it, its length, its index file (when listed) and its bytes from
 * the last index entry that recovery could start from. Undefined when the directory does not exist (a deleted log).
 */
export async function readLogFiles(dir: string, fallback: RecoveryReads): Promise<PrefetchedFiles | undefined> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
  const listed = new Set(names);
  const segments = new Map<string, SegmentBytes>();
  const indexes = new Map<string, Buffer | undefined>();
  await Promise.all(
    names.map(async (name) => {
      const start = segmentStart(name, name.slice(0, name.indexOf('-') + 1));
      if (start === undefined) return;
      const idxName = `${name.slice(0, -4)}.idx`;
      let idx: Buffer | undefined;
      if (listed.has(idxName)) {
        const idxPath = join(dir, idxName);
        idx = (await readTail(idxPath, 0, Infinity))?.bytes;
        indexes.set(idxPath, idx);
      }
      const path = join(dir, name);
      // Where recovery will start reading: the last index entry that is plausible before the file's length is
      // known (recovery re-checks it against the length, and reads on this thread whatever falls outside).
      const entries = idx === undefined ? [] : parseIndex(idx, start, Infinity);
      const tailPos = entries.length > 0 ? entries[entries.length - 1]!.pos : 0;
      const r = await readTail(path, tailPos, TAIL_CAP);
      if (r === undefined) return;
      segments.set(path, { size: r.size, tailPos: Math.min(tailPos, r.size), tail: r.bytes });
    }),
  );
  return new PrefetchedFiles(names, segments, indexes, fallback);
}

/**
 * Up to `cap` bytes of a file from `pos`, and the file's length: open, read, close, with an fstat only when the first
 * read does not reach the end. Undefined when the file does not exist.
 */
async function readTail(path: string, pos: number, cap: number): Promise<{ size: number; bytes: Buffer } | undefined> {
  let fd: number;
  try {
    fd = await openAsync(path, 'r');
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
  try {
    let buf = Buffer.allocUnsafe(Math.min(FIRST_READ, cap));
    // A garbage index entry may point beyond any file (recovery drops it): nothing to read there.
    let got = pos <= MAX_FILE_POS ? (await readAsync(fd, buf, 0, buf.length, pos)).bytesRead : 0;
    // A short read of a regular file is its end (unless `pos` is past it: an index entry beyond a cut file).
    if (got < buf.length && (got > 0 || pos === 0)) return { size: pos + got, bytes: buf.subarray(0, got) };
    const size = (await fstatAsync(fd)).size;
    const want = Math.max(0, Math.min(size - pos, cap));
    if (want > got) {
      const grown = Buffer.allocUnsafe(want);
      buf.copy(grown, 0, 0, got);
      buf = grown;
      while (got < want) {
        const r = (await readAsync(fd, buf, got, want - got, pos + got)).bytesRead;
        if (r === 0) break;
        got += r;
      }
    }
    return { size, bytes: buf.subarray(0, Math.min(got, want)) };
  } finally {
    // Not waited for: nothing depends on it.
    close(fd, () => undefined);
  }
}

/** Runs async tasks at most `limit` at a time, in submission order (each file operation holds a libuv thread). */
export class IoLimiter {
  private active = 0;
  private readonly queue: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    // A finishing task hands its slot to the next queued one, so no newcomer can slip in between.
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.queue.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      const next = this.queue.shift();
      if (next !== undefined) next();
      else this.active--;
    }
  }
}
