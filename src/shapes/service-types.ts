// The service's option, event and metrics types (what embedders and the CLI configure and observe).
import type { ShapeLogStoreOptions } from '../log/shape-log-store.js';
import type { ReplicationEvent } from '../replication/replication-client.js';
import type { LaneKind } from '../router/types.js';
import type { AdmissionCounters, AdmissionLimits } from './admission.js';
import type { VisibilityLatencyStats } from './visibility-latency.js';
import type { ProcessCounters } from './change-processor.js';
import type { TableCount } from './table-counts.js';
import type { SliceStats } from './time-slicer.js';
import type { SharedSnapshotStats } from './shared-snapshot.js';

export interface SwitchyardServiceOptions {
  readonly databaseUrl: string;
  readonly dataDir: string;
  /** Replication slot and publication name; default derived from the data directory and then remembered in it. */
  readonly slot?: string;
  readonly publication?: string;
  readonly routerMode?: 'indexed' | 'filter';
  /**
   * Routing backend. `shards` absent or 0: an in-process Router per table (routes synchronously); n ≥ 1: a
   * ShardedRouter with n worker threads per table. `maxRetries`: times a batch is retried on a restarted shard.
   */
  readonly router?: { readonly shards?: number; readonly maxRetries?: number };
  readonly log?: ShapeLogStoreOptions;
  /** Rows fetched per cursor round trip while taking a snapshot. */
  readonly snapshotBatch?: number;
  readonly snapshotConnections?: number;
  /**
   * How often every shape's table is checked against the catalog for schema changes the WAL does not show until the
   * table's next write (DROP, RENAME, a new primary key, an added column), in ms; 0 turns the periodic check off
   * (new clients' requests and Relation messages still check). Default 5000.
   */
  readonly schemaCheckIntervalMs?: number;
  /** Extra walsender startup options (tests shorten wal_sender_timeout). */
  readonly replicationServerOptions?: string;
  /** Caps on concurrent shape creations, shape counts and where-clause size and complexity (admission.ts). */
  readonly admission?: AdmissionLimits;
  /**
   * Work budget for compiling a shape's where clause, constant folding included (nominal ms of counted work):
   * a clause over it is refused with 400 `too_expensive`. Sets the process default (work-budget.ts). Default 50.
   */
  readonly compileBudgetMs?: number;
  /** Cap on one arbitrary-precision step while evaluating a row (nominal ms); beyond it the row raises. Default 2000. */
  readonly rowOperationLimitMs?: number;
  /**
   * Shape row budget: the work one evaluation of a shape's clause (or of one of its router expressions) may charge
   * for one row, in nominal ms. A shape whose evaluation runs out of it is invalidated (clients get 409 and
   * refetch) and the same clause is refused with 400 `too_expensive` from then on. Sets the process default
   * (work-budget.ts). Default 50; Infinity turns it off (the row operation limit still applies).
   */
  readonly shapeRowBudgetMs?: number;
  /**
   * Longest stretch (ms) that processing a replicated transaction holds the event loop before it yields to HTTP
   * (time-sliced routing and appends; the transaction stays atomic for readers). Default 10; Infinity never yields.
   */
  readonly processSliceMs?: number;
  /**
   * Readers see a transaction's entries once all of them are appended, before the group fsync (default true); the
   * slot is acknowledged only after the fsync either way. false shows only fsynced entries: for benchmarking and
   * diagnosis (it adds the fsync to every delivery's latency).
   */
  readonly earlyVisibility?: boolean;
  /**
   * Test and diagnosis hook: waits this many ms before each group fsync, which widens the window in which readers see
   * entries that are not yet durable (the early-visibility crash test). Default 0.
   */
  readonly commitDelayMs?: number;
  /**
   * Test hook: waits this many ms inside each subquery move-in, after its snapshot began and before its query (the
   * kill -9 test lands a crash there). Default 0.
   */
  readonly moveDelayMs?: number;
  /** Structured events (one object per event; the CLI prints them as JSON lines). */
  readonly onEvent?: (event: ServiceEvent) => void;
}

export type ServiceEvent =
  | {
      readonly event: 'shape_created';
      readonly handle: string;
      readonly table: string;
      readonly rows: number;
      readonly ms: number;
    }
  | { readonly event: 'shape_resumed'; readonly count: number; readonly dropped: number }
  /** Logs without a shape found after start (creations that never committed) and deleted. */
  | { readonly event: 'orphan_logs_removed'; readonly count: number }
  | { readonly event: 'shape_invalidated'; readonly handle: string; readonly table: string; readonly reason: string }
  | { readonly event: 'replication'; readonly detail: ReplicationEvent }
  | { readonly event: 'error'; readonly message: string }
  /** Something failed that fixes itself (the database is restarting); logged at warn level, counted nowhere. */
  | { readonly event: 'warning'; readonly message: string };

export interface SubqueryCounters {
  readonly moveQueries: number;
  readonly movedIn: number;
  readonly movedOut: number;
  readonly innerRows: number;
  readonly reloads: number;
}

export interface ServiceMetrics extends ProcessCounters {
  readonly shapes: number;
  readonly lanes: Record<LaneKind, number>;
  readonly logBytes: number;
  /** Shape logs held in memory; the others are on disk only, loaded on their next read or append. */
  readonly loadedLogs: number;
  readonly fsyncs: number;
  readonly groupCommits: number;
  readonly replicationLagBytes: number;
  readonly acknowledgedLsn: bigint;
  readonly durableLsn: bigint;
  /** Commit LSN of the last transaction readable in every shape log (ahead of `durableLsn` by the fsync in flight). */
  readonly visibleLsn: bigint;
  readonly waiters: number;
  /** Shape requests refused by an admission limit, by limit. */
  readonly admissionRejected: AdmissionCounters;
  /** `evaluationErrors` per table. */
  readonly evaluationErrorsByTable: readonly TableCount[];
  /** Expressions that raised while routing a row and failed their shapes open (the routers' `failOpen`), per table. */
  readonly failOpenByTable: readonly TableCount[];
  /** Work units charged evaluating shapes' clauses on rows (router expressions and exact re-checks), per table. */
  readonly evaluationWorkByTable: readonly TableCount[];
  /** Evaluations of one expression or clause for one row that charged at least 1 nominal ms, per table. */
  readonly slowEvaluationsByTable: readonly TableCount[];
  /** Shapes invalidated for running out of the shape row budget, per table. */
  readonly tooExpensiveByTable: readonly TableCount[];
  /** Time slices of transaction processing: slices run, yields to the event loop, longest slice (ms). */
  readonly processing: SliceStats;
  /** Shared creation snapshots: snapshots taken, creations served by them, the largest batch, imported reads. */
  readonly snapshotBatches: Readonly<SharedSnapshotStats>;
  /** Subquery shapes' work: move queries run and rows moved in and out, inner rows applied to sets, set reloads. */
  readonly subqueries: SubqueryCounters;
  /**
   * Milliseconds until the last 1,024 transactions that touched a shape became readable: from Postgres's commit
   * timestamp and from their arrival here (with `durableReads`, readable means fsynced).
   */
  readonly visibilityLatency: VisibilityLatencyStats;
}
