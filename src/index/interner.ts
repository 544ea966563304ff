// Interns string ids (shape ids) to dense, reusable integers so hot paths index typed arrays instead of hashing.
import { KeyTable } from './key-table.js';

export class Interner {
  private readonly table = new KeyTable<string>();

  /** The integer of `name`, or -1. */
  get(name: string): number {
    return this.table.find(name);
  }

  /** Allocates an integer for a name that is not interned yet (the caller checks duplicates). */
  add(name: string): number {
    return this.table.insert(name);
  }

  /** Frees the integer of `name`; it may be handed out again by a later `add`. */
  delete(name: string): number {
    return this.table.remove(name);
  }

  nameOf(i: number): string | undefined {
    return this.table.keys[i];
  }

  get size(): number {
    return this.table.size;
  }

  /** One past the largest integer ever handed out: the capacity per-id arrays need. */
  get bound(): number {
    return this.table.bound;
  }
}
