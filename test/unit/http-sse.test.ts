// SSE live mode (shape-protocol.md §7) against an in-memory shape service: raw event streams and the real client.
import type { AddressInfo } from 'node:net';
import { Shape, ShapeStream, isChangeMessage, type Row, type ShapeStreamInterface } from '@electric-sql/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSwitchyardHttp, type SwitchyardHttp } from '../../src/http/server.js';
import { FakeShapeService, insertMessage } from '../support/fake-shape-service.js';
import { openSse, trace } from '../support/sse-reader.js';

const SCHEMA = { id: { type: 'int4', pk_index: 0, not_null: true as const }, title: { type: 'text' } };
const SSE_TIMEOUT_MS = 1500;
const KEEP_ALIVE_MS = 300;

let service: FakeShapeService;
let http: SwitchyardHttp;
let base: string;

beforeAll(async () => {
  service = new FakeShapeService();
  service.addTable(
    'public.items',
    SCHEMA,
    [1, 2].map((i) => row(i)),
  );
  http = createSwitchyardHttp({
    service,
    // Longer than a stream lives, so no idle up-to-date interleaves (its own test below shortens it).
    longPollTimeoutMs: 5000,
    sseTimeoutMs: SSE_TIMEOUT_MS,
    sseKeepAliveMs: KEEP_ALIVE_MS,
    enableDelete: true,
  });
  await new Promise<void>((r) => http.server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(http.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await http.close(100);
});

function row(id: number): string {
  return insertMessage('public', 'items', String(id), { id: String(id), title: `t${id}` });
}

const insert = (id: number) => ({
  key: `"public"."items"/"${id}"`,
  operation: 'insert' as const,
  value: { id: String(id), title: `t${id}` },
});

/** Raw catch-up of a fresh shape (its own where clause, so tests do not share logs) to the end of the snapshot. */
async function synced(where: string): Promise<{ handle: string; qs: string }> {
  const qs = `table=items&where=${encodeURIComponent(where)}`;
  const first = await fetch(`${base}/v1/shape?${qs}&offset=-1`);
  const handle = first.headers.get('electric-handle')!;
  const second = await fetch(`${base}/v1/shape?${qs}&offset=0_0&handle=${handle}`);
  expect(second.headers.get('electric-offset')).toBe('0_inf');
  expect(second.headers.has('electric-up-to-date')).toBe(true);
  return { handle, qs };
}

const sseUrl = (qs: string, handle: string, offset: string): string =>
  `${base}/v1/shape?${qs}&cursor=&handle=${handle}&live=true&live_sse=true&offset=${offset}`;

describe('SSE live mode (fake service)', () => {
  it('streams each message as an event, up-to-date after each batch, keep-alive comments, and closes on time', async () => {
    const { handle, qs } = await synced('id > 0');
    const s = await openSse(sseUrl(qs, handle, '0_inf'));
    expect(s.res.headers.get('content-type')).toBe('text/event-stream');
    expect(s.res.headers.get('electric-handle')).toBe(handle);
    expect(s.res.headers.get('electric-offset')).toBe('0_inf');
    expect(s.res.headers.get('electric-cursor')).toMatch(/^[0-9]+$/);
    expect(s.res.headers.get('cache-control')).toBe('public, max-age=1');
    expect(s.res.headers.get('access-control-expose-headers')).toContain('electric-cursor');
    await s.until((ev) => ev.some((e) => e.comment === 'keep-alive'));
    expect(s.events[0]!.at).toBeGreaterThanOrEqual(KEEP_ALIVE_MS - 50);
    const lsn1 = service.commit(handle, [insert(3), insert(4)]);
    await s.until((ev) => ev.filter((e) => e.data?.headers['control'] === 'up-to-date').length === 1);
    const lsn2 = service.commit(handle, [insert(5), insert(50)]);
    await s.until((ev) => ev.filter((e) => e.data?.headers['control'] === 'up-to-date').length === 2);
    await s.ended;
    expect(trace(s.events).filter((t) => t !== ':keep-alive')).toEqual([
      'insert "public"."items"/"3"',
      'insert "public"."items"/"4"',
      `up-to-date@${lsn1}`,
      'insert "public"."items"/"5"',
      'insert "public"."items"/"50"',
      `up-to-date@${lsn2}`,
    ]);
    // The server ended the stream after its lifetime, not earlier and not much later.
    const lastAt = Math.max(...s.events.map((e) => e.at));
    expect(lastAt).toBeLessThan(SSE_TIMEOUT_MS + 200);

    // The client resumes at `<global_last_seen_lsn>_0`: nothing of that transaction comes again.
    const again = await openSse(sseUrl(qs, handle, `${lsn2}_0`));
    const lsn3 = service.commit(handle, [insert(6)]);
    await again.until((ev) => ev.some((e) => e.data?.headers['control'] === 'up-to-date'));
    expect(trace(again.events).filter((t) => t !== ':keep-alive')).toEqual([
      'insert "public"."items"/"6"',
      `up-to-date@${lsn3}`,
    ]);
    await again.cancel();
  });

  it('sends what the log already holds at once, then keeps the stream open for more', async () => {
    const { handle, qs } = await synced('id > 1');
    const lsn = service.commit(handle, [insert(7)]);
    const s = await openSse(sseUrl(qs, handle, '0_inf'));
    await s.until((ev) => ev.some((e) => e.data?.headers['control'] === 'up-to-date'), 500);
    expect(trace(s.events)).toEqual(['insert "public"."items"/"7"', `up-to-date@${lsn}`]);
    let open = true;
    void s.ended.then(() => (open = false));
    await new Promise((r) => setTimeout(r, 400));
    expect(open).toBe(true);
    await s.cancel();
  });

  it('an idle stream says up-to-date after each long-poll timeout, as a long poll would; no lsn before any data', async () => {
    const idle = createSwitchyardHttp({ service, longPollTimeoutMs: 400, sseTimeoutMs: 3000, sseKeepAliveMs: 10_000 });
    await new Promise<void>((r) => idle.server.listen(0, '127.0.0.1', r));
    try {
      const { handle, qs } = await synced('id > 50');
      const at = `http://127.0.0.1:${(idle.server.address() as AddressInfo).port}/v1/shape?${qs}`;
      const s = await openSse(`${at}&cursor=&handle=${handle}&live=true&live_sse=true&offset=0_inf`);
      await s.until((ev) => ev.length === 2, 2000);
      // Nothing sent yet: no global_last_seen_lsn, so the client keeps its offset (0_inf) rather than build `0_0`.
      expect(s.events.map((e) => e.data)).toEqual([
        { headers: { control: 'up-to-date' } },
        { headers: { control: 'up-to-date' } },
      ]);
      expect(s.events[0]!.at).toBeGreaterThanOrEqual(350);
      const lsn = service.commit(handle, [insert(8)]);
      await s.until((ev) => ev.length === 5, 2000);
      expect(trace(s.events.slice(2))).toEqual([
        'insert "public"."items"/"8"',
        `up-to-date@${lsn}`,
        `up-to-date@${lsn}`,
      ]);
      await s.cancel();
    } finally {
      await idle.close(100);
    }
  });

  it('ends the stream when the shape is invalidated; the next request gets 409 with the new handle', async () => {
    const { handle, qs } = await synced('id > 2');
    const s = await openSse(sseUrl(qs, handle, '0_inf'));
    const started = Date.now();
    expect((await fetch(`${base}/v1/shape?handle=${handle}`, { method: 'DELETE' })).status).toBe(202);
    await s.ended;
    expect(Date.now() - started).toBeLessThan(SSE_TIMEOUT_MS / 2);
    const next = await fetch(sseUrl(qs, handle, '0_inf'));
    expect(next.status).toBe(409);
    expect(next.headers.get('electric-handle')).not.toBe(handle);
  });

  it('frees the waiter when the client goes away mid-stream', async () => {
    const { handle, qs } = await synced('id > 3');
    const before = service.waiterCount();
    const s = await openSse(sseUrl(qs, handle, '0_inf'));
    await new Promise((r) => setTimeout(r, 100));
    expect(service.waiterCount()).toBe(before + 1);
    await s.cancel();
    await new Promise((r) => setTimeout(r, 100));
    expect(service.waiterCount()).toBe(before);
  });

  it('errors before the stream starts are JSON: live_sse inside the snapshot, a foreign handle', async () => {
    const { handle, qs } = await synced('id > 4');
    const inSnapshot = await fetch(sseUrl(qs, handle, '0_0'));
    expect(inSnapshot.status).toBe(400);
    expect(((await inSnapshot.json()) as { errors: Record<string, string[]> }).errors['offset']?.[0]).toMatch(
      /end of the initial snapshot/,
    );
    const stale = await fetch(sseUrl(qs, 'nosuch-handle', '0_inf'));
    expect(stale.status).toBe(409);
    expect(stale.headers.get('content-type')).toMatch(/application\/json/);
  });

  it('the real client with liveSse: rows, live changes across server-side closes, each change delivered once', async () => {
    const urls: URL[] = [];
    const ac = new AbortController();
    const stream = new ShapeStream<Row>({
      url: `${base}/v1/shape`,
      params: { table: 'items', where: 'id > 5' },
      liveSse: true,
      signal: ac.signal,
      fetchClient: (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
        urls.push(new URL(input instanceof Request ? input.url : String(input)));
        return fetch(input, init);
      },
    });
    const shape = new Shape(stream as ShapeStreamInterface<Row>);
    const seen = new Map<string, number>();
    stream.subscribe((msgs) => {
      for (const m of msgs) if (isChangeMessage(m)) seen.set(m.key, (seen.get(m.key) ?? 0) + 1);
    });
    expect((await shape.rows).map((r) => r['id']).sort()).toEqual([1, 2]);
    const handle = stream.shapeHandle!;
    // Commits spread over three stream lifetimes, some in multi-row transactions.
    for (let i = 0; i < 8; i++) {
      service.commit(handle, [insert(100 + 2 * i), insert(101 + 2 * i)]);
      await new Promise((r) => setTimeout(r, SSE_TIMEOUT_MS / 3));
    }
    const deadline = Date.now() + 5000;
    while (shape.currentRows.length < 18 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(shape.currentRows).toHaveLength(18);
    for (const [key, n] of seen) expect(n, key).toBe(1);
    const sse = urls.filter((u) => u.searchParams.get('live_sse') === 'true');
    expect(sse.length).toBeGreaterThanOrEqual(3);
    for (const u of sse) expect(u.searchParams.get('experimental_live_sse')).toBe('true');
    // After the first stream, every reconnect resumes at `<lsn>_0` of the last transaction it received.
    expect(sse.slice(1).every((u) => /^[1-9][0-9]*_0$/.test(u.searchParams.get('offset')!))).toBe(true);
    ac.abort();
  });
});
