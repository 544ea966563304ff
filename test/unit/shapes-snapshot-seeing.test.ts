// Snapshots for subquery moves must see the transaction being applied: Postgres can deliver a commit on the stream
// while the committing backend is still in the proc array (found by the random-transaction differential test, where
// a move-in read the outer table before the transaction that moved the value in and missed its rows).
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { SnapshotSession } from '../../src/shapes/snapshot.js';

/** A pool whose sessions report the given snapshots in turn (xid 878 running in the first ones). */
function fakePool(snapshots: string[]): { pool: pg.Pool; begun: () => number; ended: () => number } {
  let begun = 0;
  let ended = 0;
  const client = {
    query: (text: string) => {
      if (text === 'COMMIT' || text === 'ROLLBACK') {
        ended++;
        return Promise.resolve({ rows: [] });
      }
      const snap = snapshots[Math.min(begun++, snapshots.length - 1)];
      return Promise.resolve([{ rows: [] }, { rows: [{ snap, lsn: '0/5000' }] }]);
    },
    release: () => undefined,
  };
  const pool = { connect: () => Promise.resolve(client) } as unknown as pg.Pool;
  return { pool, begun: () => begun, ended: () => ended };
}

describe('SnapshotSession.beginSeeing', () => {
  const tx = { xid: 878, commitLsn: 0x4000n };

  it('retakes a snapshot that still counts the delivered transaction as running', async () => {
    const f = fakePool(['878:878:', '870:879:878', '878:880:']);
    const session = await SnapshotSession.beginSeeing(f.pool, tx);
    expect(session.visibility.xmax).toBe(880n);
    expect(f.begun()).toBe(3);
    expect(f.ended()).toBe(2); // the two blind snapshots were closed
  });

  it('takes the first snapshot when it sees the transaction already', async () => {
    const f = fakePool(['879:879:']);
    await SnapshotSession.beginSeeing(f.pool, tx);
    expect(f.begun()).toBe(1);
  });

  it('gives up after its bound with an error (the move then invalidates its shapes)', async () => {
    const f = fakePool(['878:878:']);
    await expect(SnapshotSession.beginSeeing(f.pool, tx, 0)).rejects.toThrow(/did not become visible/);
  });
});
