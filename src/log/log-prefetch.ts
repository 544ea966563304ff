// Reads what loading a shape log needs (directory listing, segment lengths and tails, index files) off the main thread.
import type { ByteReader } from './frame.js';
import { readDirInWorker } from './log-io-worker.js';
import type { RecoveryReads } from './segment-stream.js';

interface SegmentBytes {
  readonly size: number;
  /** File position of `tail`'s first byte: the last plausible index entry's record, else 0. */
  readonly tailPos: number;
  readonly tail: Buffer;
}

/**
 * A log directory's files as recovery reads them, read ahead off the main thread: building the log from it makes no
 * syscall unless recovery wants bytes the read-ahead did not take (an index entry that fails validation after a
 * crash, a tail beyond the 1 MiB read ahead), which are then read through `fallback` and counted in `misses`.
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
 * the last index entry that recovery could start from — in a worker (log-io-worker.ts). Undefined when the directory
 * does not exist (a deleted log).
 */
export async function readLogFiles(dir: string, fallback: RecoveryReads): Promise<PrefetchedFiles | undefined> {
  const got = await readDirInWorker(dir);
  if (got === null) return undefined;
  const segments = new Map<string, SegmentBytes>();
  for (const [path, size, tailPos, tail] of got.segments) segments.set(path, { size, tailPos, tail: asBuffer(tail) });
  const indexes = new Map<string, Buffer | undefined>();
  for (const [path, bytes] of got.indexes) indexes.set(path, bytes === null ? undefined : asBuffer(bytes));
  return new PrefetchedFiles(got.names, segments, indexes, fallback);
}

const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.length);

/** Runs async tasks at most `limit` at a time, in submission order. */
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
