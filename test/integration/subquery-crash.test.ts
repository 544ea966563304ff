// Crash safety of subquery shapes: kill -9 the service at random points while a writer changes inner and outer tables;
// clients of IN, NOT IN, OR and nested forms ride through the restarts and end with exactly the rows Postgres selects.
import type { Row } from '@electric-sql/client';
import pg from 'pg';
import { expect, it } from 'vitest';
import { freePort, startServiceProcess } from '../support/service-process.js';
import { keyed, trackShape, sleep, waitUntil } from '../support/shape-tracker.js';
import { CRASH_SEED as SEED, crashSuite, expectConverged, killAndRestart } from '../support/crash-harness.js';
import { rng } from '../../bench/router-workloads.js';

const KILLS = Number(process.env['SWITCHYARD_CRASH_KILLS'] ?? 3);

interface Case {
  readonly table: 'users' | 'documents';
  readonly where: string;
  readonly replica?: 'full';
}

const CASES: Case[] = [
  { table: 'users', where: 'id IN (SELECT user_id FROM memberships WHERE org_id = 1)' },
  { table: 'users', where: 'id NOT IN (SELECT user_id FROM memberships WHERE org_id = 2) AND id < 30' },
  { table: 'documents', where: 'owner_id = 3 OR id IN (SELECT document_id FROM shares WHERE shared_with = 3)' },
  {
    table: 'documents',
    where: 'owner_id IN (SELECT user_id FROM memberships WHERE org_id IN (SELECT id FROM orgs WHERE active))',
    replica: 'full',
  },
];

const COLUMNS = { users: 'id, name', documents: 'id, owner_id, title' };

const state = crashSuite('subquery-crash', [
  `CREATE TABLE users (id int4 PRIMARY KEY, name text)`,
  `CREATE TABLE orgs (id int4 PRIMARY KEY, active bool NOT NULL)`,
  `CREATE TABLE memberships (id serial PRIMARY KEY, user_id int4, org_id int4)`,
  `CREATE TABLE documents (id int4 PRIMARY KEY, owner_id int4, title text)`,
  `CREATE TABLE shares (id serial PRIMARY KEY, document_id int4, shared_with int4)`,
  `INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 60) g`,
  `INSERT INTO orgs VALUES (1, true), (2, false), (3, true)`,
  `INSERT INTO memberships (user_id, org_id) SELECT g, g % 3 + 1 FROM generate_series(1, 40) g`,
  `INSERT INTO documents SELECT g, g % 20 + 1, 'd' || g FROM generate_series(1, 80) g`,
  `INSERT INTO shares (document_id, shared_with) SELECT g, g % 5 + 1 FROM generate_series(1, 40) g`,
]);

/** Random transactions over both sides: memberships, shares and orgs move rows; users and documents change too. */
async function writer(url: string, r: () => number, stop: () => boolean): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const int = (n: number): number => Math.floor(r() * n);
  let nextUser = 1000;
  let commits = 0;
  while (!stop()) {
    await c.query('BEGIN');
    for (let i = 1 + int(4); i > 0; i--) {
      const k = r();
      if (k < 0.25)
        await c.query('INSERT INTO memberships (user_id, org_id) VALUES ($1, $2)', [
          r() < 0.03 ? null : 1 + int(60),
          1 + int(3),
        ]);
      else if (k < 0.4)
        await c.query('DELETE FROM memberships WHERE id IN (SELECT id FROM memberships ORDER BY random() LIMIT 1)');
      else if (k < 0.5)
        await c.query(
          'UPDATE memberships SET org_id = $1 WHERE id IN (SELECT id FROM memberships ORDER BY random() LIMIT 1)',
          [1 + int(3)],
        );
      else if (k < 0.6)
        await c.query('INSERT INTO shares (document_id, shared_with) VALUES ($1, $2)', [1 + int(80), 1 + int(5)]);
      else if (k < 0.68)
        await c.query('DELETE FROM shares WHERE id IN (SELECT id FROM shares ORDER BY random() LIMIT 1)');
      else if (k < 0.7) await c.query('UPDATE orgs SET active = NOT active WHERE id = $1', [1 + int(3)]);
      else if (k < 0.72)
        await c.query('DELETE FROM memberships WHERE user_id IS NULL'); // NOT IN holds again
      else if (k < 0.82) await c.query(`UPDATE users SET name = name || 'x' WHERE id = $1`, [1 + int(60)]);
      else if (k < 0.86) {
        const id = nextUser++;
        await c.query('INSERT INTO users VALUES ($1, $2)', [id, `n${id}`]);
        await c.query('INSERT INTO memberships (user_id, org_id) VALUES ($1, 1)', [id]);
      } else if (k < 0.9) await c.query('DELETE FROM users WHERE id = $1', [1 + int(60)]);
      else
        await c.query('UPDATE documents SET owner_id = $2, title = title || $3 WHERE id = $1', [
          1 + int(80),
          1 + int(20),
          'y',
        ]);
    }
    await c.query('COMMIT');
    commits++;
    if (commits % 10 === 0) await sleep(5);
  }
  await c.end();
  return commits;
}

it(
  `kill -9 of the service ${KILLS} times while inner and outer tables change: subquery clients equal Postgres`,
  { timeout: 180_000 },
  async () => {
    console.log(`[subquery-crash] seed ${SEED}`);
    const r = rng(SEED);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/v1/shape`;
    state.svc = await startServiceProcess(state.db.url, state.dataDir, port);
    const trackers = state.trackers;
    for (const c of CASES)
      trackers.push(
        trackShape({
          url,
          params: { table: c.table, where: c.where, ...(c.replica !== undefined ? { replica: c.replica } : {}) },
          name: c.where,
        }),
      );
    await waitUntil(() => trackers.every((t) => t.stats.upToDates > 0), 30_000, 'initial sync');
    let stopping = false;
    const writing = writer(state.db.url, r, () => stopping);
    await killAndRestart(state, port, r, KILLS, 500, 1500);
    await sleep(500);
    stopping = true;
    const commits = await writing;
    const truths: Map<string, Row>[] = [];
    for (const c of CASES)
      truths.push(
        keyed(
          (await state.db.client.query(`SELECT ${COLUMNS[c.table]} FROM ${c.table} WHERE ${c.where}`)).rows,
          c.table,
        ),
      );
    await expectConverged(state, truths, 45_000, () => {
      const summary = trackers.map((t) => ({ shape: t.name, rows: t.rows.size, ...t.stats }));
      console.log(`[subquery-crash] ${commits} commits, ${KILLS} kills`, JSON.stringify(summary));
      const notable = state.svc!.lines.filter((l) => l.level !== 'info' || l.event.startsWith('shape_'));
      if (notable.length > 0) console.log('[subquery-crash] service', JSON.stringify(notable));
      trackers.forEach((t, i) => {
        const d = rowDiff(t.rows, truths[i]!);
        if (d !== '') console.log(`[subquery-crash] ${t.name}: ${d}`);
      });
    });
    expect(commits).toBeGreaterThan(30);
  },
);

/** Keys missing from the client, extra in it, and held with other values: for the failure's log. */
function rowDiff(got: ReadonlyMap<string, unknown>, want: ReadonlyMap<string, unknown>): string {
  const missing = [...want.keys()].filter((k) => !got.has(k));
  const extra = [...got.keys()].filter((k) => !want.has(k));
  const changed = [...want].filter(([k, v]) => got.has(k) && JSON.stringify(got.get(k)) !== JSON.stringify(v));
  if (missing.length + extra.length + changed.length === 0) return '';
  return JSON.stringify({ missing, extra, changed: changed.map(([k, v]) => [k, got.get(k), v]) });
}
