// Admission limits through the HTTP API: too many concurrent creations → 429, shape limits → 503 (both with
// retry-after), oversized or over-complex where clauses → 400 where_too_complex; every refusal counted in /metrics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveFreshDatabase, type ServedDatabase } from '../support/served-database.js';

let served: ServedDatabase;
let base: string;

beforeAll(async () => {
  served = await serveFreshDatabase(
    `CREATE TABLE big (id int4 PRIMARY KEY, v int4 NOT NULL);
    INSERT INTO big SELECT g, g % 100 FROM generate_series(1, 100000) g;
    CREATE TABLE items (id int4 PRIMARY KEY, v int4 NOT NULL); INSERT INTO items VALUES (1, 1);
    CREATE TABLE other (id int4 PRIMARY KEY, v int4 NOT NULL)`,
    {
      enableDelete: true,
      admission: {
        maxConcurrentCreations: 2,
        maxShapes: 6,
        maxShapesPerTable: 4,
        maxWhereBytes: 300,
        maxWhereNodes: 40,
      },
    },
  );
  base = served.base;
}, 120_000);

afterAll(async () => {
  await served?.stop();
});

interface Answer {
  status: number;
  body: { message?: string; code?: string; errors?: Record<string, string[]> };
  retryAfter: string | null;
  handle: string | null;
}

async function create(table: string, where: string): Promise<Answer> {
  const res = await fetch(`${base}/v1/shape?table=${table}&offset=-1&where=${encodeURIComponent(where)}`);
  const text = await res.text();
  return {
    status: res.status,
    body: res.status === 200 ? {} : (JSON.parse(text) as Answer['body']),
    retryAfter: res.headers.get('retry-after'),
    handle: res.headers.get('electric-handle'),
  };
}

async function rejectedTotal(reason: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = new RegExp(`^switchyard_admission_rejected_total\\{reason="${reason}"\\} (\\d+)`, 'm').exec(text);
  return m === null ? -1 : Number(m[1]);
}

describe('admission limits', () => {
  it('refuses creations beyond the concurrency cap with 429 and retry-after; they succeed when retried', async () => {
    // Each creation snapshots 100k rows, so the eight requests overlap.
    const wheres = Array.from({ length: 8 }, (_, i) => `v >= ${i}`);
    const first = await Promise.all(wheres.map((w) => create('big', w)));
    const refused = first.filter((a) => a.status === 429);
    expect(first.every((a) => a.status === 200 || a.status === 429)).toBe(true);
    expect(refused.length).toBeGreaterThan(0);
    for (const a of refused) {
      expect(a.retryAfter).toBe('1');
      expect(a.body.code).toBe('too_many_creations');
    }
    expect(await rejectedTotal('too_many_creations')).toBe(refused.length);
    // Created shapes are deleted again so the count limits below start from zero.
    for (const a of first.filter((x) => x.status === 200)) {
      expect((await fetch(`${base}/v1/shape?handle=${a.handle}`, { method: 'DELETE' })).status).toBe(202);
    }
    // One at a time, a refused definition is created.
    const again = await create('big', wheres[first.findIndex((a) => a.status === 429)]!);
    expect(again.status).toBe(200);
    await fetch(`${base}/v1/shape?handle=${again.handle}`, { method: 'DELETE' });
  }, 120_000);

  it('rejects where clauses over the byte or node limit with 400 naming the limit', async () => {
    const long = await create('items', `v = 1 OR ${'v + 0 = 1 OR '.repeat(30)}false`);
    expect(long.status, JSON.stringify(long.body)).toBe(400);
    expect(long.body.errors?.['where']?.[0]).toMatch(
      /where clause too large: \d+ bytes \(this service's limit is 300\)/,
    );
    const complex = await create('items', Array.from({ length: 20 }, (_, i) => `v = ${i}`).join(' OR '));
    expect(complex.status).toBe(400);
    expect(complex.body.errors?.['where']?.[0]).toMatch(/too complex: more than 40 nodes/);
    expect(await rejectedTotal('where_too_complex')).toBe(2);
  });

  it('refuses shapes beyond the per-table and total limits with 503 and retry-after', async () => {
    for (let i = 1; i <= 4; i++) expect((await create('items', `v = ${i}`)).status).toBe(200);
    const perTable = await create('items', 'v = 5');
    expect([perTable.status, perTable.retryAfter, perTable.body.code]).toEqual([503, '30', 'shape_limit']);
    expect(perTable.body.message).toMatch(/public\.items holds its limit of 4 shapes/);
    // An existing shape is still served: the limits apply to creations only.
    expect((await create('items', 'v = 1')).status).toBe(200);
    for (let i = 1; i <= 2; i++) expect((await create('other', `v = ${i}`)).status).toBe(200);
    const total = await create('other', 'v = 3');
    expect([total.status, total.body.code]).toEqual([503, 'shape_limit']);
    expect(total.body.message).toMatch(/limit of 6 shapes/);
    expect(await rejectedTotal('shape_limit')).toBe(2);
  });
});
