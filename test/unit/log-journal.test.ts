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
import { BEFORE_ALL, SNAPSHOT_END, ShapeLogStore, formatOffset, makeOffset } from '../../src/log/index.js';
import type { LogEntry, ShapeLog } from '../../src/log/index.js';
import { listJournal } from '../../src/log/journal.js';

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
const lsns = (log: ShapeLog): number[] => {
  const out: number[] = [];
  let at = SNAPSHOT_END;
  for (;;) {
    const r = log.read(at, { maxBytes: 500 });
    if (r.items.length === 0) return out;
    for (const i of r.items) out.push(Number((JSON.parse(i.json.toString()) as { value: { id: string } }).value.id));
    at = r.endOffset;
  }
};
const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const crash = (store: ShapeLogStore): void => store.fds.closeAll();
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
    expect(re.stats().replayedRecords).toBeGreaterThan(50);
    expect(lsns(re.getLog('a')!)).toEqual(range(1, 50).filter((i) => i % 2));
    expect(lsns(re.getLog('b')!)).toEqual(range(1, 50).filter((i) => i % 2 === 0));
    const snap = re.getLog('b')!.read(BEFORE_ALL);
    expect([formatOffset(snap.endOffset), snap.items.length]).toEqual(['0_0', 1]);
    expect(re.getLog('b')!.snapshotState()).toBe('complete');
    // Replay was made durable and the journal emptied: a second crash and reopen changes nothing.
    crash(re);
    const again = await ShapeLogStore.open(dir);
    expect(again.stats().replayedRecords).toBe(0);
    expect(lsns(again.getLog('a')!)).toEqual(range(1, 50).filter((i) => i % 2));
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
