// The shape logs of one data directory: create, find, delete, journal replay, and group commit.
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  unlinkSync,
} from 'node:fs';
import { open as openCb, closeSync as closeFd } from 'node:fs';
import { mkdir, opendir } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { flushStreams, syncDirTrees, syncDirs, syncFilesystem, syncStreams } from './durable-files.js';
import { FdCache } from './fd-cache.js';
import { IoLimiter, readLogFiles } from './log-prefetch.js';
import type { PrefetchedFiles } from './log-prefetch.js';
import { Journal } from './journal.js';
import { PendingReplay } from './journal-replay.js';
import { RecordKind } from './frame.js';
import { ShapeLog } from './shape-log.js';
import { PersistedTails, packMemo, unpackMemo } from './persisted-tails.js';
import type { LogMemo } from './persisted-tails.js';
import { chunkOffset } from './offset.js';
import { SegmentStream, fileReads } from './segment-stream.js';
import type { RecoveryReads, StreamHost, StreamMemo, StreamOptions } from './segment-stream.js';
import type { JournalRecord } from './journal.js';
import { writeFilesAsync, writeFilesSync } from './write-out.js';
import type { FileWrite } from './write-out.js';

export interface ShapeLogStoreOptions {
  /**
   * `journal` (default): a group commit fsyncs one shared journal; shape files are fsynced by background
   * checkpoints. `per-file`: a group commit fsyncs every shape file written since the last one (simple, but
   * bounded by the disk's fsyncs/s when changes scatter over many logs).
   */
  readonly durability?: 'journal' | 'per-file';
  /** Open file descriptors kept at most (pinned ones during an fsync excepted). */
  readonly maxOpenFiles?: number;
  /**
   * Logs kept loaded (their segment lists, last offsets, pending bytes) at most: beyond it the least recently used
   * logs whose snapshot is complete are written out and dropped from memory at the next group commit, and loaded
   * again from their files on the next read or append. Idle shapes then cost no log object.
   */
  readonly maxLoadedLogs?: number;
  /**
   * Logs dropped from memory whose state (segments, sizes, last record) is remembered, so that using one again reads
   * no directory and no file (default 2,097,152, about 130 B each, packed; beyond it the oldest are forgotten and loaded from
   * their files like any log after a restart).
   */
  readonly maxLogMemos?: number;
  /**
   * Streams written since the last checkpoint that trigger one (journal durability), besides `checkpointBytes`: the
   * bookkeeping of what the checkpoint must fsync grows with them.
   */
  readonly checkpointStreams?: number;
  /** Segment file size before rolling to a new one. */
  readonly segmentBytes?: number;
  /** Bytes between sparse index entries of the change stream. */
  readonly indexEveryBytes?: number;
  /** Snapshot chunk target (the protocol's ~10 MiB response size; tests lower it). */
  readonly snapshotChunkBytes?: number;
  /** Journal size that triggers a checkpoint (fsync shape files, delete old journal). */
  readonly checkpointBytes?: number;
  /** Appended bytes held in memory before they are written to shape files (reads write a log's own first). */
  readonly maxPendingBytes?: number;
  /** fsyncs of shape files in flight at once. */
  readonly syncConcurrency?: number;
  /**
   * How a checkpoint makes shape files durable: `syncfs` (default on Linux) one filesystem sync, falling back to
   * `per-file` fsyncs when unavailable.
   */
  readonly checkpointMethod?: 'syncfs' | 'per-file';
  /**
   * At a clean close, write every log's state (segments, sizes, last record) to one file, so that after the next open
   * no log's files are read to load it (persisted-tails.ts). Default true.
   */
  readonly keepLogStates?: boolean;
  /** Logs `prefetch` has in flight at once (and evicted logs' write-outs), read by worker threads 32 per message. */
  readonly prefetchConcurrency?: number;
}

export interface StoreStats {
  readonly knownLogs: number;
  readonly loadedLogs: number;
  readonly openFiles: number;
  readonly fileOpens: number;
  /** All fsyncs: journal, shape files, directories. */
  readonly fsyncs: number;
  readonly syncs: number;
  readonly checkpoints: number;
  readonly journalBytes: number;
  readonly pendingBytes: number;
  readonly truncatedBytes: number;
  readonly replayedRecords: number;
  readonly replayGaps: number;
  /** Logs dropped from memory while idle (loaded again on use). */
  readonly evictedLogs: number;
  /** Logs loaded (their directory listed, segment tails checked) since open. */
  readonly logLoads: number;
  /** Logs with journal records left by a crash not yet applied (see PendingReplay). */
  readonly replayPendingLogs: number;
  /** Evicted logs loaded again from their remembered state (no directory listing, no file read). */
  readonly memoLoads: number;
  /** Logs loaded by `prefetch` (their files read by a worker thread, or their remembered state). */
  readonly prefetchLoads: number;
  /** Logs loaded from their files on the calling thread (a `getLog` of a log no prefetch had loaded). */
  readonly syncLoads: number;
  /** Reads a prefetched log's recovery needed beyond what was read ahead (made on the calling thread). */
  readonly prefetchMisses: number;
  /** Evicted logs whose pending bytes were written by a worker thread. */
  readonly writeOuts: number;
  /** Write-outs also made on the calling thread, because the log was loaded again before its write-out finished. */
  readonly writeThroughs: number;
  /** Logs loaded from the state the previous clean close left (persisted-tails.ts): no file read. */
  readonly tailLoads: number;
}

/** An evicted log's bytes being written by a worker thread; `through` once they were also written synchronously. */
interface WriteOut {
  readonly writes: readonly FileWrite[];
  through: boolean;
  done: Promise<void>;
}

/** A read-ahead of logs (`ShapeLogStore.prefetch`). */
export interface LogPrefetch {
  /** Resolves (never rejects) once each log is loaded, found missing, or left to load on use after a failed read. */
  readonly ready: Promise<void>;
  /** The logs may be evicted again (they are kept loaded until then). */
  release(): void;
}

/** A log being read ahead; `stale` once the log was loaded (or deleted) another way meanwhile. */
interface Loading {
  stale: boolean;
  done: Promise<void>;
}

/** What was written since the last sync or checkpoint: loaded streams, and evicted logs by handle. */
interface Epoch {
  readonly streams: Set<SegmentStream>;
  readonly evicted: Set<string>;
}

const HANDLE_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$/;
const DELETED_PREFIX = '.deleted-';
const JOURNAL_DIR = '.journal';
/** Written by a close that finished (every log whole and durable), removed at open before anything is appended. */
const CLEAN_MARK = '.clean-stop';
const SNAPSHOT_STREAM = 0;
const CHANGE_STREAM = 1;

/**
 * Logs live in `<dir>/<handle>/`, the journal in `<dir>/.journal/`. Nothing per log is read at open — not even the
 * directory listing, which at a million logs costs seconds: a handle's directory is looked up on its first use, and
 * `scanLogs` lists them in the background (for the owner's clean-up of orphans). A log's metadata (segments, last offset, snapshot state) is loaded on first use, which is also when a torn tail is
 * repaired. Appends are buffered per log and written to its files lazily; `syncAll()` resolves once everything
 * appended before the call is durable, so the service may then acknowledge the replication LSN.
 */
export class ShapeLogStore implements StreamHost {
  readonly fds: FdCache;
  /** Handles whose log directory is known to exist (created here, or found on first use): not a listing. */
  private readonly known = new Set<string>();
  /** Handles whose log createLogAsync is creating. */
  private readonly creating = new Set<string>();
  private readonly loaded = new Map<string, ShapeLog>();
  /** Logs `prefetch` is reading. */
  private readonly loading = new Map<string, Loading>();
  /** Handles a prefetch holds loaded until its append is done (eviction skips them), with how many hold each. */
  private readonly pinned = new Map<string, number>();
  private readonly io: IoLimiter;
  /** Evicted logs' write-outs in flight, by handle (the latest one of each). */
  private readonly writing = new Map<string, WriteOut>();
  /** Every write-out in flight: what a checkpoint's fsyncs wait for. */
  private readonly writes = new Set<Promise<void>>();
  private readonly writeIo: IoLimiter;
  private readonly fileReads: RecoveryReads;
  /**
   * Evicted logs' state, oldest first. Nothing else writes a log's files while it is out of memory (appends load it,
   * deletion goes through `deleteLog`), so the state at eviction is what recovering the files would give.
   */
  private readonly memos = new Map<string, string>();
  /**
   * Every log's state as the previous (clean) close left it (persisted-tails.ts): a log's first load after a restart
   * then reads no file. Only after a clean stop; each entry is used once.
   */
  private tails: PersistedTails | undefined;
  /** Streams appended since the last checkpoint rotation (journal) or the last syncAll (per-file). */
  private epoch = new Set<SegmentStream>();
  /**
   * Logs evicted while some of their streams were in the epoch (written, not yet fsynced by a checkpoint): by handle
   * only, so an evicted log keeps no stream object alive; their files are synced by directory.
   */
  private evictedDirty = new Set<string>();
  private rootDirty = false;
  private pendingTotal = 0;
  private inflight: Promise<void> = Promise.resolve();
  private checkpointing: Promise<void> | undefined;
  private forceRotate = false;
  private replaying = false;
  /** Journal records a crash left, applied as their logs are loaded; undefined once all are durable in the logs. */
  private unreplayed: PendingReplay | undefined;
  private failure: unknown;
  private readonly journal: Journal | undefined;
  /**
   * The previous process closed the store cleanly and nothing was appended since: no log ends inside a transaction
   * (a crash can leave a transaction's first slices on disk without its last), so a log's last offset is where its
   * last whole transaction ends and no tail needs reading (shapes/log-tail.ts).
   */
  cleanStart = false;
  private readonly keepStates: boolean;
  /** Set by `taint`: this close leaves no clean mark. */
  private tainted = false;
  private readonly changeOpts: StreamOptions;
  private readonly snapshotOpts: StreamOptions;
  private readonly cfg: Required<
    Omit<
      ShapeLogStoreOptions,
      'durability' | 'maxOpenFiles' | 'segmentBytes' | 'indexEveryBytes' | 'prefetchConcurrency' | 'keepLogStates'
    >
  >;
  private counters = {
    fsyncs: 0,
    syncs: 0,
    checkpoints: 0,
    truncatedBytes: 0,
    replayedRecords: 0,
    replayGaps: 0,
    evictedLogs: 0,
    logLoads: 0,
    memoLoads: 0,
    prefetchLoads: 0,
    syncLoads: 0,
    prefetchMisses: 0,
    writeOuts: 0,
    writeThroughs: 0,
    tailLoads: 0,
  };

  private constructor(
    readonly dir: string,
    opts: ShapeLogStoreOptions,
  ) {
    this.fds = new FdCache(opts.maxOpenFiles ?? 256);
    this.fileReads = fileReads(this.fds);
    this.io = new IoLimiter(Math.max(1, opts.prefetchConcurrency ?? 64));
    this.writeIo = new IoLimiter(Math.max(1, opts.prefetchConcurrency ?? 64));
    const segmentBytes = opts.segmentBytes ?? 64 * 1024 * 1024;
    this.changeOpts = { prefix: 'c', indexEvery: opts.indexEveryBytes ?? 32 * 1024, segmentBytes, strict: true };
    this.snapshotOpts = { prefix: 's', indexEvery: 0, segmentBytes, strict: false };
    this.cfg = {
      snapshotChunkBytes: opts.snapshotChunkBytes ?? 10 * 1024 * 1024,
      checkpointBytes: opts.checkpointBytes ?? 256 * 1024 * 1024,
      maxPendingBytes: opts.maxPendingBytes ?? 128 * 1024 * 1024,
      syncConcurrency: opts.syncConcurrency ?? (opts.durability === 'per-file' ? 64 : 2),
      checkpointMethod: opts.checkpointMethod ?? (process.platform === 'linux' ? 'syncfs' : 'per-file'),
      maxLoadedLogs: Math.max(1, opts.maxLoadedLogs ?? 4096),
      maxLogMemos: Math.max(0, opts.maxLogMemos ?? 2_097_152),
      checkpointStreams: Math.max(1, opts.checkpointStreams ?? 65_536),
    };
    this.journal = opts.durability === 'per-file' ? undefined : new Journal(join(dir, JOURNAL_DIR));
    this.keepStates = opts.keepLogStates ?? true;
  }

  static async open(dir: string, opts: ShapeLogStoreOptions = {}): Promise<ShapeLogStore> {
    mkdirSync(dir, { recursive: true });
    const store = new ShapeLogStore(dir, opts);
    store.cleanStart = await takeCleanMark(dir);
    if (store.journal !== undefined) {
      await store.scanJournal();
      store.journal.start();
      store.counters.fsyncs += await syncDirs([store.journal.dir]);
    }
    // The state file describes the logs only as a clean close left them: after anything else it is removed unread
    // (also when not used now: a later open would take it for the state of a later close).
    if (store.cleanStart && store.keepStates) store.tails = PersistedTails.load(dir);
    else PersistedTails.remove(dir);
    return store;
  }

  /** Creates the (empty) log of a new shape handle. Handles are never reused. */
  createLog(handle: string): ShapeLog {
    this.check();
    if (!HANDLE_RE.test(handle)) throw new RangeError(`invalid shape handle for a log: ${JSON.stringify(handle)}`);
    // mkdir itself refuses an existing directory: no separate existence check (a stat per creation).
    if (this.known.has(handle) || this.creating.has(handle)) throw new RangeError(`shape log ${handle} already exists`);
    try {
      mkdirSync(join(this.dir, handle));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new RangeError(`shape log ${handle} already exists`);
      throw err;
    }
    this.known.add(handle);
    // The log's directory entry must be durable before a commit that journals its records is acknowledged.
    this.rootDirty = true;
    const log = this.makeLog(handle, false);
    this.loaded.set(handle, log);
    return log;
  }

  /**
   * createLog with the file-system work off the main thread: the directory and the snapshot's first segment file
   * are created by the I/O pool (a directory and a file creation cost 0.1–0.5 ms of blocking each on ext4 under
   * fsync traffic, which bounded shape creation). The log is usable once the promise resolves.
   */
  async createLogAsync(handle: string): Promise<ShapeLog> {
    this.check();
    if (!HANDLE_RE.test(handle)) throw new RangeError(`invalid shape handle for a log: ${JSON.stringify(handle)}`);
    if (this.known.has(handle) || this.creating.has(handle)) throw new RangeError(`shape log ${handle} already exists`);
    this.creating.add(handle);
    try {
      const dir = join(this.dir, handle);
      try {
        await mkdir(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST')
          throw new RangeError(`shape log ${handle} already exists`);
        throw err;
      }
      this.known.add(handle);
      this.rootDirty = true;
      const log = this.makeLog(handle, false);
      const snapshot = log.snapshotStream();
      const first = chunkOffset(0);
      const fd = await openAsync(snapshot.segmentPath(first), 'wx+');
      try {
        this.check();
      } catch (err) {
        closeFd(fd);
        throw err;
      }
      snapshot.adoptFirstSegment(first, fd);
      this.loaded.set(handle, log);
      return log;
    } finally {
      this.creating.delete(handle);
    }
  }

  /** The log of `handle`, loading and repairing it on first use; undefined for unknown (or malformed) handles. */
  getLog(handle: string): ShapeLog | undefined {
    const log = this.loaded.get(handle);
    if (log !== undefined) {
      // Map order is insertion order: moving a used log to the end keeps the least recently used first.
      this.loaded.delete(handle);
      this.loaded.set(handle, log);
      return log;
    }
    if (!this.exists(handle)) return undefined;
    this.check();
    this.cancelLoad(handle);
    this.writeThrough(handle);
    const loaded = this.makeLog(handle, true, this.takeMemo(handle));
    this.loaded.set(handle, loaded);
    return loaded;
  }

  hasLog(handle: string): boolean {
    return this.exists(handle);
  }

  /**
   * Loads the logs of `handles` that are not in memory with their file reads in worker threads (`prefetchConcurrency`
   * logs at a time), then builds each from the bytes read, without a syscall on this thread unless recovery wants
   * more (see PrefetchedFiles). The logs stay loaded until `release`. The replication path calls it once a
   * transaction is routed, so the next transaction's logs load while this one is appended and synced.
   */
  prefetch(handles: Iterable<string>): LogPrefetch {
    const held: string[] = [];
    const waits: Promise<void>[] = [];
    if (this.failure === undefined) {
      for (const h of handles) {
        this.pinned.set(h, (this.pinned.get(h) ?? 0) + 1);
        held.push(h);
        if (this.loaded.has(h) || this.creating.has(h)) continue;
        waits.push((this.loading.get(h) ?? this.startLoad(h)).done);
      }
    }
    let released = false;
    return {
      ready: Promise.all(waits).then(() => undefined),
      release: () => {
        if (released) return;
        released = true;
        for (const h of held) {
          const n = this.pinned.get(h)! - 1;
          if (n === 0) this.pinned.delete(h);
          else this.pinned.set(h, n);
        }
      },
    };
  }

  private startLoad(handle: string): Loading {
    const entry: Loading = { stale: false, done: Promise.resolve() };
    const read = this.io.run(async (): Promise<PrefetchedFiles | undefined> => {
      // An evicted log's remembered state needs no read (its write-out in flight is written through at load: after a
      // backlog, tens of thousands of write-outs queue up, and waiting for one held live changes up for seconds).
      if (entry.stale || this.memos.has(handle) || this.tails?.available(handle) === true) return undefined;
      // Its files hold everything once a write-out of it finished; a failed one fails the store.
      await this.writing.get(handle)?.done;
      return readLogFiles(join(this.dir, handle), this.fileReads);
    });
    entry.done = read
      .then(
        (files) => this.finishLoad(handle, entry, files),
        // A failed read leaves the log to be loaded on use, which reports the failure to its caller.
        () => undefined,
      )
      .finally(() => {
        if (this.loading.get(handle) === entry) this.loading.delete(handle);
      });
    this.loading.set(handle, entry);
    return entry;
  }

  /** Builds a read-ahead log, unless it was loaded or deleted meanwhile (or is missing: a deleted log). */
  private finishLoad(handle: string, entry: Loading, files: PrefetchedFiles | undefined): void {
    if (entry.stale || this.failure !== undefined || this.loaded.has(handle) || this.creating.has(handle)) return;
    // No directory, or a remembered state forgotten while waiting: loaded on use.
    if (files === undefined && !this.memos.has(handle) && this.tails?.available(handle) !== true) return;
    let log: ShapeLog;
    try {
      this.writeThrough(handle);
      log = this.makeLog(handle, true, this.takeMemo(handle), files);
    } catch {
      // Loaded on use, where the failure is reported to the caller (from its files: a memo taken is not needed).
      return;
    }
    this.known.add(handle);
    this.loaded.set(handle, log);
    this.counters.prefetchLoads++;
  }

  /** The log is being loaded (or deleted) another way: a read-ahead of it still in flight must not be used. */
  private cancelLoad(handle: string): void {
    const l = this.loading.get(handle);
    if (l !== undefined) l.stale = true;
  }

  /** Every log on disk (one directory listing). */
  listLogs(): string[] {
    return readdirSync(this.dir).filter((n) => HANDLE_RE.test(n));
  }

  /**
   * The logs on disk, read in the background a batch of entries at a time; directories left by a deletion that a
   * crash interrupted are removed on the way.
   */
  async *scanLogs(): AsyncIterable<string> {
    for await (const e of await opendir(this.dir, { bufferSize: 1024 })) {
      if (e.name.startsWith(DELETED_PREFIX)) rmSync(join(this.dir, e.name), { recursive: true, force: true });
      else if (HANDLE_RE.test(e.name)) yield e.name;
    }
  }

  /** Whether the handle's log directory exists (looked up once, then remembered). */
  private exists(handle: string): boolean {
    if (this.known.has(handle)) return true;
    if (!HANDLE_RE.test(handle)) return false;
    // A state not yet taken names a log on disk (one taken was loaded, so it is in `known` unless deleted since).
    if (this.tails?.available(handle) !== true && !existsSync(join(this.dir, handle))) return false;
    this.known.add(handle);
    return true;
  }

  /** Removes a log and its files. The directory is renamed first so a crash mid-way leaves nothing half-deleted. */
  deleteLog(handle: string): boolean {
    if (!this.exists(handle)) return false;
    this.cancelLoad(handle);
    this.unreplayed?.drop(handle);
    const log = this.getLog(handle)!;
    log.deleted = true;
    for (const s of log.streams()) {
      s.destroyFiles();
      this.epoch.delete(s);
    }
    const trash = join(this.dir, `${DELETED_PREFIX}${handle}`);
    renameSync(join(this.dir, handle), trash);
    rmSync(trash, { recursive: true, force: true });
    this.rootDirty = true;
    this.evictedDirty.delete(handle);
    this.known.delete(handle);
    this.loaded.delete(handle);
    this.memos.delete(handle);
    this.tails?.drop(handle);
    return true;
  }

  onAppend(stream: SegmentStream, pos: number, frame: Buffer): void {
    if (this.journal !== undefined && !this.replaying) this.journal.add(stream.handle, stream.streamId, pos, frame);
    if (!stream.dirty) {
      stream.dirty = true;
      this.epoch.add(stream);
    }
  }

  onPending(delta: number): void {
    this.pendingTotal += delta;
  }

  /** Writes buffered appends of every log to its files, without fsync. */
  flush(): void {
    this.check();
    for (const s of this.epoch) s.flush();
  }

  /**
   * Group commit: resolves when everything appended before this call is durable. Appends may continue while it
   * runs; they belong to the next call, which also waits for this one. A failed fsync poisons the store.
   */
  syncAll(): Promise<void> {
    this.check();
    let work: Promise<number>;
    let rotatedSeq = -1;
    let keepSeq = 0;
    let cpStreams: Epoch | undefined;
    try {
      this.evictIdle();
      if (this.pendingTotal > this.cfg.maxPendingBytes) this.relievePending();
      const root = this.rootDirty ? [this.dir] : [];
      this.rootDirty = false;
      if (this.journal === undefined) {
        const taken = this.takeEpoch();
        work = Promise.all([this.syncTaken(taken), syncDirs(root)]).then(([a, b]) => a + b);
      } else {
        const journal = this.journal;
        const due =
          journal.activeSize >= this.cfg.checkpointBytes ||
          this.epoch.size + this.evictedDirty.size >= this.cfg.checkpointStreams;
        const rotate = this.forceRotate || (due && this.checkpointing === undefined);
        let fd: number;
        if (rotate) {
          this.forceRotate = false;
          const old = journal.rotate();
          fd = old.fd;
          rotatedSeq = old.seq;
          cpStreams = this.takeEpoch();
          // Replayed records applied after this rotation are not in its epoch: their journal files stay.
          keepSeq = this.unreplayed !== undefined && this.unreplayed.size > 0 ? this.unreplayed.lastSeq : 0;
        } else fd = journal.write();
        work = Promise.all([
          journal.sync(fd).then(() => {
            if (rotate) journal.closeFd(fd);
            return 1;
          }),
          rotate ? syncDirs([journal.dir]) : 0,
          syncDirs(root),
        ]).then(([a, b, c]) => a + b + c);
      }
    } catch (e) {
      this.failure ??= e;
      throw e;
    }
    this.counters.syncs++;
    const done = Promise.all([this.inflight, work]).then(
      ([, n]) => {
        this.counters.fsyncs += n;
      },
      (e: unknown) => {
        this.failure ??= e;
        throw e;
      },
    );
    this.inflight = done.catch(() => undefined);
    if (cpStreams !== undefined) this.startCheckpoint(done, cpStreams, rotatedSeq, keepSeq);
    return done;
  }

  /** Forces a checkpoint now: afterwards all shape files are fsynced and the journal holds nothing older. */
  async checkpoint(): Promise<void> {
    if (this.journal === undefined) return this.syncAll();
    await this.checkpointing;
    this.forceRotate = true;
    await this.syncAll();
    await this.checkpointing;
  }

  stats(): StoreStats {
    return {
      ...this.counters,
      knownLogs: this.known.size,
      replayPendingLogs: this.unreplayed?.size ?? 0,
      loadedLogs: this.loaded.size,
      openFiles: this.fds.size,
      fileOpens: this.fds.opens,
      journalBytes: this.journal?.bytesWritten ?? 0,
      pendingBytes: this.pendingTotal,
    };
  }

  /** Makes everything durable, checkpoints (an empty journal makes the next open fast) and closes descriptors. */
  async close(): Promise<void> {
    // A clean stop leaves an empty journal, so the next start has nothing to replay.
    if (this.failure === undefined) await this.finishReplay();
    if (this.failure === undefined) await this.checkpoint();
    this.unreplayed?.close();
    await Promise.all([...this.loading.values()].map((l) => l.done));
    await Promise.allSettled([...this.writes]);
    await this.inflight;
    await this.checkpointing;
    this.journal?.close();
    this.fds.closeAll();
    if (this.failure === undefined && !this.tainted) {
      if (this.keepStates) {
        PersistedTails.write(this.dir, this.allMemos());
        await syncDirs([this.dir]);
      }
      await putCleanMark(this.dir);
    }
    this.loaded.clear();
    this.tails = undefined;
  }

  /**
   * Some log may end inside a transaction that is not replayed yet (the owner's append failed part-way): the next open
   * must not take the logs' tails as whole.
   */
  taint(): void {
    this.tainted = true;
  }

  /**
   * Over the memory bound, write out some logs' pending bytes: a bounded number per commit, because writing to
   * thousands of files at once stalls the thread for seconds and delays the journal fsync behind the inode updates.
   * Past twice the bound, everything is written.
   */
  private relievePending(): void {
    if (this.pendingTotal > 2 * this.cfg.maxPendingBytes) {
      this.flush();
      return;
    }
    let budget = 256;
    for (const s of this.epoch) {
      if (budget-- === 0 || this.pendingTotal <= this.cfg.maxPendingBytes / 2) break;
      s.flush();
    }
  }

  /**
   * Drops least recently used logs beyond `maxLoadedLogs` from memory. Only at a group commit, so no caller holds a
   * log across it (a ShapeLog is fetched again for each use; an evicted instance refuses use). A log mid-snapshot
   * stays. Pending bytes are written first, so the files hold everything and a reload recovers the same state; a
   * log still awaiting its checkpoint fsync is remembered by handle until then.
   */
  private evictIdle(): void {
    const excess = this.loaded.size - this.cfg.maxLoadedLogs;
    if (excess <= 0) return;
    let dropped = 0;
    for (const [handle, log] of this.loaded) {
      if (dropped >= excess) break;
      if (log.snapshotState() !== 'complete' || this.pinned.has(handle)) continue;
      this.writeOut(handle, log);
      this.loaded.delete(handle);
      this.remember(handle, log);
      dropped++;
    }
    this.counters.evictedLogs += dropped;
  }

  /**
   * Writes a log's pending bytes to its files and retires the instance: streams not yet fsynced move from the epoch to
   * the handles a checkpoint syncs by directory, so no stream object outlives the log.
   */
  private writeOut(handle: string, log: ShapeLog): void {
    const writes: FileWrite[] = [];
    for (const s of log.streams()) {
      writes.push(...s.takeWrites());
      if (s.dirty) {
        this.epoch.delete(s);
        this.evictedDirty.add(handle);
      }
    }
    log.evicted = true;
    if (writes.length > 0) this.startWriteOut(handle, writes);
  }

  /**
   * Writes an evicted log's bytes in a worker thread (log-io-worker.ts; open, write, close per file: ~0.1–0.5 ms of blocking each under
   * fsync traffic, which bounded backlog ingest when every commit evicted hundreds of logs). Durability is unchanged:
   * the journal holds the records until a checkpoint, whose fsyncs wait for every write-out in flight (`writesDone`);
   * with per-file durability the commit itself waits for them. A failed write-out fails the store.
   */
  private startWriteOut(handle: string, writes: readonly FileWrite[]): void {
    const job: WriteOut = { writes, through: false, done: Promise.resolve() };
    const done = this.writeIo.run(async () => {
      if (job.through) return;
      try {
        await writeFilesAsync(writes);
      } catch (e) {
        // Written on this thread meanwhile (the log was loaded again, perhaps to be deleted): nothing is lost.
        if (!job.through) throw e;
      }
    });
    job.done = done;
    this.writing.set(handle, job);
    this.writes.add(done);
    this.counters.writeOuts++;
    const settle = (): void => {
      this.writes.delete(done);
      if (this.writing.get(handle) === job) this.writing.delete(handle);
    };
    done.then(settle, (e: unknown) => {
      this.failure ??= e;
      settle();
    });
  }

  /**
   * A log loaded again while its write-out is in flight: its bytes are written here too, so the files hold them
   * before anything reads or extends them (the worker's write of the same bytes at the same place changes nothing).
   */
  private writeThrough(handle: string): void {
    const job = this.writing.get(handle);
    if (job === undefined || job.through) return;
    writeFilesSync(job.writes);
    job.through = true;
    this.counters.writeThroughs++;
  }

  /** Resolves once every write-out in flight now has finished; rejects if one failed (the store is then failed). */
  private async writesDone(): Promise<void> {
    await Promise.allSettled([...this.writes]);
    this.check();
  }

  /** An evicted log's remembered state, or its state at the last clean close; taken (a loaded log may change). */
  private takeMemo(handle: string): LogMemo | undefined {
    const m = this.memos.get(handle);
    if (m !== undefined) {
      this.memos.delete(handle);
      this.tails?.drop(handle);
      return unpackMemo(m);
    }
    const t = this.tails?.take(handle);
    if (t !== undefined) this.counters.tailLoads++;
    return t;
  }

  /**
   * The state of every log whose files hold all of it, for the next open: loaded logs (complete snapshots, nothing
   * pending: after the closing checkpoint), remembered evicted ones, and the previous close's entries not used since.
   */
  private *allMemos(): IterableIterator<readonly [string, string]> {
    for (const [handle, log] of this.loaded) {
      if (log.snapshotState() !== 'complete') continue;
      const packed = packedState(log);
      if (packed !== undefined) yield [handle, packed];
    }
    yield* this.memos;
    if (this.tails !== undefined) yield* this.tails.remaining();
  }

  /** Keeps an evicted log's state (both streams written out), forgetting the oldest beyond `maxLogMemos`. */
  private remember(handle: string, log: ShapeLog): void {
    if (this.cfg.maxLogMemos === 0) return;
    const packed = packedState(log);
    if (packed === undefined) return;
    this.memos.set(handle, packed);
    if (this.memos.size > this.cfg.maxLogMemos) this.memos.delete(this.memos.keys().next().value as string);
  }

  private takeEpoch(): Epoch {
    const streams = this.epoch;
    const evicted = this.evictedDirty;
    this.epoch = new Set();
    this.evictedDirty = new Set();
    for (const s of streams) s.dirty = false;
    return { streams, evicted };
  }

  /** fsyncs what an epoch wrote: its streams' files, and every file of the logs evicted from it. */
  private async syncTaken(taken: Epoch): Promise<number> {
    // Evicted logs' files are fsynced by directory: their write-outs must have landed.
    if (taken.evicted.size > 0) await this.writesDone();
    const dirs = [...taken.evicted].map((h) => join(this.dir, h));
    const [a, b] = await Promise.all([
      syncStreams(this.fds, taken.streams, this.cfg.syncConcurrency),
      syncDirTrees(dirs, this.cfg.syncConcurrency),
    ]);
    return a + b;
  }

  /** After the rotating commit: fsync the shape files written under the old journal files, then delete them. */
  private startCheckpoint(after: Promise<void>, streams: Epoch, seq: number, keep: number): void {
    const run = async (): Promise<void> => {
      await after;
      this.counters.fsyncs += await this.syncCheckpoint(streams);
      this.journal!.deleteUpTo(seq, keep);
      if (keep === 0 && this.unreplayed?.size === 0) this.unreplayed = undefined;
      this.counters.checkpoints++;
    };
    this.checkpointing = run().then(
      () => {
        this.checkpointing = undefined;
      },
      (e: unknown) => {
        this.failure ??= e;
        this.checkpointing = undefined;
      },
    );
  }

  private async syncCheckpoint(taken: Epoch): Promise<number> {
    if (this.cfg.checkpointMethod === 'syncfs') {
      // Evicted logs' write-outs started when they were evicted: once they have finished, the filesystem sync
      // covers them.
      await flushStreams(taken.streams);
      await this.writesDone();
      if (await syncFilesystem(this.dir)) {
        for (const s of taken.streams) s.takeUnsynced();
        return 1;
      }
    }
    return this.syncTaken(taken);
  }

  /**
   * A log object: empty (a new log), from an eviction's memo, or recovered from its files — read on this thread, or
   * read ahead (`files`, from `prefetch`).
   */
  private makeLog(
    handle: string,
    recover: boolean,
    memo?: readonly [StreamMemo, StreamMemo],
    files?: PrefetchedFiles,
  ): ShapeLog {
    const path = join(this.dir, handle);
    const snapshot = new SegmentStream(this, path, this.snapshotOpts, handle, SNAPSHOT_STREAM);
    const changes = new SegmentStream(this, path, this.changeOpts, handle, CHANGE_STREAM);
    if (memo !== undefined) {
      this.counters.memoLoads++;
      snapshot.restore(memo[0]);
      changes.restore(memo[1]);
    } else if (recover) {
      this.counters.logLoads++;
      if (files === undefined) this.counters.syncLoads++;
      const names = files?.names ?? readdirSync(path);
      const reads = files ?? this.fileReads;
      this.counters.truncatedBytes +=
        snapshot.recover(names, reads).truncatedBytes + changes.recover(names, reads).truncatedBytes;
      if (files !== undefined) this.counters.prefetchMisses += files.misses;
      const pending = this.unreplayed?.take(handle);
      if (pending !== undefined) this.applyJournal([snapshot, changes], pending);
    }
    return new ShapeLog(handle, snapshot, changes, this.cfg.snapshotChunkBytes);
  }

  /**
   * Re-applies a log's journal records newer than what its files hold. A record's stream position makes replay
   * idempotent: below the stream's length it is already there, at the length it is appended (not journaled again:
   * its record stays in the old journal file until a checkpoint has fsynced the log).
   */
  private applyJournal(streams: readonly SegmentStream[], records: readonly JournalRecord[]): void {
    this.replaying = true;
    try {
      for (const rec of records) {
        const s = streams[rec.streamId];
        if (s === undefined || rec.pos < s.bytes) continue;
        if (rec.pos > s.bytes) {
          this.counters.replayGaps++;
          continue;
        }
        const f = rec.frame;
        s.appendFrame(f.kind, f.offset, rec.bytes, f.kind === RecordKind.Message ? undefined : Buffer.from(f.payload));
        this.counters.replayedRecords++;
      }
    } finally {
      this.replaying = false;
    }
  }

  /**
   * Reads where the journal's records are, without opening any log (see PendingReplay); a torn tail is cut. An empty
   * journal (a clean stop, or a crash right after a checkpoint) costs no sync.
   */
  private async scanJournal(): Promise<void> {
    const pending = PendingReplay.scan(this.journal!.dir);
    this.counters.truncatedBytes += pending.cutBytes;
    if (pending.size > 0) {
      this.unreplayed = pending;
      this.cleanStart = false;
    } else {
      pending.close();
      if (pending.lastSeq > 0) this.journal!.deleteUpTo(pending.lastSeq);
    }
  }

  /**
   * Applies the journal records of logs not loaded yet, a batch per event-loop turn (the logs are not kept loaded:
   * their streams are written out and fsynced by the next checkpoint, like evicted ones), then checkpoints so the old
   * journal files are deleted. The service runs it in the background once it serves.
   */
  async finishReplay(): Promise<void> {
    const pending = this.unreplayed;
    if (pending === undefined) return;
    let batch = 0;
    for (const handle of pending.handles()) {
      this.check();
      // Loaded (so applied) since the walk began.
      if (!pending.has(handle)) continue;
      if (!this.exists(handle)) {
        pending.drop(handle);
        continue;
      }
      this.cancelLoad(handle);
      const log = this.makeLog(handle, true);
      this.writeOut(handle, log);
      if (++batch % 256 === 0) await yieldLoop();
    }
    if (pending.size === 0) await this.checkpoint();
  }

  private check(): void {
    if (this.failure !== undefined) {
      throw new Error(`shape log store ${this.dir} failed earlier and must be reopened`, { cause: this.failure });
    }
  }
}

/** A log's state packed (persisted-tails.ts), when its files hold all of it (nothing pending). */
function packedState(log: ShapeLog): string | undefined {
  const [snapshot, changes] = log.streams() as [SegmentStream, SegmentStream];
  const a = snapshot.memo();
  const b = changes.memo();
  return a === undefined || b === undefined ? undefined : packMemo([a, b]);
}

/**
 * Whether the previous close left its mark; the mark is removed durably before the store is used, so that a crash
 * of this process is never taken for a clean stop at the next open.
 */
async function takeCleanMark(dir: string): Promise<boolean> {
  const mark = join(dir, CLEAN_MARK);
  if (!existsSync(mark)) return false;
  unlinkSync(mark);
  await syncDirs([dir]);
  return true;
}

/** Leaves the mark of a clean close: the file, then its directory entry, durable. */
async function putCleanMark(dir: string): Promise<void> {
  const fd = openSync(join(dir, CLEAN_MARK), 'w');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  await syncDirs([dir]);
}

const openAsync = promisify(openCb) as (path: string, flags: string) => Promise<number>;
