// Admission limits of the shape service: caps on concurrent creations, on shapes (total and per table), and on the
// size and complexity of a where clause, so that no single client can exhaust the service by creating shapes.
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
}

export const DEFAULT_ADMISSION: Required<AdmissionLimits> = {
  maxConcurrentCreations: 32,
  maxShapes: 0,
  maxShapesPerTable: 0,
  maxWhereBytes: 0,
  maxWhereNodes: 20_000,
  retryAfterSeconds: 1,
};

/** The code of a too-large or too-complex clause travels in the error-details header, as a rejected clause's does. */
const WHERE_TOO_COMPLEX_DETAILS = { where: { code: ErrorCode.WhereTooComplex } };

/** Requests refused by each limit since start (exported as `switchyard_admission_rejected_total{reason}`). */
export interface AdmissionCounters {
  tooManyCreations: number;
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
  readonly counters: AdmissionCounters = { tooManyCreations: 0, shapeLimit: 0, whereTooComplex: 0 };
  private running = 0;
  private readonly runningByTable = new Map<string, number>();

  constructor(limits: AdmissionLimits = {}) {
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
   * function releases the slot when the creation settles.
   */
  begin(table: string, where: string | undefined, shapes: number, tableShapes: number): () => void {
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
        l.retryAfterSeconds,
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
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
      const left = (this.runningByTable.get(table) ?? 1) - 1;
      if (left === 0) this.runningByTable.delete(table);
      else this.runningByTable.set(table, left);
    };
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
