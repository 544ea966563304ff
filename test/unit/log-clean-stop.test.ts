// The clean-stop mark and the log state kept with it: trusted only after a close that finished, never after a crash.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ShapeLogStore, makeOffset } from '../../src/log/index.js';
import { changeIds, crash, range } from '../support/log-helpers.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sy-logc-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function withChange(store: ShapeLogStore): Promise<void> {
  const log = store.createLog('a');
  log.finishSnapshot();
  log.append([{ offset: makeOffset(10n, 0), json: '{"headers":{"operation":"insert","last":true}}' }]);
  await store.syncAll();
}

describe.each<'journal' | 'per-file'>(['journal', 'per-file'])('clean-stop mark (%s durability)', (durability) => {
  it('a new store is not a clean start; a reopen after close is, once', async () => {
    const first = await ShapeLogStore.open(dir, { durability });
    expect(first.cleanStart).toBe(false);
    await withChange(first);
    await first.close();
    const second = await ShapeLogStore.open(dir, { durability });
    expect(second.cleanStart).toBe(true);
    // The mark is gone from the moment the store opened: a crash of this process is not taken for a clean stop.
    crash(second);
    const third = await ShapeLogStore.open(dir, { durability });
    expect(third.cleanStart).toBe(false);
    expect(third.getLog('a')!.lastOffset()).toEqual(makeOffset(10n, 0));
    await third.close();
  });

  it('a tainted store (an append failed part-way) leaves no mark at close', async () => {
    const first = await ShapeLogStore.open(dir, { durability });
    await withChange(first);
    first.taint();
    await first.close();
    const second = await ShapeLogStore.open(dir, { durability });
    expect(second.cleanStart).toBe(false);
    await second.close();
  });
});

const change = (lsn: number): { offset: ReturnType<typeof makeOffset>; json: string } => ({
  offset: makeOffset(BigInt(lsn), 0),
  json: JSON.stringify({ value: { id: String(lsn) }, headers: { operation: 'insert', last: true } }),
});

/** `n` logs `s<i>`: a one-row snapshot, then `k` changes i*1000+1 … (small segments: several files each). */
async function fill(store: ShapeLogStore, n: number, k: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const log = store.createLog(`s${i}`);
    log.appendSnapshot([{ key: `k${i}`, value: { id: String(i) }, headers: { operation: 'insert' } }]);
    log.finishSnapshot();
    for (let j = 1; j <= k; j++) log.append([change(i * 1000 + j)]);
  }
  await store.syncAll();
}

describe.each<'journal' | 'per-file'>(['journal', 'per-file'])('state kept at a clean close (%s)', (durability) => {
  const opts = { durability, segmentBytes: 300, maxLoadedLogs: 8 } as const;

  it('after a clean stop every log loads from the kept state, reads no file to append, and reads back the same', async () => {
    const first = await ShapeLogStore.open(dir, opts);
    await fill(first, 40, 6);
    await first.close();
    const second = await ShapeLogStore.open(dir, opts);
    expect(second.cleanStart).toBe(true);
    const opens = second.stats().fileOpens;
    for (let i = 0; i < 40; i++)
      expect(second.getLog(`s${i}`)!.lastOffset()).toEqual(makeOffset(BigInt(i * 1000 + 6), 0));
    expect(second.stats().tailLoads).toBe(40);
    expect(second.stats().fileOpens).toBe(opens);
    // Appends after it; the logs are evicted (8 loaded at most) and the next close keeps their new state.
    for (let i = 0; i < 40; i++) second.getLog(`s${i}`)!.append([change(i * 1000 + 7)]);
    await second.syncAll();
    expect(second.deleteLog('s3')).toBe(true);
    // Deleted: not found again through the kept state either.
    expect(second.hasLog('s3')).toBe(false);
    expect(second.getLog('s3')).toBeUndefined();
    await second.close();
    const third = await ShapeLogStore.open(dir, opts);
    expect(third.hasLog('s3')).toBe(false);
    for (let i = 0; i < 40; i++) {
      if (i === 3) continue;
      expect(changeIds(third.getLog(`s${i}`)!)).toEqual(range(i * 1000 + 1, i * 1000 + 7));
    }
    expect(third.stats().tailLoads).toBe(39);
    await third.close();
  });

  it('after a crash the kept state is not used: logs load from their files', async () => {
    const first = await ShapeLogStore.open(dir, opts);
    await fill(first, 10, 3);
    await first.close();
    const second = await ShapeLogStore.open(dir, opts);
    // Changes the kept state does not know, then a crash: the next open must read the files.
    second.getLog('s1')!.append([change(1004)]);
    await second.syncAll();
    crash(second);
    const third = await ShapeLogStore.open(dir, opts);
    expect(third.cleanStart).toBe(false);
    expect(changeIds(third.getLog('s1')!)).toEqual(range(1001, 1004));
    expect(third.stats().tailLoads).toBe(0);
    await third.close();
  });
});
