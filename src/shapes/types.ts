// The contract between the shape service (replication → router → logs → snapshots) and the HTTP protocol layer.
import { ErrorCode, SwitchyardError } from '../errors/index.js';
import type { LogOffset } from '../log/offset.js';
import type { OrderItem } from '../sql/order-by.js';

/** What identifies a shape: requests with equal definitions share one shape and one handle. */
export interface ShapeDefinition {
  readonly schema: string;
  readonly table: string;
  readonly where?: string;
  /** `$n` values keyed by number as a string. */
  readonly params?: Readonly<Record<string, string>>;
  /** Selected columns (exact names), or undefined for all columns. Always includes every primary-key column. */
  readonly columns?: readonly string[];
  readonly replica: 'default' | 'full';
  readonly log: 'full' | 'changes_only';
}

/** One column of the `electric-schema` header (shape-protocol.md §4.6). */
export interface SchemaColumn {
  readonly type: string;
  readonly dims?: number;
  readonly pk_index?: number;
  readonly not_null?: true;
  readonly max_length?: number;
  readonly length?: number;
  readonly precision?: number;
  readonly scale?: number;
}

export interface ShapeInfo {
  readonly handle: string;
  readonly definition: ShapeDefinition;
  /** `electric-schema` content over the selected columns. */
  readonly schema: Readonly<Record<string, SchemaColumn>>;
}

/** A validation failure keyed by request parameter, answered as 400 `{"message":"Invalid request","errors":{…}}`. */
/** What Switchyard tells about a rejected parameter beyond Electric's message: its error code, position and caret. */
export interface ErrorDetail {
  readonly code: string;
  /** 0-based offset (UTF-16 index) into the parameter's text. */
  readonly position?: number;
  /** The offending line (an excerpt of long lines) and a caret line under the position. */
  readonly caret?: string;
}

export class ShapeRequestError extends SwitchyardError {
  constructor(
    readonly errors: Readonly<Record<string, readonly string[]>>,
    code: ErrorCode.InvalidRequest | ErrorCode.WhereTooComplex = ErrorCode.InvalidRequest,
    /** Per parameter, sent next to Electric's body shape (which the client pins exactly), see sendValidationError. */
    readonly details?: Readonly<Record<string, ErrorDetail>>,
  ) {
    super(
      code,
      Object.entries(errors)
        .map(([k, v]) => `${k}: ${v.join('; ')}`)
        .join(', '),
    );
    this.name = 'ShapeRequestError';
  }
}

/** The codes of a shape that cannot be created now but may be later. */
export type ShapeCreationCode = ErrorCode.ShapeUnavailable | ErrorCode.TooManyCreations | ErrorCode.ShapeLimit;

/**
 * Creation failed or was refused for a reason that passes (database unreachable, schema changed mid-snapshot, an
 * admission limit): answered 429 for too many concurrent creations, else 503, with `retry-after`.
 */
export class ShapeCreationError extends SwitchyardError {
  declare readonly code: ShapeCreationCode;
  constructor(
    message: string,
    readonly retryAfterSeconds = 1,
    options?: { cause?: unknown; code?: ShapeCreationCode },
  ) {
    super(options?.code ?? ErrorCode.ShapeUnavailable, message, options);
    this.name = 'ShapeCreationError';
  }

  /** The HTTP status: 429 when the client is asking too fast, 503 when the service is short of something. */
  get httpStatus(): 429 | 503 {
    return this.code === ErrorCode.TooManyCreations ? 429 : 503;
  }
}

/** A piece of a shape log ready to send: JSON-encoded protocol messages (each a complete JSON object). */
export interface LogChunk {
  readonly messages: readonly string[];
  /** Offset of the last message returned, or the requested offset when nothing was returned. */
  readonly endOffset: LogOffset;
  /** True when the chunk reaches the current end of the shape's log (snapshot complete and no later entries). */
  readonly reachedEnd: boolean;
}

export type WaitResult = 'data' | 'timeout' | 'invalidated' | 'aborted';

/** A validated subset snapshot request (shape-protocol.md §9): filters and pages within one shape's rows. */
export interface SubsetRequest {
  /** Where clause in Switchyard's language over the shape's columns, ANDed with the shape's own clause. */
  readonly where?: string;
  /** `$n` values of the subset's where clause (independent of the shape's own params). */
  readonly params?: Readonly<Record<string, string>>;
  readonly orderBy?: readonly OrderItem[];
  readonly limit?: number;
  readonly offset?: number;
}

/**
 * The snapshot a subset was read under, as the client's SnapshotTracker wants it: a later change of a key in the
 * subset whose transaction is visible to this snapshot (and committed before `database_lsn`) is already included.
 */
export interface SubsetMetadata {
  readonly xmin: string;
  readonly xmax: string;
  readonly xip_list: readonly string[];
  /** WAL insert position read right after the snapshot: transactions committing at or after it are not included. */
  readonly database_lsn: string;
  /** Random tag repeated in every row's `headers.snapshot_mark`. */
  readonly snapshot_mark: number;
}

/** Where a subset's rows go: `start` once (before any rows, after the query proved it runs), then row batches. */
export interface SubsetSink {
  start(meta: SubsetMetadata): void | Promise<void>;
  /** JSON-encoded insert messages. */
  rows(messages: readonly string[]): void | Promise<void>;
}

/**
 * The shape service as the HTTP layer sees it. Offsets follow shape-protocol.md §3: snapshot chunk i ends at `0_i`,
 * `0_inf` ends the snapshot, changes are `<commit lsn>_<2·op index>`.
 */
export interface ShapeService {
  /** Finds the live shape for a definition or creates it (validating table, columns and where: ShapeRequestError). */
  getOrCreate(def: ShapeDefinition): Promise<ShapeInfo>;
  /** The live shape with this handle, or undefined when unknown or invalidated. */
  get(handle: string): ShapeInfo | undefined;
  /** The live shape for a definition, without creating one. */
  find(def: ShapeDefinition): ShapeInfo | undefined;
  /**
   * Reads after `after` (exclusive; BEFORE_ALL = from the first snapshot chunk) up to about `maxBytes`.
   * Snapshot chunks are returned one chunk per call; changes up to about `maxBytes`, possibly ending inside a
   * transaction, but never right after op 0 of a transaction that goes on (so `<lsn>_0` always means "all of lsn").
   */
  read(handle: string, after: LogOffset, maxBytes: number): Promise<LogChunk>;
  /** The last offset of the shape's log (`0_inf` once the snapshot is complete and nothing else was written). */
  lastOffset(handle: string): LogOffset;
  /** Resolves when the log has data after `after`, the shape is invalidated, the timeout passes or `signal` aborts. */
  waitForData(handle: string, after: LogOffset, timeoutMs: number, signal?: AbortSignal): Promise<WaitResult>;
  /**
   * Runs a subset snapshot over a ready shape in one REPEATABLE READ snapshot (§9). Throws ShapeRequestError for a bad
   * subset (before `sink.start`); 'gone' when the shape or its table no longer exists (the client refetches).
   * Optional: a service that cannot query the database (test fakes) leaves it out and subsets are refused.
   */
  querySubset?(handle: string, subset: SubsetRequest, sink: SubsetSink): Promise<'done' | 'gone'>;
  /** Invalidates a shape (DELETE /v1/shape); false when there is no such live shape. */
  invalidate(handle: string): boolean;
  /** The last LSN whose changes are readable in every shape log (for `global_last_seen_lsn`). */
  lastSeenLsn(): bigint;
  /** 'active' once replication is streaming; 'starting' before. */
  status(): 'active' | 'starting' | 'waiting';
}
