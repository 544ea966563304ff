// A bounded LRU of open file descriptors, so that the number of logs never dictates the number of open files.
import { closeSync, openSync } from 'node:fs';
import { CREATE_FLAGS } from './write-out.js';

interface Entry {
  fd: number;
  pins: number;
  /** The file was deleted while pinned: close on the last unpin. */
  doomed: boolean;
}

/**
 * Files are opened read-write on demand and closed least-recently-used first. A pinned descriptor (an fsync in
 * flight) is never closed; while many are pinned the cache may exceed its capacity until they are released.
 * Closing a descriptor loses nothing: written bytes live in the page cache, and a later fsync on a fresh descriptor
 * of the same file flushes them (Linux reports unseen writeback errors to new descriptors too).
 */
export class FdCache {
  // Map iteration order is insertion order: re-inserting on use makes the first entry the least recently used.
  private readonly entries = new Map<string, Entry>();
  opens = 0;

  constructor(readonly capacity = 256) {}

  get size(): number {
    return this.entries.size;
  }

  /** The descriptor of `path`, opened (read-write; created if missing with `create`) if not cached. */
  get(path: string, create = false): number {
    return this.acquire(path, create, 0).fd;
  }

  /** Like get, but the descriptor stays open until `unpin`. */
  pin(path: string): number {
    return this.acquire(path, false, 1).fd;
  }

  unpin(path: string): void {
    const e = this.entries.get(path);
    if (e === undefined || e.pins === 0) return;
    e.pins--;
    if (e.pins === 0 && e.doomed) {
      this.entries.delete(path);
      closeSync(e.fd);
    }
    this.evict();
  }

  /** Takes over `fd`, already open read-write on `path` (a file created off the main thread), as its cached entry. */
  adopt(path: string, fd: number): void {
    if (this.entries.has(path)) throw new RangeError(`a descriptor of ${path} is already cached`);
    this.opens++;
    this.entries.set(path, { fd, pins: 0, doomed: false });
    this.evict();
  }

  /** Closes the descriptor of a file about to be deleted (a pinned one on its last unpin). */
  forget(path: string): void {
    const e = this.entries.get(path);
    if (e === undefined) return;
    if (e.pins > 0) {
      e.doomed = true;
      return;
    }
    this.entries.delete(path);
    closeSync(e.fd);
  }

  private acquire(path: string, create: boolean, pins: number): Entry {
    let e = this.entries.get(path);
    if (e !== undefined && !e.doomed) {
      this.entries.delete(path);
      this.entries.set(path, e);
      e.pins += pins;
      return e;
    }
    const fd = openSync(path, create ? CREATE_FLAGS : 'r+');
    this.opens++;
    // Pinned before eviction runs, so the entry just opened is never the one closed.
    e = { fd, pins: pins + 1, doomed: false };
    this.entries.set(path, e);
    this.evict();
    e.pins--;
    return e;
  }

  closeAll(): void {
    for (const e of this.entries.values()) closeSync(e.fd);
    this.entries.clear();
  }

  private evict(): void {
    if (this.entries.size <= this.capacity) return;
    for (const [path, e] of this.entries) {
      if (this.entries.size <= this.capacity) break;
      if (e.pins > 0) continue;
      this.entries.delete(path);
      closeSync(e.fd);
    }
  }
}
