// One rule for rows on which a shape's clause raises an error: not in the shape, in the snapshot as in live changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SwitchyardService } from '../../src/shapes/service.js';
import { createTestDb, def, materialize, readAll, truth, type TestDb } from './shapes-support.js';

let db: TestDb;
let service: SwitchyardService;

beforeAll(async () => {
  db = await createTestDb('raising');
  await db.sql.query(`CREATE TABLE nums (id int4 PRIMARY KEY, n int4, flag bool NOT NULL)`);
  await db.sql.query(`INSERT INTO nums VALUES (1, 0, true), (2, 5, true), (3, 2, false), (4, 1, true)`);
  ({ service } = await db.start());
});

afterAll(async () => {
  await db?.cleanup();
});

/** The shape's rows as the client would hold them after reading its whole log. */
async function rowsOf(handle: string): Promise<string[]> {
  return [...materialize((await readAll(service, handle)).messages).keys()].sort();
}

/** Waits until the shape's log holds exactly `keys` (live changes arrive asynchronously). */
async function settle(handle: string, keys: readonly string[]): Promise<void> {
  const until = Date.now() + 10_000;
  while (JSON.stringify(await rowsOf(handle)) !== JSON.stringify(keys) && Date.now() < until)
    await service.waitForData(handle, service.lastOffset(handle), 200);
  expect(await rowsOf(handle)).toEqual(keys);
}

const key = (id: number): string => `"public"."nums"/"${id}"`;

describe('rows on which the clause raises are not in the shape', () => {
  it('creating a shape whose clause raises on existing rows succeeds; those rows are left out and counted', async () => {
    const before = service.metrics().evaluationErrors;
    const { handle } = await service.getOrCreate(def('nums', { where: '10 / n = 2' }));
    expect(await rowsOf(handle)).toEqual([key(2)]);
    expect(service.metrics().evaluationErrors).toBe(before + 1);
  });

  it('live inserts, updates and moves follow the same rule, and a new snapshot agrees with the live shape', async () => {
    const { handle } = await service.getOrCreate(def('nums', { where: '10 / n = 2' }));
    await db.sql.query(`INSERT INTO nums VALUES (5, 0, true), (6, 5, false)`); // 5 raises: out; 6 in
    await db.sql.query(`UPDATE nums SET n = 0 WHERE id = 2`); // in → raises: moves out
    await db.sql.query(`UPDATE nums SET n = 5 WHERE id = 1`); // raised → in: moves in
    await settle(handle, [key(1), key(6)]);
    // The same clause written differently is another shape: its snapshot (read under the rule) must match.
    const fresh = await service.getOrCreate(def('nums', { where: '(10 / n) = 2' }));
    expect(await rowsOf(fresh.handle)).toEqual([key(1), key(6)]);
  });

  it('a raising clause created together with other shapes (one shared snapshot batch) fails none of them', async () => {
    // Created at once, the shapes share a snapshot and their rows are read in one message, which Postgres stops at
    // the raising clause: every shape is then read again on its own, and only the raising one takes the filter path.
    const wheres = ['n = 5', '10 / n = 5', 'n > 3', 'id = 1', 'NOT flag'];
    const made = await Promise.all(wheres.map((where) => service.getOrCreate(def('nums', { where }))));
    for (const [i, where] of wheres.entries()) {
      const ok = await truth(db.sql, `SELECT id FROM nums WHERE n <> 0 AND (${where}) ORDER BY id`, 'nums');
      const zero =
        where === '10 / n = 5' ? [] : await truth(db.sql, `SELECT id FROM nums WHERE n = 0 AND (${where})`, 'nums');
      expect(await rowsOf(made[i]!.handle)).toEqual([...ok.keys(), ...zero.keys()].sort());
    }
  });

  it('a guarded clause is pushed down whole (Postgres does not raise) and agrees with Postgres', async () => {
    const where = 'flag AND n <> 0 AND 10 / n = 2';
    const errors = service.metrics().evaluationErrors;
    const { handle } = await service.getOrCreate(def('nums', { where }));
    expect(service.metrics().evaluationErrors).toBe(errors);
    const expected = await truth(db.sql, `SELECT id FROM nums WHERE ${where} ORDER BY id`, 'nums');
    expect(await rowsOf(handle)).toEqual([...expected.keys()].sort());
    await db.sql.query(`INSERT INTO nums VALUES (7, 0, false), (8, 5, true)`);
    await settle(handle, [...expected.keys(), key(8)].sort());
  });
});
