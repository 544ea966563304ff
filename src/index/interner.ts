// Interns string ids (shape ids) to dense, reusable integers so hot paths index typed arrays instead of hashing.

export class Interner {
  private readonly byName = new Map<string, number>();
  private readonly names: (string | undefined)[] = [];
  private readonly free: number[] = [];

  /** The integer of `name`, or -1. */
  get(name: string): number {
    const i = this.byName.get(name);
    return i === undefined ? -1 : i;
  }

  /** Allocates an integer for a name that is not interned yet (the caller checks duplicates). */
  add(name: string): number {
    const i = this.free.length > 0 ? (this.free.pop() as number) : this.names.length;
    if (i === this.names.length) this.names.push(name);
    else this.names[i] = name;
    this.byName.set(name, i);
    return i;
  }

  /** Frees the integer of `name`; it may be handed out again by a later `add`. */
  delete(name: string): number {
    const i = this.byName.get(name);
    if (i === undefined) return -1;
    this.byName.delete(name);
    this.names[i] = undefined;
    this.free.push(i);
    return i;
  }

  nameOf(i: number): string | undefined {
    return this.names[i];
  }

  get size(): number {
    return this.byName.size;
  }

  /** One past the largest integer ever handed out: the capacity per-id arrays need. */
  get bound(): number {
    return this.names.length;
  }
}
