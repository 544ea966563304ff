// Group commit of processed transactions: readers see them at once, one fsync covers all that queued up, then the slot is acknowledged.
import { setTimeout as sleep } from 'node:timers/promises';
import { compareOffsets, type LogOffset } from '../log/offset.js';
import type { ShapeLogStore } from '../log/shape-log-store.js';
import type { Transaction } from '../replication/transaction-types.js';
import type { LiveShape } from './live-shape.js';
import { VisibilityLatency } from './visibility-latency.js';

export interface CommitPipelineOptions {
  /**
   * true (default): a transaction's entries are readable as soon as all of them are appended, before the fsync
   * (docs/architecture.md, "Durability order" says why a reader can never be shown different bytes at an offset).
   * false: readable only once fsynced (the earlier behaviour; for benchmarking and diagnosis).
   */
  readonly earlyVisibility?: boolean;
  /**
   * Shapes readable only once fsynced even with early visibility: subquery shapes, whose moved rows come from a query
   * that a replay after kill -9 could not repeat byte for byte (shapes/subquery-resume.ts).
   */
  readonly durableOnly?: (shape: LiveShape) => boolean;
  /** Waits this long before each group fsync: a test and diagnosis hook that widens the not-yet-durable window. */
  readonly delayMs?: number;
  /** Processed changes not yet durable beyond which `throttle` holds the producer. */
  readonly maxBacklog?: number;
}

/**
 * Durability order (architecture.md): append → visible to readers → fsync → acknowledge the commit's end LSN. While
 * one fsync runs, later transactions keep being appended; the next fsync covers them all. With `earlyVisibility`
 * off, readers see entries only after the fsync.
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
  /** Commit LSN of the last transaction whose effects are readable in every shape log (≥ `durableLsn`). */
  visibleLsn = 0n;
  syncs = 0;
  /** How long transactions that touched a shape took to become readable. */
  readonly visibility = new VisibilityLatency();
  /** Transactions waiting for the fsync to become readable (without early visibility), for `visibility`. */
  // Only the two times: the transaction itself (and its changes) need not live until the fsync.
  private unseen: [commitTime: bigint, receivedAt: number | undefined][] = [];
  readonly earlyVisibility: boolean;
  private readonly delayMs: number;
  private readonly maxBacklog: number;
  private readonly durableOnly: (shape: LiveShape) => boolean;

  constructor(
    private readonly store: ShapeLogStore,
    private readonly acknowledge: (endLsn: bigint) => void,
    private readonly onFailure: (err: unknown) => void,
    opts: CommitPipelineOptions = {},
  ) {
    this.earlyVisibility = opts.earlyVisibility ?? true;
    this.delayMs = opts.delayMs ?? 0;
    this.maxBacklog = opts.maxBacklog ?? 50_000;
    this.durableOnly = opts.durableOnly ?? (() => false);
  }

  /**
   * Records a processed transaction; `touched` shapes got entries appended (each shape's `appendedEnd` is the end of
   * its part of this transaction, so the whole transaction becomes readable at once, or nothing of it).
   */
  committed(
    tx: Pick<Transaction, 'commitLsn' | 'endLsn' | 'commitTime' | 'receivedAt' | 'changes'>,
    touched: readonly LiveShape[],
  ): void {
    const { commitLsn, endLsn } = tx;
    if (this.earlyVisibility) {
      let early = false;
      for (const s of touched) {
        if (this.durableOnly(s)) {
          this.shapes.add(s);
          continue;
        }
        early = true;
        s.readableEnd = s.appendedEnd;
        if (s.state === 'ready') s.wake();
      }
      if (commitLsn > this.visibleLsn) this.visibleLsn = commitLsn;
      // A transaction touching only durable-read shapes becomes readable at the fsync: its latency is taken there.
      if (early) this.visibility.record(tx.commitTime, tx.receivedAt);
      else if (touched.length > 0) this.unseen.push([tx.commitTime, tx.receivedAt]);
    } else {
      for (const s of touched) this.shapes.add(s);
      if (touched.length > 0) this.unseen.push([tx.commitTime, tx.receivedAt]);
    }
    if (touched.length > 0) this.dirty = true;
    if (endLsn > this.pendingEnd) this.pendingEnd = endLsn;
    if (commitLsn > this.pendingCommit) this.pendingCommit = commitLsn;
    this.backlog += tx.changes.length + 1;
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
        const unseen = this.unseen;
        this.unseen = [];
        this.pendingEnd = 0n;
        this.dirty = false;
        if (dirty) {
          if (this.delayMs > 0) await sleep(this.delayMs);
          await this.store.syncAll();
          this.syncs++;
        }
        this.backlog -= weight;
        if (end > 0n) this.acknowledge(end);
        if (commit > this.durableLsn) this.durableLsn = commit;
        if (commit > this.visibleLsn) this.visibleLsn = commit;
        for (const [s, off] of batch) {
          if (off !== undefined && (s.readableEnd === undefined || compareOffsets(off, s.readableEnd) > 0))
            s.readableEnd = off;
          if (s.state === 'ready') s.wake();
        }
        for (const [commitTime, receivedAt] of unseen) this.visibility.record(commitTime, receivedAt);
      }
    } catch (err) {
      this.failure ??= err instanceof Error ? err : new Error(String(err));
      this.onFailure(err);
    } finally {
      this.running = null;
    }
  }
}
