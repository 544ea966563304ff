// Idle logs evicted from memory: reloaded from their files with the same content, durable through a crash.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ShapeLogStore, formatOffset, makeOffset } from '../../src/log/index.js';
import type { LogEntry, ShapeLog, ShapeLogStoreOptions } from '../../src/log/index.js';
import { changeIds, crash } from '../support/log-helpers.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sy-loge-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const ids = (log: ShapeLog): number[] => changeIds(log, 300);
const entry = (lsn: number): LogEntry => ({
  offset: makeOffset(BigInt(lsn), 0),
  json: JSON.stringify({ key: `"public"."t"/"${lsn}"`, value: { id: String(lsn) }, headers: { operation: 'insert' } }),
});

/** `n` logs `s<i>` with a one-row snapshot and changes i*100+1 … i*100+k, committed. */
async function fill(store: ShapeLogStore, n: number, k: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const log = store.createLog(`s${i}`);
    log.appendSnapshot([{ key: `k${i}`, value: { id: String(i) }, headers: { operation: 'insert' } }]);
    log.finishSnapshot();
    for (let j = 1; j <= k; j++) log.append([entry(i * 100 + j)]);
  }
  await store.syncAll();
}
const expected = (i: number, k: number): number[] => Array.from({ length: k }, (_, j) => i * 100 + j + 1);

describe.each<'journal' | 'per-file'>(['journal', 'per-file'])('eviction (%s durability)', (durability) => {
  const opts: ShapeLogStoreOptions = { durability, maxLoadedLogs: 4 };

  it('keeps at most maxLoadedLogs logs loaded; an evicted one reloads with the same content and takes appends', async () => {
    const store = await ShapeLogStore.open(dir, opts);
    await fill(store, 20, 3);
    const old = store.getLog('s0')!;
    for (let i = 1; i < 20; i++) store.getLog(`s${i}`); // s0 is now the least recently used
    await store.syncAll();
    expect(store.stats().loadedLogs).toBeLessThanOrEqual(4);
    expect(store.stats().evictedLogs).toBeGreaterThanOrEqual(16);
    // A stale instance refuses use instead of diverging from the files.
    expect(() => old.append([entry(50)])).toThrow(/evicted/);
    for (let i = 0; i < 20; i++) {
      const log = store.getLog(`s${i}`)!;
      expect(log.snapshotState()).toBe('complete');
      expect(formatOffset(log.lastOffset())).toBe(`${i * 100 + 3}_0`);
      expect(ids(log)).toEqual(expected(i, 3));
      log.append([entry(i * 100 + 4)]);
      await store.syncAll();
    }
    for (let i = 0; i < 20; i++) expect(ids(store.getLog(`s${i}`)!)).toEqual(expected(i, 4));
    await store.close();
  });

  it('a crash after evicting logs whose records were only journaled loses nothing committed', async () => {
    const store = await ShapeLogStore.open(dir, { ...opts, checkpointBytes: 1 << 30 });
    await fill(store, 12, 5);
    await store.syncAll();
    expect(store.stats().evictedLogs).toBeGreaterThan(0);
    crash(store);
    const re = await ShapeLogStore.open(dir, opts);
    for (let i = 0; i < 12; i++) expect(ids(re.getLog(`s${i}`)!)).toEqual(expected(i, 5));
    await re.close();
  });

  it('the next sync or checkpoint fsyncs the files of logs evicted before it, and skips deleted ones', async () => {
    const store = await ShapeLogStore.open(dir, { ...opts, checkpointMethod: 'per-file' });
    await fill(store, 10, 2);
    const before = store.stats().fsyncs;
    for (let i = 0; i < 10; i++) store.getLog(`s${i}`)!.append([entry(i * 100 + 3)]);
    store.deleteLog('s9');
    await store.syncAll(); // evicts six written logs
    await store.checkpoint();
    // Each written log's change segment is fsynced by the sync (per-file) or the checkpoint (journal).
    expect(store.stats().fsyncs - before).toBeGreaterThanOrEqual(9);
    expect(readdirSync(dir)).not.toContain('s9');
    await store.close();
    const re = await ShapeLogStore.open(dir, opts);
    for (let i = 0; i < 9; i++) expect(ids(re.getLog(`s${i}`)!)).toEqual(expected(i, 3));
    await re.close();
  });

  it('never evicts a log whose snapshot is still being written', async () => {
    const store = await ShapeLogStore.open(dir, { ...opts, maxLoadedLogs: 1 });
    const open = store.createLog('open');
    open.appendSnapshot([{ key: 'a', value: { id: '1' }, headers: { operation: 'insert' } }]);
    await fill(store, 3, 1);
    await store.syncAll();
    open.appendSnapshot([{ key: 'b', value: { id: '2' }, headers: { operation: 'insert' } }]);
    open.finishSnapshot();
    expect(store.getLog('open')).toBe(open);
    expect(open.read(makeOffset(-1n, 0)).items).toHaveLength(2);
    await store.close();
  });
});

describe('evicted logs reloaded from their remembered state', () => {
  // Small segments and a dense index, so the state holds several segments, index files and index positions.
  const small: ShapeLogStoreOptions = { maxLoadedLogs: 2, segmentBytes: 600, indexEveryBytes: 150 };
  const state = (log: ShapeLog): unknown => ({
    last: formatOffset(log.lastOffset()),
    end: formatOffset(log.endOffset()),
    chunks: log.snapshotChunks(),
    bytes: log.byteSize(),
    ids: ids(log),
  });

  it('loads them from memory (memoLoads), in the state recovering their files gives, across further appends', async () => {
    const store = await ShapeLogStore.open(dir, small);
    await fill(store, 6, 12);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 6; i++) {
        const log = store.getLog(`s${i}`)!;
        log.append([entry(i * 100 + 13 + round)]);
        await store.syncAll();
      }
    }
    const memoState = Array.from({ length: 6 }, (_, i) => state(store.getLog(`s${i}`)!));
    expect(store.stats().memoLoads).toBeGreaterThanOrEqual(12);
    await store.close();
    // The state the clean close kept is the same, and so is what recovering the files gives.
    const kept = await ShapeLogStore.open(dir, { ...small, maxLogMemos: 0 });
    expect(Array.from({ length: 6 }, (_, i) => state(kept.getLog(`s${i}`)!))).toEqual(memoState);
    expect(kept.stats().tailLoads).toBe(6);
    await kept.close();
    const re = await ShapeLogStore.open(dir, { ...small, maxLogMemos: 0, keepLogStates: false });
    const recovered = Array.from({ length: 6 }, (_, i) => state(re.getLog(`s${i}`)!));
    expect(re.stats().memoLoads).toBe(0);
    expect(recovered).toEqual(memoState);
    for (let i = 0; i < 6; i++) expect(ids(re.getLog(`s${i}`)!)).toEqual(expected(i, 15));
    await re.close();
  });

  it('a crash after appends to logs reloaded from memory loses nothing committed', async () => {
    const store = await ShapeLogStore.open(dir, { ...small, checkpointBytes: 1 << 30 });
    await fill(store, 5, 4);
    for (let i = 0; i < 5; i++) {
      store.getLog(`s${i}`)!.append([entry(i * 100 + 5)]);
      await store.syncAll();
    }
    expect(store.stats().memoLoads).toBeGreaterThan(0);
    crash(store);
    const re = await ShapeLogStore.open(dir, small);
    for (let i = 0; i < 5; i++) expect(ids(re.getLog(`s${i}`)!)).toEqual(expected(i, 5));
    await re.close();
  });

  it('a deleted log forgets its state; beyond maxLogMemos the oldest are loaded from their files', async () => {
    const store = await ShapeLogStore.open(dir, { ...small, maxLogMemos: 2 });
    await fill(store, 6, 2);
    expect(store.deleteLog('s0')).toBe(true);
    expect(store.getLog('s0')).toBeUndefined();
    for (let i = 1; i < 6; i++) expect(ids(store.getLog(`s${i}`)!)).toEqual(expected(i, 2));
    expect(store.stats().memoLoads).toBeLessThanOrEqual(2);
    await store.close();
  });
});

describe('checkpoints by written streams', () => {
  it('a checkpoint starts once checkpointStreams streams were written, whatever the journal size', async () => {
    const store = await ShapeLogStore.open(dir, { maxLoadedLogs: 2, checkpointStreams: 8 });
    await fill(store, 10, 1);
    await store.syncAll();
    await store.checkpoint(); // waits for the one started by the count
    expect(store.stats().checkpoints).toBeGreaterThanOrEqual(2);
    await store.close();
  });
});
