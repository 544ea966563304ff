// A bounded LRU of open file descriptors, so that the number of logs never dictates the number of open files.
import { closeSync, openSync } from 'node:fs';

interface Entry {
  fd: number;
  pins: number;
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

  /** The descriptor of `path`, opened (flags `r+`, or `wx+` with `create`) if not cached. */
  get(path: string, create = false): number {
    const e = this.entries.get(path);
    if (e !== undefined) {
      this.entries.delete(path);
      this.entries.set(path, e);
      return e.fd;
    }
    const fd = openSync(path, create ? 'wx+' : 'r+');
    this.opens++;
    this.entries.set(path, { fd, pins: 0 });
    this.evict();
    return fd;
  }

  /** Like get, but the descriptor stays open until `unpin`. */
  pin(path: string): number {
    const fd = this.get(path);
    this.entries.get(path)!.pins++;
    return fd;
  }

  unpin(path: string): void {
    const e = this.entries.get(path);
    if (e !== undefined && e.pins > 0) e.pins--;
    this.evict();
  }

  /** Closes the descriptor of a file about to be deleted (pinned ones are closed on unpin). */
  forget(path: string): void {
    const e = this.entries.get(path);
    if (e === undefined || e.pins > 0) return;
    this.entries.delete(path);
    closeSync(e.fd);
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
