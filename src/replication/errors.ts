// The error class of the replication layer: connection, configuration and protocol failures of the change stream.
import { ErrorCode, SwitchyardError } from '../errors/index.js';

/** The codes a replication failure carries; the code says whether retrying can help. */
export type ReplicationErrorCode =
  /** The server is not configured for logical decoding (wal_level, slots, senders). Not retried. */
  | ErrorCode.ReplicationConfiguration
  /** The slot exists with another plugin or database, or is in use by another consumer. */
  | ErrorCode.ReplicationSlot
  /** A message that pgoutput v1 does not produce, or a truncated message. */
  | ErrorCode.ReplicationProtocol
  /** The consumer callback failed; the stream restarts from the last acknowledged LSN. */
  | ErrorCode.ReplicationConsumer
  /** The connection failed or was terminated. Retried with backoff. */
  | ErrorCode.ReplicationConnection;

/** A failure of the replication client. */
export class ReplicationError extends SwitchyardError {
  declare readonly code: ReplicationErrorCode;
  constructor(code: ReplicationErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ReplicationError';
  }
}
