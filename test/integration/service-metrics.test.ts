// /metrics of a running service counts, per table, rows left out because a clause raised on them (snapshot, live and
// subset rows) and the router's fail-open count (expressions that raised while routing a live row).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveFreshDatabase, type ServedDatabase } from '../support/served-database.js';

let served: ServedDatabase;
let base: string;

beforeAll(async () => {
  served = await serveFreshDatabase(`CREATE TABLE nums (id int4 PRIMARY KEY, n int4 NOT NULL);
    INSERT INTO nums VALUES (1, 0), (2, 5), (3, 1);
    CREATE TABLE calm (id int4 PRIMARY KEY, n int4 NOT NULL); INSERT INTO calm VALUES (1, 0)`);
  base = served.base;
}, 120_000);

afterAll(async () => {
  await served?.stop();
});

/** The value of `name{schema="public",table="<table>"}` in /metrics, or undefined when the series is absent. */
async function perTable(name: string, table: string): Promise<number | undefined> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = new RegExp(`^${name}\\{schema="public",table="${table}"\\} (\\d+)$`, 'm').exec(text);
  return m === null ? undefined : Number(m[1]);
}

async function until(what: string, pred: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function shape(qs: string): Promise<{ handle: string; offset: string }> {
  const res = await fetch(`${base}/v1/shape?offset=-1&${qs}`);
  expect(res.status).toBe(200);
  await res.text();
  return { handle: res.headers.get('electric-handle')!, offset: res.headers.get('electric-offset')! };
}

describe('per-table error metrics', () => {
  it('counts raising rows of snapshots, live changes and subsets, and router fail-opens, by table', async () => {
    const evalErrors = (t: string) => perTable('switchyard_evaluation_errors_total', t);
    const failOpen = (t: string) => perTable('switchyard_router_fail_open_total', t);
    await shape('table=calm&where=n%20>=%200');
    // Row 1 (n = 0) raises in the snapshot: left out, counted for nums.
    await shape(`table=nums&where=${encodeURIComponent('10 / n = 2')}`);
    expect(await evalErrors('nums')).toBe(1);
    expect(await failOpen('nums')).toBe(0);
    expect(await evalErrors('calm')).toBeUndefined();
    expect(await failOpen('calm')).toBe(0);

    // A live row raising in the router's residual: failed open, re-checked exactly, which raises too.
    await served.db.client.query('INSERT INTO nums VALUES (4, 0)');
    await until('the live row to be counted', async () => (await evalErrors('nums')) === 2);
    expect(await failOpen('nums')).toBe(1);

    // A subset whose own clause raises on row 1 of a shape without a clause.
    const all = await shape('table=nums');
    const where = encodeURIComponent('10 / n = 2');
    const res = await fetch(
      `${base}/v1/shape?table=nums&handle=${all.handle}&offset=${all.offset}&subset__where=${where}`,
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { value: { id: string } }[] };
    expect(body.data.map((d) => d.value.id)).toEqual(['2']);
    // Rows 1 and 4 (n = 0) raised: both left out and counted.
    expect(await evalErrors('nums')).toBe(4);
    expect(await evalErrors('calm')).toBeUndefined();
    expect(await failOpen('calm')).toBe(0);
  });

  it('reports how long transactions took to become readable, from the commit and from their arrival', async () => {
    const latency = async (from: string): Promise<number | undefined> => {
      const text = await (await fetch(`${base}/metrics`)).text();
      const m = new RegExp(
        `^switchyard_visibility_latency_seconds\\{from="${from}",quantile="0.5"\\} (\\S+)$`,
        'm',
      ).exec(text);
      return m === null ? undefined : Number(m[1]);
    };
    await served.db.client.query('INSERT INTO calm VALUES (2, 3)');
    await until('a latency to be reported', async () => (await latency('receipt')) !== undefined);
    const fromCommit = (await latency('commit'))!;
    const fromReceipt = (await latency('receipt'))!;
    // Both are real durations; the commit side includes the receipt side (same transactions) up to clock noise.
    expect(fromReceipt).toBeGreaterThanOrEqual(0);
    expect(fromCommit).toBeGreaterThanOrEqual(0);
    expect(fromCommit).toBeLessThan(60);
  });
});
