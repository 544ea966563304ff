// Where a shape log's last whole transaction ends: what a restarted service may show readers before replay resumes.
import { SNAPSHOT_END, type LogOffset } from '../log/offset.js';
import type { ShapeLog } from '../log/shape-log.js';

/**
 * A transaction's appends are cut into time slices, and bytes of a slice can reach the disk before the transaction
 * is complete (a group commit of an earlier transaction, a journal buffer written as it fills, a segment flushed at
 * its threshold). After a crash the log may therefore end inside a transaction. That transaction was not
 * acknowledged, so the slot replays it and the entries after the log's last offset are appended then; until that
 * happens readers must see only whole transactions. A transaction's last message in a shape's log carries
 * `headers.last`, so the tail tells whether the last transaction is whole; only when it is not is the log scanned
 * (once, at start) for the end of the transaction before it.
 */
export function lastCompleteOffset(log: ShapeLog): LogOffset | undefined {
  const last = log.lastOffset();
  if (last.tx < 1n) return undefined;
  const tail = log.read({ tx: last.tx, op: last.op - 1 }, { maxBytes: 1 }).items[0];
  if (tail === undefined || endsTransaction(tail.json)) return last;
  let end: LogOffset | undefined;
  let after: LogOffset = SNAPSHOT_END;
  for (;;) {
    const r = log.read(after, { maxBytes: 1 << 20 });
    for (const it of r.items) if (it.offset.tx < last.tx) end = it.offset;
    const lastRead = r.items[r.items.length - 1];
    if (lastRead === undefined || lastRead.offset.tx >= last.tx) return end;
    after = lastRead.offset;
  }
}

function endsTransaction(json: Buffer): boolean {
  try {
    const m = JSON.parse(json.toString('utf8')) as { headers?: { last?: unknown } };
    return m.headers?.last === true;
  } catch {
    return false;
  }
}
