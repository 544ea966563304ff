// The clean-stop mark: a store knows at open whether its previous close finished, and never takes a crash for one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ShapeLogStore, makeOffset } from '../../src/log/index.js';
import { crash } from '../support/log-helpers.js';

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
