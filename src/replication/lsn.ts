// Log sequence numbers: parsing and printing Postgres's `X/Y` text form; LSNs are kept as bigint everywhere.
import { ErrorCode } from '../errors/index.js';
import { ReplicationError } from './errors.js';

const LSN_PATTERN = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

/** Parses `16/B374D848` (Postgres's `%X/%X`) into a bigint. */
export function parseLsn(text: string): bigint {
  const m = LSN_PATTERN.exec(text);
  if (m === null)
    throw new ReplicationError(ErrorCode.ReplicationProtocol, `invalid input syntax for type pg_lsn: "${text}"`);
  return (BigInt('0x' + m[1]) << 32n) | BigInt('0x' + m[2]);
}

/** Formats an LSN as Postgres prints it: upper-case hex halves, no zero padding (`0/16B3748`). */
export function lsnToString(lsn: bigint): string {
  const hi = Number(lsn >> 32n);
  const lo = Number(lsn & 0xffffffffn);
  return `${hi.toString(16).toUpperCase()}/${lo.toString(16).toUpperCase()}`;
}

/** The larger of two LSNs (acknowledgements only ever move forward). */
export function maxLsn(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
