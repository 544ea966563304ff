// Public surface of sharded routing (curated): the router across worker threads and the shape-file loader.
export { ShardedRouter, DEFAULT_HOT_KEY_THRESHOLD, DEFAULT_PLACEMENT, defaultShardCount } from './sharded-router.js';
export { ShardFailureError, SHARD_FAILED } from './protocol.js';
export type { AddShapesResult, ShapeEntry, ShardedRouterOptions, ShardedStats, ShardStats } from './types.js';
export { REPLICATED, type HotKey, type OpenPlacement } from './directory.js';
export type { Transport } from './batch-codec.js';
export { loadShapes, writeShapesFile, type LoadOptions, type LoadProgress, type LoadResult } from './loader.js';
