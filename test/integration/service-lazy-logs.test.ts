// Idle shape logs evicted from memory and shapes resumed without opening their logs: same rows, same offsets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetaStore, type MetaValue } from '../../src/log/meta-store.js';
import { formatOffset } from '../../src/log/offset.js';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHAPE_RECORD_PREFIX } from '../../src/shapes/registry.js';
import type { SwitchyardService } from '../../src/shapes/service.js';
import { createTestDb, def, eventually, materialize, readAll, truth, type TestDb } from './shapes-support.js';

let db: TestDb;
const GROUPS = 6;
const shapeDef = (g: number) => def('items', { where: 'grp = $1', params: { '1': String(g) } });
const rowsOf = (g: number) => truth(db.sql, `SELECT id::text, grp::text, v::text FROM items WHERE grp = ${g}`);
const small = { log: { maxLoadedLogs: 2 }, schemaCheckIntervalMs: 0 };

beforeAll(async () => {
  db = await createTestDb('lazylogs');
  await db.sql.query('CREATE TABLE items (id int PRIMARY KEY, grp int NOT NULL, v int NOT NULL)');
  await db.sql.query(`INSERT INTO items SELECT g, g % ${GROUPS}, 0 FROM generate_series(1, 60) g`);
});
afterAll(() => db.cleanup());

async function handles(service: SwitchyardService): Promise<string[]> {
  const out: string[] = [];
  for (let g = 0; g < GROUPS; g++) out.push((await service.getOrCreate(shapeDef(g))).handle);
  return out;
}

async function expectEqualToPostgres(service: SwitchyardService, hs: readonly string[]): Promise<void> {
  for (let g = 0; g < GROUPS; g++) {
    const want = await rowsOf(g);
    const text = (m: Map<string, unknown>): string => JSON.stringify([...m].sort(([a], [b]) => (a < b ? -1 : 1)));
    await eventually(
      async () => text(materialize((await readAll(service, hs[g]!)).messages)) === text(want),
      10_000,
      `shape ${g} to catch up`,
    );
    expect(materialize((await readAll(service, hs[g]!)).messages)).toEqual(want);
  }
}

async function update(round: number): Promise<void> {
  await db.sql.query('UPDATE items SET v = $1 WHERE id % 7 = $2', [round, round % 7]);
  await db.sql.query('INSERT INTO items VALUES ($1, $2, $3)', [1000 + round, round % GROUPS, round]);
}

describe('lazy shape logs', () => {
  it('evicts idle logs, resumes without opening them, and serves the same rows and offsets after restarts', async () => {
    const first = await db.start(undefined, small);
    const hs = await handles(first.service);
    for (let round = 1; round <= 4; round++) await update(round);
    await expectEqualToPostgres(first.service, hs);
    expect(first.service.metrics().loadedLogs).toBeLessThanOrEqual(GROUPS);
    const ends = hs.map((h) => formatOffset(first.service.lastOffset(h)));
    await first.service.close();

    const second = await db.start(first.dataDir, small);
    // Resumed from the registry alone: no log was read to serve again.
    expect(second.service.metrics().loadedLogs).toBe(0);
    expect(await handles(second.service)).toEqual(hs);
    // A cold shape's end comes from its log's tail on first use: the same offsets as before the restart.
    expect(hs.map((h) => formatOffset(second.service.lastOffset(h)))).toEqual(ends);
    for (let round = 5; round <= 8; round++) await update(round);
    await expectEqualToPostgres(second.service, hs);
    expect(second.service.metrics().loadedLogs).toBeLessThanOrEqual(GROUPS);
    await second.service.close();
  });

  it('records written before completions were recorded: logs are checked once, then the records are rewritten', async () => {
    const first = await db.start(undefined, small);
    const hs = await handles(first.service);
    await first.service.close();
    // Strip the completion flag, as in a data directory written by an earlier version.
    const metaDir = join(first.dataDir, 'meta');
    const meta = await MetaStore.open(metaDir, { externalPrefix: SHAPE_RECORD_PREFIX });
    const stored = meta.takeStored();
    expect(stored.size).toBe(GROUPS);
    for (const [k, v] of stored) {
      const { done, ...rest } = v as Record<string, MetaValue>;
      expect(done).toBe(true);
      meta.set(k, rest);
    }
    await meta.commit();
    await meta.close();

    const second = await db.start(first.dataDir, small);
    expect(await handles(second.service)).toEqual(hs);
    await expectEqualToPostgres(second.service, hs);
    await second.service.close();
    const again = await MetaStore.open(metaDir, { externalPrefix: SHAPE_RECORD_PREFIX });
    for (const v of again.takeStored().values()) expect((v as Record<string, MetaValue>)['done']).toBe(true);
    await again.close();
  });

  it('logs without a shape, and deletions a crash interrupted, are removed in the background after start', async () => {
    const first = await db.start(undefined, small);
    const hs = await handles(first.service);
    await first.service.close();
    const logs = join(first.dataDir, 'logs');
    // A creation that never committed its record, and a deletion cut short by a crash.
    mkdirSync(join(logs, '123-456'));
    writeFileSync(join(logs, '123-456', 's000000000000.seg'), 'x');
    mkdirSync(join(logs, '.deleted-789-1'));
    // A handle issued after the start's clock (as a creation in flight while the scan lists the directory): kept.
    mkdirSync(join(logs, '123-99999999999999999999'));
    db.events.length = 0;
    const second = await db.start(first.dataDir, small);
    // The scan reports once it has read the whole directory.
    await eventually(
      () => db.events.some((e) => e.event === 'orphan_logs_removed'),
      10_000,
      'the orphan log to be removed',
    );
    expect(db.events).toContainEqual({ event: 'orphan_logs_removed', count: 1 });
    expect(existsSync(join(logs, '123-456'))).toBe(false);
    expect(existsSync(join(logs, '.deleted-789-1'))).toBe(false);
    expect(existsSync(join(logs, '123-99999999999999999999'))).toBe(true);
    expect(await handles(second.service)).toEqual(hs);
    await expectEqualToPostgres(second.service, hs);
    await second.service.close();
  });
});
