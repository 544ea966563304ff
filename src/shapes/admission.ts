// Admission limits of the shape service: caps on concurrent creations, on shapes (total and per table), on the
// creation latency Postgres allows, and on the size and complexity of a where clause, so that no single client can
// exhaust the service by creating shapes.
import { ErrorCode } from '../errors/index.js';
import { childrenOf, type Expr } from '../sql/ast.js';
import { ShapeCreationError, ShapeRequestError } from './types.js';

export interface AdmissionLimits {
  /** Shape creations (catalog read, publication, snapshot) running at once; one more is refused with 429. Every
   * limit: 0 means none. */
  readonly maxConcurrentCreations?: number;
  /** Shapes the service holds, counting creations in flight; one more is refused with 503. */
  readonly maxShapes?: number;
  /** The same per table. */
  readonly maxShapesPerTable?: number;
  /** UTF-8 bytes of a where clause; beyond: 400 `where_too_complex` (without it the compiler's 65,536 apply). */
  readonly maxWhereBytes?: number;
  /** Nodes of the analysed, normalized clause (operators, calls, columns, constants); beyond: 400. */
  readonly maxWhereNodes?: number;
  /** `retry-after` of a 429 (too many creations); a 503 for a shape limit says `retryAfterSeconds × 30`. */
  readonly retryAfterSeconds?: number;
  /**
   * Milliseconds a creation may take at the current pace: while at least `SHED_MIN_RUNNING` creations run and recent
   * ones took longer than this (Postgres answering snapshots slower than they arrive), a new creation is refused with
   * 429 and a `retry-after` derived from that pace instead of queueing behind the others.
   */
  readonly maxCreationLatencyMs?: number;
}

export const DEFAULT_ADMISSION: Required<AdmissionLimits> = {
  maxConcurrentCreations: 32,
  maxShapes: 0,
  maxShapesPerTable: 0,
  maxWhereBytes: 0,
  maxWhereNodes: 20_000,
  retryAfterSeconds: 1,
  maxCreationLatencyMs: 20_000,
};

/**
 * Below this many running creations the latency limit does not shed: one large table's snapshot may take long without
 * the service being busy, and a client must always be able to create a shape on an idle service.
 */
export const SHED_MIN_RUNNING = 4;
/** Weight of the newest creation in the smoothed latency (about the last ten creations count). */
const LATENCY_ALPHA = 0.2;
/** A paced retry-after never exceeds this: the client retries anyway, and a minute is long for a user to wait. */
const MAX_RETRY_AFTER_SECONDS = 60;

/** The code of a too-large or too-complex clause travels in the error-details header, as a rejected clause's does. */
const WHERE_TOO_COMPLEX_DETAILS = { where: { code: ErrorCode.WhereTooComplex } };

/** Requests refused by each limit since start (exported as `switchyard_admission_rejected_total{reason}`). */
export interface AdmissionCounters {
  tooManyCreations: number;
  /** Refused because creations took longer than `maxCreationLatencyMs` at the current pace. */
  creationLatency: number;
  shapeLimit: number;
  whereTooComplex: number;
}

/** Counts the nodes of `expr`, stopping early once `limit` is passed (the answer is then `limit + 1`). */
export function countNodes(expr: Expr, limit = Infinity): number {
  let n = 0;
  const stack: Expr[] = [expr];
  while (stack.length > 0 && n <= limit) {
    const e = stack.pop()!;
    n++;
    for (const c of childrenOf(e)) stack.push(c);
  }
  return Math.min(n, limit + 1);
}

export class Admission {
  readonly limits: Required<AdmissionLimits>;
  readonly counters: AdmissionCounters = { tooManyCreations: 0, creationLatency: 0, shapeLimit: 0, whereTooComplex: 0 };
  private running = 0;
  private readonly runningByTable = new Map<string, number>();
  /** Smoothed duration of the creations that succeeded lately (ms); 0 before the first. */
  private latencyMs = 0;

  /** `now` is the clock creations are timed with (tests pass their own). */
  constructor(
    limits: AdmissionLimits = {},
    private readonly now: () => number = () => performance.now(),
  ) {
    const merged = { ...DEFAULT_ADMISSION };
    for (const [k, v] of Object.entries(limits) as [keyof AdmissionLimits, number | undefined][]) {
      if (v === undefined) continue;
      if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`admission limit ${k} must be an integer ≥ 0`);
      merged[k] = v;
    }
    this.limits = merged;
  }

  /**
   * Admits one shape creation for `table` or throws: `ShapeRequestError` for a where clause over the byte limit,
   * `ShapeCreationError` (429/503) for the concurrency and count limits. `shapes` and `tableShapes` are the shapes
   * registered now; creations in flight are added, so concurrent requests cannot overshoot a limit. The returned
   * function releases the slot when the creation settles; `succeeded` creations time the pace the latency limit and
   * paced retry-afters follow (a refused clause fails fast and says nothing about Postgres).
   */
  begin(table: string, where: string | undefined, shapes: number, tableShapes: number): (succeeded?: boolean) => void {
    const l = this.limits;
    if (l.maxWhereBytes > 0 && where !== undefined && Buffer.byteLength(where) > l.maxWhereBytes) {
      this.counters.whereTooComplex++;
      throw new ShapeRequestError(
        {
          where: [
            `where clause too large: ${Buffer.byteLength(where)} bytes (this service's limit is ${l.maxWhereBytes})`,
          ],
        },
        ErrorCode.WhereTooComplex,
        WHERE_TOO_COMPLEX_DETAILS,
      );
    }
    if (l.maxConcurrentCreations > 0 && this.running >= l.maxConcurrentCreations) {
      this.counters.tooManyCreations++;
      throw new ShapeCreationError(
        `${this.running} shapes are being created; at most ${l.maxConcurrentCreations} at once`,
        // A slot frees about every latency / running: a client asked to come back sooner would only be refused again.
        this.pacedRetryAfter(this.latencyMs / this.running),
        { code: ErrorCode.TooManyCreations },
      );
    }
    if (l.maxCreationLatencyMs > 0 && this.running >= SHED_MIN_RUNNING && this.latencyMs > l.maxCreationLatencyMs) {
      this.counters.creationLatency++;
      throw new ShapeCreationError(
        `shape creations take ${Math.round(this.latencyMs)} ms at the current pace (this service's limit is ${l.maxCreationLatencyMs} ms, ${this.running} running): Postgres is answering snapshots slower than they arrive`,
        this.pacedRetryAfter(this.latencyMs),
        { code: ErrorCode.TooManyCreations },
      );
    }
    const inTable = this.runningByTable.get(table) ?? 0;
    if (l.maxShapes > 0 && shapes + this.running >= l.maxShapes)
      this.refuseCount(`the service holds its limit of ${l.maxShapes} shapes`);
    if (l.maxShapesPerTable > 0 && tableShapes + inTable >= l.maxShapesPerTable)
      this.refuseCount(`table ${table} holds its limit of ${l.maxShapesPerTable} shapes`);
    this.running++;
    this.runningByTable.set(table, inTable + 1);
    const started = this.now();
    let released = false;
    return (succeeded = false) => {
      if (released) return;
      released = true;
      if (succeeded) this.observe(this.now() - started);
      this.running--;
      const left = (this.runningByTable.get(table) ?? 1) - 1;
      if (left === 0) this.runningByTable.delete(table);
      else this.runningByTable.set(table, left);
    };
  }

  /** The smoothed duration of recent successful creations (ms; 0 before the first). */
  get creationLatencyMs(): number {
    return this.latencyMs;
  }

  private observe(ms: number): void {
    this.latencyMs = this.latencyMs === 0 ? ms : this.latencyMs + LATENCY_ALPHA * (ms - this.latencyMs);
  }

  private pacedRetryAfter(ms: number): number {
    const paced = Math.ceil(ms / 1000);
    return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(this.limits.retryAfterSeconds, paced));
  }

  /** Rejects a compiled clause with more nodes than the limit (400 `where_too_complex`). */
  checkWhereTree(expr: Expr): void {
    const max = this.limits.maxWhereNodes;
    if (max === 0) return;
    const n = countNodes(expr, max);
    if (n <= max) return;
    this.counters.whereTooComplex++;
    throw new ShapeRequestError(
      { where: [`where clause too complex: more than ${max} nodes after analysis (this service's limit)`] },
      ErrorCode.WhereTooComplex,
      WHERE_TOO_COMPLEX_DETAILS,
    );
  }

  private refuseCount(message: string): never {
    this.counters.shapeLimit++;
    throw new ShapeCreationError(message, this.limits.retryAfterSeconds * 30, { code: ErrorCode.ShapeLimit });
  }
}
