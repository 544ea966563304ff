// Public types of the router: changes, shapes, options, and the explain / stats report shapes.

/** A record as pgoutput sends it: column → Postgres text output, NULL as null. */
export type RowRecord = Readonly<Record<string, string | null>>;

export type Change =
  | { readonly table: string; readonly op: 'insert'; readonly record: RowRecord }
  | { readonly table: string; readonly op: 'update'; readonly record: RowRecord; readonly oldRecord: RowRecord }
  | { readonly table: string; readonly op: 'delete'; readonly oldRecord: RowRecord }
  | { readonly table: string; readonly op: 'truncate' };

export interface ShapeDef {
  readonly table: string;
  /** Absent, undefined or blank: every row of the table. */
  readonly where?: string | undefined;
  readonly params?: Record<string, string> | undefined;
}

export type RouterMode = 'indexed' | 'filter';

export interface RouterOptions {
  /** `"schema.table"` (or unqualified: `public`) → `{ column: typeName }`. */
  readonly schema: Record<string, Record<string, string>>;
  readonly mode?: RouterMode;
}

/** Access kinds an index can serve; `unindexed` is the lane evaluated for every row, `always` a clause-less shape. */
export type LaneKind = 'equality' | 'expression' | 'range' | 'prefix' | 'inclusion' | 'always' | 'unindexed';

export interface RouterCounters {
  routes: number;
  rows: number;
  /** Index lookups (hash probes, tree descents, prefix lengths tried). */
  lookups: number;
  /** Candidate entries read from postings and trees. */
  postingsProbed: number;
  residualsEvaluated: number;
  /** Expressions (index probes, residuals, column decodes) that raised for a row and failed their dependents open. */
  failOpen: number;
  /** Shape ids answered failed open (to be re-checked exactly by the caller), summed over routes. */
  failedOpenIds: number;
  /** Work units (work-budget.ts) charged evaluating residuals and expression keys: arbitrary-precision loops. */
  evaluationWork: number;
  /** Evaluations of one residual or expression key for one row that charged at least 1 nominal ms of work. */
  slowEvaluations: number;
  /** Histogram of matches per route: index i counts routes with i matches, the last bucket holds ≥ its index. */
  matches: number[];
}

export interface IndexStats {
  readonly table: string;
  readonly kind: LaneKind;
  readonly probe: string;
  readonly keys: number;
  readonly entries: number;
}

export interface RouterStats {
  readonly mode: RouterMode;
  readonly shapes: number;
  /** Shapes per lane: a shape counts once, in the lane of its first disjunct's access atom. */
  readonly lanes: Record<LaneKind, number>;
  readonly entries: number;
  readonly residuals: number;
  readonly indexes: readonly IndexStats[];
  readonly estimatedBytes: number;
  readonly counters: Readonly<RouterCounters>;
  /** The message of the last error that made entries fail open, if any did. */
  readonly lastFailure?: string;
  /** The class name of that error (`ValueError` for what Postgres would raise; anything else is a router bug). */
  readonly lastFailureKind?: string;
}

export interface ExplainDisjunct {
  readonly lane: LaneKind;
  /** The access atom as SQL (empty for `always`/`unindexed`). */
  readonly access: string;
  readonly probe?: string;
  /** The probe's value for the row, as text (or `NULL`). */
  readonly probeValue?: string;
  readonly accessMatched: boolean;
  readonly residual?: string;
  readonly residualResult?: boolean | null | 'error';
  readonly matched: boolean;
}

export interface ExplainRow {
  readonly row: 'new' | 'old';
  readonly disjuncts: readonly ExplainDisjunct[];
  readonly matched: boolean;
  readonly error?: string;
}

export interface Explanation {
  readonly id: string;
  readonly table: string;
  readonly where: string;
  readonly indexed: boolean;
  readonly matched: boolean;
  readonly reason: string;
  readonly rows: readonly ExplainRow[];
}

/**
 * One change's routing answer. `ids`: the shapes the change affects, each once. `failedOpen` ⊆ `ids`: the shapes the
 * router could not decide because an expression they depend on raised for the row (a division by zero, an overflow,
 * a value that does not decode); the caller re-checks exactly those. Every id outside `failedOpen` is exact.
 */
export interface RoutedChange {
  readonly ids: readonly string[];
  readonly failedOpen: readonly string[];
}

/** What every routing backend reports synchronously (metrics): shapes, shapes per lane, fail-open counts, memory. */
export interface RoutingSummary {
  readonly shapes: number;
  readonly lanes: Readonly<Record<LaneKind, number>>;
  /** Expressions that raised and failed their dependents open. */
  readonly failOpen: number;
  /** Shape ids answered failed open. */
  readonly failedOpenIds: number;
  /** Work units charged evaluating residuals and expression keys (RouterCounters.evaluationWork). */
  readonly evaluationWork: number;
  /** Evaluations that charged at least 1 nominal ms (RouterCounters.slowEvaluations). */
  readonly slowEvaluations: number;
  readonly estimatedBytes: number;
}

/**
 * The routing interface the sync service uses, satisfied by the in-process Router (synchronous answers) and the
 * ShardedRouter (promises): callers treat every answer as possibly asynchronous and so need not know which it is.
 */
export interface ShapeRouting {
  readonly shapeCount: number;
  hasShape(id: string): boolean;
  /** Throws or rejects with WhereError/RouterError for a clause or table the router does not accept. */
  addShape(id: string, shape: ShapeDef): void | Promise<void>;
  removeShape(id: string): boolean | Promise<boolean>;
  /** result[i] answers changes[i]. */
  routeChanges(changes: readonly Change[]): RoutedChange[] | Promise<RoutedChange[]>;
  /** Current for a Router; a ShardedRouter's comes from its workers and is one call late (each call refreshes it). */
  summary(): RoutingSummary;
  close(): Promise<void>;
}

/** What Router and ShadowRouter both offer. */
export interface RouterLike {
  addShape(id: string, shape: ShapeDef): void;
  removeShape(id: string): boolean;
  hasShape(id: string): boolean;
  readonly shapeCount: number;
  route(change: Change): string[];
  routeTransaction(changes: readonly Change[]): Map<string, number[]>;
  explain(change: Change, id: string): Explanation;
  stats(): RouterStats;
}
