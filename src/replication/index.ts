// Public surface of the replication layer: the client, the pure decoder and assembler, LSN helpers, error class.
export { ReplicationClient, PINNED_SERVER_OPTIONS } from './replication-client.js';
export type { ReplicationClientOptions, ReplicationEvent } from './replication-client.js';
export { decodePgoutput, UNCHANGED_TOAST, PG_EPOCH_OFFSET_US } from './pgoutput-decoder.js';
export type { PgoutputMessage, TupleData, TupleValue, RelationMessage } from './pgoutput-decoder.js';
export { TransactionAssembler, sameRelation } from './transaction-assembler.js';
export type { AssemblerSink } from './transaction-assembler.js';
export type {
  Change,
  InsertChange,
  UpdateChange,
  DeleteChange,
  TruncateChange,
  OldIdentity,
  RelationColumn,
  RelationInfo,
  Row,
  Transaction,
  TypeInfo,
} from './transaction-types.js';
export { parseLsn, lsnToString, maxLsn } from './lsn.js';
export { ReplicationError } from './errors.js';
export type { ReplicationErrorCode } from './errors.js';
export { Backoff, DEFAULT_BACKOFF } from './backoff.js';
export type { BackoffOptions } from './backoff.js';
export { quoteIdent, dropSlot } from './replication-admin.js';
export type { PublicationSync, TableRef } from './replication-admin.js';
