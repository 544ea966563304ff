// How long replicated transactions take to become readable in shape logs, over the most recent ones: from Postgres's
// commit timestamp and from the moment the commit reached the service.

/** Transactions the quantiles are taken over: recent enough to show a change of pace, enough for a stable p99. */
const WINDOW = 1024;

/** Quantiles of one latency over the window, in milliseconds (NaN before the first transaction). */
export interface LatencyQuantiles {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Transactions in the window. */
  readonly count: number;
}

export interface VisibilityLatencyStats {
  /**
   * Postgres's commit timestamp → readable: Postgres's own WAL flush, the walsender, the socket and this service.
   * Read against this machine's clock, so a database host with a skewed clock skews it.
   */
  readonly fromCommit: LatencyQuantiles;
  /** The commit message decoded → readable: this service alone (waiting behind earlier transactions included). */
  readonly fromReceipt: LatencyQuantiles;
}

/** A ring of the last WINDOW samples; nothing grows with the transaction count. */
class Ring {
  private readonly values = new Float64Array(WINDOW);
  private n = 0;

  clear(): void {
    this.n = 0;
  }

  push(v: number): void {
    this.values[this.n % WINDOW] = v;
    this.n++;
  }

  quantiles(): LatencyQuantiles {
    const count = Math.min(this.n, WINDOW);
    if (count === 0) return { p50: NaN, p99: NaN, max: NaN, count };
    const sorted = this.values.slice(0, count).sort();
    const at = (q: number): number => sorted[Math.min(count - 1, Math.floor(q * count))] as number;
    return { p50: at(0.5), p99: at(0.99), max: sorted[count - 1] as number, count };
  }
}

export class VisibilityLatency {
  private readonly fromCommit = new Ring();
  private readonly fromReceipt = new Ring();

  /**
   * Records a transaction made readable now. `commitTimeUs` is Postgres's commit timestamp (µs since the Unix
   * epoch), `receivedAt` the `performance.now()` at which its commit message was decoded, when known.
   */
  record(commitTimeUs: bigint, receivedAt: number | undefined): void {
    this.fromCommit.push(Math.max(0, Date.now() - Number(commitTimeUs) / 1000));
    if (receivedAt !== undefined) this.fromReceipt.push(performance.now() - receivedAt);
  }

  /** Forgets the window (a benchmark phase measures only its own transactions). */
  reset(): void {
    this.fromCommit.clear();
    this.fromReceipt.clear();
  }

  stats(): VisibilityLatencyStats {
    return { fromCommit: this.fromCommit.quantiles(), fromReceipt: this.fromReceipt.quantiles() };
  }
}
