// Positional writes of a log's buffered bytes: on the calling thread, or in a worker for logs evicted from memory.
import { closeSync, constants, openSync, writeSync, writevSync } from 'node:fs';
import { writeInWorker } from './log-io-worker.js';

/** Bytes to write at `pos` of a file, which is created first if missing when `create`. */
export interface FileWrite {
  readonly path: string;
  readonly create: boolean;
  readonly pos: number;
  readonly bufs: readonly Buffer[];
}

/**
 * Creating never truncates nor fails on an existing file: a write-out in a worker and the same write made on this
 * thread (a log reloaded before its write-out finished) may both create it, writing the same bytes at the same place.
 */
export const CREATE_FLAGS = constants.O_RDWR | constants.O_CREAT;

/** Writes `bufs` at `position` of `fd`, continuing after short writes. */
export function writeAll(fd: number, bufs: readonly Buffer[], position: number): void {
  let pos = position;
  let list = bufs;
  for (;;) {
    const total = byteLength(list);
    const n = list.length === 1 ? writeSync(fd, list[0]!, 0, total, pos) : writevSync(fd, list, pos);
    if (n === total) return;
    pos += n;
    list = after(list, n);
  }
}

/** The writes, made on this thread, each file opened and closed for it. */
export function writeFilesSync(writes: readonly FileWrite[]): void {
  for (const w of writes) {
    const fd = openSync(w.path, w.create ? CREATE_FLAGS : 'r+');
    try {
      writeAll(fd, w.bufs, w.pos);
    } finally {
      closeSync(fd);
    }
  }
}

/** The writes, made by a worker thread one after the other (open, write, close): off the main thread. */
export function writeFilesAsync(writes: readonly FileWrite[]): Promise<void> {
  return writeInWorker(writes.map((w) => [w.path, w.create, w.pos, [...w.bufs]]));
}

function byteLength(list: readonly Buffer[]): number {
  let total = 0;
  for (const b of list) total += b.length;
  return total;
}

/** What is left of `list` after its first `n` bytes (a short write, rare on regular files). */
function after(list: readonly Buffer[], n: number): Buffer[] {
  let skip = n;
  const rest: Buffer[] = [];
  for (const b of list) {
    if (skip >= b.length) skip -= b.length;
    else {
      rest.push(skip > 0 ? b.subarray(skip) : b);
      skip = 0;
    }
  }
  return rest;
}
