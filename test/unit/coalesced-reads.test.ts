// CoalescedReads: callers arriving while a read runs share the next one (which starts after their call); keys apart.
import { describe, expect, it } from 'vitest';
import { CoalescedReads } from '../../src/shapes/coalesced-commit.js';

function deferred(): { promise: Promise<number>; resolve: (v: number) => void } {
  let resolve!: (v: number) => void;
  const promise = new Promise<number>((r) => (resolve = r));
  return { promise, resolve };
}

describe('CoalescedReads', () => {
  it('shares one run among callers that arrive while another runs, and starts it only after that one', async () => {
    const reads = new CoalescedReads<number>();
    const runs: ReturnType<typeof deferred>[] = [];
    const run = (): Promise<number> => {
      const d = deferred();
      runs.push(d);
      return d.promise;
    };
    const first = reads.read('t', run);
    const waiters = Array.from({ length: 31 }, () => reads.read('t', run));
    expect(runs).toHaveLength(1);
    runs[0]!.resolve(1);
    expect(await first).toBe(1);
    await new Promise((r) => setImmediate(r));
    // The 31 callers arrived after the first run started: they get the next one, shared.
    expect(runs).toHaveLength(2);
    runs[1]!.resolve(2);
    expect(await Promise.all(waiters)).toEqual(Array(31).fill(2));
    const other = reads.read('u', run);
    expect(runs).toHaveLength(3);
    runs[2]!.resolve(3);
    expect(await other).toBe(3);
  });

  it('passes a failure to the callers of that run only, and forgets idle keys', async () => {
    const reads = new CoalescedReads<number>();
    await expect(reads.read('t', () => Promise.reject(new Error('catalog down')))).rejects.toThrow('catalog down');
    expect(await reads.read('t', () => Promise.resolve(7))).toBe(7);
    expect((reads as unknown as { slots: Map<string, unknown> }).slots.size).toBe(0);
  });
});
