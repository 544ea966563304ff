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

export class RouteContext {
  readonly entries = new EntryTable(1024);
  /** Shapes already in `out` for the current change (an update routes two rows into one result). */
  readonly marks = new EpochMarks(1024);
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
    this.failedMarks.next();
    // Setting an array's length is a runtime call: skipped when already empty (`failed` nearly always is).
    if (this.out.length !== 0) this.out.length = 0;
    if (this.failed.length !== 0) this.failed.length = 0;
  }

  emitShape(s: number): void {
    if (this.marks.mark(s)) this.out.push(s);
  }

  /** Emits a shape the router could not decide (an expression it depends on raised): it is in `out` and `failed`. */
  emitFailed(s: number): void {
    if (this.marks.mark(s)) this.out.push(s);
    if (this.failedMarks.mark(s)) this.failed.push(s);
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
