// The service's persistent key-value store (shape registry, handles, slot): an append-only log with group commit.
import { closeSync, fdatasync, fsync, mkdirSync, openSync, readdirSync, renameSync, unlinkSync, write } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { promisify } from 'node:util';
import { isNotFound } from './durable-files.js';
import { readBucketFiles, isBucketFile } from './meta-buckets.js';
import { decodeMetaRecords, encodeMetaRecord, type MetaRecord } from './meta-records.js';

export type { MetaRecord } from './meta-records.js';

const fdatasyncAsync = promisify(fdatasync);
const fsyncAsync = promisify(fsync);
const writeAsync = promisify(write);

/** JSON-representable values (bigints must be stored as decimal strings). */
export type MetaValue = string | number | boolean | null | readonly MetaValue[] | { readonly [k: string]: MetaValue };

export interface MetaStoreOptions {
  /**
   * Keys under this prefix (e.g. `shape:`) are not kept in memory: their owner holds the data in its own form and
   * hands the current values back through `setSource` when the log is compacted. Their stored values are offered
   * once, at open, through `takeStored`.
   */
  readonly externalPrefix?: string;
  /** The log is compacted once it is larger than this and than twice its size after the last compaction. */
  readonly compactMinBytes?: number;
}

/** The owner's current values of the external keys, as `[key, value]` pairs. */
export type MetaSource = () => Iterable<readonly [string, MetaValue]>;

/** The owner's current external data as snapshot chunks (its own format), rendered by a compaction. */
export type MetaSnapshotSource = () => Iterable<MetaValue>;

/** What a generation's snapshot frames held, with the external keys set or deleted after them. */
export interface MetaSnapshot {
  /** The chunks in file order (empty for a log written before snapshots or by an owner without one). */
  readonly chunks: readonly MetaValue[];
  /** External keys deleted after the chunks were written: they are gone even if a chunk holds them. */
  readonly deleted: ReadonlySet<string>;
}

/**
 * Key of a snapshot frame: no caller's key starts with NUL. Older versions would read the frame as a plain key (and
 * lose the external data in it): a data directory is not readable by a version before snapshots once compacted.
 */
const SNAPSHOT_KEY = '\u0000snapshot';

const LOG_RE = /^registry-([0-9]{12})\.log$/;
/** Records rendered per event-loop turn while compacting, so a compaction of a million keys never stalls serving. */
const COMPACT_BATCH = 2000;

/**
 * Layout: `registry-<generation>.log`, CRC-framed records `[key, value]` (set) or `[key]` (delete), replayed in order
 * on open (the last record of a key wins; a torn tail, i.e. a commit that was never acknowledged, is cut). A commit
 * appends the records set since the previous one and fdatasyncs once — O(changes), whatever the number of keys — and
 * concurrent commits are serialised in call order. When the log has doubled since it was last compacted, the next
 * generation is written in the background from the live values (external ones from the owner's source), the records
 * committed meanwhile are appended to it, and it replaces the old file by rename + directory fsync; a crash at any
 * point leaves one complete generation (a `.tmp` is never read). A directory written by the earlier bucket format
 * (`bucket-N.json`) is read once and rewritten as a log (the bucket files are deleted after the log is durable).
 *
 * An owner with a snapshot source (`setSnapshotSource`) has its external data written by a compaction as a few large
 * snapshot frames in its own format instead of one record per key, so an open parses a few big JSON texts, not a
 * million small ones. In a file the snapshot frames precede every external record (a compaction writes them first;
 * appends never write one), so the records after them override them key by key, and a deletion of an external key
 * after them is remembered (`takeSnapshot().deleted`).
 */
export class MetaStore {
  private readonly values = new Map<string, MetaValue>();
  private stored = new Map<string, MetaValue>();
  private snapshot: MetaValue[] = [];
  /** External keys deleted after the snapshot frames read at open (only while there are some). */
  private deletedAfterSnapshot = new Set<string>();
  private pending: Buffer[] = [];
  private fd = -1;
  private gen = 0;
  private bytes = 0;
  private compactedSize = 0;
  /** Bytes of the file's records other than snapshot frames (what a compaction at a clean stop would fold). */
  private recordBytes = 0;
  private inflight: Promise<void> = Promise.resolve();
  /** Records committed while a compaction renders the next generation: appended to it before the switch. */
  private capture: Buffer[] | undefined;
  private compacting: Promise<void> | undefined;
  private source: MetaSource = () => [];
  private snapshotSource: MetaSnapshotSource | undefined;
  private failure: unknown;
  compactions = 0;
  /** Records (snapshot frames included) parsed at open: O(chunks + records since the last compaction), not O(keys). */
  openRecords = 0;

  private constructor(
    readonly dir: string,
    private readonly external: string | undefined,
    private readonly compactMin: number,
  ) {}

  static async open(dir: string, opts: MetaStoreOptions = {}): Promise<MetaStore> {
    mkdirSync(dir, { recursive: true });
    const store = new MetaStore(dir, opts.externalPrefix, opts.compactMinBytes ?? 4 * 1024 * 1024);
    const names = readdirSync(dir);
    for (const n of names) if (n.endsWith('.tmp')) unlinkSync(join(dir, n));
    const gens = names.flatMap((n) => {
      const m = LOG_RE.exec(n);
      return m === null ? [] : [Number(m[1])];
    });
    const buckets = names.filter(isBucketFile);
    if (gens.length === 0) {
      // A fresh directory, or the bucket format: its contents become generation 1.
      for (const [k, v] of readBucketFiles(dir, buckets)) store.apply([k, v]);
      await store.writeGeneration(1, store.renderAll());
      for (const b of buckets) unlinkSync(join(dir, b));
      if (buckets.length > 0) await syncDir(dir);
    } else {
      const gen = Math.max(...gens);
      // Lower generations were superseded once the higher one was renamed into place; bucket files once any log was.
      for (const g of gens) if (g !== gen) unlinkSync(join(dir, logName(g)));
      for (const b of buckets) unlinkSync(join(dir, b));
      store.gen = gen;
      store.fd = openSync(join(dir, logName(gen)), 'r+');
      const { validBytes, records } = decodeMetaRecords(store.fd, (r, n) => {
        if (r[0] !== SNAPSHOT_KEY) store.recordBytes += n;
        store.apply(r);
      });
      store.bytes = validBytes;
      store.compactedSize = validBytes;
      store.openRecords = records;
    }
    return store;
  }

  /** Retained keys, plus external keys read at open as records and not yet taken (snapshot chunks not counted). */
  get size(): number {
    return this.values.size + this.stored.size;
  }

  /** Bytes of the active log file. */
  get logBytes(): number {
    return this.bytes;
  }

  get(key: string): MetaValue | undefined {
    return this.values.get(key);
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  set(key: string, value: MetaValue): void {
    this.pending.push(encodeMetaRecord([key, value]));
    if (this.isExternal(key)) return;
    this.values.set(key, value);
  }

  /** Deletes a key (for an external key, the owner knows whether it existed: deleting an absent one is harmless). */
  delete(key: string): boolean {
    this.pending.push(encodeMetaRecord([key]));
    if (this.isExternal(key)) {
      this.stored.delete(key);
      if (this.snapshot.length > 0) this.deletedAfterSnapshot.add(key);
      return true;
    }
    return this.values.delete(key);
  }

  /** Retained keys and values. */
  *entries(): IterableIterator<[string, MetaValue]> {
    yield* this.values.entries();
  }

  /** Retained entries whose key starts with `prefix`. */
  *entriesWithPrefix(prefix: string): IterableIterator<[string, MetaValue]> {
    for (const e of this.values.entries()) if (e[0].startsWith(prefix)) yield e;
  }

  /**
   * The external keys' values read at open, handed over once: the store keeps them only until then (and includes
   * those not yet taken in a compaction).
   */
  takeStored(): Map<string, MetaValue> {
    const s = this.stored;
    this.stored = new Map();
    return s;
  }

  /**
   * The snapshot chunks read at open and the external keys deleted after them, handed over once (with `takeStored`,
   * whose records override the chunks key by key).
   */
  takeSnapshot(): MetaSnapshot {
    const s = { chunks: this.snapshot, deleted: this.deletedAfterSnapshot };
    this.snapshot = [];
    this.deletedAfterSnapshot = new Set();
    return s;
  }

  /** Where a compaction reads the current values of the external keys. */
  setSource(source: MetaSource): void {
    this.source = source;
  }

  /** Where a compaction reads the external data as snapshot chunks (used instead of `setSource`'s records). */
  setSnapshotSource(source: MetaSnapshotSource): void {
    this.snapshotSource = source;
  }

  /** Makes every change made before the call durable; commits are serialised in call order. */
  commit(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failureError());
    const records = this.pending;
    this.pending = [];
    const run = async (): Promise<void> => {
      if (records.length > 0) {
        const buf = records.length === 1 ? records[0]! : Buffer.concat(records);
        await writeFully(this.fd, buf, this.bytes);
        this.bytes += buf.length;
        this.recordBytes += buf.length;
        this.capture?.push(buf);
        await fdatasyncAsync(this.fd);
      }
      if (this.compacting === undefined && this.bytes > this.compactMin && this.bytes > 2 * this.compactedSize) {
        this.compacting = this.compact().finally(() => {
          this.compacting = undefined;
        });
        this.compacting.catch(() => undefined);
      }
    };
    const p = this.inflight.then(run);
    this.inflight = p.catch((e: unknown) => {
      this.failure ??= e;
    });
    return p;
  }

  /** Waits for any running compaction and commit, then closes the file. */
  async close(): Promise<void> {
    await this.compacting?.catch(() => undefined);
    await this.inflight;
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  /**
   * Compacts now if at least `minBytes` were appended since the last compaction (a clean stop, so the next start reads
   * snapshot frames rather than the records of the shapes created since). Only for an owner whose source is complete:
   * a compaction writes what the sources hold, not what was read.
   */
  async compactIfGrown(minBytes: number): Promise<boolean> {
    await this.compacting?.catch(() => undefined);
    await this.inflight;
    if (this.failure !== undefined || this.recordBytes < minBytes) return false;
    await this.compactNow();
    return true;
  }

  /** Forces a compaction now (tests; an operator's tool): resolves once the new generation is in place. */
  async compactNow(): Promise<void> {
    await this.compacting;
    await this.inflight;
    this.compacting = this.compact().finally(() => {
      this.compacting = undefined;
    });
    await this.compacting;
  }

  private async compact(): Promise<void> {
    const next = this.gen + 1;
    const tmp = join(this.dir, `${logName(next)}.tmp`);
    const fd = openSync(tmp, 'wx');
    this.capture = [];
    let at = 0;
    let recordBytes = 0;
    try {
      let batch: Buffer[] = [];
      const flush = async (): Promise<void> => {
        if (batch.length === 0) return;
        const buf = Buffer.concat(batch);
        batch = [];
        await writeFully(fd, buf, at);
        at += buf.length;
      };
      for (const rec of this.liveRecords()) {
        const encoded = encodeMetaRecord(rec);
        if (rec[0] !== SNAPSHOT_KEY) recordBytes += encoded.length;
        batch.push(encoded);
        // A snapshot chunk is thousands of keys: flushed (and the loop yielded to) on its own.
        if (batch.length >= COMPACT_BATCH || rec[0] === SNAPSHOT_KEY) {
          await flush();
          await yieldLoop();
        }
      }
      await flush();
      // The switch runs in the commit chain: no commit is between writing its records to the old file and here.
      const switched = this.inflight.then(async () => {
        batch = this.capture ?? [];
        this.capture = undefined;
        for (const b of batch) recordBytes += b.length;
        await flush();
        await fdatasyncAsync(fd);
        renameSync(tmp, join(this.dir, logName(next)));
        await syncDir(this.dir);
        const old = this.fd;
        const oldGen = this.gen;
        this.fd = fd;
        this.gen = next;
        this.bytes = at;
        this.compactedSize = at;
        this.recordBytes = recordBytes;
        closeSync(old);
        unlinkSync(join(this.dir, logName(oldGen)));
        this.compactions++;
      });
      this.inflight = switched.catch((e: unknown) => {
        this.failure ??= e;
      });
      await switched;
    } catch (err) {
      this.capture = undefined;
      if (this.fd !== fd) {
        closeSync(fd);
        unlinkQuiet(tmp);
      }
      throw err;
    }
  }

  /**
   * Every live key and value: the retained ones, those read at open not yet taken (snapshot chunks first, then the
   * records and deletions that override them), the external ones from the owner (as snapshot chunks if it has a
   * snapshot source).
   */
  private *liveRecords(): Iterable<MetaRecord> {
    for (const e of this.values) yield e;
    for (const c of this.snapshot) yield [SNAPSHOT_KEY, c];
    for (const e of this.stored) yield e;
    for (const k of this.deletedAfterSnapshot) yield [k];
    if (this.snapshotSource !== undefined) for (const c of this.snapshotSource()) yield [SNAPSHOT_KEY, c];
    else for (const [k, v] of this.source()) yield [k, v];
  }

  private renderAll(): Buffer[] {
    const out: Buffer[] = [];
    for (const r of this.liveRecords()) out.push(encodeMetaRecord(r));
    return out;
  }

  /** Writes a complete generation through a temp file (fsync, rename, directory fsync) and makes it the active one. */
  private async writeGeneration(gen: number, records: Buffer[]): Promise<void> {
    const tmp = join(this.dir, `${logName(gen)}.tmp`);
    const fd = openSync(tmp, 'wx');
    const buf = Buffer.concat(records);
    await writeFully(fd, buf, 0);
    await fsyncAsync(fd);
    renameSync(tmp, join(this.dir, logName(gen)));
    await syncDir(this.dir);
    this.fd = fd;
    this.gen = gen;
    this.bytes = buf.length;
    this.compactedSize = buf.length;
    this.recordBytes = buf.length;
  }

  private apply(r: MetaRecord): void {
    const [key] = r;
    if (key === SNAPSHOT_KEY) {
      if (r.length === 2) this.snapshot.push(r[1]);
      return;
    }
    const ext = this.isExternal(key);
    if (r.length === 1) {
      if (!ext) this.values.delete(key);
      else {
        this.stored.delete(key);
        if (this.snapshot.length > 0) this.deletedAfterSnapshot.add(key);
      }
    } else if (ext) {
      this.stored.set(key, r[1]);
      this.deletedAfterSnapshot.delete(key);
    } else this.values.set(key, r[1]);
  }

  private isExternal(key: string): boolean {
    return this.external !== undefined && key.startsWith(this.external);
  }

  private failureError(): Error {
    return new Error(`meta store ${this.dir} failed earlier and must be reopened`, { cause: this.failure });
  }
}

function logName(gen: number): string {
  return `registry-${gen.toString().padStart(12, '0')}.log`;
}

async function writeFully(fd: number, buf: Buffer, position: number): Promise<void> {
  for (let done = 0; done < buf.length;) {
    const { bytesWritten } = await writeAsync(fd, buf, done, buf.length - done, position + done);
    done += bytesWritten;
  }
}

async function syncDir(dir: string): Promise<void> {
  const d = openSync(dir, 'r');
  try {
    await fsyncAsync(d);
  } finally {
    closeSync(d);
  }
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}
