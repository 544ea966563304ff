// The bounded, ordered hand-off from the socket to the async consumer: one item at a time, with pause/resume marks.
import { sameRelation } from './transaction-assembler.js';
import type { RelationInfo, Transaction, TypeInfo } from './transaction-types.js';

export type QueueItem =
  | { readonly kind: 'transaction'; readonly tx: Transaction }
  | { readonly kind: 'relation'; readonly relation: RelationInfo }
  | { readonly kind: 'type'; readonly type: TypeInfo };

export interface ConsumerHandlers {
  onTransaction(tx: Transaction): Promise<void>;
  /** Called before the first transaction that uses a new or changed relation definition. */
  onRelation?(relation: RelationInfo, previous: RelationInfo | undefined): void | Promise<void>;
  onType?(type: TypeInfo): void | Promise<void>;
}

export interface QueueHooks {
  /** Too much is pending: stop reading the socket. */
  pause(): void;
  /** Pending work fell to the low mark: read again. */
  resume(): void;
  /** The consumer accepted a transaction. */
  delivered(tx: Transaction): void;
  /** The consumer threw; the queue is already cleared. */
  failed(error: unknown): void;
}

/**
 * Items are counted by weight (a transaction weighs its change count + 1) so that one huge transaction and many
 * small ones are bounded alike. The queue only pauses *reading*; a transaction being assembled is not bounded (pgoutput
 * v1 sends a transaction only once it committed, and it must be delivered whole).
 */
export class DeliveryQueue {
  private items: (QueueItem | undefined)[] = [];
  private head = 0;
  private weight = 0;
  private paused = false;
  /** Bumped by clear(), so a delivery that finishes after a clear does not touch the new queue's counters. */
  private generation = 0;
  private running: Promise<void> | null = null;
  /** Relation definitions the consumer has seen, so re-sends after a reconnect are not reported as changes. */
  private readonly seenRelations = new Map<number, RelationInfo>();

  constructor(
    private readonly handlers: ConsumerHandlers,
    private readonly hooks: QueueHooks,
    private readonly highWater: number,
    private readonly lowWater: number = Math.floor(highWater / 2),
  ) {}

  /** Nothing waiting and nothing being delivered. */
  get idle(): boolean {
    return this.running === null && this.head === this.items.length;
  }

  get pendingWeight(): number {
    return this.weight;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  push(item: QueueItem): void {
    this.items.push(item);
    this.weight += weightOf(item);
    if (!this.paused && this.weight >= this.highWater) {
      this.paused = true;
      this.hooks.pause();
    }
    if (this.running === null) this.running = this.run();
  }

  /** Drops everything not yet delivered (after a consumer failure the stream is replayed from the slot). */
  clear(): void {
    this.items = [];
    this.head = 0;
    this.weight = 0;
    this.paused = false;
    this.generation++;
  }

  /** Resolves when the item being delivered (if any) is done. */
  async settle(): Promise<void> {
    while (this.running !== null) await this.running;
  }

  /** Forgets relation definitions, e.g. when the consumer itself was reset. */
  forgetRelations(): void {
    this.seenRelations.clear();
  }

  private async run(): Promise<void> {
    try {
      while (this.head < this.items.length) {
        const item = this.items[this.head]!;
        const generation = this.generation;
        try {
          await this.deliver(item);
        } catch (error) {
          if (generation !== this.generation) continue;
          this.clear();
          this.hooks.failed(error);
          return;
        }
        if (generation !== this.generation) continue;
        this.items[this.head++] = undefined;
        this.weight -= weightOf(item);
        if (this.head > 1024 && this.head * 2 > this.items.length) {
          this.items = this.items.slice(this.head);
          this.head = 0;
        }
        if (this.paused && this.weight <= this.lowWater) {
          this.paused = false;
          this.hooks.resume();
        }
      }
      this.items.length = 0;
      this.head = 0;
    } finally {
      this.running = null;
    }
  }

  private async deliver(item: QueueItem): Promise<void> {
    switch (item.kind) {
      case 'transaction':
        await this.handlers.onTransaction(item.tx);
        this.hooks.delivered(item.tx);
        return;
      case 'relation': {
        const previous = this.seenRelations.get(item.relation.oid);
        if (previous !== undefined && sameRelation(previous, item.relation)) return;
        await this.handlers.onRelation?.(item.relation, previous);
        this.seenRelations.set(item.relation.oid, item.relation);
        return;
      }
      case 'type':
        await this.handlers.onType?.(item.type);
        return;
    }
  }
}

function weightOf(item: QueueItem): number {
  return item.kind === 'transaction' ? item.tx.changes.length + 1 : 1;
}
