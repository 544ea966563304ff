// A pure decoder of pgoutput protocol v1 messages (the payload of XLogData) into plain objects; values stay raw text.
import { ErrorCode } from '../errors/index.js';
import { ReplicationError } from './errors.js';

/** Microseconds between the Unix epoch and Postgres's epoch (2000-01-01 UTC). */
export const PG_EPOCH_OFFSET_US = 946_684_800_000_000n;

/** Marks a column whose value is an unchanged TOASTed datum that pgoutput did not send ('u'). */
export const UNCHANGED_TOAST: unique symbol = Symbol('unchanged-toast');
export type TupleValue = string | null | typeof UNCHANGED_TOAST;
/** Column values in relation column order. */
export type TupleData = TupleValue[];

export interface RelationColumnMessage {
  /** Bit 1: the column is part of the replica identity key. */
  readonly flags: number;
  readonly name: string;
  readonly typeOid: number;
  readonly typmod: number;
}

/** Replica identity as pgoutput sends it: d(efault), n(othing), f(ull), i(ndex). */
export type ReplicaIdentity = 'd' | 'n' | 'f' | 'i';

export interface BeginMessage {
  readonly tag: 'begin';
  /** LSN of the commit record (the same as the Commit message's commitLsn). */
  readonly finalLsn: bigint;
  /** Commit time in microseconds since the Unix epoch. */
  readonly commitTime: bigint;
  readonly xid: number;
}
export interface CommitMessage {
  readonly tag: 'commit';
  readonly flags: number;
  readonly commitLsn: bigint;
  /** End of the commit record: the LSN to acknowledge once the transaction is durable. */
  readonly endLsn: bigint;
  readonly commitTime: bigint;
}
export interface OriginMessage {
  readonly tag: 'origin';
  readonly originLsn: bigint;
  readonly name: string;
}
export interface RelationMessage {
  readonly tag: 'relation';
  readonly oid: number;
  /** Empty in the protocol for pg_catalog; reported here as sent. */
  readonly namespace: string;
  readonly name: string;
  readonly replicaIdentity: ReplicaIdentity;
  readonly columns: readonly RelationColumnMessage[];
}
export interface TypeMessage {
  readonly tag: 'type';
  readonly oid: number;
  readonly namespace: string;
  readonly name: string;
}
export interface InsertMessage {
  readonly tag: 'insert';
  readonly relationOid: number;
  readonly newTuple: TupleData;
}
export interface UpdateMessage {
  readonly tag: 'update';
  readonly relationOid: number;
  /** 'K': old key columns (key changed, default identity); 'O': whole old row (REPLICA IDENTITY FULL); null: none. */
  readonly oldKind: 'K' | 'O' | null;
  readonly oldTuple: TupleData | null;
  readonly newTuple: TupleData;
}
export interface DeleteMessage {
  readonly tag: 'delete';
  readonly relationOid: number;
  readonly oldKind: 'K' | 'O';
  readonly oldTuple: TupleData;
}
export interface TruncateMessage {
  readonly tag: 'truncate';
  readonly relationOids: readonly number[];
  readonly cascade: boolean;
  readonly restartIdentity: boolean;
}

export type PgoutputMessage =
  | BeginMessage
  | CommitMessage
  | OriginMessage
  | RelationMessage
  | TypeMessage
  | InsertMessage
  | UpdateMessage
  | DeleteMessage
  | TruncateMessage;

const TAG_BEGIN = 0x42; // B
const TAG_COMMIT = 0x43; // C
const TAG_ORIGIN = 0x4f; // O
const TAG_RELATION = 0x52; // R
const TAG_TYPE = 0x59; // Y
const TAG_INSERT = 0x49; // I
const TAG_UPDATE = 0x55; // U
const TAG_DELETE = 0x44; // D
const TAG_TRUNCATE = 0x54; // T
const TUPLE_NEW = 0x4e; // N
const TUPLE_KEY = 0x4b; // K
const TUPLE_OLD = 0x4f; // O
const VALUE_NULL = 0x6e; // n
const VALUE_UNCHANGED = 0x75; // u
const VALUE_TEXT = 0x74; // t
const VALUE_BINARY = 0x62; // b

function truncated(): ReplicationError {
  return new ReplicationError(ErrorCode.ReplicationProtocol, 'pgoutput message is truncated');
}

/**
 * A cursor over one message. Buffers handed to the decoder may be reused by the socket parser once it returns, so
 * every value leaves as a JS string or number, never as a Buffer view.
 */
class Reader {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
  ) {}

  need(n: number): void {
    if (this.pos + n > this.end) throw truncated();
  }
  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  i16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  u64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }
  /** Postgres timestamps (µs since 2000-01-01) converted to µs since the Unix epoch. */
  timestamp(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v + PG_EPOCH_OFFSET_US;
  }
  cstring(): string {
    const nul = this.buf.indexOf(0, this.pos);
    if (nul < 0 || nul >= this.end) throw truncated();
    const s = this.buf.toString('utf8', this.pos, nul);
    this.pos = nul + 1;
    return s;
  }
}

/** Decodes one pgoutput v1 message occupying `buf[start, end)`. Throws ReplicationError on anything malformed. */
export function decodePgoutput(buf: Buffer, start = 0, end = buf.length): PgoutputMessage {
  const r = new Reader(buf, start, end);
  const tag = r.u8();
  switch (tag) {
    case TAG_INSERT: {
      const relationOid = r.u32();
      if (r.u8() !== TUPLE_NEW)
        throw new ReplicationError(ErrorCode.ReplicationProtocol, 'pgoutput Insert without a new tuple');
      return { tag: 'insert', relationOid, newTuple: readTuple(r) };
    }
    case TAG_UPDATE: {
      const relationOid = r.u32();
      let kind = r.u8();
      let oldKind: 'K' | 'O' | null = null;
      let oldTuple: TupleData | null = null;
      if (kind === TUPLE_KEY || kind === TUPLE_OLD) {
        oldKind = kind === TUPLE_KEY ? 'K' : 'O';
        oldTuple = readTuple(r);
        kind = r.u8();
      }
      if (kind !== TUPLE_NEW)
        throw new ReplicationError(ErrorCode.ReplicationProtocol, 'pgoutput Update without a new tuple');
      return { tag: 'update', relationOid, oldKind, oldTuple, newTuple: readTuple(r) };
    }
    case TAG_DELETE: {
      const relationOid = r.u32();
      const kind = r.u8();
      if (kind !== TUPLE_KEY && kind !== TUPLE_OLD) {
        throw new ReplicationError(ErrorCode.ReplicationProtocol, 'pgoutput Delete without an old tuple');
      }
      return { tag: 'delete', relationOid, oldKind: kind === TUPLE_KEY ? 'K' : 'O', oldTuple: readTuple(r) };
    }
    case TAG_BEGIN:
      return { tag: 'begin', finalLsn: r.u64(), commitTime: r.timestamp(), xid: r.u32() };
    case TAG_COMMIT:
      return { tag: 'commit', flags: r.u8(), commitLsn: r.u64(), endLsn: r.u64(), commitTime: r.timestamp() };
    case TAG_RELATION:
      return readRelation(r);
    case TAG_TYPE:
      return { tag: 'type', oid: r.u32(), namespace: r.cstring(), name: r.cstring() };
    case TAG_TRUNCATE: {
      const count = r.i32();
      const options = r.u8();
      const relationOids: number[] = new Array<number>(count);
      for (let i = 0; i < count; i++) relationOids[i] = r.u32();
      return { tag: 'truncate', relationOids, cascade: (options & 1) !== 0, restartIdentity: (options & 2) !== 0 };
    }
    case TAG_ORIGIN:
      return { tag: 'origin', originLsn: r.u64(), name: r.cstring() };
    default:
      throw new ReplicationError(
        ErrorCode.ReplicationProtocol,
        `unexpected pgoutput message type "${String.fromCharCode(tag)}" (0x${tag.toString(16)})`,
      );
  }
}

function readRelation(r: Reader): RelationMessage {
  const oid = r.u32();
  const namespace = r.cstring();
  const name = r.cstring();
  const identity = String.fromCharCode(r.u8());
  if (identity !== 'd' && identity !== 'n' && identity !== 'f' && identity !== 'i') {
    throw new ReplicationError(
      ErrorCode.ReplicationProtocol,
      `unexpected replica identity "${identity}" for relation ${oid}`,
    );
  }
  const count = r.i16();
  const columns: RelationColumnMessage[] = new Array<RelationColumnMessage>(count);
  for (let i = 0; i < count; i++) {
    columns[i] = { flags: r.u8(), name: r.cstring(), typeOid: r.u32(), typmod: r.i32() };
  }
  return { tag: 'relation', oid, namespace, name, replicaIdentity: identity, columns };
}

/** Hot path: one call per row. Reads the buffer directly rather than through the Reader's checked accessors. */
function readTuple(r: Reader): TupleData {
  const buf = r.buf;
  const end = r.end;
  let pos = r.pos;
  if (pos + 2 > end) throw truncated();
  const count = buf.readInt16BE(pos);
  pos += 2;
  const values: TupleData = new Array<TupleValue>(count);
  for (let i = 0; i < count; i++) {
    if (pos >= end) throw truncated();
    const kind = buf[pos++];
    if (kind === VALUE_TEXT) {
      if (pos + 4 > end) throw truncated();
      const len = buf.readInt32BE(pos);
      pos += 4;
      if (len < 0 || pos + len > end) throw truncated();
      values[i] = buf.toString('utf8', pos, pos + len);
      pos += len;
    } else if (kind === VALUE_NULL) {
      values[i] = null;
    } else if (kind === VALUE_UNCHANGED) {
      values[i] = UNCHANGED_TOAST;
    } else if (kind === VALUE_BINARY) {
      throw new ReplicationError(
        ErrorCode.ReplicationProtocol,
        'binary tuple values are not supported (start pgoutput without binary)',
      );
    } else {
      throw new ReplicationError(
        ErrorCode.ReplicationProtocol,
        `unexpected tuple value kind 0x${(kind ?? 0).toString(16)}`,
      );
    }
  }
  r.pos = pos;
  return values;
}
