// Meta store: values persist across reopen, commits are atomic per bucket, stray temp files are ignored.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MetaStore } from '../../src/log/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sy-meta-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('MetaStore', () => {
  it('persists committed values, not uncommitted ones', async () => {
    const m = await MetaStore.open(dir, { buckets: 4 });
    m.set('durable_lsn', '23805808');
    m.set('shape:h1', { table: 'public.items', where: 'id > $1', params: { '1': '5' }, replica: 'default' });
    m.set('gone', true);
    await m.commit();
    m.delete('gone');
    await m.commit();
    m.set('uncommitted', 1);
    const re = await MetaStore.open(dir, { buckets: 4 });
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

  it('a commit rewrites only the buckets that changed', async () => {
    const m = await MetaStore.open(dir, { buckets: 16 });
    for (let i = 0; i < 1000; i++) m.set(`shape:${i}`, { n: i });
    await m.commit();
    expect(readdirSync(dir).length).toBe(16);
    m.set('shape:7', { n: -7 });
    const p = m.commit();
    await p;
    expect((await MetaStore.open(dir, { buckets: 16 })).get('shape:7')).toEqual({ n: -7 });
  });

  it('ignores and removes a temp file left by a crash before rename', async () => {
    const m = await MetaStore.open(dir, { buckets: 2 });
    m.set('a', 1);
    await m.commit();
    const name = readdirSync(dir)[0]!;
    writeFileSync(join(dir, `${name}.tmp`), '{"torn');
    const re = await MetaStore.open(dir, { buckets: 2 });
    expect(re.get('a')).toBe(1);
    expect(readdirSync(dir).some((n) => n.endsWith('.tmp'))).toBe(false);
  });

  it('refuses a bucket count different from the one the directory was written with', async () => {
    const m = await MetaStore.open(dir, { buckets: 2 });
    m.set('a', 1);
    await m.commit();
    await expect(MetaStore.open(dir, { buckets: 3 })).rejects.toThrow(/buckets/);
  });

  it('serialises commits in call order', async () => {
    const m = await MetaStore.open(dir, { buckets: 1 });
    const ps: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      m.set('k', i);
      ps.push(m.commit());
    }
    await Promise.all(ps);
    expect((await MetaStore.open(dir, { buckets: 1 })).get('k')).toBe(19);
  });
});
