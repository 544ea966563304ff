// Logs loaded ahead on the I/O pool (ShapeLogStore.prefetch): the same state as a synchronous load, and no such load.
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ShapeLogStore, formatOffset, makeOffset } from '../../src/log/index.js';
import type { LogEntry, ShapeLogStoreOptions } from '../../src/log/index.js';
import { changeIds as ids, crash, range } from '../support/log-helpers.js';

/**
 * The read-ahead, held after its reads until the test opens `gate.open` (when set): what happens to the log between
 * the reads and the build is then up to the test, not to the thread pool's timing.
 */
const gate = vi.hoisted(() => ({ open: undefined as Promise<void> | undefined, reads: 0 }));
vi.mock('../../src/log/log-prefetch.js', async (original) => {
  const real = await original<typeof import('../../src/log/log-prefetch.js')>();
  return {
    ...real,
    readLogFiles: async (...args: Parameters<typeof real.readLogFiles>) => {
      const files = await real.readLogFiles(...args);
      gate.reads++;
      await gate.open;
      return files;
    },
  };
});

/** Holds read-aheads after their reads; returns the release. */
function holdReads(): () => void {
  let release!: () => void;
  gate.open = new Promise((r) => (release = r));
  return () => {
    gate.open = undefined;
    release();
  };
}
async function readsDone(n: number): Promise<void> {
  while (gate.reads < n) await new Promise((r) => setTimeout(r, 1));
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sy-logpf-'));
  gate.reads = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const entry = (lsn: number): LogEntry => ({
  offset: makeOffset(BigInt(lsn), 0),
  json: JSON.stringify({ key: `"public"."t"/"${lsn}"`, value: { id: String(lsn), pad: 'x'.repeat(lsn % 40) } }),
});
const segFiles = (handle: string): string[] =>
  readdirSync(join(dir, handle))
    .filter((n) => n.startsWith('c-') && n.endsWith('.seg'))
    .sort()
    .map((n) => join(dir, handle, n));

/** `n` logs `s<i>` with a one-row snapshot and changes i*1000+1 … i*1000+k. */
async function fill(opts: ShapeLogStoreOptions, n: number, k: number): Promise<void> {
  const store = await ShapeLogStore.open(dir, opts);
  for (let i = 0; i < n; i++) {
    const log = store.createLog(`s${i}`);
    log.appendSnapshot([{ key: `k${i}`, value: { id: String(i) }, headers: { operation: 'insert' } }]);
    log.finishSnapshot();
    for (let j = 1; j <= k; j++) log.append([entry(i * 1000 + j)]);
  }
  await store.close();
}

describe.each<'journal' | 'per-file'>(['journal', 'per-file'])('prefetch (%s durability)', (durability) => {
  // No state kept at close: these tests reopen a cleanly closed store to read its logs' files.
  const opts: ShapeLogStoreOptions = { durability, segmentBytes: 4096, indexEveryBytes: 512, keepLogStates: false };

  it('loads logs with their files read on the pool: the same content, no synchronous load, no extra read', async () => {
    await fill(opts, 12, 120);
    const store = await ShapeLogStore.open(dir, opts);
    const names = Array.from({ length: 12 }, (_, i) => `s${i}`);
    const p = store.prefetch([...names, 'missing']);
    await p.ready;
    expect(store.stats()).toMatchObject({ prefetchLoads: 12, logLoads: 12, syncLoads: 0, prefetchMisses: 0 });
    expect(store.hasLog('missing')).toBe(false);
    for (let i = 0; i < 12; i++) {
      const log = store.getLog(`s${i}`)!;
      expect(log.snapshotState()).toBe('complete');
      expect(ids(log)).toEqual(range(i * 1000 + 1, i * 1000 + 120));
      log.append([entry(i * 1000 + 121)]);
    }
    p.release();
    await store.close();
    expect(store.stats().syncLoads).toBe(0);
    // What it appended is there for a synchronous load too.
    const again = await ShapeLogStore.open(dir, opts);
    expect(ids(again.getLog('s3')!)).toEqual(range(3001, 3121));
    expect(again.stats().syncLoads).toBe(1);
    await again.close();
  });

  it('a torn tail is cut as a synchronous load cuts it; a damaged index costs reads on this thread, not content', async () => {
    await fill(opts, 2, 200);
    const [seg] = segFiles('s0').slice(-1);
    const size = statSync(seg!).size;
    truncateSync(seg!, size - 5);
    const idx = segFiles('s1')
      .slice(-1)[0]!
      .replace(/\.seg$/, '.idx');
    appendFileSync(idx, Buffer.alloc(40, 0x7f));
    const store = await ShapeLogStore.open(dir, opts);
    const p = store.prefetch(['s0', 's1']);
    await p.ready;
    const st = store.stats();
    expect(st).toMatchObject({ prefetchLoads: 2, syncLoads: 0 });
    expect(st.truncatedBytes).toBeGreaterThan(0);
    expect(statSync(seg!).size).toBeLessThan(size - 5);
    expect(ids(store.getLog('s0')!)).toEqual(range(1, 199));
    expect(ids(store.getLog('s1')!)).toEqual(range(1001, 1200));
    expect(statSync(idx).size % 20).toBe(0);
    p.release();
    await store.close();
  });

  it('a log deleted while its prefetch is in flight stays deleted', async () => {
    await fill(opts, 3, 20);
    const store = await ShapeLogStore.open(dir, opts);
    const release = holdReads();
    const p = store.prefetch(['s0', 's1', 's2']);
    await readsDone(3);
    expect(store.deleteLog('s1')).toBe(true);
    release();
    await p.ready;
    p.release();
    expect(store.getLog('s1')).toBeUndefined();
    expect(store.hasLog('s1')).toBe(false);
    expect(existsSync(join(dir, 's1'))).toBe(false);
    expect(ids(store.getLog('s2')!)).toEqual(range(2001, 2020));
    expect(store.stats()).toMatchObject({ prefetchLoads: 2 });
    await store.close();
  });

  it('prefetched logs are not evicted before their append', async () => {
    await fill(opts, 10, 5);
    const store = await ShapeLogStore.open(dir, { ...opts, maxLoadedLogs: 2, maxLogMemos: 0 });
    const p = store.prefetch(range(0, 7).map((i) => `s${i}`));
    await p.ready;
    await store.syncAll();
    expect(store.stats().loadedLogs).toBe(8);
    for (let i = 0; i < 8; i++) store.getLog(`s${i}`)!.append([entry(i * 1000 + 6)]);
    await store.syncAll();
    expect(store.stats()).toMatchObject({ syncLoads: 0, evictedLogs: 0 });
    p.release();
    await store.syncAll();
    expect(store.stats().loadedLogs).toBe(2);
    for (let i = 0; i < 8; i++) expect(ids(store.getLog(`s${i}`)!)).toEqual(range(i * 1000 + 1, i * 1000 + 6));
    await store.close();
  });

  it('a log loaded, appended to and evicted while its read-ahead is held is not rebuilt from the stale read', async () => {
    await fill(opts, 3, 5);
    const store = await ShapeLogStore.open(dir, { ...opts, maxLoadedLogs: 1, maxLogMemos: 0 });
    const release = holdReads();
    const q = store.prefetch(['s2']);
    q.release();
    await readsDone(1);
    store.getLog('s2')!.append([entry(2006)]);
    store.getLog('s0');
    await store.syncAll();
    expect(store.stats()).toMatchObject({ evictedLogs: 1, syncLoads: 2 });
    release();
    await q.ready;
    expect(store.stats().prefetchLoads).toBe(0);
    expect(ids(store.getLog('s2')!)).toEqual(range(2001, 2006));
    await store.close();
  });

  it('a backlog appended transaction by transaction, each prefetched while the previous is synced, loads no log on this thread', async () => {
    const n = 300;
    await fill({ ...opts, segmentBytes: 1 << 20 }, n, 3);
    const store = await ShapeLogStore.open(dir, { ...opts, maxLoadedLogs: 64 });
    // Transactions of 25 scattered logs each; transaction k+1's logs load while k is appended and synced.
    const txs = Array.from({ length: 40 }, (_, t) => Array.from({ length: 25 }, (_, j) => `s${(t * 37 + j * 11) % n}`));
    let next = store.prefetch(txs[0]!);
    let syncing: Promise<void> = Promise.resolve();
    for (let t = 0; t < txs.length; t++) {
      const cur = next;
      if (t + 1 < txs.length) next = store.prefetch(txs[t + 1]!);
      await cur.ready;
      for (const h of new Set(txs[t])) {
        const log = store.getLog(h)!;
        const last = Number(log.lastOffset().tx);
        log.append([entry(last + 1)]);
      }
      cur.release();
      await syncing;
      syncing = store.syncAll();
    }
    await syncing;
    const st = store.stats();
    expect(st.syncLoads).toBe(0);
    expect(st.prefetchMisses).toBe(0);
    expect(st.prefetchLoads).toBe(st.logLoads + st.memoLoads);
    expect(st.evictedLogs).toBeGreaterThan(0);
    await store.close();
  });
});

describe('prefetch after a crash', () => {
  it('applies journal records pending for the handle, as a synchronous load does', async () => {
    const store = await ShapeLogStore.open(dir);
    const a = store.createLog('a');
    const b = store.createLog('b');
    a.finishSnapshot();
    b.finishSnapshot();
    for (let i = 1; i <= 40; i++) (i % 2 ? a : b).append([entry(i)]);
    await store.syncAll();
    crash(store);
    const re = await ShapeLogStore.open(dir);
    expect(re.stats().replayPendingLogs).toBe(2);
    const p = re.prefetch(['a', 'b']);
    await p.ready;
    expect(re.stats()).toMatchObject({ prefetchLoads: 2, syncLoads: 0, replayPendingLogs: 0 });
    expect(re.stats().replayedRecords).toBeGreaterThanOrEqual(40);
    expect(ids(re.getLog('a')!)).toEqual(range(1, 40).filter((i) => i % 2));
    expect(formatOffset(re.getLog('b')!.lastOffset())).toBe('40_0');
    p.release();
    await re.close();
    const again = await ShapeLogStore.open(dir);
    expect(ids(again.getLog('b')!)).toEqual(range(1, 40).filter((i) => i % 2 === 0));
    await again.close();
  });
});

describe('log I/O workers', () => {
  it('keep a process alive while they hold jobs and never once idle', () => {
    const src = join(process.cwd(), 'src/log/index.ts');
    const script = join(dir, 'exit.mts');
    writeFileSync(
      script,
      `import { ShapeLogStore } from ${JSON.stringify(src)};
const s = await ShapeLogStore.open(${JSON.stringify(join(dir, 'data'))}, { maxLoadedLogs: 1 });
for (let i = 0; i < 3; i++) s.createLog('h' + i).finishSnapshot();
await s.syncAll();
await s.prefetch(['h0']).ready;
await s.close();
console.log(JSON.stringify([s.stats().writeOuts, s.stats().prefetchLoads]));`,
    );
    // An unsettled await at exit would be exit code 13; a worker keeping the process alive, the timeout.
    const out = execFileSync(process.execPath, ['--import', 'tsx', script], { timeout: 30_000 }).toString();
    const [writeOuts, prefetchLoads] = JSON.parse(out) as [number, number];
    expect(writeOuts).toBeGreaterThan(0);
    expect(prefetchLoads).toBe(1);
  });
});
