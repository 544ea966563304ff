// Crash safety: torn or corrupt tails are cut on reopen and exactly the synced records survive.
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BEFORE_ALL, SNAPSHOT_END, ShapeLogStore, formatOffset, makeOffset } from '../../src/log/index.js';
import type { LogEntry, ShapeLog, ShapeLogStoreOptions } from '../../src/log/index.js';
import { changeIds, crash, range } from '../support/log-helpers.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sy-logrec-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const lsns = (log: ShapeLog): number[] => changeIds(log, 700);
const entry = (lsn: number, op = 0): LogEntry => ({
  offset: makeOffset(BigInt(lsn), op),
  message: {
    key: `"public"."t"/"${lsn}"`,
    value: { id: String(lsn), pad: 'x'.repeat(lsn % 50) },
    headers: { operation: 'insert', lsn: String(lsn), op_position: op, txids: [lsn] },
  },
});
const segFiles = (handle: string, prefix = 'c-'): string[] =>
  readdirSync(join(dir, handle))
    .filter((n) => n.startsWith(prefix) && n.endsWith('.seg'))
    .sort()
    .map((n) => join(dir, handle, n));

type Mode = NonNullable<ShapeLogStoreOptions['durability']>;
let mode: Mode = 'per-file';
/** The point after which shape files hold the records durably: a commit (per-file) or a checkpoint (journal). */
const durable = (store: ShapeLogStore): Promise<void> => (mode === 'journal' ? store.checkpoint() : store.syncAll());

/** Writes 1..synced durably, then synced+1..written unsynced (flushed to the file), and returns the synced size. */
async function prepare(synced: number, written: number, opts = {}): Promise<{ file: string; syncedSize: number }> {
  const store = await ShapeLogStore.open(dir, { ...opts, durability: mode });
  const log = store.createLog('h');
  log.finishSnapshot();
  for (let i = 1; i <= synced; i++) log.append([entry(i)]);
  await durable(store);
  const files = segFiles('h');
  const file = files[files.length - 1]!;
  const syncedSize = statSync(file).size;
  for (let i = synced + 1; i <= written; i++) log.append([entry(i)]);
  store.flush();
  crash(store);
  return { file, syncedSize };
}

async function reopen(opts = {}): Promise<{ store: ShapeLogStore; log: ShapeLog }> {
  // Recovery from the files themselves: not from the state a clean close keeps (which trusts the files unchanged).
  const store = await ShapeLogStore.open(dir, { ...opts, durability: mode, keepLogStates: false });
  return { store, log: store.getLog('h')! };
}

describe.each(['per-file', 'journal'] as const)('%s: torn tails', (m) => {
  beforeEach(() => {
    mode = m;
  });
  it.each([1, 7, 8, 20, 21, 60])('a frame torn after %i bytes is cut; the synced prefix stays', async (tornBytes) => {
    const { file, syncedSize } = await prepare(40, 45);
    truncateSync(file, syncedSize + tornBytes);
    const { store, log } = await reopen();
    expect(lsns(log)).toEqual(range(1, 40));
    expect(formatOffset(log.lastOffset())).toBe('40_0');
    expect(statSync(file).size).toBe(syncedSize);
    expect(store.stats().truncatedBytes).toBe(tornBytes);
    // The log goes on from there; a replay re-appends what was lost.
    log.append([entry(41), entry(42)]);
    await store.close();
    const again = await reopen();
    expect(lsns(again.log)).toEqual(range(1, 42));
    await again.store.close();
  });

  it('garbage appended after the synced records is cut', async () => {
    const { file, syncedSize } = await prepare(30, 30);
    appendFileSync(file, Buffer.from('\x00\x00\x01\x00garbage garbage garbage', 'latin1'));
    const { store, log } = await reopen();
    expect(lsns(log)).toEqual(range(1, 30));
    expect(statSync(file).size).toBe(syncedSize);
    await store.close();
  });

  it('a zero-filled tail (file extended, data never written) is cut', async () => {
    const { file, syncedSize } = await prepare(30, 30);
    appendFileSync(file, Buffer.alloc(8192));
    const { store, log } = await reopen();
    expect(lsns(log)).toEqual(range(1, 30));
    expect(statSync(file).size).toBe(syncedSize);
    await store.close();
  });

  it('a CRC mismatch in an unsynced frame cuts from that frame on', async () => {
    const { file, syncedSize } = await prepare(25, 28);
    const bytes = readFileSync(file);
    bytes[syncedSize + 30] = bytes[syncedSize + 30]! ^ 0x40; // inside record 26's payload
    writeFileSync(file, bytes);
    const { store, log } = await reopen();
    expect(lsns(log)).toEqual(range(1, 25));
    await store.close();
  });

  it('fully written unsynced frames that survived are kept (they are valid records)', async () => {
    const { file } = await prepare(10, 15);
    const { store, log } = await reopen();
    expect(lsns(log)).toEqual(range(1, 15));
    expect(statSync(file).size).toBeGreaterThan(0);
    await store.close();
  });

  it('a torn earlier segment drops every later segment', async () => {
    const opts = { segmentBytes: 2048, indexEveryBytes: 256 };
    const store = await ShapeLogStore.open(dir, { ...opts, durability: mode });
    const log = store.createLog('h');
    log.finishSnapshot();
    for (let i = 1; i <= 100; i++) log.append([entry(i)]);
    await durable(store);
    const files = segFiles('h');
    expect(files.length).toBeGreaterThan(3);
    crash(store);
    // Damage the second segment's last frame: nothing after it can have been acknowledged.
    const second = files[1]!;
    truncateSync(second, statSync(second).size - 3);
    const { store: s2, log: l2 } = await reopen(opts);
    const kept = lsns(l2);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept).toEqual(range(1, kept.length));
    expect(segFiles('h')).toEqual(files.slice(0, 2));
    expect(formatOffset(l2.lastOffset())).toBe(`${kept.length}_0`);
    await s2.close();
  });
});

describe.each(['per-file', 'journal'] as const)('%s: index damage', (m) => {
  beforeEach(() => {
    mode = m;
  });
  it('a garbage, truncated or missing index is rebuilt from the data; seeks stay exact', async () => {
    const opts = { indexEveryBytes: 128 };
    const { file } = await prepare(300, 300, opts);
    const idx = file.replace(/\.seg$/, '.idx');
    for (const damage of [
      () => appendFileSync(idx, Buffer.from('0123456789abcdefghij0123456789')),
      () => truncateSync(idx, Math.floor(statSync(idx).size / 2) + 7),
      () => unlinkSync(idx),
      () => writeFileSync(idx, Buffer.alloc(400, 0xff)),
    ]) {
      damage();
      const { store, log } = await reopen(opts);
      expect(lsns(log)).toEqual(range(1, 300));
      for (const from of [0, 1, 99, 150, 299]) {
        const r = log.read(from === 0 ? SNAPSHOT_END : makeOffset(BigInt(from), 0), { maxBytes: 1 });
        expect(formatOffset(r.endOffset)).toBe(`${from + 1}_0`);
      }
      expect(statSync(idx).size % 20).toBe(0);
      await store.close();
    }
  });

  it('an index that exists but cannot be read fails the open instead of passing for an empty index', async () => {
    const { file } = await prepare(50, 50, { indexEveryBytes: 128 });
    const idx = file.replace(/\.seg$/, '.idx');
    unlinkSync(idx);
    mkdirSync(idx); // opens, then every read fails with EISDIR
    await expect(reopen()).rejects.toThrow(/shape log index .*\.idx is unreadable: .*EISDIR/);
  });
});

describe.each(['per-file', 'journal'] as const)('%s: snapshot crash', (m) => {
  beforeEach(() => {
    mode = m;
  });
  it('a snapshot cut mid-chunk keeps its closed chunks and stays pending', async () => {
    const store = await ShapeLogStore.open(dir, { snapshotChunkBytes: 150, durability: mode });
    const log = store.createLog('h');
    log.appendSnapshot(Array.from({ length: 6 }, (_, i) => entry(i + 1).message as object));
    await durable(store);
    const chunks = log.snapshotChunks();
    log.appendSnapshot([entry(7).message as object]);
    store.flush();
    crash(store);
    const s = segFiles('h', 's-');
    truncateSync(s[s.length - 1]!, statSync(s[s.length - 1]!).size - 2);
    const { store: s2, log: l2 } = await reopen({ snapshotChunkBytes: 150 });
    expect(l2.snapshotState()).toBe('pending');
    expect(l2.snapshotChunks()).toBe(chunks);
    expect(formatOffset(l2.endOffset())).toBe(chunks > 0 ? `0_${chunks - 1}` : '-1');
    expect(l2.read(BEFORE_ALL).items.length).toBeGreaterThan(0);
    await s2.close();
  });

  it('a completed snapshot survives with its chunk count', async () => {
    const store = await ShapeLogStore.open(dir, { snapshotChunkBytes: 150, durability: mode });
    const log = store.createLog('h');
    log.appendSnapshot(Array.from({ length: 6 }, (_, i) => entry(i + 1).message as object));
    log.finishSnapshot();
    await store.syncAll();
    const chunks = log.snapshotChunks();
    crash(store);
    const { store: s2, log: l2 } = await reopen();
    expect(l2.snapshotState()).toBe('complete');
    expect(l2.snapshotChunks()).toBe(chunks);
    expect(formatOffset(l2.read(makeOffset(0n, chunks - 1)).endOffset)).toBe('0_inf');
    await s2.close();
  });
});
