// A reader continuing from where its last read ended (a long poll) starts where that read stopped: same records.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { SNAPSHOT_END, ShapeLogStore, formatOffset, makeOffset } from '../../src/log/index.js';
import type { LogOffset, ShapeLog } from '../../src/log/index.js';
import { range } from '../support/log-helpers.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sy-logr-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const ids = (log: ShapeLog, after: LogOffset, maxBytes?: number): { ids: number[]; end: LogOffset } => {
  const r = log.read(after, maxBytes === undefined ? {} : { maxBytes });
  return {
    ids: r.items.map((i) => Number((JSON.parse(i.json.toString()) as { id: number }).id)),
    end: r.endOffset,
  };
};

it('continuing reads see each appended record once, across segment rolls, interleaved with other readers', async () => {
  const store = await ShapeLogStore.open(dir, { segmentBytes: 400, indexEveryBytes: 128 });
  const log = store.createLog('h');
  log.finishSnapshot();
  let end: LogOffset = SNAPSHOT_END;
  const got: number[] = [];
  for (let n = 1; n <= 200; n++) {
    log.append([{ offset: makeOffset(BigInt(n), 0), json: JSON.stringify({ id: n }) }]);
    if (n % 3 !== 0) continue;
    // One reader follows the end; another reads from an older offset (and moves the remembered position).
    const r = ids(log, end, n % 2 === 0 ? 1 : undefined);
    got.push(...r.ids);
    end = r.end;
    const from = Math.max(1, n - 10);
    expect(ids(log, makeOffset(BigInt(from), 0)).ids, `from ${from}`).toEqual(range(from + 1, n));
  }
  for (let r = ids(log, end); r.ids.length > 0; r = ids(log, end)) {
    got.push(...r.ids);
    end = r.end;
  }
  expect(got).toEqual(range(1, 200));
  expect(formatOffset(end)).toBe('200_0');
  await store.close();
});
