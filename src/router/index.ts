// Public surface of the routing layer (curated: the package root re-exports these names).
export { Router } from './router.js';
export { emptyLanes } from './stats.js';
export { ShadowRouter, type ShadowMismatch, type ShadowStats } from './shadow-router.js';
export type {
  Change,
  RowRecord,
  ShapeDef,
  RouterMode,
  RouterOptions,
  RouterLike,
  RoutedChange,
  RoutingSummary,
  ShapeRouting,
  RouterStats,
  RouterCounters,
  IndexStats,
  LaneKind,
  Explanation,
  ExplainRow,
  ExplainDisjunct,
} from './types.js';
