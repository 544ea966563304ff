// The service on both routing backends (in-process Router, ShardedRouter with 2 workers): same protocol output for
// the change scenarios, a table rebuild on schema change, and shard workers dying mid-stream without losing changes.
import { afterAll, describe, expect, it } from 'vitest';
import { BEFORE_ALL, type LogOffset } from '../../src/log/offset.js';
import type { SwitchyardService } from '../../src/shapes/service.js';
import type { ShapeDefinition } from '../../src/shapes/types.js';
import { createTestDb, def, eventually, materialize, readAll, truth, type Msg, type TestDb } from './shapes-support.js';

interface Spec {
  readonly name: string;
  readonly def: ShapeDefinition;
  /** The shape's rows as Postgres has them (columns as selected). */
  readonly query: string;
}

/** Shapes over `items (id, title, done, n)` whose logs are compared across backends. */
const FIRST: readonly Spec[] = [
  { name: 'all', def: def('items', { replica: 'full' }), query: 'SELECT * FROM items' },
  { name: 'open', def: def('items', { where: 'done = false' }), query: 'SELECT * FROM items WHERE done = false' },
  { name: 'like', def: def('items', { where: "title LIKE 't%'" }), query: "SELECT * FROM items WHERE title LIKE 't%'" },
  // Explicit columns: these survive the ADD COLUMN below and are re-added to the rebuilt router.
  {
    name: 'params',
    def: def('items', { columns: ['id', 'title'], where: 'n >= $1', params: { '1': '20' } }),
    query: 'SELECT id, title FROM items WHERE n >= 20',
  },
  {
    name: 'id3',
    def: def('items', { columns: ['id', 'n'], where: 'id = 3' }),
    query: 'SELECT id, n FROM items WHERE id = 3',
  },
  {
    name: 'id22',
    def: def('items', { columns: ['id', 'n'], where: 'id = 22' }),
    query: 'SELECT id, n FROM items WHERE id = 22',
  },
  {
    name: 'in',
    def: def('items', { columns: ['id', 'title'], where: 'id IN (1, 4, 22)' }),
    query: 'SELECT id, title FROM items WHERE id IN (1, 4, 22)',
  },
  // A row raising in the clause's residual (division by zero) is not in the shape (where-language.md §8.2).
  {
    name: 'div residual',
    def: def('items', { where: 'done AND 10 / (n - 50) > 0' }),
    query: 'SELECT * FROM items WHERE done AND CASE WHEN n = 50 THEN false ELSE 10 / (n - 50) > 0 END',
  },
];
const SURVIVORS = ['params', 'id3', 'id22', 'in'];
const SECOND: readonly Spec[] = [
  { name: 'all2', def: def('items'), query: 'SELECT * FROM items' },
  { name: 'extra', def: def('items', { where: "extra = 'x'" }), query: "SELECT * FROM items WHERE extra = 'x'" },
];

/** A log without what differs between two databases (LSNs, txids, the snapshot's xids); the rest must be identical. */
function normalize(messages: readonly Msg[]): unknown[] {
  return messages.map((m) => {
    const { lsn: _lsn, txids: _txids, xmin: _xmin, xmax: _xmax, xip_list: _xip, ...headers } = m.headers;
    return { ...m, headers };
  });
}

const outputs = new Map<string, Record<string, unknown[]>>();

const BACKENDS = [
  { backend: 'in-process Router', shards: 0 },
  { backend: 'ShardedRouter, 2 workers', shards: 2 },
];

describe.each(BACKENDS)('service changes with $backend', ({ backend, shards }) => {
  let db: TestDb;
  let service: SwitchyardService;
  const handles = new Map<string, string>();
  const out: Record<string, unknown[]> = {};
  outputs.set(backend, out);

  afterAll(async () => {
    await db?.cleanup();
  });

  /** Runs statements, then waits for the sentinel shape to see the transaction. */
  async function step(sentinel: string, ...statements: string[]): Promise<void> {
    const h = handles.get(sentinel)!;
    const at: LogOffset = service.lastOffset(h);
    for (const s of statements) await db.sql.query(s);
    expect(await service.waitForData(h, at, 10_000)).toBe('data');
  }

  async function expectTruth(specs: readonly Spec[]): Promise<void> {
    for (const s of specs) {
      const rows = materialize((await readAll(service, handles.get(s.name)!)).messages);
      expect(rows, s.name).toEqual(await truth(db.sql, s.query));
    }
  }

  it('routes inserts, moves, a key change, updates and deletes exactly', async () => {
    db = await createTestDb(`sharded${shards}`);
    await db.sql.query(
      `CREATE TABLE items (id int4 PRIMARY KEY, title text, done bool NOT NULL DEFAULT false, n int8)`,
    );
    await db.sql.query(`INSERT INTO items VALUES (1, 'one', false, 10), (2, 'two', true, 20)`);
    ({ service } = await db.start(undefined, { router: { shards } }));
    for (const s of FIRST) handles.set(s.name, (await service.getOrCreate(s.def)).handle);
    if (shards > 0) expect(service.shardedRouterOf('public', 'items')?.shards).toBe(2);
    else expect(service.shardedRouterOf('public', 'items')).toBeUndefined();

    await step(
      'all',
      'BEGIN',
      `INSERT INTO items VALUES (3, 'three', false, 30)`,
      `INSERT INTO items VALUES (4, 'four', false, 40)`,
      'COMMIT',
    );
    await step('all', `UPDATE items SET done = true WHERE id = 1`);
    await step(
      'all',
      'BEGIN',
      `UPDATE items SET title = 'zwei' WHERE id = 2`,
      `UPDATE items SET done = false WHERE id = 2`,
      'COMMIT',
    );
    await step('all', `UPDATE items SET id = 22 WHERE id = 2`);
    await step('all', `UPDATE items SET n = 31 WHERE id = 3`);
    await step('all', `DELETE FROM items WHERE id = 4`);
    await step('all', `INSERT INTO items VALUES (6, 'six', true, 50), (7, 'seven', true, 60)`);
    // Row 6 raises in one shape's residual: only that shape was failed open and re-checked, not every shape it reached.
    expect(service.metrics().failOpenRoutes).toBe(1);
    expect(service.metrics().failOpenRechecks).toBe(1);
    await expectTruth(FIRST);
    for (const s of FIRST) out[s.name] = normalize((await readAll(service, handles.get(s.name)!)).messages);

    const logged = (await readAll(service, handles.get('open')!)).messages;
    expect(logged.slice(0, 2).map((m) => [m.key, m.headers['control']])).toEqual([
      ['"public"."items"/"1"', undefined],
      [undefined, 'snapshot-end'],
    ]);
    const open = logged.slice(2); // after the snapshot row of id 1 and the snapshot-end
    expect(open.map((m) => [m.headers['operation'], m.key])).toEqual([
      ['insert', '"public"."items"/"3"'],
      ['insert', '"public"."items"/"4"'],
      ['delete', '"public"."items"/"1"'],
      ['insert', '"public"."items"/"2"'],
      ['delete', '"public"."items"/"2"'],
      ['insert', '"public"."items"/"22"'],
      ['update', '"public"."items"/"3"'],
      ['delete', '"public"."items"/"4"'],
    ]);
    expect(open[4]!.headers['key_change_to']).toBe('"public"."items"/"22"');
  });

  it('rebuilds the table router on a schema change and keeps routing the surviving shapes', async () => {
    const old = service.shardedRouterOf('public', 'items');
    await db.sql.query(`ALTER TABLE items ADD COLUMN extra text DEFAULT 'x'`);
    // The relation message comes with the next change and invalidates the shapes selecting every column.
    const waiting = service.waitForData(handles.get('all')!, service.lastOffset(handles.get('all')!), 10_000);
    await db.sql.query(`UPDATE items SET n = 32 WHERE id = 3`);
    expect(await waiting).toBe('invalidated');
    for (const s of SECOND) handles.set(s.name, (await service.getOrCreate(s.def)).handle);
    if (old !== undefined) {
      const now = service.shardedRouterOf('public', 'items');
      expect(now).not.toBe(old);
      expect(now?.shapeCount).toBe(SURVIVORS.length + SECOND.length);
      // the replaced router's workers are gone
      await expect(old.routeBatch([])).rejects.toThrow(/closed/);
    }
    await step('all2', `INSERT INTO items VALUES (5, 'five', false, 50, 'y')`);
    await step('all2', `UPDATE items SET extra = 'z', n = 33 WHERE id = 3`);
    await step('all2', `UPDATE items SET extra = 'x' WHERE id = 5`);
    const live = [...FIRST.filter((s) => SURVIVORS.includes(s.name)), ...SECOND];
    await expectTruth(live);
    for (const s of live)
      out[`${s.name} after rebuild`] = normalize((await readAll(service, handles.get(s.name)!)).messages);
    expect(service.metrics().shapes).toBe(live.length);
    // lanes count every live shape once on both backends (a sharded table's are refreshed asynchronously)
    const laneTotal = (): number => Object.values(service.metrics().lanes).reduce((a, b) => a + b, 0);
    await eventually(() => laneTotal() === live.length, 10_000, 'metrics lanes to cover every shape');
  });

  it('truncate invalidates every shape of the table', async () => {
    const h = handles.get('all2')!;
    const waiting = service.waitForData(h, service.lastOffset(h), 10_000);
    await db.sql.query('TRUNCATE items');
    expect(await waiting).toBe('invalidated');
    await eventually(() =>
      SURVIVORS.concat(SECOND.map((s) => s.name)).every((n) => service.get(handles.get(n)!) === undefined),
    );
  });
});

describe('both backends', () => {
  it('produced the same protocol output', () => {
    const [a, b] = BACKENDS.map((x) => outputs.get(x.backend));
    expect(Object.keys(a ?? {}).length).toBe(FIRST.length + SURVIVORS.length + SECOND.length);
    expect(b).toEqual(a);
  });
});

describe('ShardedRouter workers dying mid-stream', () => {
  let db: TestDb;

  afterAll(async () => {
    await db?.cleanup();
  });

  /** A client: snapshot first, then incremental reads from where it stopped (as a live client would). */
  function client(
    service: SwitchyardService,
    handle: string,
  ): { sync(): Promise<Map<string, Record<string, string | null>>> } {
    const rows = new Map<string, Record<string, string | null>>();
    let at: LogOffset = BEFORE_ALL;
    return {
      async sync() {
        const r = await readAll(service, handle, at);
        materialize(r.messages, rows);
        at = r.end;
        return rows;
      },
    };
  }

  /** Writes `rounds` transactions (inserts, updates moving rows across `n`, deletes), then a marker row. */
  async function stream(round0: number, rounds: number): Promise<void> {
    for (let r = round0; r < round0 + rounds; r++) {
      await db.sql.query(
        `BEGIN; INSERT INTO t VALUES (${r * 10 + 1}, 'a${r}', ${r % 7}), (${r * 10 + 2}, 'b${r}', ${(r + 3) % 7});` +
          ` UPDATE t SET n = (n + 2) % 7 WHERE id % 3 = ${r % 3}; DELETE FROM t WHERE id = ${(r - 2) * 10 + 2}; COMMIT`,
      );
    }
  }

  it('retries a batch on a restarted worker, and replays a transaction whose batch failed, without losing a change', async () => {
    db = await createTestDb('shardcrash');
    await db.sql.query(`CREATE TABLE t (id int8 PRIMARY KEY, title text, n int4)`);
    await db.sql.query(`INSERT INTO t SELECT g, 'r' || g, g % 7 FROM generate_series(1, 5) g`);
    const specs: Spec[] = [
      { name: 'all', def: def('t'), query: 'SELECT * FROM t' },
      { name: 'n<3', def: def('t', { where: 'n < 3' }), query: 'SELECT * FROM t WHERE n < 3' },
      { name: 'n=4', def: def('t', { where: 'n = 4' }), query: 'SELECT * FROM t WHERE n = 4' },
      { name: 'n=5', def: def('t', { where: 'n = 5' }), query: 'SELECT * FROM t WHERE n = 5' },
      { name: 'a%', def: def('t', { where: "title LIKE 'a%'" }), query: "SELECT * FROM t WHERE title LIKE 'a%'" },
    ];
    const check = async (clients: Map<string, ReturnType<typeof client>>, marker: number): Promise<void> => {
      await db.sql.query(`INSERT INTO t VALUES (${marker}, 'marker', 6)`);
      await eventually(
        async () => (await clients.get('all')!.sync()).has(`"public"."t"/"${marker}"`),
        15_000,
        `marker ${marker}`,
      );
      for (const s of specs) {
        const want = new Map([...(await truth(db.sql, s.query, 't'))]);
        expect(await clients.get(s.name)!.sync(), s.name).toEqual(want);
      }
    };

    // Default retry budget: a worker that dies mid-batch is restarted and the batch retried; nothing surfaces.
    let { service } = await db.start(undefined, { router: { shards: 2 } });
    let clients = new Map<string, ReturnType<typeof client>>();
    for (const s of specs) {
      const c = client(service, (await service.getOrCreate(s.def)).handle);
      await c.sync();
      clients.set(s.name, c);
    }
    const router = service.shardedRouterOf('public', 't')!;
    void router.crashShard(0, 2);
    void router.crashShard(1, 3);
    await stream(1, 8);
    await check(clients, 100_001);
    const restarts = (await router.stats()).shards.reduce((a, s) => a + s.restarts, 0);
    expect(restarts).toBe(2);
    await service.close();

    // No retries: the failed batch rejects with shard_failed; the transaction is not acknowledged and is replayed.
    const failuresBefore = db.events.filter((e) => e.event === 'error' && /will be replayed/.test(e.message)).length;
    ({ service } = await db.start(db.dirs[0], { router: { shards: 2, maxRetries: 0 } }));
    clients = new Map();
    for (const s of specs) {
      const c = client(service, (await service.getOrCreate(s.def)).handle);
      await c.sync();
      clients.set(s.name, c);
    }
    const r2 = service.shardedRouterOf('public', 't')!;
    void r2.crashShard(0, 1);
    void r2.crashShard(1, 2);
    await stream(20, 8);
    await check(clients, 100_002);
    const failures =
      db.events.filter((e) => e.event === 'error' && /will be replayed/.test(e.message)).length - failuresBefore;
    expect(failures).toBeGreaterThanOrEqual(1);
    expect(failures).toBeLessThanOrEqual(2);
    // the failed router was replaced by a fresh one (its predecessor's workers closed)
    expect(service.shardedRouterOf('public', 't')).not.toBe(r2);
    await expect(r2.routeBatch([])).rejects.toThrow(/closed/);
  });
});
