// Public surface of the log layer: durable per-shape logs, their offsets, and the service's meta store.
export { ShapeLogStore } from './shape-log-store.js';
export type { ShapeLogStoreOptions, StoreStats } from './shape-log-store.js';
export { ShapeLog, DEFAULT_MAX_READ_BYTES } from './shape-log.js';
export type { LogEntry, LogItem, ReadOptions, ReadResult, SnapshotState } from './shape-log.js';
export {
  BEFORE_ALL,
  SNAPSHOT_END,
  chunkOffset,
  compareOffsets,
  formatOffset,
  lsnFromText,
  makeOffset,
  maxOffset,
  offsetsEqual,
  parseOffset,
} from './offset.js';
export type { LogOffset } from './offset.js';
export { MetaStore } from './meta-store.js';
export type { MetaSnapshot, MetaSnapshotSource, MetaStoreOptions, MetaValue } from './meta-store.js';
