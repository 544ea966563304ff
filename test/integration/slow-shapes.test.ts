// A shape whose per-row evaluation is pathologically slow is measured, counted in /metrics and invalidated by the
// shape row budget (its clients and its clause get 400 too_expensive), while an unrelated shape keeps working.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveFreshDatabase, type ServedDatabase } from '../support/served-database.js';

let served: ServedDatabase;
let base: string;

beforeAll(async () => {
  served = await serveFreshDatabase(
    `CREATE TABLE items (id int4 PRIMARY KEY, x numeric NOT NULL); INSERT INTO items VALUES (1, 1.5)`,
    // `x ^ 12000` charges about 1 ms of work units at x = 1.5 and about 9 ms at x = 9.99.
    { shapeRowBudgetMs: 5 },
  );
  base = served.base;
}, 120_000);

afterAll(async () => {
  await served?.stop();
});

async function metric(name: string): Promise<number | undefined> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = new RegExp(`^${name}\\{schema="public",table="items"\\} (\\d+)$`, 'm').exec(text);
  return m === null ? undefined : Number(m[1]);
}

interface Shape {
  readonly where: string;
  readonly handle: string;
  readonly offset: string;
}

async function shape(where: string): Promise<Shape> {
  const res = await fetch(`${base}/v1/shape?table=items&offset=-1&where=${encodeURIComponent(where)}`);
  expect(res.status).toBe(200);
  await res.text();
  return { where, handle: res.headers.get('electric-handle')!, offset: res.headers.get('electric-offset')! };
}

/** Live requests until one answers something other than an empty up-to-date: its status, body and next offset. */
async function live(s: Shape): Promise<{ status: number; body: string; offset: string; details: string | null }> {
  let offset = s.offset;
  const where = encodeURIComponent(s.where);
  for (let i = 0; i < 40; i++) {
    const res = await fetch(
      `${base}/v1/shape?table=items&where=${where}&handle=${s.handle}&offset=${offset}&live=true`,
    );
    const body = await res.text();
    if (res.status !== 200 || body.includes('"insert"')) {
      const details = res.headers.get('switchyard-error-details');
      return { status: res.status, body, offset: res.headers.get('electric-offset') ?? offset, details };
    }
    offset = res.headers.get('electric-offset') ?? offset;
  }
  throw new Error('no change arrived');
}

describe('the shape row budget', () => {
  it('invalidates the costly shape only, counts it, and refuses its clause from then on', async () => {
    const costly = await shape('x ^ 12000 > 0');
    const plain = await shape('id > 0');
    expect(await metric('switchyard_shapes_too_expensive_total')).toBeUndefined();

    await served.db.client.query('INSERT INTO items VALUES (2, 9.99)');
    // Its live request learns at once that the shape is gone for good: a 409 would send the client to refetch a
    // shape whose clause is now refused, so the refusal itself answers.
    const gone = await live(costly);
    expect(gone.status).toBe(400);
    expect(gone.details).toContain('too_expensive');
    const kept = await live(plain);
    expect(kept.status).toBe(200);
    expect(kept.body).toContain('"id":"2"');

    expect(await metric('switchyard_shapes_too_expensive_total')).toBe(1);
    expect(await metric('switchyard_slow_shape_evaluations_total')).toBeGreaterThanOrEqual(1);
    expect(await metric('switchyard_shape_evaluation_work_units_total')).toBeGreaterThan(1_000_000);

    const again = await fetch(`${base}/v1/shape?table=items&offset=-1&where=${encodeURIComponent('x ^ 12000 > 0')}`);
    expect(again.status).toBe(400);
    expect(await again.text()).toMatch(/was invalidated: evaluating|too expensive/);
    expect(again.headers.get('switchyard-error-details')).toContain('too_expensive');
    // A cheaper clause on the same column is still welcome, and the unrelated shape keeps receiving changes.
    await shape('x ^ 2 > 0');
    await served.db.client.query('INSERT INTO items VALUES (3, 2)');
    const next = await live({ ...plain, offset: kept.offset });
    expect(next.status).toBe(200);
    expect(next.body).toContain('"id":"3"');
  }, 60_000);
});
