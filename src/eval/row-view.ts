// A row seen through its table's column layout: each referenced column is decoded on first use, once per row.
import { keyerFor, type Keyer } from '../values/comparable.js';
import type { PgType, Value } from '../values/types.js';
import { beginEvaluation } from '../values/work-budget.js';

/** A table's columns in a fixed order, with the decoder (Postgres input function) of each. */
export class ColumnLayout {
  readonly names: readonly string[];
  readonly types: readonly PgType[];
  readonly decoders: readonly ((text: string) => Value)[];
  /** Per column, text → comparable key (see values/comparable.ts), or undefined when its type has none. */
  readonly keyers: readonly (Keyer | undefined)[];
  /**
   * Copies a record's column texts into an array in layout order. Generated with each name as a literal key: records
   * of one table share a hidden class, so every load is monomorphic, where `record[name]` with a varying name is a
   * megamorphic lookup per column read.
   */
  readonly readTexts: (record: Readonly<Record<string, string | null>>, out: (string | null | undefined)[]) => void;
  private readonly byName: Map<string, number>;

  constructor(columns: readonly { name: string; type: PgType; decode: (text: string) => Value }[]) {
    this.names = columns.map((c) => c.name);
    this.types = columns.map((c) => c.type);
    this.decoders = columns.map((c) => c.decode);
    this.keyers = columns.map((c) => keyerFor(c.type, c.decode));
    this.byName = new Map(this.names.map((n, i) => [n, i]));
    this.readTexts = compileTextReader(this.names);
  }

  indexOf(name: string): number {
    return this.byName.get(name) ?? -1;
  }

  get size(): number {
    return this.names.length;
  }
}

/**
 * A function copying a record's values of `names` into `out` in that order (ColumnLayout.readTexts; the shard packer).
 * Names are JSON-quoted, so any column name is a string literal here (never code); `__proto__` is read as an own
 * property only (a literal `r["__proto__"]` would reach Object.prototype's accessor).
 */
export function compileTextReader(
  names: readonly string[],
): (record: Readonly<Record<string, string | null>>, out: (string | null | undefined)[]) => void {
  const body = names
    .map((n, i) => {
      const k = JSON.stringify(n);
      return n === '__proto__' ? `o[${i}] = Object.hasOwn(r, ${k}) ? r[${k}] : undefined;` : `o[${i}] = r[${k}];`;
    })
    .join('\n');
  return new Function('r', 'o', body) as ReturnType<typeof compileTextReader>;
}

/**
 * Reusable view over one record at a time. `reset(record)` starts a new row in O(1) (epoch stamp, no clearing);
 * `get(i)` decodes column i on first use and caches it for the rest of the row. Not reentrant: one row at a time.
 * A decoding failure throws the codec's ValueError (the router fails open on it).
 */
export class RowView {
  record: Readonly<Record<string, string | null>> = {};
  /** The record's column texts in layout order (undefined: the record lacks the column), read once per row. */
  readonly texts: (string | null | undefined)[];
  private readonly cache: (Value | null)[];
  private readonly stamps: Uint32Array;
  /** Comparable keys of this row's columns (NaN: none), valid where keyStamps holds the epoch. */
  private readonly keys: Float64Array;
  private readonly keyStamps: Uint32Array;
  private epoch = 1;

  constructor(readonly layout: ColumnLayout) {
    this.texts = new Array<string | null | undefined>(layout.size).fill(null);
    this.cache = new Array<Value | null>(layout.size).fill(null);
    this.stamps = new Uint32Array(layout.size);
    this.keys = new Float64Array(layout.size);
    this.keyStamps = new Uint32Array(layout.size);
  }

  /** Starts a new row; it is also a new evaluation scope for the work meter's real-time cap (work-budget.ts). */
  reset(record: Readonly<Record<string, string | null>>): this {
    beginEvaluation();
    this.record = record;
    this.layout.readTexts(record, this.texts);
    this.epoch++;
    if (this.epoch === 0xffffffff) {
      this.stamps.fill(0);
      this.keyStamps.fill(0);
      this.epoch = 1;
    }
    return this;
  }

  get(i: number): Value | null {
    if (this.stamps[i] === this.epoch) return this.cache[i] as Value | null;
    const text = this.texts[i];
    const v = text === null || text === undefined ? null : (this.layout.decoders[i] as (t: string) => Value)(text);
    this.cache[i] = v;
    this.stamps[i] = this.epoch;
    return v;
  }

  /**
   * Column i's comparable key for this row (values/comparable.ts), computed from its text on first use: NaN for NULL,
   * for a type without keys, or for a value without an exact key (compare the decoded value instead).
   */
  key(i: number): number {
    if (this.keyStamps[i] === this.epoch) return this.keys[i] as number;
    const text = this.texts[i];
    const keyer = this.layout.keyers[i];
    const k = text === null || text === undefined || keyer === undefined ? NaN : keyer(text);
    this.keys[i] = k;
    this.keyStamps[i] = this.epoch;
    return k;
  }

  /** The raw text of column i (no decoding): equality indexes on canonical-text types key on it directly. */
  raw(i: number): string | null {
    const text = this.texts[i];
    return text === undefined ? null : text;
  }
}
