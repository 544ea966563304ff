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
  /** Shapes already in `out` for the current change, once `out` outgrew SCAN_LIMIT (see `marked`). */
  private readonly marks = new EpochMarks(1024);
  /** How many of `out`'s shapes are in `marks` (0 while `out` is small, then all of them). */
  private marked = 0;
  readonly out: number[] = [];
  /** Shapes already in `failed` for the current change. */
  readonly failedMarks = new EpochMarks(1024);
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
    this.marks.ensure(n);
    this.failedMarks.ensure(n);
  }

  /** Forgets a freed shape integer in every round (it may be handed out again). */
  clear(s: number): void {
    this.marks.clear(s);
    this.failedMarks.clear(s);
  }

  /** Starts a change: empties the result buffers in O(1). */
  begin(): void {
    this.marks.next();
    this.marked = 0;
    this.failedMarks.next();
    // Setting an array's length is a runtime call: skipped when already empty (`failed` nearly always is).
    if (this.out.length !== 0) this.out.length = 0;
    if (this.failed.length !== 0) this.failed.length = 0;
  }

  emitShape(s: number): void {
    this.add(s);
  }

  /** Emits a shape the router could not decide (an expression it depends on raised): it is in `out` and `failed`. */
  emitFailed(s: number): void {
    this.add(s);
    if (this.failedMarks.mark(s)) this.failed.push(s);
  }

  /** Whether shape `s` is in `out` for the current change. */
  emitted(s: number): boolean {
    return this.marked > 0 ? this.marks.has(s) : this.out.includes(s);
  }

  /** Appends `s` to `out` unless already there. */
  private add(s: number): void {
    const out = this.out;
    const n = out.length;
    if (n < SCAN_LIMIT) {
      for (let i = 0; i < n; i++) if (out[i] === s) return;
      out.push(s);
      return;
    }
    if (this.marked < n) {
      for (let i = this.marked; i < n; i++) this.marks.mark(out[i] as number);
      this.marked = n;
    }
    if (this.marks.mark(s)) {
      out.push(s);
      this.marked++;
    }
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
