// Helpers the shape-log tests share: reading a log's change ids back, id ranges, and an abandoned store.
import { SNAPSHOT_END } from '../../src/log/index.js';
import type { ShapeLog, ShapeLogStore } from '../../src/log/index.js';

/** The `value.id` of every change in the log, read back in pieces of about `maxBytes` (several reads per log). */
export function changeIds(log: ShapeLog, maxBytes = 500): number[] {
  const out: number[] = [];
  for (let at = SNAPSHOT_END; ;) {
    const r = log.read(at, { maxBytes });
    if (r.items.length === 0) return out;
    for (const i of r.items) out.push(Number((JSON.parse(i.json.toString()) as { value: { id: string } }).value.id));
    at = r.endOffset;
  }
}

/** a, a+1, …, b. */
export const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);

/** Abandons a store without syncing: what a crash leaves, minus the page cache loss a test's damage stands for. */
export const crash = (store: ShapeLogStore): void => store.fds.closeAll();
