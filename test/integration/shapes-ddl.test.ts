// Schema changes at the service level: the publication follows what exists, changed tables' shapes are invalidated.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SwitchyardService } from '../../src/shapes/service.js';
import { createTestDb, def, eventually, materialize, readAll, truth, type TestDb } from './shapes-support.js';

let db: TestDb;
let service: SwitchyardService;

beforeAll(async () => {
  db = await createTestDb('ddl');
  ({ service } = await db.start());
});

afterAll(async () => {
  await db?.cleanup();
});

const sql = (text: string): Promise<unknown> => db.sql.query(text);

async function members(): Promise<string[]> {
  const res = await db.sql.query<{ t: string }>(
    `SELECT c.relname AS t FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid
       JOIN pg_class c ON c.oid = pr.prrelid ORDER BY 1`,
  );
  return res.rows.map((r) => r.t);
}

async function twoTables(a: string, b: string): Promise<void> {
  for (const t of [a, b]) {
    await sql(`CREATE TABLE ${t} (id int4 PRIMARY KEY, v text)`);
    await sql(`INSERT INTO ${t} VALUES (1, 'one'), (2, 'two')`);
  }
}

/** The shape's rows read from its log equal the table's rows in Postgres. */
async function expectRowsMatch(handle: string, table: string): Promise<void> {
  const rows = materialize((await readAll(service, handle)).messages);
  expect(rows).toEqual(await truth(db.sql, `SELECT * FROM ${table}`, table));
}

describe('publication after a synced table is dropped or renamed', () => {
  it('DROP TABLE: a shape on another new table is created and streams; the dropped table leaves the publication', async () => {
    await twoTables('pz1', 'pz2');
    const a = await service.getOrCreate(def('pz1'));
    await sql('DROP TABLE pz1');
    const b = await service.getOrCreate(def('pz2'));
    await expectRowsMatch(b.handle, 'pz2');
    expect(service.get(a.handle)).toBeUndefined();
    expect(await members()).toEqual(['pz2']);
    await sql(`INSERT INTO pz2 VALUES (3, 'three')`);
    await eventually(async () => materialize((await readAll(service, b.handle)).messages).size === 3);
    await expectRowsMatch(b.handle, 'pz2');
  });

  it('ALTER TABLE … RENAME: a shape on another new table is created; the renamed table leaves the publication', async () => {
    await twoTables('pr1', 'pr2');
    const a = await service.getOrCreate(def('pr1'));
    await sql('ALTER TABLE pr1 RENAME TO pr1_renamed');
    const b = await service.getOrCreate(def('pr2'));
    await expectRowsMatch(b.handle, 'pr2');
    expect(service.get(a.handle)).toBeUndefined();
    expect(await members()).not.toContain('pr1_renamed');
    expect(db.events).toContainEqual(
      expect.objectContaining({ event: 'shape_invalidated', handle: a.handle, reason: 'table dropped or renamed' }),
    );
  });
});
