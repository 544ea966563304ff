// Public surface of the routing layer (curated: the package root re-exports these names).
export { Router } from './router.js';
export { ShadowRouter, type ShadowMismatch, type ShadowStats } from './shadow-router.js';
export type {
  Change,
  RowRecord,
  ShapeDef,
  RouterMode,
  RouterOptions,
  RouterLike,
  RouterStats,
  RouterCounters,
  IndexStats,
  LaneKind,
  Explanation,
  ExplainRow,
  ExplainDisjunct,
} from './types.js';
