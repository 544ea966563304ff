// Routing state shared by every table of one router: the entry table, the result buffer and its dedupe marks, counters.
import { EntryTable } from '../index/entries.js';
import { EpochMarks } from '../index/epoch-marks.js';
import type { RouterCounters } from './types.js';

export const HISTOGRAM_BUCKETS = 9;

export function newCounters(): RouterCounters {
  return {
    routes: 0,
    rows: 0,
    lookups: 0,
    postingsProbed: 0,
    residualsEvaluated: 0,
    failOpen: 0,
    failedOpenIds: 0,
    evaluationWork: 0,
    slowEvaluations: 0,
    matches: new Array<number>(HISTOGRAM_BUCKETS).fill(0),
  };
}

/**
 * Results up to this size are deduplicated by scanning `out` (a cache line or two already in L1) instead of marking
 * a per-shape stamp: at millions of shapes the stamp array is megabytes, and its random write was one more cache miss
 * per emitted id (issue 12). Past it, `out` is marked and the stamps take over.
 */
const SCAN_LIMIT = 16;

export class RouteContext {
  readonly entries = new EntryTable(1024);
  /**
   * Shapes already in `out` for the current change, once `out` outgrew SCAN_LIMIT (see `marked`). Sized to the shape
   * integers on first use only: a router whose rows never reach more than SCAN_LIMIT shapes never allocates it.
   */
  private readonly marks = new EpochMarks(1);
  /** How many of `out`'s shapes are in `marks` (0 while `out` is small, then all of them). */
  private marked = 0;
  readonly out: number[] = [];
  /** Shapes already in `failed` for the current change, once `failed` outgrew SCAN_LIMIT (as `marks`). */
  private readonly failedMarks = new EpochMarks(1);
  private failedMarked = 0;
  /** One past the largest shape integer (what the marks must hold once used). */
  private bound = 0;
  /**
   * The shapes of `out` that were failed open (an expression they depend on raised for the row): the router could
   * not decide them, so whoever consumes the answer must re-check them exactly. Every other shape of `out` is exact.
   */
  readonly failed: number[] = [];
  readonly counters: RouterCounters = newCounters();
  /** The last error that made entries fail open (for logs, stats and explain). */
  lastFailure: unknown = undefined;

  /** Grows the per-shape marks so that shape integers below `n` can be routed. */
  ensure(n: number): void {
    if (n > this.bound) this.bound = n;
    if (this.marks.capacity > 1) this.marks.ensure(n);
    if (this.failedMarks.capacity > 1) this.failedMarks.ensure(n);
  }

  /** Forgets a freed shape integer in every round (it may be handed out again). */
  clear(s: number): void {
    this.marks.clear(s);
    this.failedMarks.clear(s);
  }

  /** Starts a change: empties the result buffers in O(1). */
  begin(): void {
    if (this.marked !== 0) {
      this.marks.next();
      this.marked = 0;
    }
    if (this.failedMarked !== 0) {
      this.failedMarks.next();
      this.failedMarked = 0;
    }
    // Setting an array's length is a runtime call: skipped when already empty (`failed` nearly always is).
    if (this.out.length !== 0) this.out.length = 0;
    if (this.failed.length !== 0) this.failed.length = 0;
  }

  emitShape(s: number): void {
    this.marked = addOnce(this.out, this.marks, this.marked, s, this.bound);
  }

  /** Emits a shape the router could not decide (an expression it depends on raised): it is in `out` and `failed`. */
  emitFailed(s: number): void {
    this.marked = addOnce(this.out, this.marks, this.marked, s, this.bound);
    this.failedMarked = addOnce(this.failed, this.failedMarks, this.failedMarked, s, this.bound);
  }

  /** Whether shape `s` is in `out` for the current change. */
  emitted(s: number): boolean {
    return this.marked > 0 ? this.marks.has(s) : this.out.includes(s);
  }

  /** Whether shape `s` is in `failed` for the current change. */
  emittedFailed(s: number): boolean {
    return this.failedMarked > 0 ? this.failedMarks.has(s) : this.failed.includes(s);
  }

  /** Counts an expression that raised for the row (its dependents are being failed open). */
  noteFailure(err: unknown): void {
    this.counters.failOpen++;
    this.lastFailure = err;
  }

  finish(): void {
    const c = this.counters;
    c.routes++;
    c.failedOpenIds += this.failed.length;
    const n = this.out.length;
    const m = c.matches;
    const bucket = n < HISTOGRAM_BUCKETS - 1 ? n : HISTOGRAM_BUCKETS - 1;
    m[bucket] = (m[bucket] ?? 0) + 1;
  }
}

/**
 * Appends `s` to `list` unless already there: by scanning while the list is short, then by `marks` (every item of
 * the list marked from then on). `marked` is how many items are marked; returns its new value.
 */
function addOnce(list: number[], marks: EpochMarks, marked: number, s: number, bound: number): number {
  const n = list.length;
  if (n < SCAN_LIMIT) {
    for (let i = 0; i < n; i++) if (list[i] === s) return marked;
    list.push(s);
    return marked;
  }
  if (marked < n) {
    if (marked === 0) marks.ensure(bound);
    for (let i = marked; i < n; i++) marks.mark(list[i] as number);
    marked = n;
  }
  if (marks.mark(s)) {
    list.push(s);
    marked++;
  }
  return marked;
}
