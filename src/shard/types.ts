// Public option and stats types of the sharded router.
import type { LaneKind, RouterMode, ShapeDef } from '../router/index.js';
import type { Transport } from './batch-codec.js';
import type { HotKey, OpenPlacement } from './directory.js';

export interface ShardedRouterOptions {
  /** As Router: `"schema.table"` → `{ column: typeName }`. */
  readonly schema: Record<string, Record<string, string>>;
  /** Worker threads (default: defaultShardCount(), one per core; measured in bench/shard-bench.ts). */
  readonly shards?: number;
  readonly mode?: RouterMode;
  /** How batches cross to workers (default `'shared'`: SharedArrayBuffer; see bench/shard-bench.ts). */
  readonly transport?: Transport;
  /**
   * Where shapes go: 'rows' (default, measured fastest) puts every shape on every shard and cuts each batch into
   * contiguous parts, one per shard (a batch smaller than two parts goes whole to one shard); 'replicate' places keyed shapes by key and the others on every shard; 'spread' places the others
   * round robin. See OpenPlacement.
   */
  readonly placement?: OpenPlacement;
  /**
   * With the 'rows' placement, the fewest changes one shard is sent when a batch is split (default 64: below it the
   * extra message round trip costs more than a second core saves).
   */
  readonly minSplitPart?: number;
  /**
   * With the 'rows' placement and 2+ shards: shard 0 is a Router on the calling thread instead of a worker (default
   * false). The caller routes its part of each split batch itself while the workers route theirs, instead of waiting;
   * on 2 cores `shards: 2, localShard: true` (one worker) measured faster per awaited batch than two workers (see
   * bench/results/shard-single-batch.md), at the price of blocking the caller's event loop for its part of each batch.
   * Not with crashShard/killShard on shard 0 (it has no worker).
   */
  readonly localShard?: boolean;
  /** A routing key with more shapes than this is split across shards (default 10,000). */
  readonly hotKeyThreshold?: number;
  /** Skip a key column's shard when no shape has the row's key (default true). */
  readonly keyFilter?: boolean;
  /** Times a batch is retried on a restarted shard before it is rejected (default 1). */
  readonly maxRetries?: number;
  /** Called when a dead shard has been restarted (it is being rebuilt from the registry). */
  readonly onRestart?: (shard: number, reason: string) => void;
}

/**
 * One shape for ShardedRouter.addShapes: `{ id, def }`, or the shape file's line form `{ id, table, where?, params? }`
 * (what loadShapes reads), so the lines of a file can be passed as they are.
 */
export type ShapeEntry = { readonly id: string; readonly def: ShapeDef } | ({ readonly id: string } & ShapeDef);

/** What ShardedRouter.addShapes applied, and each shape it refused with the error (WhereError, RouterError…). */
export interface AddShapesResult {
  readonly added: number;
  readonly errors: readonly { readonly id: string; readonly error: Error }[];
}

export interface ShardStats {
  readonly shard: number;
  readonly shapes: number;
  /** Distinct keys over the shard's indexes. */
  readonly keys: number;
  readonly entries: number;
  readonly estimatedBytes: number;
  /** Changes sent to the shard by the dispatcher, and changes and rows it routed (since its last restart). */
  readonly changesSent: number;
  readonly changes: number;
  readonly rows: number;
  /** Time the worker spent routing, in ms. */
  readonly busyMs: number;
  readonly restarts: number;
}

export interface ShardedStats {
  /** Shapes by lane, each shape counted once (a replicated shape is counted in one shard). */
  readonly lanes: Record<LaneKind, number>;
  /** Expressions that raised and failed their dependents open, summed over the workers since their last restart. */
  readonly failOpen: number;
  /** Shape ids answered failed open (re-checked by the caller), summed likewise. */
  readonly failedOpenIds: number;
  /** Work units charged evaluating expressions, and evaluations that charged ≥ 1 nominal ms, summed likewise. */
  readonly evaluationWork: number;
  readonly slowEvaluations: number;
  readonly mode: RouterMode;
  readonly transport: Transport;
  readonly shapes: number;
  /** Shapes placed by routing key, and the others (spread round robin). */
  readonly keyed: number;
  readonly open: number;
  /** Shapes held by every shard (open shapes under 'replicate', all under 'rows'). */
  readonly replicated: number;
  readonly shards: readonly ShardStats[];
  /** Split hot keys, most shapes first. */
  readonly hotKeys: readonly HotKey[];
}
