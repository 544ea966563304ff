// Per-row deduplication and memoisation keyed by small integers, reset in O(1) by bumping an epoch stamp.

/** A set of small non-negative integers that is emptied in O(1): no Set or clearing per routed row. */
export class EpochMarks {
  private stamps: Uint32Array;
  private epoch = 1;

  constructor(capacity = 64) {
    this.stamps = new Uint32Array(Math.max(1, capacity));
  }

  /** Grows so that ids below `n` can be marked; callers ensure capacity when ids are allocated, not per row. */
  ensure(n: number): void {
    if (n <= this.stamps.length) return;
    let cap = this.stamps.length;
    while (cap < n) cap *= 2;
    const next = new Uint32Array(cap);
    next.set(this.stamps);
    this.stamps = next;
  }

  /** Starts a new, empty round. */
  next(): void {
    this.epoch++;
    if (this.epoch === 0xffffffff) {
      this.stamps.fill(0);
      this.epoch = 1;
    }
  }

  /** Marks `i`; true when it was not marked yet in this round. */
  mark(i: number): boolean {
    if (this.stamps[i] === this.epoch) return false;
    this.stamps[i] = this.epoch;
    return true;
  }

  has(i: number): boolean {
    return this.stamps[i] === this.epoch;
  }

  /** Forgets `i` in every round (used when an id is freed and may be reused). */
  clear(i: number): void {
    if (i < this.stamps.length) this.stamps[i] = 0;
  }

  get capacity(): number {
    return this.stamps.length;
  }
}

/**
 * Per-round memo of a small code per id (residual verdicts: 0 false, 1 true, 2 raised): a stamp says whether the
 * cached code is from this round.
 */
export class EpochMemo {
  private stamps: Uint32Array;
  private bits: Uint8Array;
  private epoch = 1;

  constructor(capacity = 64) {
    this.stamps = new Uint32Array(Math.max(1, capacity));
    this.bits = new Uint8Array(Math.max(1, capacity));
  }

  ensure(n: number): void {
    if (n <= this.stamps.length) return;
    let cap = this.stamps.length;
    while (cap < n) cap *= 2;
    const s = new Uint32Array(cap);
    s.set(this.stamps);
    const b = new Uint8Array(cap);
    b.set(this.bits);
    this.stamps = s;
    this.bits = b;
  }

  next(): void {
    this.epoch++;
    if (this.epoch === 0xffffffff) {
      this.stamps.fill(0);
      this.epoch = 1;
    }
  }

  /** The code set in this round (a boolean is stored as 0 or 1), -1 when none was. */
  get(i: number): number {
    return this.stamps[i] === this.epoch ? (this.bits[i] as number) : -1;
  }

  set(i: number, value: boolean | number): void {
    this.stamps[i] = this.epoch;
    this.bits[i] = value === true ? 1 : value === false ? 0 : value;
  }

  clear(i: number): void {
    if (i < this.stamps.length) this.stamps[i] = 0;
  }
}
