// lastCompleteOffset: a log ending inside a transaction (a crash between append slices) shows readers only whole ones.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ShapeLogStore, makeOffset } from '../../src/log/index.js';
import type { LogEntry } from '../../src/log/index.js';
import { lastCompleteOffset } from '../../src/shapes/log-tail.js';

let dir: string;
let store: ShapeLogStore;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sy-tail-'));
  store = await ShapeLogStore.open(dir);
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Messages of one transaction, ops 0, 2, 4…; the last carries headers.last when the transaction is whole. */
const tx = (lsn: number, count: number, whole: boolean): LogEntry[] =>
  Array.from({ length: count }, (_, i) => ({
    offset: makeOffset(BigInt(lsn), 2 * i),
    json: JSON.stringify({
      key: `"public"."t"/"${lsn}-${i}"`,
      value: { id: String(i) },
      headers: { operation: 'insert', ...(whole && i === count - 1 ? { last: true } : {}) },
    }),
  }));

it('is the last offset when the last transaction is whole, undefined for an empty log', () => {
  const log = store.createLog('a');
  log.finishSnapshot();
  expect(lastCompleteOffset(log)).toBeUndefined();
  log.append(tx(100, 3, true));
  log.append(tx(200, 1, true));
  expect(lastCompleteOffset(log)).toEqual(makeOffset(200n, 0));
});

it('stops before a transaction whose last message is missing', () => {
  const log = store.createLog('b');
  log.finishSnapshot();
  log.append(tx(100, 2, true));
  log.append(tx(200, 20000, false).slice(0, 15000)); // a prefix, over several read pages
  expect(lastCompleteOffset(log)).toEqual(makeOffset(100n, 2));
});

it('is undefined when the only transaction is incomplete', () => {
  const log = store.createLog('c');
  log.finishSnapshot();
  log.append(tx(300, 10, false));
  expect(lastCompleteOffset(log)).toBeUndefined();
});
