// Journal durability: one fsync per group commit, replay after a crash, torn journal tails, checkpoints.
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
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BEFORE_ALL, ShapeLogStore, formatOffset, makeOffset } from '../../src/log/index.js';
import type { LogEntry } from '../../src/log/index.js';
import { listJournal } from '../../src/log/journal.js';
import { changeIds as lsns, crash, range } from '../support/log-helpers.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sy-logj-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const entry = (lsn: number): LogEntry => ({
  offset: makeOffset(BigInt(lsn), 0),
  json: JSON.stringify({
    key: `"public"."t"/"${lsn}"`,
    value: { id: String(lsn) },
    headers: { operation: 'insert', lsn: String(lsn), op_position: 0, txids: [lsn] },
  }),
});
const journalFiles = (): string[] =>
  readdirSync(join(dir, '.journal'))
    .sort()
    .map((n) => join(dir, '.journal', n));

describe('journal', () => {
  it('a missing journal directory lists no files; one that cannot be listed is an error, not "no files"', async () => {
    expect(listJournal(join(dir, 'absent'))).toEqual([]);
    const notDir = join(dir, 'file');
    writeFileSync(notDir, 'x');
    expect(() => listJournal(notDir)).toThrow(/ENOTDIR/);
    // The store refuses to open over it rather than skip the records it would replay.
    writeFileSync(join(dir, '.journal'), 'not a directory');
    await expect(ShapeLogStore.open(dir)).rejects.toThrow();
  });

  it('a group commit is one journal fsync however many logs it touches', async () => {
    const store = await ShapeLogStore.open(dir);
    const logs = Array.from({ length: 300 }, (_, i) => store.createLog(`s${i}`));
    await store.syncAll();
    const before = store.stats().fsyncs;
    for (let round = 1; round <= 5; round++) {
      logs.forEach((log, i) => log.append([entry(round * 1000 + i)]));
      await store.syncAll();
    }
    expect(store.stats().fsyncs - before).toBe(5);
    await store.close();
  });

  it('replays committed records that never reached the shape files; loses only uncommitted ones', async () => {
    const store = await ShapeLogStore.open(dir);
    const a = store.createLog('a');
    const b = store.createLog('b');
    a.finishSnapshot();
    b.appendSnapshot([{ key: 'k1', value: { id: '1' }, headers: { operation: 'insert' } }]);
    b.finishSnapshot();
    for (let i = 1; i <= 50; i++) (i % 2 ? a : b).append([entry(i)]);
    await store.syncAll();
    a.append([entry(51)]); // never committed
    crash(store);
    expect(readdirSync(join(dir, 'a'))).toEqual([]); // nothing written to the shape files yet
    const re = await ShapeLogStore.open(dir);
    // The start only scans the journal: no log is loaded, nothing applied yet.
    expect(re.stats()).toMatchObject({ logLoads: 0, replayedRecords: 0, replayPendingLogs: 2 });
    expect(lsns(re.getLog('a')!)).toEqual(range(1, 50).filter((i) => i % 2));
    expect(re.stats()).toMatchObject({ logLoads: 1, replayPendingLogs: 1 });
    expect(lsns(re.getLog('b')!)).toEqual(range(1, 50).filter((i) => i % 2 === 0));
    expect(re.stats().replayedRecords).toBeGreaterThan(50);
    const snap = re.getLog('b')!.read(BEFORE_ALL);
    expect([formatOffset(snap.endOffset), snap.items.length]).toEqual(['0_0', 1]);
    expect(re.getLog('b')!.snapshotState()).toBe('complete');
    // Finishing the replay makes it durable and empties the journal: a second crash and reopen changes nothing.
    await re.finishReplay();
    crash(re);
    const again = await ShapeLogStore.open(dir);
    expect(again.stats().replayPendingLogs).toBe(0);
    expect(lsns(again.getLog('a')!)).toEqual(range(1, 50).filter((i) => i % 2));
    expect(again.stats().replayedRecords).toBe(0);
    await again.close();
  });

  it('a crash before the replay finished replays again, even after a checkpoint of the logs applied meanwhile', async () => {
    const store = await ShapeLogStore.open(dir);
    const logs = Array.from({ length: 20 }, (_, i) => store.createLog(`s${i}`));
    for (const log of logs) log.finishSnapshot();
    for (let i = 1; i <= 100; i++) logs[i % 20]!.append([entry(i)]);
    await store.syncAll();
    crash(store);
    const re = await ShapeLogStore.open(dir);
    expect(re.stats()).toMatchObject({ logLoads: 0, replayPendingLogs: 20 });
    // One log applied, new appends committed and checkpointed while the other 19 still wait in the old journal.
    re.getLog('s1')!.append([entry(1001)]);
    await re.checkpoint();
    expect(re.stats().replayPendingLogs).toBe(19);
    crash(re);
    const again = await ShapeLogStore.open(dir);
    for (let k = 0; k < 20; k++) {
      const want = range(1, 100).filter((i) => i % 20 === k);
      expect(lsns(again.getLog(`s${k}`)!)).toEqual(k === 1 ? [...want, 1001] : want);
    }
    await again.close();
    // A clean stop finishes the replay: the next start has nothing pending and loads no log.
    const last = await ShapeLogStore.open(dir);
    expect(last.stats()).toMatchObject({ logLoads: 0, replayPendingLogs: 0 });
    expect(journalFiles().length).toBe(1);
    await last.close();
  });

  it('the background replay applies every pending log without keeping them loaded', async () => {
    const store = await ShapeLogStore.open(dir);
    const logs = Array.from({ length: 600 }, (_, i) => store.createLog(`s${i}`));
    logs.forEach((log, i) => {
      log.finishSnapshot();
      log.append([entry(i + 1)]);
    });
    await store.syncAll();
    crash(store);
    const re = await ShapeLogStore.open(dir);
    expect(re.stats().replayPendingLogs).toBe(600);
    await re.finishReplay();
    expect(re.stats()).toMatchObject({ replayPendingLogs: 0, loadedLogs: 0, logLoads: 600 });
    expect(journalFiles().length).toBe(1);
    crash(re);
    const again = await ShapeLogStore.open(dir);
    expect(again.stats().replayPendingLogs).toBe(0);
    expect(lsns(again.getLog('s599')!)).toEqual([600]);
    await again.close();
  });

  it.each([3, 9, 30])(
    'a journal torn %i bytes into the next record keeps exactly the committed prefix',
    async (torn) => {
      const store = await ShapeLogStore.open(dir);
      const log = store.createLog('h');
      log.finishSnapshot();
      for (let i = 1; i <= 20; i++) log.append([entry(i)]);
      await store.syncAll();
      const file = journalFiles().at(-1)!;
      const committed = statSync(file).size;
      for (let i = 21; i <= 25; i++) log.append([entry(i)]);
      await store.syncAll(); // written, but the cut below stands for a crash before its fsync
      crash(store);
      truncateSync(file, committed + torn);
      const re = await ShapeLogStore.open(dir);
      expect(lsns(re.getLog('h')!)).toEqual(range(1, 20));
      expect(re.stats().truncatedBytes).toBe(torn);
      expect(formatOffset(re.getLog('h')!.lastOffset())).toBe('20_0');
      await re.close();
    },
  );

  it('garbage after the last journal record is cut', async () => {
    const store = await ShapeLogStore.open(dir);
    const log = store.createLog('h');
    log.finishSnapshot();
    for (let i = 1; i <= 10; i++) log.append([entry(i)]);
    await store.syncAll();
    crash(store);
    appendFileSync(
      journalFiles().at(-1)!,
      Buffer.from('\x00\x00\x00\x40 not a record at all, not at all....................'),
    );
    const re = await ShapeLogStore.open(dir);
    expect(lsns(re.getLog('h')!)).toEqual(range(1, 10));
    await re.close();
  });

  it('shape files damaged after a commit are restored from the journal', async () => {
    const store = await ShapeLogStore.open(dir, { segmentBytes: 1024, indexEveryBytes: 200 });
    const log = store.createLog('h');
    log.finishSnapshot();
    for (let i = 1; i <= 100; i++) log.append([entry(i)]);
    await store.syncAll();
    store.flush();
    crash(store);
    const segs = readdirSync(join(dir, 'h'))
      .filter((n) => n.endsWith('.seg') && n.startsWith('c-'))
      .sort();
    expect(segs.length).toBeGreaterThan(3);
    const second = join(dir, 'h', segs[1]!);
    truncateSync(second, statSync(second).size - 5);
    const re = await ShapeLogStore.open(dir, { segmentBytes: 1024, indexEveryBytes: 200 });
    expect(lsns(re.getLog('h')!)).toEqual(range(1, 100));
    await re.close();
  });

  it('keeps unwritten bytes near maxPendingBytes by writing some logs out on each commit', async () => {
    const store = await ShapeLogStore.open(dir, { maxPendingBytes: 20_000 });
    const logs = Array.from({ length: 50 }, (_, i) => store.createLog(`s${i}`));
    let peak = 0;
    for (let round = 1; round <= 40; round++) {
      logs.forEach((log, i) => log.append([entry(round * 100 + i)]));
      await store.syncAll();
      peak = Math.max(peak, store.stats().pendingBytes);
    }
    expect(peak).toBeLessThanOrEqual(2 * 20_000 + 50 * 200);
    logs[7]!.finishSnapshot();
    expect(lsns(logs[7]!)).toEqual(range(1, 40).map((r) => r * 100 + 7));
    await store.close();
  });

  it('checkpoints by journal size and deletes covered journal files; records of deleted logs are skipped', async () => {
    const store = await ShapeLogStore.open(dir, { checkpointBytes: 4096 });
    const keep = store.createLog('keep');
    const drop = store.createLog('drop');
    keep.finishSnapshot();
    drop.finishSnapshot();
    for (let i = 1; i <= 400; i++) {
      (i % 3 ? keep : drop).append([entry(i)]);
      if (i % 10 === 0) await store.syncAll();
    }
    await store.checkpoint();
    expect(store.stats().checkpoints).toBeGreaterThan(3);
    expect(journalFiles().length).toBe(1);
    drop.append([entry(1000)]);
    store.deleteLog('drop');
    keep.append([entry(1001)]);
    await store.syncAll();
    crash(store);
    const re = await ShapeLogStore.open(dir, { checkpointBytes: 4096 });
    expect(re.listLogs()).toEqual(['keep']);
    expect(existsSync(join(dir, 'drop'))).toBe(false);
    expect(lsns(re.getLog('keep')!)).toEqual([...range(1, 400).filter((i) => i % 3), 1001]);
    await re.close();
  });
});
