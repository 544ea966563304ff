// Crash safety of `switchyard serve`: kill -9 the service process at random points while a writer commits; real
// clients ride through the restarts and end with exactly the rows Postgres holds.
import pg from 'pg';
import { expect, it } from 'vitest';
import { freePort, startServiceProcess } from '../support/service-process.js';
import { keyed, trackShape, sleep, waitUntil } from '../support/shape-tracker.js';
import { CRASH_SEED as SEED, crashSuite, expectConverged, killAndRestart } from '../support/crash-harness.js';
import { rng } from '../../bench/router-workloads.js';
import type { Row } from '@electric-sql/client';

const KILLS = 4;

/** Shapes over one table: ranges, IN, ILIKE, array containment, params, replica=full; `grp` and `v` move rows in and out. */
const SHAPES: Record<string, unknown>[] = [
  { table: 'items' },
  { table: 'items', where: 'v BETWEEN 10 AND 30' },
  { table: 'items', where: 'grp IN (1, 3)' },
  { table: 'items', where: "name ILIKE 'a%'" },
  { table: 'items', where: 'grp = 2 AND v < 40', replica: 'full' },
  { table: 'items', where: "tags @> ARRAY['x']" },
  { table: 'items', where: 'v > $1 AND NOT flag', params: { '1': '25' } },
  { table: 'items', where: 'id % 7 = 3 OR name IS NULL', columns: 'id,v,name' },
];

/** The WHERE each shape applies, as SQL for the truth query. */
function truthSql(s: Record<string, unknown>): string {
  const cols = typeof s['columns'] === 'string' ? s['columns'] : 'id, v, grp, name, tags, flag';
  let where = typeof s['where'] === 'string' ? s['where'] : 'true';
  const params = (s['params'] ?? {}) as Record<string, string>;
  where = where.replace(/\$(\d+)/g, (_, n: string) => `'${params[n]!}'`);
  return `SELECT ${cols} FROM items WHERE ${where}`;
}

const state = crashSuite('service-crash', [
  `CREATE TABLE items (id int4 PRIMARY KEY, v int4 NOT NULL, grp int4 NOT NULL, name text, tags text[] NOT NULL, flag bool NOT NULL)`,
  `INSERT INTO items SELECT g, g % 50, g % 5, CASE WHEN g % 9 = 0 THEN NULL ELSE chr(97 + g % 4) || g END,
    CASE WHEN g % 3 = 0 THEN ARRAY['x', 'y'] ELSE ARRAY['y'] END, g % 2 = 0 FROM generate_series(1, 300) g`,
]);

/** Random transactions of inserts, updates (moving rows across every shape), deletes and primary-key changes. */
async function writer(url: string, r: () => number, stop: () => boolean): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const ids = new Set<number>((await c.query<{ id: number }>('SELECT id FROM items')).rows.map((x) => x.id));
  let next = 1000;
  let commits = 0;
  const pick = (): number | undefined => {
    const arr = [...ids];
    return arr.length === 0 ? undefined : arr[Math.floor(r() * arr.length)];
  };
  const int = (n: number): number => Math.floor(r() * n);
  while (!stop()) {
    const ops = 1 + int(5);
    const added: number[] = [];
    const removed: number[] = [];
    await c.query('BEGIN');
    for (let i = 0; i < ops; i++) {
      const kind = r();
      const id = pick();
      if (kind < 0.3 || id === undefined) {
        const nid = next++;
        await c.query('INSERT INTO items VALUES ($1, $2, $3, $4, $5, $6)', [
          nid,
          int(50),
          int(5),
          r() < 0.1 ? null : `${'aAbc'[int(4)]}${nid}`,
          r() < 0.4 ? ['x'] : ['y', 'z'],
          r() < 0.5,
        ]);
        ids.add(nid);
        added.push(nid);
      } else if (kind < 0.75) {
        await c.query(
          'UPDATE items SET v = $2, grp = CASE WHEN $3 THEN (grp + 1) % 5 ELSE grp END, name = CASE WHEN $4 THEN $5 ELSE name END, tags = CASE WHEN $6 THEN tags || ARRAY[$7] ELSE tags END, flag = NOT flag WHERE id = $1',
          [
            id,
            int(50),
            r() < 0.6,
            r() < 0.3,
            r() < 0.1 ? null : `${'aBcd'[int(4)]}u${id}`,
            r() < 0.2,
            r() < 0.5 ? 'x' : 'w',
          ],
        );
      } else if (kind < 0.9) {
        await c.query('DELETE FROM items WHERE id = $1', [id]);
        ids.delete(id);
        removed.push(id);
      } else {
        const nid = next++;
        await c.query('UPDATE items SET id = $2 WHERE id = $1', [id, nid]);
        ids.delete(id);
        removed.push(id);
        ids.add(nid);
        added.push(nid);
      }
    }
    await c.query('COMMIT');
    commits++;
    if (commits % 10 === 0) await new Promise((res) => setTimeout(res, 5));
  }
  await c.end();
  return commits;
}

it(
  `kill -9 of the service ${KILLS} times under a writer: every client's rows equal Postgres's, nothing lost, duplicated or reordered`,
  { timeout: 120_000 },
  async () => {
    console.log(`[service-crash] seed ${SEED}`);
    const r = rng(SEED);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/v1/shape`;
    state.svc = await startServiceProcess(state.db.url, state.dataDir, port);
    const trackers = state.trackers;
    for (const params of SHAPES) trackers.push(trackShape({ url, params }));
    // Every shape synced before the writer starts, so each has a complete snapshot to resume from.
    await waitUntil(() => trackers.every((t) => t.stats.upToDates > 0), 20_000, 'initial sync');
    let stopping = false;
    const writing = writer(state.db.url, r, () => stopping);
    await killAndRestart(state, port, r, KILLS, 300, 1200);
    await sleep(500);
    stopping = true;
    const commits = await writing;
    const truths: Map<string, Row>[] = [];
    for (const s of SHAPES) truths.push(keyed((await state.db.client.query(truthSql(s))).rows, 'items'));
    await expectConverged(state, truths, 30_000, () => {
      const summary = trackers.map((t) => ({ shape: t.name, rows: t.rows.size, ...t.stats }));
      console.log(`[service-crash] ${commits} commits, ${KILLS} kills`, JSON.stringify(summary));
    });
    expect(commits).toBeGreaterThan(50);
  },
);
