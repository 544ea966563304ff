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
    matches: new Array<number>(HISTOGRAM_BUCKETS).fill(0),
  };
}

export class RouteContext {
  readonly entries = new EntryTable(1024);
  /** Shapes already in `out` for the current change (an update routes two rows into one result). */
  readonly marks = new EpochMarks(1024);
  readonly out: number[] = [];
  readonly counters: RouterCounters = newCounters();
  /** The last error that made a row fail open (for logs and explain). */
  lastFailure: unknown = undefined;

  /** Starts a change: empties the result buffer in O(1). */
  begin(): void {
    this.marks.next();
    this.out.length = 0;
  }

  emitShape(s: number): void {
    if (this.marks.mark(s)) this.out.push(s);
  }

  finish(): void {
    const c = this.counters;
    c.routes++;
    const n = this.out.length;
    const m = c.matches;
    const bucket = n < HISTOGRAM_BUCKETS - 1 ? n : HISTOGRAM_BUCKETS - 1;
    m[bucket] = (m[bucket] ?? 0) + 1;
  }
}
