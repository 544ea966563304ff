// Records of the meta store's log: `[key, value]` (set) or `[key]` (delete) as JSON, framed with length and CRC32.
import { fstatSync, ftruncateSync, readSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import type { MetaValue } from './meta-store.js';

export type MetaRecord = readonly [string, MetaValue] | readonly [string];

const HEADER = 8;
/** A registry record is a shape definition and its layout: anything this large is garbage, not a record. */
const MAX_RECORD = 64 * 1024 * 1024;

/** u32 body length, u32 CRC32 of the body, body = UTF-8 JSON of the record. */
export function encodeMetaRecord(r: MetaRecord): Buffer {
  const json = JSON.stringify(r);
  const len = Buffer.byteLength(json);
  const buf = Buffer.allocUnsafe(HEADER + len);
  buf.writeUInt32BE(len, 0);
  buf.write(json, HEADER, 'utf8');
  buf.writeUInt32BE(crc32(buf.subarray(HEADER)), 4);
  return buf;
}

/**
 * Reads every intact record of the file in order. The first torn or corrupt record ends the log — commits are
 * appended and fdatasynced one after another, so only an unacknowledged last commit can be incomplete — and the file
 * is cut there, so later appends never leave old bytes behind them.
 */
export function decodeMetaRecords(
  fd: number,
  visit: (r: MetaRecord, frameBytes: number) => void,
): { records: number; validBytes: number } {
  const len = fstatSync(fd).size;
  const data = Buffer.allocUnsafe(len);
  for (let got = 0; got < len;) {
    const r = readSync(fd, data, got, len - got, got);
    if (r === 0) break;
    got += r;
  }
  let records = 0;
  let at = 0;
  while (at + HEADER <= len) {
    const bodyLen = data.readUInt32BE(at);
    if (bodyLen > MAX_RECORD || at + HEADER + bodyLen > len) break;
    const body = data.subarray(at + HEADER, at + HEADER + bodyLen);
    if (crc32(body) !== data.readUInt32BE(at + 4)) break;
    const rec = parseRecord(body.toString('utf8'));
    if (rec === undefined) break;
    // Visited as read: a million-shape registry builds no array of its records.
    visit(rec, HEADER + bodyLen);
    records++;
    at += HEADER + bodyLen;
  }
  if (at < len) ftruncateSync(fd, at);
  return { records, validBytes: at };
}

function parseRecord(text: string): MetaRecord | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(v) || typeof v[0] !== 'string' || (v.length !== 1 && v.length !== 2)) return undefined;
  return v as unknown as MetaRecord;
}
