// Checks of the `snapshot-end` control message against the Postgres snapshots taken around a shape's creation.
import type pg from 'pg';
import { expect } from 'vitest';

export interface XidBounds {
  readonly xmin: bigint;
  readonly xmax: bigint;
}

/** `pg_current_snapshot()` of a session: read before and after a shape is created, it brackets the shape's own. */
export async function currentSnapshot(sql: Pick<pg.Client, 'query'>): Promise<XidBounds> {
  const r = await sql.query<{ xmin: string; xmax: string }>(
    'SELECT pg_snapshot_xmin(s)::text AS xmin, pg_snapshot_xmax(s)::text AS xmax FROM pg_current_snapshot() s',
  );
  const row = r.rows[0]!;
  return { xmin: BigInt(row.xmin), xmax: BigInt(row.xmax) };
}

interface ControlLike {
  readonly key?: unknown;
  readonly headers: Readonly<Record<string, unknown>>;
}

/**
 * Asserts `m` is a `snapshot-end` control carrying a snapshot (xids as decimal strings, in-progress ones within
 * [xmin, xmax)) taken after `before` and before `after` were read, and returns its xids.
 */
export function expectSnapshotEnd(
  m: ControlLike | undefined,
  before: XidBounds,
  after: XidBounds,
): { xmin: bigint; xmax: bigint; xip: bigint[] } {
  expect(m?.key).toBeUndefined();
  const h = m?.headers ?? {};
  expect(Object.keys(h).sort()).toEqual(['control', 'xip_list', 'xmax', 'xmin']);
  expect(h['control']).toBe('snapshot-end');
  expect(h['xmin']).toMatch(/^\d+$/);
  expect(h['xmax']).toMatch(/^\d+$/);
  expect(Array.isArray(h['xip_list'])).toBe(true);
  const xmin = BigInt(h['xmin'] as string);
  const xmax = BigInt(h['xmax'] as string);
  const xip = (h['xip_list'] as unknown[]).map((x) => {
    expect(x).toMatch(/^\d+$/);
    return BigInt(x as string);
  });
  expect(xmin).toBeGreaterThanOrEqual(before.xmin);
  expect(xmin).toBeLessThanOrEqual(xmax);
  expect(xmax).toBeGreaterThanOrEqual(before.xmax);
  expect(xmax).toBeLessThanOrEqual(after.xmax);
  for (const x of xip) {
    expect(x).toBeGreaterThanOrEqual(xmin);
    expect(x).toBeLessThan(xmax);
  }
  return { xmin, xmax, xip };
}
