// A small persistent key-value store for service metadata (shape registry, last durable LSN), written atomically.
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { fsync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const fsyncAsync = promisify(fsync);

/** JSON-representable values (bigints must be stored as decimal strings). */
export type MetaValue = string | number | boolean | null | readonly MetaValue[] | { readonly [k: string]: MetaValue };

export interface MetaStoreOptions {
  /**
   * Keys are spread over this many files by hash, so that a commit rewrites only the files holding changed keys:
   * with 100k shapes one new shape rewrites ~1/N of the registry, not all of it. Fixed for a directory's lifetime.
   */
  readonly buckets?: number;
}

const FORMAT = 1;

/**
 * Values live in memory; `commit()` makes every change so far durable. Each dirty bucket file is replaced
 * atomically (write `*.tmp`, fsync, rename over, then one directory fsync), so after a crash each bucket holds
 * either its old or its new contents, never a torn mix. Atomicity is per key (a key never spans buckets), not
 * across keys in different buckets: commit related keys in the order that makes a partial commit harmless.
 */
export class MetaStore {
  /** One map per bucket, so rendering a dirty bucket costs its own size only. */
  private readonly data: Map<string, MetaValue>[];
  private count = 0;
  private readonly dirtyBuckets = new Set<number>();
  private inflight: Promise<void> = Promise.resolve();

  private constructor(
    readonly dir: string,
    private readonly buckets: number,
  ) {
    this.data = Array.from({ length: buckets }, () => new Map<string, MetaValue>());
  }

  static async open(dir: string, opts: MetaStoreOptions = {}): Promise<MetaStore> {
    mkdirSync(dir, { recursive: true });
    const buckets = opts.buckets ?? 64;
    if (!Number.isInteger(buckets) || buckets < 1 || buckets > 65536) {
      throw new RangeError(`meta store buckets must be an integer in 1..65536, got ${buckets}`);
    }
    const store = new MetaStore(dir, buckets);
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      // A temp file is a commit that never reached its rename: the previous bucket file is still valid.
      if (name.endsWith('.tmp')) unlinkSync(path);
      else if (/^bucket-[0-9]+\.json$/.test(name)) {
        const parsed = JSON.parse(readFileSync(path, 'utf8')) as {
          format: number;
          buckets: number;
          data: Record<string, MetaValue>;
        };
        if (parsed.format !== FORMAT || parsed.buckets !== buckets) {
          throw new RangeError(
            `meta store ${dir} was written with ${parsed.buckets} buckets (format ${parsed.format}), opened with ${buckets}`,
          );
        }
        for (const [k, v] of Object.entries(parsed.data)) store.set(k, v);
      }
    }
    store.dirtyBuckets.clear();
    return store;
  }

  get size(): number {
    return this.count;
  }

  get(key: string): MetaValue | undefined {
    return this.data[this.bucketOf(key)]!.get(key);
  }

  has(key: string): boolean {
    return this.data[this.bucketOf(key)]!.has(key);
  }

  set(key: string, value: MetaValue): void {
    const b = this.bucketOf(key);
    const m = this.data[b]!;
    if (!m.has(key)) this.count++;
    m.set(key, value);
    this.dirtyBuckets.add(b);
  }

  delete(key: string): boolean {
    const b = this.bucketOf(key);
    const had = this.data[b]!.delete(key);
    if (had) {
      this.count--;
      this.dirtyBuckets.add(b);
    }
    return had;
  }

  *keys(): IterableIterator<string> {
    for (const m of this.data) yield* m.keys();
  }

  *entries(): IterableIterator<[string, MetaValue]> {
    for (const m of this.data) yield* m.entries();
  }

  /** Entries whose key starts with `prefix` (e.g. `shape:`), for namespaced use. */
  *entriesWithPrefix(prefix: string): IterableIterator<[string, MetaValue]> {
    for (const e of this.entries()) if (e[0].startsWith(prefix)) yield e;
  }

  /** Makes every change made before the call durable; commits are serialised in call order. */
  commit(): Promise<void> {
    const dirty = [...this.dirtyBuckets];
    this.dirtyBuckets.clear();
    // Serialise file contents now, so later sets do not leak into this commit's view.
    const contents = dirty.map((b) => ({ b, text: this.render(b) }));
    const run = async (): Promise<void> => {
      if (contents.length === 0) return;
      for (const { b, text } of contents) {
        const tmp = join(this.dir, `bucket-${b}.json.tmp`);
        const fd = openSync(tmp, 'w');
        try {
          const buf = Buffer.from(text, 'utf8');
          for (let at = 0; at < buf.length;) at += writeSync(fd, buf, at, buf.length - at, at);
          await fsyncAsync(fd);
        } finally {
          closeSync(fd);
        }
        renameSync(tmp, join(this.dir, `bucket-${b}.json`));
      }
      const dfd = openSync(this.dir, 'r');
      try {
        fsyncSync(dfd);
      } finally {
        closeSync(dfd);
      }
    };
    const p = this.inflight.then(run);
    this.inflight = p.catch(() => undefined);
    return p;
  }

  private render(bucket: number): string {
    const data = Object.fromEntries(this.data[bucket]!);
    return JSON.stringify({ format: FORMAT, buckets: this.buckets, data });
  }

  /** FNV-1a over UTF-16 code units: stable across runs and processes, which the bucket files depend on. */
  private bucketOf(key: string): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) {
      h ^= key.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    return (h >>> 0) % this.buckets;
  }
}
