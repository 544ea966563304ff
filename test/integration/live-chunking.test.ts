// Live responses split at the chunk size inside a transaction (issue 10): bounded responses, complete reassembly by the
// real client (long polling and SSE), and never a response ending right after op 0 of a transaction that goes on.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Shape, ShapeStream, type Row, type ShapeStreamInterface } from '@electric-sql/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/cli/serve.js';
import type { Logger } from '../../src/http/logger.js';
import { freshDatabase, type FreshDatabase } from '../support/pg-env.js';

const CHUNK = 10_000;

let db: FreshDatabase;
const servers: { server: RunningServer; dir: string }[] = [];
const errors: unknown[] = [];
const log: Logger = { log: (level, event, fields) => void (level === 'error' && errors.push({ event, ...fields })) };

async function serve(chunkBytes: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-live-chunks-'));
  const server = await startServer(
    {
      port: 0,
      host: '127.0.0.1',
      databaseUrl: db.url,
      dataDir: dir,
      longPollTimeoutMs: 2000,
      chunkBytes,
      enableDelete: false,
      demo: false,
    },
    log,
  );
  servers.push({ server, dir });
  return `http://127.0.0.1:${(server.http.server.address() as AddressInfo).port}/v1/shape`;
}

beforeAll(async () => {
  db = await freshDatabase();
});

afterAll(async () => {
  for (const { server, dir } of servers) {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  await db?.drop();
});

interface Msg {
  key?: string;
  value?: Record<string, string>;
  headers: Record<string, unknown>;
}

interface Response {
  readonly bytes: number;
  readonly messages: Msg[];
  readonly offset: string;
  readonly upToDate: boolean;
}

/** Raw sync to the first up-to-date; returns the handle and offset to go live from. */
async function syncRaw(url: string, table: string): Promise<{ handle: string; offset: string }> {
  let r = await fetch(`${url}?table=${table}&offset=-1`);
  const handle = r.headers.get('electric-handle')!;
  let offset = r.headers.get('electric-offset')!;
  await r.arrayBuffer();
  for (;;) {
    r = await fetch(`${url}?table=${table}&handle=${handle}&offset=${offset}`);
    offset = r.headers.get('electric-offset')!;
    await r.arrayBuffer();
    if (r.headers.has('electric-up-to-date')) return { handle, offset };
  }
}

/** Follows live requests from `offset` (as the client does) until an up-to-date response that carried changes. */
async function followLive(url: string, table: string, handle: string, offset: string): Promise<Response[]> {
  const out: Response[] = [];
  for (let i = 0; i < 10_000; i++) {
    const r = await fetch(`${url}?table=${table}&handle=${handle}&offset=${offset}&live=true&cursor=`);
    expect(r.status).toBe(200);
    const text = await r.text();
    const messages = (JSON.parse(text) as Msg[]).filter((m) => m.key !== undefined);
    const resp: Response = {
      bytes: Buffer.byteLength(text),
      messages,
      offset: r.headers.get('electric-offset')!,
      upToDate: r.headers.has('electric-up-to-date'),
    };
    if (messages.length > 0) out.push(resp);
    offset = resp.offset;
    if (resp.upToDate && out.length > 0) return out;
  }
  throw new Error('never up to date');
}

const offsetOf = (text: string): [bigint, number] => {
  const [tx, op] = text.split('_') as [string, string];
  return [BigInt(tx), Number(op)];
};

describe('live responses split inside a transaction', () => {
  it('a 35-row transaction of ~1.1 kB rows comes as several ~10 kB live responses; only the last is up to date', async () => {
    const url = await serve(CHUNK);
    await db.client.query(`CREATE TABLE t35 (id int4 PRIMARY KEY, title text NOT NULL)`);
    const { handle, offset } = await syncRaw(url, 't35');
    const following = followLive(url, 't35', handle, offset);
    await db.client.query(`INSERT INTO t35 SELECT g, repeat(chr(64 + g % 26), 1100) FROM generate_series(1, 35) g`);
    const responses = await following;
    expect(responses.length).toBeGreaterThanOrEqual(3);
    const maxRow = Math.max(...responses.flatMap((r) => r.messages.map((m) => JSON.stringify(m).length)));
    for (const r of responses)
      expect(r.bytes, 'one response stays near the chunk size').toBeLessThan(CHUNK + 2 * maxRow);
    expect(responses.slice(0, -1).every((r) => !r.upToDate)).toBe(true);
    expect(responses.at(-1)!.upToDate).toBe(true);
    const ids = responses.flatMap((r) => r.messages.map((m) => Number(m.value!['id'])));
    expect(ids).toEqual(Array.from({ length: 35 }, (_, i) => i + 1));
    const lsns = new Set(responses.flatMap((r) => r.messages.map((m) => m.headers['lsn'])));
    expect(lsns.size).toBe(1);
    expect(responses.at(-1)!.messages.at(-1)!.headers['last']).toBe(true);
    // Offsets advance on every response.
    for (let i = 1; i < responses.length; i++) {
      const [a, b] = [offsetOf(responses[i - 1]!.offset), offsetOf(responses[i]!.offset)];
      expect(a[0] === b[0] ? a[1] < b[1] : a[0] < b[0]).toBe(true);
    }
  });

  it('the real client reassembles it: SSE shows it whole, long polling at most one partial notification first', async () => {
    const url = await serve(CHUNK);
    await db.client.query(`CREATE TABLE tc (id int4 PRIMARY KEY, title text NOT NULL)`);
    for (const liveSse of [false, true]) {
      await db.client.query(`TRUNCATE tc`);
      const ac = new AbortController();
      const where = liveSse ? 'id > 0' : 'id >= 0';
      const stream = new ShapeStream<Row>({ url, params: { table: 'tc', where }, signal: ac.signal, liveSse });
      const shape = new Shape(stream as ShapeStreamInterface<Row>);
      expect(await shape.rows).toEqual([]);
      const sizes: number[] = [];
      shape.subscribe(({ rows }) => void sizes.push(rows.length));
      await new Promise((r) => setTimeout(r, 300));
      await db.client.query(`INSERT INTO tc SELECT g, repeat('y', 1100) FROM generate_series(1, 35) g`);
      const deadline = Date.now() + 15_000;
      while (shape.currentRows.length < 35 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(shape.currentRows, `liveSse=${liveSse}`).toHaveLength(35);
      expect(sizes.at(-1)).toBe(35);
      if (liveSse) {
        // SSE: the client buffers events up to the up-to-date, so subscribers see the transaction whole.
        expect(
          sizes.every((n) => n === 0 || n === 35),
          sizes.join(','),
        ).toBe(true);
      } else {
        // Long polling: the client's Shape notifies on the first data after an up-to-date (its rule N2, the same
        // with Electric, which splits live responses too), then only at the next up-to-date.
        expect(sizes.filter((n) => n !== 0 && n !== 35).length, sizes.join(',')).toBeLessThanOrEqual(1);
      }
      ac.abort();
    }
  });

  it('a 5,000-row transaction (1 MB) is served in responses bounded by the chunk size, none larger', async () => {
    const url = await serve(CHUNK);
    await db.client.query(`CREATE TABLE tbig (id int4 PRIMARY KEY, title text NOT NULL)`);
    const { handle, offset } = await syncRaw(url, 'tbig');
    const following = followLive(url, 'tbig', handle, offset);
    await db.client.query(`INSERT INTO tbig SELECT g, repeat('z', 200) FROM generate_series(1, 5000) g`);
    const responses = await following;
    const maxRow = Math.max(...responses.flatMap((r) => r.messages.map((m) => JSON.stringify(m).length)));
    expect(Math.max(...responses.map((r) => r.bytes))).toBeLessThan(CHUNK + 2 * maxRow);
    expect(responses.length).toBeGreaterThan(50);
    expect(responses.reduce((n, r) => n + r.messages.length, 0)).toBe(5000);
  });

  it('a response never ends right after op 0 of a transaction that continues (`<lsn>_0` means all of lsn)', async () => {
    // One message per read: without the rule the first response would end at `<lsn>_0`.
    const url = await serve(1);
    await db.client.query(`CREATE TABLE t0 (id int4 PRIMARY KEY)`);
    const { handle, offset } = await syncRaw(url, 't0');
    const following = followLive(url, 't0', handle, offset);
    await db.client.query(`INSERT INTO t0 SELECT generate_series(1, 4)`);
    const responses = await following;
    expect(responses.map((r) => r.messages.length)).toEqual([2, 1, 1]);
    expect(responses.map((r) => offsetOf(r.offset)[1])).toEqual([2, 4, 6]);
    // A single-row transaction may end at op 0: that is all of it.
    const single = followLive(url, 't0', handle, responses.at(-1)!.offset);
    await db.client.query(`INSERT INTO t0 VALUES (5)`);
    const [one] = await single;
    expect(one!.messages).toHaveLength(1);
    expect(offsetOf(one!.offset)[1]).toBe(0);
    expect(one!.upToDate).toBe(true);
  });

  it('the service logged no errors', () => {
    expect(errors).toEqual([]);
  });
});
