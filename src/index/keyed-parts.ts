// Threshold families: per equality key, a structure of bounds over other probes — `region = 7 AND amount > $1`
// shapes sit under key 7 as sorted bounds, and a row reaches exactly the shapes whose bounds it passes.
import { KeyTable } from './key-table.js';

/** What lives under one key: a RangeIndex (one bounded probe) or BoundPairs (two). */
export interface KeyedPart {
  readonly size: number;
  readonly bytes: number;
  forEachEntry(fn: (entry: number) => void): void;
}

export class KeyedParts<K extends string | number | null, P extends KeyedPart> {
  private readonly table = new KeyTable<Exclude<K, null>>();
  private readonly byId: (P | undefined)[] = [];
  private nullPart: P | undefined;

  constructor(
    /** Makes the part of a new key; the part calls `onEmpty` when its last entry goes. */
    private readonly make: (onEmpty: () => void) => P,
    /** Called when the last key goes (the owner then drops the family). */
    private readonly onEmpty: () => void,
  ) {}

  /** The part under `key`, or undefined. */
  get(key: K): P | undefined {
    if (key === null) return this.nullPart;
    const id = this.table.find(key as Exclude<K, null>);
    return id < 0 ? undefined : this.byId[id];
  }

  /** The part under `key`, created when absent. */
  ensure(key: K): P {
    let part = this.get(key);
    if (part === undefined) {
      part = this.make(() => this.drop(key));
      if (key === null) this.nullPart = part;
      else this.byId[this.table.intern(key as Exclude<K, null>)] = part;
    }
    return part;
  }

  private drop(key: K): void {
    if (key === null) this.nullPart = undefined;
    else {
      const id = this.table.remove(key as Exclude<K, null>);
      if (id >= 0) this.byId[id] = undefined;
    }
    if (this.keyCount === 0) this.onEmpty();
  }

  /** Calls `fn` for every entry under every key (a fail-open of the whole family). */
  forEachEntry(fn: (entry: number) => void): void {
    for (const p of this.byId) p?.forEachEntry(fn);
    this.nullPart?.forEachEntry(fn);
  }

  get keyCount(): number {
    return this.table.size + (this.nullPart === undefined ? 0 : 1);
  }

  get size(): number {
    let n = this.nullPart?.size ?? 0;
    for (const p of this.byId) n += p?.size ?? 0;
    return n;
  }

  get bytes(): number {
    let b = this.table.bytes + this.byId.length * 8 + (this.nullPart?.bytes ?? 0);
    for (const p of this.byId) b += p?.bytes ?? 0;
    return b;
  }
}
