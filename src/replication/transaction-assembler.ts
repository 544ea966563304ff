// Turns decoded pgoutput messages into whole transactions: keeps the relation cache, builds records, frames commits.
import { ErrorCode } from '../errors/index.js';
import { ReplicationError } from './errors.js';
import { UNCHANGED_TOAST, type PgoutputMessage, type RelationMessage, type TupleData } from './pgoutput-decoder.js';
import type { Change, RelationInfo, Row, Transaction, TypeInfo } from './transaction-types.js';

/** Receives the assembler's output synchronously, in stream order. */
export interface AssemblerSink {
  transaction(tx: Transaction): void;
  /**
   * Every Relation message, including the identical re-sends of a new walsender session; the consumer side compares
   * with `sameRelation` to see whether the definition changed.
   */
  relation(relation: RelationInfo): void;
  type(type: TypeInfo): void;
}

const IDENTITY = { d: 'default', n: 'nothing', f: 'full', i: 'index' } as const;

/** Per-relation facts precomputed once so that building a record is a tight loop. */
interface RelationEntry {
  readonly info: RelationInfo;
  readonly names: readonly string[];
  readonly keyMask: readonly boolean[];
  /** A column literally named `__proto__` cannot be set by assignment on a plain object. */
  readonly protoColumn: boolean;
  /** Builds a whole row (no unchanged TOAST) as one object literal: one allocation with a stable shape. */
  readonly fastRow: ((tuple: TupleData) => Row) | null;
}

/**
 * Generated per relation because a literal with fixed keys is several times cheaper than keyed stores in a loop, and
 * this runs once per replicated row. Keys are JSON-quoted and computed, so no column name can inject code or set a
 * prototype (a computed `["__proto__"]` defines an own property).
 */
function compileFastRow(names: readonly string[]): ((tuple: TupleData) => Row) | null {
  if (names.length > 200) return null;
  const body = names.map((n, i) => `[${JSON.stringify(n)}]: t[${i}]`).join(', ');
  return new Function('t', `return { ${body} };`) as (tuple: TupleData) => Row;
}

export class TransactionAssembler {
  private readonly relations = new Map<number, RelationEntry>();
  private current: { xid: number; finalLsn: bigint; commitTime: bigint; changes: Change[] } | null = null;

  constructor(private readonly sink: AssemblerSink) {}

  /** The cached description of a relation, if pgoutput has sent one. */
  relation(oid: number): RelationInfo | undefined {
    return this.relations.get(oid)?.info;
  }

  /** True between Begin and Commit. */
  get inTransaction(): boolean {
    return this.current !== null;
  }

  /** Drops a half-received transaction after the connection broke; the server resends it whole. */
  reset(): void {
    this.current = null;
  }

  handle(msg: PgoutputMessage): void {
    switch (msg.tag) {
      case 'insert': {
        const rel = this.entry(msg.relationOid);
        const toast: string[] = [];
        const record = buildRow(rel, msg.newTuple, null, toast, false);
        this.push(
          toast.length === 0
            ? { op: 'insert', relation: rel.info, record }
            : { op: 'insert', relation: rel.info, record, unchangedToast: toast },
        );
        return;
      }
      case 'update': {
        const rel = this.entry(msg.relationOid);
        const keyOnly = msg.oldKind === 'K';
        const oldToast: string[] = [];
        const oldRecord = msg.oldTuple === null ? null : buildRow(rel, msg.oldTuple, null, oldToast, keyOnly);
        const toast: string[] = [];
        const record = buildRow(rel, msg.newTuple, keyOnly ? null : oldRecord, toast, false);
        const oldIdentity = msg.oldKind === 'O' ? 'full' : keyOnly ? 'key' : 'none';
        this.push(
          toast.length === 0
            ? { op: 'update', relation: rel.info, record, oldRecord, oldIdentity }
            : { op: 'update', relation: rel.info, record, oldRecord, oldIdentity, unchangedToast: toast },
        );
        return;
      }
      case 'delete': {
        const rel = this.entry(msg.relationOid);
        const keyOnly = msg.oldKind === 'K';
        const toast: string[] = [];
        const oldRecord = buildRow(rel, msg.oldTuple, null, toast, keyOnly);
        const oldIdentity = keyOnly ? 'key' : 'full';
        this.push(
          toast.length === 0
            ? { op: 'delete', relation: rel.info, oldRecord, oldIdentity }
            : { op: 'delete', relation: rel.info, oldRecord, oldIdentity, unchangedToast: toast },
        );
        return;
      }
      case 'truncate':
        this.push({
          op: 'truncate',
          relations: msg.relationOids.map((oid) => this.entry(oid).info),
          cascade: msg.cascade,
          restartIdentity: msg.restartIdentity,
        });
        return;
      case 'begin':
        if (this.current !== null)
          throw new ReplicationError(ErrorCode.ReplicationProtocol, 'pgoutput Begin inside a transaction');
        this.current = { xid: msg.xid, finalLsn: msg.finalLsn, commitTime: msg.commitTime, changes: [] };
        return;
      case 'commit': {
        const cur = this.current;
        if (cur === null)
          throw new ReplicationError(ErrorCode.ReplicationProtocol, 'pgoutput Commit outside a transaction');
        if (cur.finalLsn !== msg.commitLsn) {
          throw new ReplicationError(ErrorCode.ReplicationProtocol, 'pgoutput Commit LSN differs from its Begin');
        }
        this.current = null;
        this.sink.transaction({
          xid: cur.xid,
          commitLsn: msg.commitLsn,
          endLsn: msg.endLsn,
          commitTime: msg.commitTime,
          changes: cur.changes,
          receivedAt: performance.now(),
        });
        return;
      }
      case 'relation':
        this.updateRelation(msg);
        return;
      case 'type':
        this.sink.type({ oid: msg.oid, schema: msg.namespace === '' ? 'pg_catalog' : msg.namespace, name: msg.name });
        return;
      case 'origin':
        // Changes replayed from another origin are still changes of this database; nothing to filter on here.
        return;
      default: {
        const never: never = msg;
        throw new ReplicationError(
          ErrorCode.ReplicationProtocol,
          `unhandled pgoutput message ${(never as { tag: string }).tag}`,
        );
      }
    }
  }

  private push(change: Change): void {
    if (this.current === null)
      throw new ReplicationError(ErrorCode.ReplicationProtocol, 'pgoutput change outside a transaction');
    this.current.changes.push(change);
  }

  private entry(oid: number): RelationEntry {
    const rel = this.relations.get(oid);
    if (rel === undefined) {
      throw new ReplicationError(
        ErrorCode.ReplicationProtocol,
        `pgoutput change for relation ${oid} before its Relation message`,
      );
    }
    return rel;
  }

  private updateRelation(msg: RelationMessage): void {
    const info: RelationInfo = {
      oid: msg.oid,
      schema: msg.namespace === '' ? 'pg_catalog' : msg.namespace,
      table: msg.name,
      replicaIdentity: IDENTITY[msg.replicaIdentity],
      columns: msg.columns.map((c) => ({
        name: c.name,
        typeOid: c.typeOid,
        typmod: c.typmod,
        isKey: (c.flags & 1) !== 0,
      })),
    };
    const previous = this.relations.get(msg.oid)?.info;
    if (previous !== undefined && sameRelation(previous, info)) {
      this.sink.relation(previous);
      return;
    }
    this.relations.set(msg.oid, {
      info,
      names: info.columns.map((c) => c.name),
      keyMask: info.columns.map((c) => c.isKey),
      protoColumn: info.columns.some((c) => c.name === '__proto__'),
      fastRow: compileFastRow(info.columns.map((c) => c.name)),
    });
    this.sink.relation(info);
  }
}

/**
 * Builds a record from a tuple. `fill` supplies values for unchanged TOAST columns; columns without one are recorded
 * in `toast` and left out of the record. `keyOnly` keeps only identity key columns (the rest are null placeholders).
 */
function buildRow(rel: RelationEntry, tuple: TupleData, fill: Row | null, toast: string[], keyOnly: boolean): Row {
  const names = rel.names;
  if (tuple.length !== names.length) {
    throw new ReplicationError(
      ErrorCode.ReplicationProtocol,
      `tuple has ${tuple.length} columns but relation ${rel.info.schema}.${rel.info.table} has ${names.length}`,
    );
  }
  if (!keyOnly && rel.fastRow !== null && tuple.indexOf(UNCHANGED_TOAST) < 0) return rel.fastRow(tuple);
  const row: Row = {};
  for (let i = 0; i < names.length; i++) {
    if (keyOnly && !rel.keyMask[i]) continue;
    const name = names[i]!;
    let v = tuple[i]!;
    if (v === UNCHANGED_TOAST) {
      if (fill !== null && Object.prototype.hasOwnProperty.call(fill, name)) {
        v = fill[name]!;
      } else {
        toast.push(name);
        continue;
      }
    }
    if (rel.protoColumn && name === '__proto__') {
      Object.defineProperty(row, name, { value: v, enumerable: true, writable: true, configurable: true });
    } else {
      row[name] = v;
    }
  }
  return row;
}

/** Same name, identity and columns (name, type, typmod, key flag, order). */
export function sameRelation(a: RelationInfo, b: RelationInfo): boolean {
  if (a.schema !== b.schema || a.table !== b.table || a.replicaIdentity !== b.replicaIdentity) return false;
  if (a.columns.length !== b.columns.length) return false;
  for (let i = 0; i < a.columns.length; i++) {
    const x = a.columns[i]!;
    const y = b.columns[i]!;
    if (x.name !== y.name || x.typeOid !== y.typeOid || x.typmod !== y.typmod || x.isKey !== y.isKey) return false;
  }
  return true;
}
