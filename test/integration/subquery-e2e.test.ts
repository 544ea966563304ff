// Subquery shapes end to end with the official client: snapshot, rows moving in and out as the inner tables change,
// the OR form, NOT IN, nested subqueries, inner and outer changes in one transaction — always equal to Postgres.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveFreshDatabase, type ServedDatabase } from '../support/served-database.js';
import { trackShape, type TrackedShape } from '../support/shape-tracker.js';

let served: ServedDatabase;
const trackers: TrackedShape[] = [];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Case {
  readonly table: string;
  readonly where: string;
  readonly params?: Record<string, string>;
  tracker?: TrackedShape;
}

const CASES: Record<string, Case> = {
  members: { table: 'users', where: 'id IN (SELECT user_id FROM memberships WHERE org_id = $1)', params: { '1': '1' } },
  shared: {
    table: 'documents',
    where: 'owner_id = $1 OR id IN (SELECT document_id FROM shares WHERE shared_with = $1)',
    params: { '1': '3' },
  },
  outsiders: { table: 'users', where: 'id NOT IN (SELECT user_id FROM memberships WHERE org_id = 2) AND id < 100' },
  nested: {
    table: 'documents',
    where: 'owner_id IN (SELECT user_id FROM memberships WHERE org_id IN (SELECT id FROM orgs WHERE active))',
  },
};

/** The clause with its parameters substituted, for asking Postgres. */
function inlined(c: Case): string {
  let w = c.where;
  for (const [k, v] of Object.entries(c.params ?? {})) w = w.replaceAll(`$${k}`, `'${v}'`);
  return w;
}

/** Waits until every tracked shape holds exactly the rows Postgres selects, with no protocol violation. */
async function converged(): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const diffs: string[] = [];
    for (const [name, c] of Object.entries(CASES)) {
      const want = (await served.db.client.query<{ id: number }>(`SELECT id FROM ${c.table} WHERE ${inlined(c)}`)).rows
        .map((r) => `"public"."${c.table}"/"${r.id}"`)
        .sort();
      const got = [...(c.tracker?.rows.keys() ?? [])].sort();
      if (JSON.stringify(want) !== JSON.stringify(got))
        diffs.push(`${name}: want ${want.join(',')} got ${got.join(',')}`);
      expect(c.tracker?.violations ?? []).toEqual([]);
    }
    if (diffs.length === 0) return;
    if (Date.now() > deadline) throw new Error(diffs.join('\n'));
    await sleep(50);
  }
}

beforeAll(async () => {
  served = await serveFreshDatabase([
    `CREATE TABLE users (id int4 PRIMARY KEY, name text)`,
    `CREATE TABLE orgs (id int4 PRIMARY KEY, active bool NOT NULL)`,
    `CREATE TABLE memberships (id serial PRIMARY KEY, user_id int8, org_id int4)`,
    `CREATE TABLE documents (id int4 PRIMARY KEY, owner_id int4, title text)`,
    `CREATE TABLE shares (id serial PRIMARY KEY, document_id int4, shared_with int4)`,
    `INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 12) g`,
    `INSERT INTO orgs VALUES (1, true), (2, false), (3, true)`,
    `INSERT INTO memberships (user_id, org_id) VALUES (1, 1), (2, 1), (2, 2), (3, 2), (4, 3), (NULL, 3)`,
    `INSERT INTO documents SELECT g, g % 6 + 1, 'd' || g FROM generate_series(1, 20) g`,
    `INSERT INTO shares (document_id, shared_with) VALUES (3, 3), (4, 8), (5, 3)`,
  ]);
  for (const c of Object.values(CASES)) {
    c.tracker = trackShape({
      url: `${served.base}/v1/shape`,
      params: { table: c.table, where: c.where, ...(c.params ? { params: c.params } : {}) },
    });
    trackers.push(c.tracker);
  }
});

afterAll(async () => {
  for (const t of trackers) t.stop();
  await served?.stop();
});

describe('subquery shapes with the official client', () => {
  it('serves the initial snapshot of each form', async () => {
    await converged();
    expect(CASES['members']?.tracker?.rows.size).toBe(2);
  });

  it('moves rows in and out as the inner table changes', async () => {
    const q = (sql: string): Promise<unknown> => served.db.client.query(sql);
    await q(`INSERT INTO memberships (user_id, org_id) VALUES (5, 1), (6, 1)`);
    await converged();
    await q(`DELETE FROM memberships WHERE user_id = 1`);
    await converged();
    await q(`UPDATE memberships SET org_id = 1 WHERE user_id = 3`); // out of NOT IN org 2, into org 1
    await converged();
    await q(`UPDATE memberships SET org_id = 2 WHERE user_id = 5`);
    await converged();
    expect(CASES['members']?.tracker?.rows.has('"public"."users"/"5"')).toBe(false);
  });

  it('keeps a row that another OR branch still holds, and follows shares in and out', async () => {
    const q = (sql: string): Promise<unknown> => served.db.client.query(sql);
    await q(`INSERT INTO shares (document_id, shared_with) VALUES (8, 3), (12, 3)`); // 8 is owned by 3 already
    await converged();
    await q(`DELETE FROM shares WHERE document_id IN (8, 3)`);
    await converged();
    expect(CASES['shared']?.tracker?.rows.has('"public"."documents"/"8"')).toBe(true);
    expect(CASES['shared']?.tracker?.rows.has('"public"."documents"/"3"')).toBe(false);
  });

  it('handles the inner and the outer table changing in one transaction', async () => {
    await served.db.client.query(`BEGIN;
      INSERT INTO users VALUES (50, 'new');
      INSERT INTO memberships (user_id, org_id) VALUES (50, 1), (51, 1);
      UPDATE users SET name = 'renamed' WHERE id = 2;
      DELETE FROM memberships WHERE user_id = 2 AND org_id = 1;
      COMMIT`);
    await converged();
    await served.db.client.query(
      `BEGIN; INSERT INTO users VALUES (51, 'late'); UPDATE users SET id = 52 WHERE id = 50; COMMIT`,
    );
    await converged();
  });

  it('NOT IN follows a NULL entering and leaving its set', async () => {
    await served.db.client.query(`INSERT INTO memberships (user_id, org_id) VALUES (NULL, 2)`);
    await converged();
    expect(CASES['outsiders']?.tracker?.rows.size).toBe(0);
    await served.db.client.query(`DELETE FROM memberships WHERE user_id IS NULL AND org_id = 2`);
    await converged();
    expect(CASES['outsiders']?.tracker?.rows.size).toBeGreaterThan(0);
  });

  it('chains nested subqueries: an org turning active moves its members documents in', async () => {
    await served.db.client.query(`UPDATE orgs SET active = true WHERE id = 2`);
    await converged();
    await served.db.client.query(`UPDATE orgs SET active = false WHERE id = 1`);
    await converged();
  });
});
