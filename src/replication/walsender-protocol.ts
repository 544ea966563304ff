// The CopyBoth framing of streaming replication: XLogData and keepalive frames in, standby status updates out.
import { PG_EPOCH_OFFSET_US } from './pgoutput-decoder.js';
import { ErrorCode } from '../errors/index.js';
import { ReplicationError } from './errors.js';

export const XLOG_DATA = 0x77; // w
export const KEEPALIVE = 0x6b; // k
/** The pgoutput payload of an XLogData frame starts after tag, walStart, walEnd and sendTime. */
export const XLOG_DATA_HEADER = 25;

export interface XLogDataHeader {
  readonly walStart: bigint;
  readonly walEnd: bigint;
}

export interface Keepalive {
  /** The server's current end of WAL. */
  readonly walEnd: bigint;
  /** Server clock in µs since the Unix epoch. */
  readonly sendTime: bigint;
  /** The server will terminate the connection after wal_sender_timeout unless we answer. */
  readonly replyRequested: boolean;
}

export function readXLogDataHeader(frame: Buffer): XLogDataHeader {
  if (frame.length < XLOG_DATA_HEADER)
    throw new ReplicationError(ErrorCode.ReplicationProtocol, 'XLogData frame is truncated');
  return { walStart: frame.readBigUInt64BE(1), walEnd: frame.readBigUInt64BE(9) };
}

export function readKeepalive(frame: Buffer): Keepalive {
  if (frame.length < 18) throw new ReplicationError(ErrorCode.ReplicationProtocol, 'keepalive frame is truncated');
  return {
    walEnd: frame.readBigUInt64BE(1),
    sendTime: frame.readBigInt64BE(9) + PG_EPOCH_OFFSET_US,
    replyRequested: frame[17] === 1,
  };
}

/**
 * Standby status update ('r'): written, flushed and applied LSN, client clock (µs since 2000-01-01) and a
 * reply-request flag. The walsender advances the slot's confirmed_flush_lsn from the flushed LSN, so all three carry
 * the last durable LSN: reporting anything later would let the slot discard changes we could still lose.
 */
export function buildStatusUpdate(durableLsn: bigint, nowMs: number = Date.now()): Buffer {
  const buf = Buffer.allocUnsafe(34);
  buf[0] = 0x72; // r
  buf.writeBigUInt64BE(durableLsn, 1);
  buf.writeBigUInt64BE(durableLsn, 9);
  buf.writeBigUInt64BE(durableLsn, 17);
  buf.writeBigInt64BE(BigInt(nowMs) * 1000n - PG_EPOCH_OFFSET_US, 25);
  buf[33] = 0;
  return buf;
}
