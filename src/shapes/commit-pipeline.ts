// Group commit of processed transactions: one fsync for all that queued up, then acknowledge the slot, then wake readers.
import { compareOffsets, type LogOffset } from '../log/offset.js';
import type { ShapeLogStore } from '../log/shape-log-store.js';
import type { LiveShape } from './live-shape.js';

/**
 * Durability order (architecture.md): append → fsync → acknowledge the commit's end LSN → make the entries visible
 * to readers. While one fsync runs, later transactions keep being appended; the next fsync covers them all.
 */
export class CommitPipeline {
  private running: Promise<void> | null = null;
  private shapes = new Set<LiveShape>();
  private pendingEnd = 0n;
  private pendingCommit = 0n;
  private dirty = false;
  /** Changes processed but not yet durable (backpressure input). */
  private backlog = 0;
  private failure: Error | undefined;
  /** Commit LSN of the last transaction whose effects are durable in every shape log. */
  durableLsn = 0n;
  syncs = 0;

  constructor(
    private readonly store: ShapeLogStore,
    private readonly acknowledge: (endLsn: bigint) => void,
    private readonly onFailure: (err: unknown) => void,
    private readonly maxBacklog = 50_000,
  ) {}

  /** Records a processed transaction; `touched` shapes got entries appended. */
  committed(commitLsn: bigint, endLsn: bigint, touched: readonly LiveShape[], changes: number): void {
    for (const s of touched) this.shapes.add(s);
    if (touched.length > 0) this.dirty = true;
    if (endLsn > this.pendingEnd) this.pendingEnd = endLsn;
    if (commitLsn > this.pendingCommit) this.pendingCommit = commitLsn;
    this.backlog += changes + 1;
    this.running ??= this.loop();
  }

  /** Resolves when the backlog is small enough to accept more transactions. */
  async throttle(): Promise<void> {
    while (this.backlog > this.maxBacklog && this.running !== null) await this.running;
    if (this.failure !== undefined) throw this.failure;
  }

  /** Resolves once everything recorded so far is durable and acknowledged. */
  async drain(): Promise<void> {
    while (this.running !== null) await this.running;
  }

  private async loop(): Promise<void> {
    // Yield first: a batch needing no fsync would otherwise finish (and clear `running`) before `running` is set.
    await Promise.resolve();
    try {
      while (this.pendingEnd > 0n || this.shapes.size > 0) {
        const batch: [LiveShape, LogOffset | undefined][] = [];
        for (const s of this.shapes) batch.push([s, s.appendedEnd]);
        this.shapes = new Set();
        const end = this.pendingEnd;
        const commit = this.pendingCommit;
        const dirty = this.dirty;
        const weight = this.backlog;
        this.pendingEnd = 0n;
        this.dirty = false;
        if (dirty) {
          await this.store.syncAll();
          this.syncs++;
        }
        this.backlog -= weight;
        if (end > 0n) this.acknowledge(end);
        if (commit > this.durableLsn) this.durableLsn = commit;
        for (const [s, off] of batch) {
          if (off !== undefined && (s.durableEnd === undefined || compareOffsets(off, s.durableEnd) > 0))
            s.durableEnd = off;
          if (s.state === 'ready') s.wake();
        }
      }
    } catch (err) {
      this.failure ??= err instanceof Error ? err : new Error(String(err));
      this.onFailure(err);
    } finally {
      this.running = null;
    }
  }
}
