// Evicted logs written on the I/O pool: fsyncs wait for them, and a log used again before its write lands sees its bytes.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ShapeLogStore, makeOffset } from '../../src/log/index.js';
import type { LogEntry, ShapeLogStoreOptions } from '../../src/log/index.js';
import { changeIds as ids, crash, range } from '../support/log-helpers.js';

/** Write-outs wait for `gate.open` (when set) before writing anything; `gate.fail` makes them fail instead. */
const gate = vi.hoisted(() => ({ open: undefined as Promise<void> | undefined, fail: false, started: 0 }));
vi.mock('../../src/log/write-out.js', async (original) => {
  const real = await original<typeof import('../../src/log/write-out.js')>();
  return {
    ...real,
    writeFilesAsync: async (...args: Parameters<typeof real.writeFilesAsync>) => {
      gate.started++;
      await gate.open;
      if (gate.fail) throw new Error('EIO: injected write failure');
      return real.writeFilesAsync(...args);
    },
  };
});

function holdWrites(): () => void {
  let release!: () => void;
  gate.open = new Promise((r) => (release = r));
  return () => {
    gate.open = undefined;
    release();
  };
}

/** Whether `p` settles within `ms` (it cannot while it waits for a held write). */
async function settles(p: Promise<unknown>, ms = 30): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await sleep(ms);
  return done;
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sy-logwo-'));
  gate.open = undefined;
  gate.fail = false;
  gate.started = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const entry = (lsn: number): LogEntry => ({
  offset: makeOffset(BigInt(lsn), 0),
  json: JSON.stringify({ key: `"public"."t"/"${lsn}"`, value: { id: String(lsn) } }),
});

/**
 * Logs s0…s<n-1>, each with changes i*100+1 … i*100+k; the commit returned evicts all but the last (with per-file
 * durability it settles only once their write-outs have).
 */
function evictAll(store: ShapeLogStore, n: number, k: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const log = store.createLog(`s${i}`);
    log.finishSnapshot();
    for (let j = 1; j <= k; j++) log.append([entry(i * 100 + j)]);
  }
  return store.syncAll();
}

describe.each<'journal' | 'per-file'>(['journal', 'per-file'])('write-out (%s durability)', (durability) => {
  const opts: ShapeLogStoreOptions = { durability, maxLoadedLogs: 1 };

  it('a log loaded again while its write-out is held sees its bytes (written through) and takes appends', async () => {
    const store = await ShapeLogStore.open(dir, opts);
    for (let i = 0; i < 3; i++) store.createLog(`s${i}`).finishSnapshot();
    await store.syncAll();
    await store.checkpoint();
    const before = store.stats();
    const release = holdWrites();
    for (let j = 1; j <= 5; j++) for (let i = 0; i < 3; i++) store.getLog(`s${i}`)!.append([entry(i * 100 + j)]);
    // Per-file durability waits for the write-outs it fsyncs by directory: the commit is issued, not awaited.
    const commit = store.syncAll();
    expect(store.stats().writeOuts - before.writeOuts).toBe(2);
    expect(ids(store.getLog('s0')!)).toEqual(range(1, 5));
    expect(store.stats().writeThroughs - before.writeThroughs).toBe(1);
    store.getLog('s0')!.append([entry(6)]);
    expect(await settles(commit)).toBe(durability === 'journal');
    release();
    await commit;
    await store.syncAll();
    expect(ids(store.getLog('s1')!)).toEqual(range(101, 105));
    await store.close();
    const again = await ShapeLogStore.open(dir, opts);
    expect(ids(again.getLog('s0')!)).toEqual(range(1, 6));
    expect(ids(again.getLog('s1')!)).toEqual(range(101, 105));
    await again.close();
  });

  it('a checkpoint waits for the write-outs it covers; after it the files alone hold everything', async () => {
    const store = await ShapeLogStore.open(dir, { ...opts, checkpointBytes: 1 << 30 });
    const release = holdWrites();
    const commit = evictAll(store, 4, 10);
    expect(store.stats().writeOuts).toBe(3);
    const cp = store.checkpoint();
    // Long enough for the filesystem sync (a `sync -f` process) that must not run before the writes land.
    expect(await settles(cp, 1000)).toBe(false);
    release();
    await commit;
    await cp;
    crash(store);
    // Nothing left to replay: what the write-outs wrote was fsynced before the journal was let go.
    const again = await ShapeLogStore.open(dir, opts);
    expect(again.stats().replayPendingLogs).toBe(0);
    for (let i = 0; i < 4; i++) expect(ids(again.getLog(`s${i}`)!)).toEqual(range(i * 100 + 1, i * 100 + 10));
    await again.close();
  });

  it('a prefetch of a log whose write-out is held does not wait: it writes the bytes through, loads without reading', async () => {
    const store = await ShapeLogStore.open(dir, opts);
    const release = holdWrites();
    const commit = evictAll(store, 3, 4);
    const p = store.prefetch(['s0']);
    // A backlog queues tens of thousands of write-outs: a live change must not wait behind them.
    expect(await settles(p.ready)).toBe(true);
    expect(store.stats()).toMatchObject({ prefetchLoads: 1, writeThroughs: 1, syncLoads: 0 });
    expect(ids(store.getLog('s0')!)).toEqual(range(1, 4));
    release();
    await commit;
    p.release();
    await store.close();
    const again = await ShapeLogStore.open(dir, { ...opts, keepLogStates: false });
    expect(ids(again.getLog('s0')!)).toEqual(range(1, 4));
    await again.close();
  });

  it('a log deleted while its write-out is held is gone, and the store goes on', async () => {
    const store = await ShapeLogStore.open(dir, opts);
    const release = holdWrites();
    const commit = evictAll(store, 3, 4);
    expect(store.deleteLog('s0')).toBe(true);
    release();
    await commit;
    await store.checkpoint();
    expect(existsSync(join(dir, 's0'))).toBe(false);
    expect(store.hasLog('s0')).toBe(false);
    expect(ids(store.getLog('s1')!)).toEqual(range(101, 104));
    await store.close();
  });

  it('a failed write-out fails the store: no commit fsyncs past it, no checkpoint lets the journal go', async () => {
    const store = await ShapeLogStore.open(dir, opts);
    gate.fail = true;
    const commit = evictAll(store, 3, 4);
    // Per-file durability fsyncs the evicted logs' files in the commit; the journal's commit fsyncs the journal only.
    if (durability === 'per-file') await expect(commit).rejects.toThrow(/failed earlier/);
    else await commit;
    await expect(store.checkpoint()).rejects.toThrow();
    expect(() => store.getLog('s0')).toThrow(/failed earlier/);
    crash(store);
    if (durability === 'per-file') return;
    const again = await ShapeLogStore.open(dir, opts);
    for (let i = 0; i < 3; i++) expect(ids(again.getLog(`s${i}`)!)).toEqual(range(i * 100 + 1, i * 100 + 4));
    await again.close();
  });
});
