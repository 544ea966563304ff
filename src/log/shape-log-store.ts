// The shape logs of one data directory: create, find, delete, and group commit (one fsync per dirty file).
import { closeSync, fsync, fdatasync, mkdirSync, openSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FdCache } from './fd-cache.js';
import { ShapeLog } from './shape-log.js';
import { SegmentStream } from './segment-stream.js';
import type { StreamHost, StreamOptions } from './segment-stream.js';

const fdatasyncAsync = promisify(fdatasync);
const fsyncAsync = promisify(fsync);

export interface ShapeLogStoreOptions {
  /** Open file descriptors kept at most (pinned ones during an fsync excepted). */
  readonly maxOpenFiles?: number;
  /** Segment file size before rolling to a new one. */
  readonly segmentBytes?: number;
  /** Bytes between sparse index entries of the change stream. */
  readonly indexEveryBytes?: number;
  /** Snapshot chunk target (the protocol's ~10 MiB response size; tests lower it). */
  readonly snapshotChunkBytes?: number;
  /** fsyncs in flight at once during syncAll. */
  readonly syncConcurrency?: number;
}

export interface StoreStats {
  readonly knownLogs: number;
  readonly loadedLogs: number;
  readonly openFiles: number;
  readonly fileOpens: number;
  readonly fsyncs: number;
  readonly syncs: number;
  readonly truncatedBytes: number;
}

const HANDLE_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$/;
const DELETED_PREFIX = '.deleted-';

/**
 * Logs live in `<dir>/<handle>/`. Only the set of handles is read at open; a log's metadata (segments, last
 * offset, snapshot state) is loaded on first use, which is also when its torn tail, if any, is repaired.
 *
 * Durability: appends are buffered per log and written by `flush`/`syncAll`; `syncAll()` resolves once everything
 * appended before the call is on disk (data files fdatasync'ed concurrently, new directory entries fsync'ed), so
 * the service may then acknowledge the replication LSN.
 */
export class ShapeLogStore implements StreamHost {
  readonly fds: FdCache;
  private readonly known = new Set<string>();
  private readonly loaded = new Map<string, ShapeLog>();
  private dirty = new Set<SegmentStream>();
  private dirtyDirs = new Set<string>();
  private inflight: Promise<void> = Promise.resolve();
  private failure: unknown;
  private fsyncCount = 0;
  private syncCount = 0;
  private truncatedBytes = 0;
  private readonly changeOpts: StreamOptions;
  private readonly snapshotOpts: StreamOptions;
  private readonly chunkBytes: number;
  private readonly syncConcurrency: number;

  private constructor(
    readonly dir: string,
    opts: ShapeLogStoreOptions,
  ) {
    this.fds = new FdCache(opts.maxOpenFiles ?? 256);
    const segmentBytes = opts.segmentBytes ?? 64 * 1024 * 1024;
    this.changeOpts = { prefix: 'c', indexEvery: opts.indexEveryBytes ?? 32 * 1024, segmentBytes, strict: true };
    this.snapshotOpts = { prefix: 's', indexEvery: 0, segmentBytes, strict: false };
    this.chunkBytes = opts.snapshotChunkBytes ?? 10 * 1024 * 1024;
    this.syncConcurrency = opts.syncConcurrency ?? 64;
  }

  static async open(dir: string, opts: ShapeLogStoreOptions = {}): Promise<ShapeLogStore> {
    mkdirSync(dir, { recursive: true });
    const store = new ShapeLogStore(dir, opts);
    for (const name of readdirSync(dir)) {
      if (name.startsWith(DELETED_PREFIX)) rmSync(join(dir, name), { recursive: true, force: true });
      else if (HANDLE_RE.test(name)) store.known.add(name);
    }
    return store;
  }

  /** Creates the (empty) log of a new shape handle. Handles are never reused. */
  createLog(handle: string): ShapeLog {
    this.check();
    if (!HANDLE_RE.test(handle)) throw new RangeError(`invalid shape handle for a log: ${JSON.stringify(handle)}`);
    if (this.known.has(handle)) throw new RangeError(`shape log ${handle} already exists`);
    const path = join(this.dir, handle);
    mkdirSync(path);
    this.known.add(handle);
    this.markDirDirty(this.dir);
    const log = new ShapeLog(
      handle,
      new SegmentStream(this, path, this.snapshotOpts),
      new SegmentStream(this, path, this.changeOpts),
      this.chunkBytes,
    );
    this.loaded.set(handle, log);
    return log;
  }

  /** The log of `handle`, loading and repairing it on first use; undefined for unknown (or malformed) handles. */
  getLog(handle: string): ShapeLog | undefined {
    const log = this.loaded.get(handle);
    if (log !== undefined) return log;
    if (!this.known.has(handle)) return undefined;
    this.check();
    const path = join(this.dir, handle);
    const names = readdirSync(path);
    const snapshot = new SegmentStream(this, path, this.snapshotOpts);
    const changes = new SegmentStream(this, path, this.changeOpts);
    this.truncatedBytes += snapshot.recover(names).truncatedBytes + changes.recover(names).truncatedBytes;
    const loaded = new ShapeLog(handle, snapshot, changes, this.chunkBytes);
    this.loaded.set(handle, loaded);
    return loaded;
  }

  hasLog(handle: string): boolean {
    return this.known.has(handle);
  }

  listLogs(): string[] {
    return [...this.known];
  }

  /** Removes a log and its files. The directory is renamed first so a crash mid-way leaves nothing half-deleted. */
  deleteLog(handle: string): boolean {
    if (!this.known.has(handle)) return false;
    const log = this.getLog(handle)!;
    log.deleted = true;
    for (const s of log.streams()) {
      s.destroyFiles();
      this.dirty.delete(s);
    }
    const path = join(this.dir, handle);
    const trash = join(this.dir, `${DELETED_PREFIX}${handle}`);
    renameSync(path, trash);
    this.dirtyDirs.delete(path);
    this.markDirDirty(this.dir);
    rmSync(trash, { recursive: true, force: true });
    this.known.delete(handle);
    this.loaded.delete(handle);
    return true;
  }

  markDirty(stream: SegmentStream): void {
    stream.dirty = true;
    this.dirty.add(stream);
  }

  markDirDirty(dir: string): void {
    this.dirtyDirs.add(dir);
  }

  /** Writes buffered appends of every log to the files, without fsync (readers see them anyway). */
  flush(): void {
    this.check();
    for (const s of this.dirty) s.flush();
  }

  /**
   * Group commit: resolves when everything appended before this call is durable. Appends may continue while it
   * runs; they belong to the next call. One fdatasync per written file, run concurrently, plus one fsync per
   * directory that gained files. A failed fsync poisons the store: durability is unknown after it.
   */
  syncAll(): Promise<void> {
    this.check();
    const streams = this.dirty;
    const dirs = this.dirtyDirs;
    this.dirty = new Set();
    this.dirtyDirs = new Set();
    const files: string[] = [];
    try {
      for (const s of streams) {
        s.dirty = false;
        s.flush();
        for (const p of s.takeUnsynced()) files.push(p);
      }
    } catch (e) {
      this.failure = e;
      throw e;
    }
    this.syncCount++;
    const previous = this.inflight;
    const work = this.fsyncFiles(files).then(() => this.fsyncDirs([...dirs]));
    const done = Promise.all([previous, work]).then(
      () => undefined,
      (e: unknown) => {
        this.failure ??= e;
        throw e;
      },
    );
    this.inflight = done.catch(() => undefined);
    return done;
  }

  stats(): StoreStats {
    return {
      knownLogs: this.known.size,
      loadedLogs: this.loaded.size,
      openFiles: this.fds.size,
      fileOpens: this.fds.opens,
      fsyncs: this.fsyncCount,
      syncs: this.syncCount,
      truncatedBytes: this.truncatedBytes,
    };
  }

  /** Syncs outstanding appends and closes every descriptor. */
  async close(): Promise<void> {
    if (this.failure === undefined) await this.syncAll();
    await this.inflight;
    this.fds.closeAll();
    this.loaded.clear();
  }

  private async fsyncFiles(files: string[]): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < files.length) {
        const path = files[next++]!;
        let fd: number;
        try {
          fd = this.fds.pin(path);
        } catch (e) {
          // The log was deleted since it was written: nothing left to make durable.
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw e;
        }
        try {
          await fdatasyncAsync(fd);
          this.fsyncCount++;
        } finally {
          this.fds.unpin(path);
        }
      }
    };
    const workers: Promise<void>[] = [];
    for (let i = 0; i < Math.min(this.syncConcurrency, files.length); i++) workers.push(worker());
    await Promise.all(workers);
  }

  private async fsyncDirs(dirs: string[]): Promise<void> {
    // Deeper directories first: a log directory's entries, then the root entry naming the log directory.
    // Both a log directory (its new segments) and the root (the new log directory) must be synced before the
    // batch is acknowledged; their relative order does not matter, so they run concurrently.
    await Promise.all(
      dirs.map(async (d) => {
        let fd: number;
        try {
          fd = openSync(d, 'r');
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
          throw e;
        }
        try {
          await fsyncAsync(fd);
          this.fsyncCount++;
        } finally {
          closeSync(fd);
        }
      }),
    );
  }

  private check(): void {
    if (this.failure !== undefined) {
      throw new Error(`shape log store ${this.dir} failed earlier and must be reopened`, { cause: this.failure });
    }
  }
}
