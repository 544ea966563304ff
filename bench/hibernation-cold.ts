// Hibernation prototype (issue 5): a frozen, packed string → int multimap for cold shapes, exact by key comparison.
//
// Layout (n entries, sorted by a 32-bit hash of the key): `hashes` Uint32, `values` Int32 (a payload per entry;
// -1 is a tombstone), `starts` Uint32 offsets into one byte arena (bit 31 set when the key is stored as UTF-16 code
// units instead of one byte per unit), and a radix directory over the hash's top bits (~1 byte per entry) so that a
// probe is one directory read plus a scan of a few adjacent hashes. Keys are compared code unit by code unit, so
// lookups are exact for every JS string (lone surrogates included); the hash only narrows the candidates.

const WIDE = 0x80000000;
const OFFSET = 0x7fffffff;

/** FNV-1a over UTF-16 code units, finished with murmur3's fmix32 so the directory's top bits are uniform. */
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function isNarrow(key: string): boolean {
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) > 0xff) return false;
  return true;
}

export class ColdIndex {
  readonly size: number;
  private readonly hashes: Uint32Array;
  private readonly values: Int32Array;
  private readonly starts: Uint32Array;
  private readonly arena: Uint8Array;
  private readonly dir: Uint32Array;
  private readonly shift: number;
  private dead = 0;

  private constructor(
    hashes: Uint32Array,
    values: Int32Array,
    starts: Uint32Array,
    arena: Uint8Array,
    dir: Uint32Array,
    shift: number,
  ) {
    this.size = hashes.length;
    this.hashes = hashes;
    this.values = values;
    this.starts = starts;
    this.arena = arena;
    this.dir = dir;
    this.shift = shift;
  }

  /** Packs `keys[i] → values[i]` (duplicate keys allowed: a multimap). O(n log n) for the sort. */
  static build(keys: readonly string[], values: ArrayLike<number>): ColdIndex {
    const n = keys.length;
    const h = new Uint32Array(n);
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const k = keys[i] as string;
      h[i] = hashKey(k);
      bytes += isNarrow(k) ? k.length : 2 * k.length;
    }
    if (bytes > OFFSET) throw new RangeError('cold index arena over 2 GiB');
    // Counting sort by the directory bucket (top hash bits), then insertion sort inside each (a few entries):
    // O(n), and it yields the directory.
    const dirBits = Math.max(1, Math.min(24, Math.floor(Math.log2(Math.max(2, n))) - 2));
    const shift = 32 - dirBits;
    const buckets = 2 ** dirBits;
    const dir = new Uint32Array(buckets + 1);
    for (let i = 0; i < n; i++) {
      const b = ((h[i] as number) >>> shift) + 1;
      dir[b] = (dir[b] as number) + 1;
    }
    for (let b = 0; b < buckets; b++) dir[b + 1] = (dir[b + 1] as number) + (dir[b] as number);
    const fill = dir.slice(0, buckets);
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const b = (h[i] as number) >>> shift;
      order[fill[b] as number] = i;
      fill[b] = (fill[b] as number) + 1;
    }
    for (let b = 0; b < buckets; b++) {
      const lo = dir[b] as number;
      const hi = dir[b + 1] as number;
      for (let j = lo + 1; j < hi; j++) {
        const x = order[j] as number;
        const hx = h[x] as number;
        let k = j - 1;
        while (k >= lo && (h[order[k] as number] as number) > hx) {
          order[k + 1] = order[k] as number;
          k--;
        }
        order[k + 1] = x;
      }
    }
    const hashes = new Uint32Array(n);
    const vals = new Int32Array(n);
    const starts = new Uint32Array(n + 1);
    const arena = new Uint8Array(bytes);
    let at = 0;
    for (let j = 0; j < n; j++) {
      const i = order[j] as number;
      const k = keys[i] as string;
      hashes[j] = h[i] as number;
      vals[j] = values[i] as number;
      if (isNarrow(k)) {
        starts[j] = at;
        for (let c = 0; c < k.length; c++) arena[at++] = k.charCodeAt(c);
      } else {
        starts[j] = at | WIDE;
        for (let c = 0; c < k.length; c++) {
          const u = k.charCodeAt(c);
          arena[at++] = u & 0xff;
          arena[at++] = u >>> 8;
        }
      }
    }
    starts[n] = at;
    return new ColdIndex(hashes, vals, starts, arena, dir, shift);
  }

  /** Whether the key stored at position `j` equals `key`. */
  private keyEquals(j: number, key: string): boolean {
    const s = this.starts[j] as number;
    const from = s & OFFSET;
    const to = (this.starts[j + 1] as number) & OFFSET;
    const a = this.arena;
    if ((s & WIDE) === 0) {
      if (to - from !== key.length) return false;
      for (let c = 0; c < key.length; c++) if (a[from + c] !== key.charCodeAt(c)) return false;
      return true;
    }
    if (to - from !== 2 * key.length) return false;
    for (let c = 0; c < key.length; c++)
      if (((a[from + 2 * c] as number) | ((a[from + 2 * c + 1] as number) << 8)) !== key.charCodeAt(c)) return false;
    return true;
  }

  /** First position holding `key` (tombstoned or not), or -1; equal keys are adjacent among equal hashes. */
  private first(key: string, h: number): number {
    const b = h >>> this.shift;
    const end = this.dir[b + 1] as number;
    const hashes = this.hashes;
    for (let j = this.dir[b] as number; j < end; j++) {
      const x = hashes[j] as number;
      if (x < h) continue;
      if (x > h) return -1;
      if (this.keyEquals(j, key)) return j;
    }
    return -1;
  }

  /** Calls `fn` with each live value under `key`; returns how many. */
  forEach(key: string, fn: (value: number) => void): number {
    const h = hashKey(key);
    let j = this.first(key, h);
    if (j < 0) return 0;
    let n = 0;
    const hashes = this.hashes;
    for (; j < this.size && hashes[j] === h; j++) {
      if (!this.keyEquals(j, key)) continue;
      const v = this.values[j] as number;
      if (v >= 0) {
        fn(v);
        n++;
      }
    }
    return n;
  }

  /** Whether any live value is stored under `key` (the probe a row makes when it does not match). */
  has(key: string): boolean {
    return this.forEach(key, noop) > 0;
  }

  /** Tombstones one (key, value) pair; false when absent. The arrays never shrink: a rebuild reclaims the space. */
  remove(key: string, value: number): boolean {
    const h = hashKey(key);
    let j = this.first(key, h);
    if (j < 0) return false;
    for (; j < this.size && this.hashes[j] === h; j++) {
      if (this.values[j] === value && this.keyEquals(j, key)) {
        this.values[j] = -1;
        this.dead++;
        return true;
      }
    }
    return false;
  }

  /** Position-addressed access (for an index whose positions are used as ordinals, like the id index). */
  valueAt(j: number): number {
    return this.values[j] as number;
  }

  setValueAt(j: number, v: number): void {
    if ((this.values[j] as number) >= 0 && v < 0) this.dead++;
    this.values[j] = v;
  }

  /** The position of `key` whose value is live, or -1 (keys of an id index are unique). */
  indexOf(key: string): number {
    const h = hashKey(key);
    let j = this.first(key, h);
    if (j < 0) return -1;
    for (; j < this.size && this.hashes[j] === h; j++)
      if ((this.values[j] as number) >= 0 && this.keyEquals(j, key)) return j;
    return -1;
  }

  /** The key at position `j`, materialised (route output of a cold match; never on a miss). */
  keyAt(j: number): string {
    const s = this.starts[j] as number;
    const from = s & OFFSET;
    const to = (this.starts[j + 1] as number) & OFFSET;
    const a = this.arena;
    let out = '';
    if ((s & WIDE) === 0) for (let c = from; c < to; c++) out += String.fromCharCode(a[c] as number);
    else for (let c = from; c < to; c += 2) out += String.fromCharCode((a[c] as number) | ((a[c + 1] as number) << 8));
    return out;
  }

  get live(): number {
    return this.size - this.dead;
  }

  /** Bytes of the typed arrays (all of the structure but a few object headers). */
  get bytes(): number {
    return (
      this.hashes.byteLength +
      this.values.byteLength +
      this.starts.byteLength +
      this.arena.byteLength +
      this.dir.byteLength
    );
  }
}

function noop(): void {}

/** One hibernated shape: its id, family (0: `user_id = $1`, 1: `tags @> $1` with one element) and index key. */
export interface ColdShape {
  readonly id: string;
  readonly fam: 0 | 1;
  readonly key: string;
}

/** Re-creates the shape definition a cold shape came from (its key is the parameter, quoted as an array literal). */
export function coldDef(
  table: string,
  fam: 0 | 1,
  key: string,
): { table: string; where: string; params: Record<string, string> } {
  if (fam === 0) return { table, where: 'user_id = $1', params: { '1': key } };
  return { table, where: 'tags @> $1', params: { '1': `{"${key.replace(/["\\]/g, '\\$&')}"}` } };
}
