// Meta store: an append-only log — committed values persist, a commit writes only its changes, torn tails are cut,
// compaction (also under concurrent commits) keeps the last value of every key, the bucket format is migrated once;
// an owner's snapshot chunks are written by compactions, overridden by the records after them, kept until taken.
import { appendFileSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MetaStore, type MetaValue } from '../../src/log/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sy-meta-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const logFile = (): string =>
  join(
    dir,
    readdirSync(dir).find((n) => n.endsWith('.log'))!,
  );

describe('MetaStore', () => {
  it('persists committed values, not uncommitted ones', async () => {
    const m = await MetaStore.open(dir);
    m.set('durable_lsn', '23805808');
    m.set('shape:h1', { table: 'public.items', where: 'id > $1', params: { '1': '5' }, replica: 'default' });
    m.set('gone', true);
    await m.commit();
    m.delete('gone');
    await m.commit();
    m.set('uncommitted', 1);
    const re = await MetaStore.open(dir);
    expect(re.get('durable_lsn')).toBe('23805808');
    expect(re.get('shape:h1')).toEqual({
      table: 'public.items',
      where: 'id > $1',
      params: { '1': '5' },
      replica: 'default',
    });
    expect(re.has('gone')).toBe(false);
    expect(re.has('uncommitted')).toBe(false);
    expect(re.size).toBe(2);
    expect([...re.entriesWithPrefix('shape:')].map(([k]) => k)).toEqual(['shape:h1']);
  });

  it('a commit appends only the records changed since the previous one, whatever the number of keys', async () => {
    const m = await MetaStore.open(dir, { compactMinBytes: 1 << 30 });
    for (let i = 0; i < 5000; i++) m.set(`shape:${i}`, { n: i });
    await m.commit();
    const before = m.logBytes;
    m.set('shape:7', { n: -7 });
    await m.commit();
    // One record of ~30 bytes, not a re-rendering of 5,000 keys.
    expect(m.logBytes - before).toBeLessThan(64);
    expect(statSync(logFile()).size).toBe(m.logBytes);
    expect((await MetaStore.open(dir)).get('shape:7')).toEqual({ n: -7 });
  });

  it('cuts a torn tail (a commit that was never acknowledged) and appends after the cut', async () => {
    const m = await MetaStore.open(dir);
    m.set('a', 1);
    await m.commit();
    const good = m.logBytes;
    await m.close();
    appendFileSync(logFile(), Buffer.from([0, 0, 0, 40, 1, 2, 3, 4, 91, 34, 98]));
    const re = await MetaStore.open(dir);
    expect(re.get('a')).toBe(1);
    expect(statSync(logFile()).size).toBe(good);
    re.set('b', 2);
    await re.commit();
    await re.close();
    const again = await MetaStore.open(dir);
    expect([again.get('a'), again.get('b')]).toEqual([1, 2]);
  });

  it('ignores and removes a temp file left by a compaction that crashed before its rename', async () => {
    const m = await MetaStore.open(dir);
    m.set('a', 1);
    await m.commit();
    await m.close();
    writeFileSync(join(dir, 'registry-000000000009.log.tmp'), 'torn');
    const re = await MetaStore.open(dir);
    expect(re.get('a')).toBe(1);
    expect(readdirSync(dir).some((n) => n.endsWith('.tmp'))).toBe(false);
  });

  it('serialises commits in call order', async () => {
    const m = await MetaStore.open(dir);
    const ps: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      m.set('k', i);
      ps.push(m.commit());
    }
    await Promise.all(ps);
    expect((await MetaStore.open(dir)).get('k')).toBe(19);
  });

  it('keeps external keys out of memory: offered once at open, rendered from the owner on compaction', async () => {
    const owner = new Map<string, MetaValue>();
    const m = await MetaStore.open(dir, { externalPrefix: 'shape:' });
    m.setSource(() => owner);
    for (let i = 0; i < 100; i++) {
      owner.set(`shape:${i}`, { n: i });
      m.set(`shape:${i}`, { n: i });
    }
    m.set('slot', 's1');
    await m.commit();
    expect(m.get('shape:3')).toBeUndefined();
    expect(m.size).toBe(1);
    owner.delete('shape:3');
    m.delete('shape:3');
    await m.compactNow();
    expect(m.compactions).toBe(1);
    await m.close();
    const re = await MetaStore.open(dir, { externalPrefix: 'shape:' });
    expect(re.get('slot')).toBe('s1');
    const stored = re.takeStored();
    expect(stored.size).toBe(99);
    expect(stored.get('shape:42')).toEqual({ n: 42 });
    expect(stored.has('shape:3')).toBe(false);
    expect(re.takeStored().size).toBe(0);
  });

  it('compaction under concurrent commits keeps the last value of every key', async () => {
    const owner = new Map<string, MetaValue>();
    const m = await MetaStore.open(dir, { externalPrefix: 'shape:', compactMinBytes: 1 });
    m.setSource(() => owner);
    const put = (k: string, v: MetaValue): void => {
      owner.set(k, v);
      m.set(k, v);
    };
    const drop = (k: string): void => {
      owner.delete(k);
      m.delete(k);
    };
    for (let i = 0; i < 20_000; i++) put(`shape:${i}`, { n: i });
    await m.commit();
    const compaction = m.compactNow();
    const commits: Promise<void>[] = [];
    for (let round = 0; round < 50; round++) {
      put(`shape:new${round}`, { round });
      drop(`shape:${round * 7}`);
      put(`shape:${round * 7 + 1}`, { changed: round });
      commits.push(m.commit());
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all([compaction, ...commits]);
    expect(m.compactions).toBeGreaterThanOrEqual(1);
    await m.close();
    const re = await MetaStore.open(dir, { externalPrefix: 'shape:' });
    const stored = re.takeStored();
    expect(stored.size).toBe(owner.size);
    for (const [k, v] of owner) expect(stored.get(k)).toEqual(v);
    expect(readdirSync(dir).filter((n) => n.endsWith('.log'))).toHaveLength(1);
  });

  it('compacts by itself once the log has doubled, so its size follows the live keys, not the history', async () => {
    const m = await MetaStore.open(dir, { compactMinBytes: 1024 });
    for (let i = 0; i < 600; i++) {
      m.set('ts', String(i));
      await m.commit();
    }
    await m.close();
    expect(m.compactions).toBeGreaterThan(0);
    expect(statSync(logFile()).size).toBeLessThan(3 * 1024);
    expect((await MetaStore.open(dir)).get('ts')).toBe('599');
  });

  it('migrates the earlier bucket format once: same values, bucket files gone after the log is durable', async () => {
    const bucket = (data: Record<string, MetaValue>): string => JSON.stringify({ format: 1, buckets: 2, data });
    writeFileSync(join(dir, 'bucket-0.json'), bucket({ 'service:slot': 'switchyard_x', 'shape:a': { n: 1 } }));
    writeFileSync(join(dir, 'bucket-1.json'), bucket({ 'handles:last-ts': '17', 'shape:b': { n: 2 } }));
    const m = await MetaStore.open(dir, { externalPrefix: 'shape:' });
    expect(m.get('service:slot')).toBe('switchyard_x');
    expect(m.get('handles:last-ts')).toBe('17');
    expect(readdirSync(dir).sort()).toEqual(['registry-000000000001.log']);
    await m.close();
    const re = await MetaStore.open(dir, { externalPrefix: 'shape:' });
    expect(Object.fromEntries(re.takeStored())).toEqual({ 'shape:a': { n: 1 }, 'shape:b': { n: 2 } });
    expect(re.get('service:slot')).toBe('switchyard_x');
  });

  it('a crash after the migrated log was written but before the bucket files were removed keeps the log', async () => {
    const m = await MetaStore.open(dir);
    m.set('k', 'from-log');
    await m.commit();
    await m.close();
    writeFileSync(join(dir, 'bucket-0.json'), JSON.stringify({ format: 1, buckets: 1, data: { k: 'stale' } }));
    const re = await MetaStore.open(dir);
    expect(re.get('k')).toBe('from-log');
    expect(readdirSync(dir).some((n) => n.startsWith('bucket-'))).toBe(false);
  });

  it('writes the owner snapshot chunks at compaction: records and deletions after them override them', async () => {
    let chunks: MetaValue[] = [{ shapes: ['a', 'b'] }, { shapes: ['c'] }];
    const m = await MetaStore.open(dir, { externalPrefix: 'shape:' });
    m.setSnapshotSource(() => chunks);
    m.set('shape:old', { n: 0 });
    m.set('slot', 's1');
    await m.commit();
    await m.compactNow();
    // The chunks replaced the record written before the compaction (the owner's source is complete).
    m.set('shape:b', { n: 2 });
    m.delete('shape:c');
    m.set('shape:d', { n: 4 });
    m.delete('shape:d');
    await m.commit();
    await m.close();

    const re = await MetaStore.open(dir, { externalPrefix: 'shape:' });
    expect(re.get('slot')).toBe('s1');
    expect(Object.fromEntries(re.takeStored())).toEqual({ 'shape:b': { n: 2 } });
    const snap = re.takeSnapshot();
    expect(snap.chunks).toEqual(chunks);
    expect([...snap.deleted].sort()).toEqual(['shape:c', 'shape:d']);
    expect(re.takeSnapshot().chunks).toHaveLength(0);
    // A later compaction writes the owner's current chunks: the overrides are folded in.
    chunks = [{ shapes: ['a', 'b2'] }];
    re.setSnapshotSource(() => chunks);
    await re.compactNow();
    await re.close();
    const again = await MetaStore.open(dir, { externalPrefix: 'shape:' });
    expect(again.takeSnapshot()).toEqual({ chunks, deleted: new Set() });
    expect(again.takeStored().size).toBe(0);
    await again.close();
  });

  it('a compaction before the snapshot was taken keeps its chunks, their overrides and deletions', async () => {
    const m = await MetaStore.open(dir, { externalPrefix: 'shape:' });
    m.setSnapshotSource(() => [{ shapes: ['a'] }]);
    await m.compactNow();
    m.delete('shape:a');
    m.set('shape:b', 1);
    await m.commit();
    await m.close();
    const re = await MetaStore.open(dir, { externalPrefix: 'shape:' });
    await re.compactNow();
    await re.close();
    const again = await MetaStore.open(dir, { externalPrefix: 'shape:' });
    expect(again.takeSnapshot()).toEqual({ chunks: [{ shapes: ['a'] }], deleted: new Set(['shape:a']) });
    expect(Object.fromEntries(again.takeStored())).toEqual({ 'shape:b': 1 });
    await again.close();
  });

  it('a torn tail after the snapshot frames cuts only the tail; a file without snapshot frames reads as before', async () => {
    const m = await MetaStore.open(dir, { externalPrefix: 'shape:' });
    m.set('shape:legacy', { v: 2 });
    await m.commit();
    await m.close();
    // A log written before snapshots existed: records only, no chunks.
    const legacy = await MetaStore.open(dir, { externalPrefix: 'shape:' });
    expect(legacy.takeSnapshot()).toEqual({ chunks: [], deleted: new Set() });
    expect(Object.fromEntries(legacy.takeStored())).toEqual({ 'shape:legacy': { v: 2 } });
    legacy.setSnapshotSource(() => [{ shapes: ['legacy'] }]);
    await legacy.compactNow();
    legacy.set('shape:late', 1);
    await legacy.commit();
    await legacy.close();
    const size = statSync(logFile()).size;
    appendFileSync(logFile(), Buffer.from([0, 0, 0, 40, 1, 2, 3]));
    const re = await MetaStore.open(dir, { externalPrefix: 'shape:' });
    expect(re.takeSnapshot().chunks).toEqual([{ shapes: ['legacy'] }]);
    expect(Object.fromEntries(re.takeStored())).toEqual({ 'shape:late': 1 });
    expect(statSync(logFile()).size).toBe(size);
    await re.close();
  });

  it('compactIfGrown folds the records appended since the last compaction only past its threshold', async () => {
    const owner = new Map<string, MetaValue>();
    const m = await MetaStore.open(dir, { externalPrefix: 'shape:', compactMinBytes: 1 << 30 });
    m.setSnapshotSource(() => [Object.fromEntries(owner)]);
    for (let i = 0; i < 200; i++) {
      owner.set(`shape:${i}`, i);
      m.set(`shape:${i}`, i);
    }
    await m.commit();
    expect(await m.compactIfGrown(1 << 20)).toBe(false);
    expect(await m.compactIfGrown(1024)).toBe(true);
    expect(m.compactions).toBe(1);
    // Now one snapshot frame and a few retained bytes: nothing to fold.
    expect(await m.compactIfGrown(1024)).toBe(false);
    await m.close();
    const re = await MetaStore.open(dir, { externalPrefix: 'shape:' });
    expect(re.takeSnapshot().chunks).toEqual([Object.fromEntries(owner)]);
    expect(await re.compactIfGrown(1024)).toBe(false);
    await re.close();
  });
});
