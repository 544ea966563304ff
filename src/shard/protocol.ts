// Messages between the ShardedRouter and its workers, and error transport across the thread boundary.
import { ErrorCode, RouterError, SwitchyardError, WhereError } from '../errors/index.js';
import type { Change, LaneKind, RouterMode } from '../router/index.js';
import type { Transport } from './batch-codec.js';

/** The code a failed shard's batch is rejected with. */
export const SHARD_FAILED = ErrorCode.ShardFailed;

/** A shard died and its work could not be completed: the batch is rejected whole, never answered partially. */
export class ShardFailureError extends SwitchyardError {
  constructor(message: string) {
    super(SHARD_FAILED, message);
    this.name = 'ShardFailureError';
  }
}

/**
 * add: [1, gid, table, where, params, replicated]; remove: [0, gid]. Applied in order. A replicated shape (one
 * without a routing key, under the 'replicate' placement) lives in every shard's second router, which sees only the
 * rows the dispatcher sends it (each row to one shard).
 */
export type ShapeOp =
  readonly [1, number, string, string | undefined, Record<string, string> | undefined, 0 | 1] | readonly [0, number];

/** Mask bits of a route request: route row i through the shard's placed router, its replicated router, or both. */
export const VIA_PLACED = 1;
export const VIA_REPLICATED = 2;

export interface InitMessage {
  readonly t: 'init';
  readonly schema: Record<string, Record<string, string>>;
  readonly mode: RouterMode;
  /** Table names and column order of the batch layout (the dispatcher's, so both sides agree). */
  readonly tableNames: readonly string[];
  readonly tableColumns: readonly (readonly string[])[];
  /** The dispatching process's compile budget and row operation limit (work-budget.ts), so workers judge alike. */
  readonly compileBudgetMs: number;
  readonly rowOperationLimitMs: number;
  readonly shapeRowBudgetMs: number;
}

/** A packed range (batch-codec.ts): SharedArrayBuffer views under 'shared', copies under 'packed'. */
export type RouteBody =
  | {
      readonly transport: 'shared' | 'packed';
      readonly header: Int32Array;
      readonly text: Uint8Array | Uint16Array;
      readonly wide: boolean;
    }
  /** changes[from ?? 0, to ?? length): a worker is posted a slice; the local shard reads the caller's array in place. */
  | {
      readonly transport: 'clone';
      readonly changes: readonly Change[];
      readonly tables: Int32Array;
      readonly from?: number;
      readonly to?: number;
    };

export type Request =
  | { readonly t: 'ops'; readonly seq: number; readonly ops: readonly ShapeOp[] }
  /** mask[i]: VIA_* bits for change i (null: every change through both routers). */
  | ({ readonly t: 'route'; readonly seq: number; readonly mask: Uint8Array | null } & RouteBody)
  | { readonly t: 'stats'; readonly seq: number }
  | { readonly t: 'crash'; readonly seq: number; readonly afterRoutes: number };

export interface WorkerStats {
  /** Shapes by lane in the shard's own (placed) router and in its replicated router, kept apart so that the
   * dispatcher counts a replicated shape once, not once per shard. */
  readonly placedLanes: Record<LaneKind, number>;
  readonly replicatedLanes: Record<LaneKind, number>;
  /** Expressions that raised in this worker and failed their dependents open, and the ids answered failed open. */
  readonly failOpen: number;
  readonly failedOpenIds: number;
  /** Work units charged evaluating expressions in this worker, and the evaluations that charged ≥ 1 nominal ms. */
  readonly evaluationWork: number;
  readonly slowEvaluations: number;
  readonly shapes: number;
  readonly keys: number;
  readonly entries: number;
  readonly estimatedBytes: number;
  readonly changes: number;
  readonly rows: number;
  readonly busyMs: number;
}

/** Route result: offs[i]..offs[i+1] are the global ids matched by change i. */
export interface RouteResult {
  readonly offs: Int32Array;
  readonly ids: Int32Array;
  /** failOffs[i]..failOffs[i+1] are the global ids among change i's that the shard's router failed open. */
  readonly failOffs: Int32Array;
  readonly failIds: Int32Array;
  /** When the shard finished the batch (wall-clock ms, wallNow): the dispatcher sizes the next split by it. */
  readonly doneAt: number;
}

export type Reply =
  | { readonly seq: number; readonly ok: true; readonly result: unknown }
  | { readonly seq: number; readonly ok: false; readonly error: ErrorJson };

export interface ErrorJson {
  readonly name: string;
  readonly code: string;
  readonly message: string;
  readonly position?: number;
  readonly length?: number;
}

export function errorToJson(err: unknown): ErrorJson {
  if (err instanceof SwitchyardError) {
    const e = err as SwitchyardError & { position?: number; length?: number };
    return {
      name: e.name,
      code: e.code,
      message: e.message,
      ...(e.position !== undefined ? { position: e.position, length: e.length } : {}),
    };
  }
  return { name: 'Error', code: '', message: err instanceof Error ? err.message : String(err) };
}

/** Rebuilds the error class a worker threw, so callers can catch WhereError/RouterError as with a local Router. */
export function errorFromJson(j: ErrorJson): Error {
  if (j.name === 'WhereError') return new WhereError(j.code as ErrorCode, j.message, j.position, j.length);
  if (j.name === 'RouterError') return new RouterError(j.code as ErrorCode, j.message);
  if (j.code !== '') return new SwitchyardError(j.code as ErrorCode, j.message);
  return new ShardFailureError(`shard worker failed: ${j.message}`);
}

export type { Transport };
