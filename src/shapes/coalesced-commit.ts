// Coalesces durability requests and reads: callers arriving while one runs share the one that starts after it.

/**
 * Wraps `run` (e.g. MetaStore.commit, which renders and fsyncs every dirty bucket) so that concurrent callers do not
 * each pay for a full commit: creating shapes in bulk otherwise re-renders and fsyncs the registry once per shape.
 * Each returned promise settles after a commit that started after the call, so the caller's writes are covered.
 */
export function coalesced(run: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null;
  let next: Promise<void> | null = null;
  const start = (): Promise<void> => {
    const p = run().finally(() => {
      if (running === p) running = null;
    });
    running = p;
    return p;
  };
  return () => {
    if (running === null) return start();
    next ??= running
      .catch(() => undefined)
      .then(() => {
        next = null;
        return start();
      });
    return next;
  };
}

interface Slot<T> {
  running: Promise<T> | null;
  next: Promise<T> | null;
}

/**
 * The same rule per key, for reads that return a value (a table's catalog entry): every caller gets the result of a
 * run that started after its call, so the answer is as fresh as running alone, but callers arriving together share
 * one run instead of queueing one each behind a single connection. Idle keys are forgotten.
 */
export class CoalescedReads<T> {
  private readonly slots = new Map<string, Slot<T>>();

  read(key: string, run: () => Promise<T>): Promise<T> {
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = { running: null, next: null };
      this.slots.set(key, slot);
    }
    const s = slot;
    if (s.running === null) return this.begin(key, s, run);
    s.next ??= s.running
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        s.next = null;
        return this.begin(key, s, run);
      });
    return s.next;
  }

  private begin(key: string, slot: Slot<T>, run: () => Promise<T>): Promise<T> {
    const p = run();
    slot.running = p;
    const done = (): void => {
      if (slot.running !== p) return;
      slot.running = null;
      if (slot.next === null && this.slots.get(key) === slot) this.slots.delete(key);
    };
    p.then(done, done);
    return p;
  }
}
