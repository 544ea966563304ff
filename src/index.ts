// The package root: the public API of Switchyard, as curated named exports.
export {
  compileWhere,
  analyzeClause,
  layoutFor,
  subqueryTables,
  type AnalyzedClause,
  type CompileOptions,
} from './where.js';
export { Predicate, type PgRecord } from './eval/predicate.js';
export type { CompiledBool } from './eval/compile.js';
export { ColumnLayout, RowView } from './eval/row-view.js';
export type { Keyer } from './values/comparable.js';
export { ErrorCode, SwitchyardError, WhereError, ValueError, RouterError, renderCaret } from './errors/index.js';
export type {
  Expr,
  ExprKind,
  Span,
  CompareOp,
  ConstExpr,
  ColumnExpr,
  CompareExpr,
  CallExpr,
  CastExpr,
  AndExpr,
  OrExpr,
  NotExpr,
  NullTestExpr,
  BoolTestExpr,
  DistinctExpr,
  InListExpr,
  QuantifiedExpr,
  LikeExpr,
  CoalesceExpr,
  MinMaxExpr,
  NullIfExpr,
  ArrayExpr,
  SubscriptExpr,
  SubqueryExpr,
  Subquery,
} from './sql/ast.js';
export type { SubquerySets, ValueSet } from './eval/subquery-sets.js';
export {
  INT_FNS,
  FLOAT_FNS,
  NUMERIC_FNS,
  TEXT_FNS,
  ARRAY_FNS,
  DATETIME_FNS,
  type FnId,
  type IntFn,
  type FloatFn,
  type NumericFn,
  type TextFn,
  type ArrayFn,
  type DatetimeFn,
} from './sql/function-ids.js';
export type { OrderItem } from './sql/order-by.js';
export { renderSql } from './sql/render.js';
export { parseTypeName } from './sql/type-names.js';
export { parseTableName } from './sql/identifiers.js';
export type { PgType, Value, ScalarName, NumericValue, IntervalValue, ArrayValue, JsonbValue } from './values/types.js';
export { enumTypeName, type EnumType } from './values/enum.js';
export {
  Router,
  ShadowRouter,
  type ShadowMismatch,
  type ShadowStats,
  type Change,
  type RowRecord,
  type ShapeDef,
  type RouterMode,
  type RouterOptions,
  type RouterLike,
  type RoutedChange,
  type RoutingSummary,
  type ShapeRouting,
  type RouterStats,
  type RouterCounters,
  type IndexStats,
  type LaneKind,
  type Explanation,
  type ExplainRow,
  type ExplainDisjunct,
} from './router/index.js';
export {
  ShardedRouter,
  ShardFailureError,
  defaultShardCount,
  loadShapes,
  writeShapesFile,
  REPLICATED,
  type ShardedRouterOptions,
  type ShapeEntry,
  type AddShapesResult,
  type ShardedStats,
  type ShardStats,
  type OpenPlacement,
  type HotKey,
  type Transport,
  type LoadOptions,
  type LoadProgress,
  type LoadResult,
} from './shard/index.js';
export type { KeyValue } from './shard/placement.js';
export {
  SwitchyardService,
  type SwitchyardServiceOptions,
  type ServiceEvent,
  type ServiceMetrics,
} from './shapes/service.js';
export type { ProcessCounters } from './shapes/change-processor.js';
export type { AdmissionCounters, AdmissionLimits } from './shapes/admission.js';
export type { SliceStats } from './shapes/time-slicer.js';
export type { SharedSnapshotStats } from './shapes/shared-snapshot.js';
export type { LatencyQuantiles, VisibilityLatencyStats } from './shapes/visibility-latency.js';
export type { SubqueryCounters } from './shapes/service-types.js';
export type { TableCount } from './shapes/table-counts.js';
export type { ShapeLogStoreOptions } from './log/shape-log-store.js';
export type { LogOffset } from './log/offset.js';
export type { ReplicationEvent } from './replication/index.js';
export {
  ShapeRequestError,
  ShapeCreationError,
  type ShapeCreationCode,
  type ShapeService,
  type ShapeDefinition,
  type ShapeInfo,
  type SchemaColumn,
  type ErrorDetail,
  type LogChunk,
  type WaitResult,
  type SubsetRequest,
  type SubsetMetadata,
  type SubsetSink,
} from './shapes/types.js';
export {
  createSwitchyardHttp,
  DEFAULT_CHUNK_BYTES,
  DEFAULT_LONG_POLL_TIMEOUT_MS,
  type HttpServerOptions,
  type SwitchyardHttp,
} from './http/server.js';
export { jsonLogger, silentLogger, type Logger, type LogLevel } from './http/logger.js';
