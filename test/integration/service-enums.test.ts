// Enum and domain columns through the service: the catalog's declared enum order (ALTER TYPE … ADD VALUE BEFORE
// included), snapshot and live rows equal to Postgres's, domains as their base type, and Postgres's enum errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FreshDatabase } from '../support/pg-env.js';
import { serveFreshDatabase, type ServedDatabase } from '../support/served-database.js';
import { trackShape, type TrackedShape } from '../support/shape-tracker.js';

let db: FreshDatabase;
let served: ServedDatabase;
let base: string;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  // Sort order is not creation order nor alphabetical: sad < ok < happy (ADD VALUE … BEFORE).
  // A new enum value is usable only once committed: one statement per transaction.
  served = await serveFreshDatabase([
    `CREATE TYPE mood AS ENUM ('sad', 'happy')`,
    `ALTER TYPE mood ADD VALUE 'ok' BEFORE 'happy'`,
    `CREATE DOMAIN posint AS int4 CHECK (VALUE > 0)`,
    `CREATE TABLE pets (id int4 PRIMARY KEY, m mood, ms mood[], n posint)`,
    `INSERT INTO pets VALUES (1, 'sad', '{sad}', 1), (2, 'ok', '{ok,happy}', 2), (3, 'happy', '{}', 3), (4, NULL, NULL, NULL)`,
  ]);
  ({ db, base } = served);
});

afterAll(async () => {
  await served?.stop();
});

async function pgIds(where: string): Promise<string[]> {
  const r = await db.client.query<{ id: number }>(`SELECT id FROM pets WHERE ${where} ORDER BY id`);
  return r.rows.map((x) => String(x.id));
}

async function follow(where: string): Promise<TrackedShape> {
  const t = trackShape({ url: `${base}/v1/shape`, params: { table: 'pets', where } });
  const deadline = Date.now() + 15_000;
  while (t.stats.upToDates === 0 && Date.now() < deadline) await sleep(20);
  return t;
}

const ids = (t: TrackedShape): string[] =>
  [...t.rows.values()].map((r) => String(r['id'])).sort((a, b) => Number(a) - Number(b));

async function settle(t: TrackedShape, want: () => Promise<string[]>): Promise<void> {
  const deadline = Date.now() + 15_000;
  let expected = await want();
  while (JSON.stringify(ids(t)) !== JSON.stringify(expected) && Date.now() < deadline) {
    await sleep(50);
    expected = await want();
  }
  expect(ids(t)).toEqual(expected);
  expect(t.violations).toEqual([]);
}

describe('enum and domain columns in the service', () => {
  const clauses = [
    "m > 'sad'",
    "m < 'happy'",
    "m IN ('sad', 'happy')",
    "m IS DISTINCT FROM 'ok'",
    "'ok' = ANY (ms)",
    "m BETWEEN 'ok' AND 'happy'",
    'n > 1',
    "n >= 2 AND m <> 'happy'",
  ];

  it('snapshot and live changes equal Postgres, ordered by the declared enum order', async () => {
    const followed = await Promise.all(clauses.map((c) => follow(c)));
    for (const [i, c] of clauses.entries()) await settle(followed[i] as TrackedShape, () => pgIds(c));
    await db.client.query(`INSERT INTO pets VALUES (5, 'ok', '{ok}', 7), (6, 'sad', '{happy}', 8)`);
    await db.client.query(`UPDATE pets SET m = 'happy' WHERE id = 1`);
    await db.client.query(`UPDATE pets SET m = 'sad', n = 1 WHERE id = 2`);
    await db.client.query(`DELETE FROM pets WHERE id = 3`);
    for (const [i, c] of clauses.entries()) await settle(followed[i] as TrackedShape, () => pgIds(c));
    for (const t of followed) t.stop();
  });

  it("an unknown label is a 400 with Postgres's message; enums compare only with their own type", async () => {
    const res = await fetch(`${base}/v1/shape?table=pets&offset=-1&where=${encodeURIComponent("m = 'nope'")}`);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('invalid input value for enum mood: \\"nope\\"');
    const mismatch = await fetch(`${base}/v1/shape?table=pets&offset=-1&where=${encodeURIComponent('m = n')}`);
    expect(mismatch.status).toBe(400);
    expect(await mismatch.text()).toContain('operator does not exist: mood = integer');
  });
});
