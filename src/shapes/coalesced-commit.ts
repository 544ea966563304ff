// Coalesces durability requests: callers arriving while a commit runs share the one that starts after it.

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
