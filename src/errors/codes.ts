// The one error-code enum of Switchyard: every error the library, router and service raise carries one of these.

/**
 * Stable error codes, grouped by layer. The string values are part of the public contract (HTTP bodies,
 * CLI output, logs): never rename one, only add.
 */
export enum ErrorCode {
  // --- where clause: parsing (the Postgres grammar) ---
  /** The clause is not valid Postgres syntax. Fix the clause at the reported position. */
  Syntax = 'syntax',
  /** The clause smuggles more than a boolean expression (`;`, ORDER BY, UNION, LIMIT…). */
  ExtraClause = 'extra_clause',
  /** The clause is longer than 65,536 UTF-8 bytes. */
  TooLarge = 'too_large',
  /** An identifier is longer than 63 bytes (Postgres would silently truncate it). */
  IdentifierTooLong = 'identifier_too_long',

  // --- where clause: analysis (names, types) ---
  /** A column that the table does not have. The message carries a did-you-mean hint when one is close. */
  UnknownColumn = 'unknown_column',
  /** A function that does not exist, is volatile, or is not supported. */
  UnknownFunction = 'unknown_function',
  /** No operator exists for the operand types (`text > integer`). */
  NoOperator = 'no_operator',
  /** The clause does not return boolean. */
  NotBoolean = 'not_boolean',
  /** A literal or parameter is not valid input for the type it takes. */
  InvalidLiteral = 'invalid_literal',
  /** Folding a constant expression failed (division by zero, overflow). */
  ConstantError = 'constant_error',
  /** A `$n` parameter referenced by the clause has no value. */
  ParamMissing = 'param_missing',
  /** One `$n` parameter is used with two different types. */
  ParamConflict = 'param_conflict',
  /** A construct Postgres accepts but Switchyard does not support (subqueries, CASE, aggregates, regex…). */
  NotSupported = 'not_supported',
  /** Operand types do not fit the construct (ANY on a non-array, IS TRUE on a non-boolean). */
  TypeMismatch = 'type_mismatch',
  /** A column type name in the schema is not a Postgres type Switchyard knows. */
  UnknownType = 'unknown_type',

  // --- evaluation of a row ---
  /** A record value is not valid text output of its column type. */
  InvalidValue = 'invalid_value',
  /** Arithmetic left the type's range ("integer out of range", "value out of range"). */
  OutOfRange = 'out_of_range',
  /** Division or modulo by zero. */
  DivisionByZero = 'division_by_zero',
  /** Any other runtime error Postgres would raise for this row (bad cast, LIKE pattern ending in escape…). */
  EvaluationError = 'evaluation_error',
  /**
   * Compiling the clause (constant folding included) or evaluating one row ran past its work budget, e.g. a
   * constant `10::numeric ^ 100000000`-sized computation. Simplify the clause; the budget is configurable.
   */
  TooExpensive = 'too_expensive',

  // --- router ---
  /** A shape names a table the router's schema does not have. */
  UnknownTable = 'unknown_table',
  /** A shape id is already registered. */
  DuplicateShape = 'duplicate_shape',
  /** A shape id is not registered. */
  UnknownShape = 'unknown_shape',
  /** A table name is malformed (three or more parts, empty part). */
  InvalidTableName = 'invalid_table_name',

  // --- replication (the Postgres change source) ---
  /** The server is not configured for logical replication (wal_level, max_replication_slots…). */
  ReplicationConfiguration = 'replication_configuration',
  /** The replication slot is missing, in use by another consumer, or invalidated. */
  ReplicationSlot = 'replication_slot',
  /** The walsender sent something the pgoutput decoder does not understand. */
  ReplicationProtocol = 'replication_protocol',
  /** The replication connection failed or was terminated (the client reconnects). */
  ReplicationConnection = 'replication_connection',
  /** The consumer of transactions failed; the transaction is delivered again after reconnecting. */
  ReplicationConsumer = 'replication_consumer',

  // --- the shape service ---
  /** A shape request is invalid (unknown table or column, a where clause that does not compile): HTTP 400. */
  InvalidRequest = 'invalid_request',
  /** A shape could not be created for a passing reason (database unreachable, snapshot failed): HTTP 503, retry. */
  ShapeUnavailable = 'shape_unavailable',
  /** Too many shape creations are running at once: HTTP 429, retry after a moment. */
  TooManyCreations = 'too_many_creations',
  /** The service holds as many shapes (in total or for the table) as it is configured to: HTTP 503, retry later. */
  ShapeLimit = 'shape_limit',
  /** The where clause is longer or has more nodes than the service is configured to accept: HTTP 400. */
  WhereTooComplex = 'where_too_complex',

  // --- sharded routing ---
  /** A router shard (worker thread) died and could not answer within its retry budget; the batch failed whole. */
  ShardFailed = 'shard_failed',
}
