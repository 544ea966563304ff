// The error class of the replication layer: connection, configuration and protocol failures of the change stream.

/**
 * Kinds of replication failure. They are not (yet) part of ErrorCode in src/errors, which covers the where-clause
 * and router layers; a `replication_*` range there would let the service report them uniformly.
 */
export type ReplicationErrorKind =
  /** The server is not configured for logical decoding (wal_level, slots, senders). Not retried. */
  | 'configuration'
  /** The slot exists with another plugin or database, or is in use by another consumer. */
  | 'slot'
  /** A message that pgoutput v1 does not produce, or a truncated message. */
  | 'protocol'
  /** The consumer callback failed; the stream restarts from the last acknowledged LSN. */
  | 'consumer'
  /** The connection failed or was terminated. Retried with backoff. */
  | 'connection';

/** A failure of the replication client; `kind` says whether retrying can help. */
export class ReplicationError extends Error {
  readonly isSwitchyardError = true as const;
  constructor(
    readonly kind: ReplicationErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ReplicationError';
  }

  toJSON(): Record<string, unknown> {
    return { code: `replication_${this.kind}`, message: this.message };
  }
}
