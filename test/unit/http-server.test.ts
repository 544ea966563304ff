// The HTTP layer against an in-memory shape service: the real @electric-sql/client and raw fetch, no Postgres.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Shape, ShapeStream, type Row, type ShapeStreamInterface } from '@electric-sql/client';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSwitchyardHttp, type SwitchyardHttp } from '../../src/http/server.js';
import { FakeShapeService, insertMessage } from '../support/fake-shape-service.js';

const PKG_VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const SCHEMA = {
  id: { type: 'int4', pk_index: 0, not_null: true as const },
  title: { type: 'text' },
  done: { type: 'bool', not_null: true as const },
};

function row(id: number, title: string, done = false): string {
  return insertMessage('public', 'items', String(id), { id: String(id), title, done: done ? 't' : 'f' });
}

let service: FakeShapeService;
let http: SwitchyardHttp;
let base: string;

beforeAll(async () => {
  service = new FakeShapeService();
  service.addTable('public.items', SCHEMA, [row(1, 'one'), row(2, 'two')]);
  http = createSwitchyardHttp({ service, longPollTimeoutMs: 1500, enableDelete: true, registry: new Registry() });
  await new Promise<void>((r) => http.server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(http.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await http.close(100);
});

const shapeUrl = (qs: string): string => `${base}/v1/shape?${qs}`;

describe('HTTP layer (fake service)', () => {
  it('serves snapshot, catch-up and up-to-date with the required headers', async () => {
    const r1 = await fetch(shapeUrl('log=full&offset=-1&table=items'));
    expect(r1.status).toBe(200);
    const handle = r1.headers.get('electric-handle')!;
    expect(r1.headers.get('electric-offset')).toBe('0_0');
    expect(JSON.parse(r1.headers.get('electric-schema')!)).toEqual(SCHEMA);
    expect(r1.headers.get('electric-up-to-date')).toBeNull();
    expect(r1.headers.get('cache-control')).toContain('max-age=604800');
    expect(r1.headers.get('access-control-expose-headers')).toContain('electric-handle');
    // Without a `version` option the header carries the version in package.json.
    expect(r1.headers.get('electric-server')).toBe(`Switchyard/${PKG_VERSION}`);
    const body1 = (await r1.json()) as unknown[];
    expect(body1).toHaveLength(2);
    const r2 = await fetch(shapeUrl(`handle=${handle}&log=full&offset=0_0&table=items`));
    expect(r2.headers.get('electric-up-to-date')).toBe('');
    expect(r2.headers.get('electric-offset')).toBe('0_inf');
    const body2 = (await r2.json()) as { headers: { control?: string } }[];
    expect(body2.at(-1)?.headers.control).toBe('up-to-date');
    // Conditional request on the same URL.
    const r3 = await fetch(shapeUrl(`handle=${handle}&log=full&offset=0_0&table=items`), {
      headers: { 'if-none-match': r2.headers.get('etag')! },
    });
    expect(r3.status).toBe(304);
  });

  it('syncs with the real client, then receives live changes', async () => {
    const stream = new ShapeStream<Row>({ url: `${base}/v1/shape`, params: { table: 'items' } });
    const shape = new Shape(stream as ShapeStreamInterface<Row>);
    const rows = await shape.rows;
    expect(rows.map((r) => r['id']).sort()).toEqual([1, 2]);
    expect(rows[0]?.['done']).toBe(false);
    const handle = stream.shapeHandle!;
    const changed = new Promise<Row[]>((resolve) => shape.subscribe(({ rows: rs }) => rs.length === 3 && resolve(rs)));
    await new Promise((r) => setTimeout(r, 200));
    service.commit(handle, [
      { key: '"public"."items"/"3"', operation: 'insert', value: { id: '3', title: 'three', done: 't' } },
    ]);
    const after = await changed;
    expect(after.find((r) => r['id'] === 3)?.['done']).toBe(true);
    stream.unsubscribeAll();
  });

  it('answers a live timeout with up-to-date, the requested offset, a cursor and has-data false', async () => {
    const r1 = await fetch(shapeUrl('offset=-1&table=items&where=id%20%3E%200'));
    const handle = r1.headers.get('electric-handle')!;
    const started = Date.now();
    const r2 = await fetch(shapeUrl(`cursor=&handle=${handle}&live=true&offset=0_inf&table=items&where=id%20%3E%200`));
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(r2.status).toBe(200);
    expect(r2.headers.get('electric-offset')).toBe('0_inf');
    expect(r2.headers.get('electric-has-data')).toBe('false');
    expect(r2.headers.get('electric-cursor')).toMatch(/^\d+$/);
    expect(r2.headers.get('electric-schema')).toBeNull();
    expect(r2.headers.get('cache-control')).toBe('public, max-age=5, stale-while-revalidate=5');
    expect(await r2.json()).toEqual([
      { headers: { control: 'up-to-date', global_last_seen_lsn: String(service.lsn) } },
    ]);
  });

  it('frees the long-poll waiter when the client disconnects', async () => {
    const r1 = await fetch(shapeUrl('offset=-1&table=items&where=id%20%3E%201'));
    const handle = r1.headers.get('electric-handle')!;
    const ac = new AbortController();
    const before = service.waiterCount();
    const pending = fetch(shapeUrl(`cursor=&handle=${handle}&live=true&offset=0_inf&table=items&where=id%20%3E%201`), {
      signal: ac.signal,
    }).catch(() => 'aborted');
    await new Promise((r) => setTimeout(r, 200));
    expect(service.waiterCount()).toBe(before + 1);
    ac.abort();
    expect(await pending).toBe('aborted');
    await new Promise((r) => setTimeout(r, 100));
    expect(service.waiterCount()).toBe(before);
  });

  it('409 with the current handle for a stale or foreign handle, and after DELETE', async () => {
    const r = await fetch(shapeUrl('offset=0_0&handle=bogus&table=items'));
    expect(r.status).toBe(409);
    const current = r.headers.get('electric-handle')!;
    expect(service.get(current)).toBeDefined();
    expect(await r.json()).toEqual([{ headers: { control: 'must-refetch' } }]);
    expect(r.headers.get('cache-control')).toBe('public, max-age=60, must-revalidate');
    const other = await fetch(shapeUrl('offset=-1&table=items&columns=id'));
    const foreign = other.headers.get('electric-handle')!;
    const r2 = await fetch(shapeUrl(`offset=0_0&handle=${foreign}&table=items`));
    expect(r2.status).toBe(409);
    expect(r2.headers.get('electric-handle')).toBe(current);
    const del = await fetch(shapeUrl(`table=items&handle=${current}`), { method: 'DELETE' });
    expect(del.status).toBe(202);
    const r3 = await fetch(shapeUrl(`offset=0_0&handle=${current}&table=items`));
    expect(r3.status).toBe(409);
    expect(r3.headers.get('electric-handle')).not.toBe(current);
    expect((await fetch(shapeUrl(`handle=${current}`), { method: 'DELETE' })).status).toBe(404);
  });

  it('400 bodies keyed by parameter, never cached', async () => {
    const r = await fetch(shapeUrl('offset=x'));
    expect(r.status).toBe(400);
    expect(r.headers.get('cache-control')).toBe('no-store');
    const body = (await r.json()) as { message: string; errors: Record<string, string[]> };
    expect(body.message).toBe('Invalid request');
    expect(Object.keys(body.errors).sort()).toEqual(['offset', 'table']);
    const unknown = await fetch(shapeUrl('offset=-1&table=nope'));
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { errors: Record<string, unknown> }).errors).toHaveProperty('table');
    const oob = await fetch(shapeUrl('offset=-1&table=items'));
    const h = oob.headers.get('electric-handle')!;
    const r2 = await fetch(shapeUrl(`offset=999999_0&handle=${h}&table=items`));
    expect(r2.status).toBe(400);
    expect(await r2.json()).toEqual({
      message: 'Invalid request',
      errors: { offset: ['out of bounds for this shape'] },
    });
  });

  it('other endpoints: OPTIONS, health, liveness, metrics, 404', async () => {
    const o = await fetch(shapeUrl('table=items'), {
      method: 'OPTIONS',
      headers: { origin: 'https://x.example', 'access-control-request-headers': 'authorization' },
    });
    expect(o.status).toBe(204);
    expect(o.headers.get('access-control-allow-origin')).toBe('https://x.example');
    expect(o.headers.get('access-control-allow-headers')).toBe('authorization');
    expect(o.headers.get('access-control-max-age')).toBe('86400');
    const h = await fetch(`${base}/v1/health`);
    expect(h.status).toBe(200);
    expect(await h.json()).toEqual({ status: 'active' });
    const root = await fetch(`${base}/`);
    expect(root.status).toBe(200);
    expect(await root.text()).toBe('');
    const m = await fetch(`${base}/metrics`);
    expect(await m.text()).toContain('switchyard_http_requests_total');
    const nf = await fetch(`${base}/nope`);
    expect(nf.status).toBe(404);
    expect(await nf.text()).toBe('Not found');
    expect(nf.headers.get('access-control-expose-headers')).toContain('electric-offset');
  });

  it('a failing service answers 500 JSON and the server stays up', async () => {
    const original = service.read.bind(service);
    service.read = () => Promise.reject(new Error('boom'));
    try {
      const r = await fetch(shapeUrl('offset=-1&table=items&where=id%20%3E%205'));
      expect(r.status).toBe(500);
      expect(await r.json()).toEqual({ error: 'Internal server error' });
    } finally {
      service.read = original;
    }
    expect((await fetch(`${base}/`)).status).toBe(200);
  });

  it('a secret gates /v1/shape only', async () => {
    const gated = createSwitchyardHttp({ service, secret: 's3cret' });
    await new Promise<void>((r) => gated.server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(gated.server.address() as AddressInfo).port}`;
    try {
      const r = await fetch(`${url}/v1/shape?offset=-1&table=items`);
      expect(r.status).toBe(401);
      expect(await r.json()).toEqual({ message: 'Unauthorized - Invalid API secret' });
      expect((await fetch(`${url}/v1/shape?offset=-1&table=items&secret=s3cret`)).status).toBe(200);
      expect(
        (await fetch(`${url}/v1/shape?offset=-1&table=items`, { headers: { authorization: 'Bearer s3cret' } })).status,
      ).toBe(200);
      expect((await fetch(`${url}/v1/shape?table=items`, { method: 'OPTIONS' })).status).toBe(204);
      expect((await fetch(`${url}/v1/health`)).status).toBe(200);
    } finally {
      await gated.close(100);
    }
  });

  it('chunks the snapshot: every response advances the offset, only the last is up to date', async () => {
    service.rowsPerChunk = 1;
    try {
      const r1 = await fetch(shapeUrl('offset=-1&table=items&replica=full'));
      const handle = r1.headers.get('electric-handle')!;
      expect(r1.headers.get('electric-offset')).toBe('0_0');
      const r2 = await fetch(shapeUrl(`offset=0_0&handle=${handle}&table=items&replica=full`));
      expect(r2.headers.get('electric-offset')).toBe('0_1');
      expect(r2.headers.get('electric-up-to-date')).toBeNull();
      const r3 = await fetch(shapeUrl(`offset=0_1&handle=${handle}&table=items&replica=full`));
      expect(r3.headers.get('electric-offset')).toBe('0_inf');
      expect(r3.headers.get('electric-up-to-date')).toBe('');
    } finally {
      service.rowsPerChunk = 1000;
    }
  });
});
