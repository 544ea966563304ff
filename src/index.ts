// The package root: the public API of Switchyard, as curated named exports.
export { compileWhere, layoutFor, type CompileOptions } from './where.js';
export { Predicate, type PgRecord } from './eval/predicate.js';
export { ColumnLayout, RowView } from './eval/row-view.js';
export { ErrorCode, SwitchyardError, WhereError, ValueError, RouterError, renderCaret } from './errors/index.js';
export type { Expr, ExprKind, Span, CompareOp } from './sql/ast.js';
export { renderSql } from './sql/render.js';
export { parseTypeName } from './sql/type-names.js';
export { parseTableName } from './sql/identifiers.js';
export type { PgType, Value, ScalarName } from './values/types.js';
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
export { SwitchyardService } from './shapes/service.js';
export {
  ShapeRequestError,
  ShapeCreationError,
  type ShapeCreationCode,
  type ShapeService,
  type ShapeDefinition,
  type ShapeInfo,
  type SchemaColumn,
} from './shapes/types.js';
export { createSwitchyardHttp } from './http/server.js';
