// Shape log store: append/read by offset, snapshot chunking per protocol §4.5, segments, reopen, deletion, fd bound.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BEFORE_ALL, ShapeLogStore, formatOffset, makeOffset, parseOffset } from '../../src/log/index.js';
import type { LogEntry, ReadResult, ShapeLog } from '../../src/log/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sy-log-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const change = (lsn: number, op: number, id: number, last = false): LogEntry => ({
  offset: makeOffset(BigInt(lsn), op),
  message: {
    key: `"public"."items"/"${id}"`,
    value: { id: String(id), title: `t${id}` },
    headers: {
      operation: 'insert',
      relation: ['public', 'items'],
      lsn: String(lsn),
      op_position: op,
      txids: [lsn],
      ...(last ? { last: true } : {}),
    },
  },
});
const ids = (r: ReadResult): number[] =>
  r.items.map((i) => Number((JSON.parse(i.json.toString()) as { value: { id: string } }).value.id));
const off = (t: string) => parseOffset(t)!;

/** Reads the whole log the way the HTTP layer does, request after request; returns the end offsets and ids. */
function readAll(log: ShapeLog, maxBytes?: number): { offsets: string[]; ids: number[] } {
  let at = BEFORE_ALL;
  const offsets: string[] = [];
  const all: number[] = [];
  for (let i = 0; i < 10_000; i++) {
    const r = log.read(at, maxBytes === undefined ? {} : { maxBytes });
    offsets.push(formatOffset(r.endOffset));
    all.push(...ids(r));
    if (r.atEnd && formatOffset(r.endOffset) === formatOffset(at)) break;
    at = r.endOffset;
  }
  return { offsets, ids: all };
}

describe('changes', () => {
  it('appends and reads after an offset, exclusive, comparing offsets numerically', async () => {
    const store = await ShapeLogStore.open(dir);
    const log = store.createLog('h1');
    log.finishSnapshot();
    log.append([change(9, 0, 1), change(9, 2, 2, true)]);
    log.append([change(10, 0, 3, true)]);
    log.append([change(100, 0, 4, true)]);
    expect(formatOffset(log.lastOffset())).toBe('100_0');
    expect(ids(log.read(off('0_inf')))).toEqual([1, 2, 3, 4]);
    expect(ids(log.read(off('9_0')))).toEqual([2, 3, 4]);
    expect(ids(log.read(off('9_2')))).toEqual([3, 4]);
    expect(ids(log.read(off('10_0')))).toEqual([4]);
    const end = log.read(off('100_0'));
    expect(end.items).toEqual([]);
    expect(formatOffset(end.endOffset)).toBe('100_0');
    expect(end.atEnd).toBe(true);
    const r = log.read(off('9_2'));
    expect(formatOffset(r.endOffset)).toBe('100_0');
    expect(r.atEnd).toBe(true);
    await store.close();
  });

  it('rejects offsets at or below the last one, and the whole batch with them', async () => {
    const store = await ShapeLogStore.open(dir);
    const log = store.createLog('h1');
    log.append([change(10, 0, 1)]);
    expect(() => log.append([change(10, 0, 2)])).toThrow(/does not follow 10_0/);
    expect(() => log.append([change(11, 0, 2), change(11, 0, 3)])).toThrow(RangeError);
    expect(() => log.append([change(9, 4, 2)])).toThrow(RangeError);
    expect(() => log.append([{ offset: off('0_5'), message: {} }])).toThrow(RangeError);
    expect(formatOffset(log.lastOffset())).toBe('10_0');
    log.finishSnapshot();
    expect(ids(log.read(off('0_inf')))).toEqual([1]);
    await store.close();
  });

  it('lets a replay skip entries at or below lastOffset()', async () => {
    const store = await ShapeLogStore.open(dir);
    const log = store.createLog('h1');
    log.append([change(5, 0, 1), change(5, 2, 2)]);
    const replay = [change(5, 0, 1), change(5, 2, 2), change(7, 0, 3)];
    const last = log.lastOffset();
    log.append(replay.filter((e) => e.offset.tx > last.tx || (e.offset.tx === last.tx && e.offset.op > last.op)));
    log.finishSnapshot();
    expect(ids(log.read(off('0_inf')))).toEqual([1, 2, 3]);
    await store.close();
  });

  it('chunks change reads at about maxBytes and seeks through many segments and index entries', async () => {
    const store = await ShapeLogStore.open(dir, { segmentBytes: 4096, indexEveryBytes: 512 });
    const log = store.createLog('h1');
    log.finishSnapshot();
    for (let i = 1; i <= 2000; i++) log.append([change(1000 + i, 0, i), change(1000 + i, 2, -i, true)].slice(0, 1));
    await store.syncAll();
    const segs = readdirSync(join(dir, 'h1')).filter((n) => n.startsWith('c-') && n.endsWith('.seg'));
    expect(segs.length).toBeGreaterThan(20);
    for (const from of [1, 2, 17, 499, 500, 1234, 1999]) {
      expect(ids(log.read(off(`${1000 + from}_0`), { maxBytes: 1 }))).toEqual([from + 1]);
      // An offset between records (op 1 does not exist) still reads from the next one.
      expect(ids(log.read(off(`${1000 + from}_1`), { maxBytes: 1 }))).toEqual([from + 1]);
    }
    const all = readAll(log, 2000);
    expect(all.ids).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
    // Every response advanced the offset; each but the last held about 2000 bytes.
    expect(new Set(all.offsets).size).toBe(all.offsets.length - 1);
    expect(all.offsets.length).toBeGreaterThan(50);
    await store.close();
  });
});

describe('snapshot', () => {
  it('serves chunk i at 0_i, then 0_inf, then changes (protocol §3, §4.5)', async () => {
    const store = await ShapeLogStore.open(dir, { snapshotChunkBytes: 300 });
    const log = store.createLog('h1');
    const rows = Array.from({ length: 10 }, (_, i) => change(1, 0, i + 1).message as object);
    log.appendSnapshot(rows);
    // Chunks closed so far are readable; the open one is not.
    expect(log.snapshotState()).toBe('pending');
    const closed = log.snapshotChunks();
    expect(closed).toBeGreaterThan(1);
    log.append([change(50, 0, 100, true)]); // changes may arrive while the snapshot is written
    log.finishSnapshot();
    const r0 = log.read(BEFORE_ALL);
    expect(formatOffset(r0.endOffset)).toBe('0_0');
    expect(r0.atEnd).toBe(false);
    expect(r0.items.every((i) => formatOffset(i.offset) === '0_0')).toBe(true);
    const all = readAll(log);
    const n = log.snapshotChunks();
    expect(all.offsets).toEqual([...Array.from({ length: n }, (_, i) => `0_${i}`), '50_0', '50_0']);
    expect(all.ids).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100]);
    await store.close();
  });

  it('empty snapshot: -1 gives an empty chunk at 0_0, then 0_inf when there are no changes', async () => {
    const store = await ShapeLogStore.open(dir);
    const log = store.createLog('h1');
    expect(formatOffset(log.endOffset())).toBe('-1');
    expect(log.read(BEFORE_ALL)).toMatchObject({ items: [], atEnd: true });
    expect(formatOffset(log.read(BEFORE_ALL).endOffset)).toBe('-1');
    log.finishSnapshot();
    const r0 = log.read(BEFORE_ALL);
    expect([formatOffset(r0.endOffset), r0.items.length]).toEqual(['0_0', 0]);
    const r1 = log.read(r0.endOffset);
    expect([formatOffset(r1.endOffset), r1.items.length, r1.atEnd]).toEqual(['0_inf', 0, true]);
    expect(formatOffset(log.endOffset())).toBe('0_inf');
    log.append([change(7, 0, 1, true)]);
    expect(formatOffset(log.endOffset())).toBe('7_0');
    expect(ids(log.read(r1.endOffset))).toEqual([1]);
    expect(ids(log.read(r0.endOffset))).toEqual([1]);
    await store.close();
  });

  it('survives reopen with chunks, changes and state intact', async () => {
    let store = await ShapeLogStore.open(dir, { snapshotChunkBytes: 200 });
    const log = store.createLog('h1');
    log.appendSnapshot(Array.from({ length: 7 }, (_, i) => change(1, 0, i + 1).message as object));
    log.finishSnapshot();
    log.append([change(20, 0, 8), change(20, 2, 9, true)]);
    const before = readAll(log);
    await store.close();
    store = await ShapeLogStore.open(dir, { snapshotChunkBytes: 200 });
    expect(store.listLogs()).toEqual(['h1']);
    const again = store.getLog('h1')!;
    expect(again.snapshotState()).toBe('complete');
    expect(formatOffset(again.lastOffset())).toBe('20_2');
    expect(readAll(again)).toEqual(before);
    expect(() => again.appendSnapshot([{}])).toThrow(RangeError);
    await store.close();
  });
});

describe('store', () => {
  it('creates, lists, deletes (files gone) and refuses bad or reused handles', async () => {
    const store = await ShapeLogStore.open(dir);
    store.createLog('a-1');
    const b = store.createLog('b-2');
    b.append([change(3, 0, 1)]);
    await store.syncAll();
    expect(store.listLogs().sort()).toEqual(['a-1', 'b-2']);
    expect(() => store.createLog('a-1')).toThrow(RangeError);
    expect(() => store.createLog('../x')).toThrow(RangeError);
    expect(store.getLog('../x')).toBeUndefined();
    expect(store.getLog('nope')).toBeUndefined();
    expect(store.deleteLog('b-2')).toBe(true);
    expect(store.deleteLog('b-2')).toBe(false);
    expect(() => b.append([change(4, 0, 1)])).toThrow(/deleted/);
    expect(readdirSync(dir).sort()).toEqual(['.journal', 'a-1']);
    await store.syncAll();
    await store.close();
    const re = await ShapeLogStore.open(dir);
    expect(re.listLogs()).toEqual(['a-1']);
    await re.close();
  });

  it('per-file durability: descriptors stay bounded with many logs, one fdatasync per dirty file per commit', async () => {
    const store = await ShapeLogStore.open(dir, { maxOpenFiles: 8, durability: 'per-file' });
    const logs = Array.from({ length: 200 }, (_, i) => store.createLog(`s${i}`));
    for (let round = 1; round <= 5; round++) {
      logs.forEach((log, i) => log.append([change(round * 1000 + i, 0, round)]));
      await store.syncAll();
      expect(store.stats().openFiles).toBeLessThanOrEqual(8);
    }
    // One fdatasync per dirty file per batch (200 logs × 5), plus directory fsyncs for new files.
    const st = store.stats();
    expect(st.fsyncs).toBeGreaterThanOrEqual(1000);
    expect(st.fsyncs).toBeLessThanOrEqual(1000 + 200 + 5);
    for (const log of logs) {
      log.finishSnapshot();
      expect(ids(log.read(off('0_inf')))).toEqual([1, 2, 3, 4, 5]);
    }
    expect(store.stats().openFiles).toBeLessThanOrEqual(8);
    await store.close();
  });

  it('syncAll calls overlap safely with appends; each resolves after its own and earlier batches', async () => {
    const store = await ShapeLogStore.open(dir);
    const log = store.createLog('h');
    const waits: Promise<void>[] = [];
    for (let i = 1; i <= 50; i++) {
      log.append([change(i, 0, i)]);
      waits.push(store.syncAll());
    }
    let order: number[] = [];
    await Promise.all(waits.map((p, i) => p.then(() => order.push(i))));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    order = [];
    await store.close();
  });
});

describe('createLogAsync', () => {
  it('creates the directory and the first snapshot file off the main thread; the log reads and reopens as createLog', async () => {
    const store = await ShapeLogStore.open(dir);
    const log = await store.createLogAsync('h1');
    // The first segment exists (empty) before any append, and its descriptor is the cached one.
    expect(readdirSync(join(dir, 'h1'))).toHaveLength(1);
    const opens = store.fds.opens;
    log.appendSnapshot([{ key: 'k1', value: { id: '1' }, headers: { operation: 'insert' } }]);
    log.finishSnapshot();
    log.append([change(9, 0, 7, true)]);
    expect(ids(log.read(BEFORE_ALL))).toEqual([1]);
    expect(store.fds.opens).toBe(opens + 1); // only the change stream's file was opened on the main thread
    expect(ids(log.read(off('0_inf')))).toEqual([7]);
    await store.syncAll();
    await store.close();
    const again = await ShapeLogStore.open(dir);
    const reopened = again.getLog('h1')!;
    expect(ids(reopened.read(BEFORE_ALL))).toEqual([1]);
    expect(ids(reopened.read(off('0_inf')))).toEqual([7]);
    await again.close();
  });

  it('refuses a handle whose log exists or is being created', async () => {
    const store = await ShapeLogStore.open(dir);
    const first = store.createLogAsync('h2');
    await expect(store.createLogAsync('h2')).rejects.toThrow(/already exists/);
    await first;
    await expect(store.createLogAsync('h2')).rejects.toThrow(/already exists/);
    expect(() => store.createLog('h2')).toThrow(/already exists/);
    await store.close();
  });
});
