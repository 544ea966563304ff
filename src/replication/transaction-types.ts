// The assembled change stream handed to the service: relations, changes keyed by column name, whole transactions.

export interface RelationColumn {
  readonly name: string;
  readonly typeOid: number;
  /** Postgres atttypmod: -1 when none; varchar(n) is n + 4, numeric(p,s) is ((p << 16) | s) + 4. */
  readonly typmod: number;
  /** Part of the replica identity key (the primary key unless REPLICA IDENTITY USING INDEX). */
  readonly isKey: boolean;
}

/** A table as pgoutput last described it. Replaced (never mutated) when a Relation message changes it. */
export interface RelationInfo {
  readonly oid: number;
  readonly schema: string;
  readonly table: string;
  readonly replicaIdentity: 'default' | 'nothing' | 'full' | 'index';
  readonly columns: readonly RelationColumn[];
}

/** A user-defined type referenced by a relation column (pgoutput sends these before first use). */
export interface TypeInfo {
  readonly oid: number;
  readonly schema: string;
  readonly name: string;
}

/** Column name → Postgres text output, or null. Values are never parsed here. */
export type Row = Record<string, string | null>;

/**
 * What an old row carries: `full` (REPLICA IDENTITY FULL: every column), `key` (only the identity key columns;
 * others are left out of the record, not null), `none` (an update that did not change the key under default identity).
 */
export type OldIdentity = 'full' | 'key' | 'none';

export interface InsertChange {
  readonly op: 'insert';
  readonly relation: RelationInfo;
  readonly record: Row;
  /** Columns sent as "unchanged TOAST" with no value available; they are absent from `record`. Rare for inserts. */
  readonly unchangedToast?: readonly string[];
}

export interface UpdateChange {
  readonly op: 'update';
  readonly relation: RelationInfo;
  /** The new row. Unchanged TOAST columns are filled from `oldRecord` when it has them. */
  readonly record: Row;
  readonly oldRecord: Row | null;
  readonly oldIdentity: OldIdentity;
  /** Unchanged TOAST columns whose value is not known (no full old row): absent from `record`; never invented. */
  readonly unchangedToast?: readonly string[];
}

export interface DeleteChange {
  readonly op: 'delete';
  readonly relation: RelationInfo;
  readonly oldRecord: Row;
  readonly oldIdentity: 'full' | 'key';
  readonly unchangedToast?: readonly string[];
}

export interface TruncateChange {
  readonly op: 'truncate';
  readonly relations: readonly RelationInfo[];
  readonly cascade: boolean;
  readonly restartIdentity: boolean;
}

export type Change = InsertChange | UpdateChange | DeleteChange | TruncateChange;

/** One committed transaction, delivered whole and in commit order. */
export interface Transaction {
  readonly xid: number;
  /** LSN of the commit record; increases strictly from one transaction to the next. */
  readonly commitLsn: bigint;
  /** End of the commit record: pass this to `acknowledge` once the transaction is durable. */
  readonly endLsn: bigint;
  /** Commit time in microseconds since the Unix epoch. */
  readonly commitTime: bigint;
  readonly changes: readonly Change[];
  /** `performance.now()` when the commit message was decoded (latency metrics; absent for synthesized transactions). */
  readonly receivedAt?: number;
}
