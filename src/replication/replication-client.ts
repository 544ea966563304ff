// The logical replication client: keeps the publication and slot, streams pgoutput, delivers transactions, acks.
import pg from 'pg';
import { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { DeliveryQueue, type ConsumerHandlers } from './delivery-queue.js';
import { ErrorCode } from '../errors/index.js';
import { ReplicationError } from './errors.js';
import { lsnToString, maxLsn } from './lsn.js';
import { decodePgoutput } from './pgoutput-decoder.js';
import {
  checkWalLevel,
  currentWalLsn,
  ensurePublication,
  ensureSlot,
  quoteIdent,
  slotConfirmedFlushLsn,
  syncPublicationTables,
  type PublicationSync,
  type TableRef,
} from './replication-admin.js';
import { TransactionAssembler } from './transaction-assembler.js';
import type { Transaction } from './transaction-types.js';
import { KEEPALIVE, XLOG_DATA, XLOG_DATA_HEADER, buildStatusUpdate, readKeepalive } from './walsender-protocol.js';

/** Switchyard's pinned session settings (where-language.md §1); pgoutput renders values under them. */
export const PINNED_SERVER_OPTIONS =
  '-c DateStyle=ISO,DMY -c TimeZone=UTC -c IntervalStyle=iso_8601 -c extra_float_digits=1 ' +
  '-c bytea_output=hex -c client_encoding=UTF8';

export type ReplicationEvent =
  | { readonly type: 'connected'; readonly startLsn: bigint }
  | { readonly type: 'disconnected'; readonly error: Error | undefined; readonly reconnectInMs: number }
  | { readonly type: 'error'; readonly error: Error }
  | { readonly type: 'paused' | 'resumed'; readonly pendingChanges: number }
  | {
      readonly type: 'lag';
      /** The server's end of WAL as of its last keepalive. */
      readonly serverWalEnd: bigint;
      readonly acknowledgedLsn: bigint;
      /** WAL bytes the slot still retains for us (serverWalEnd − acknowledged). */
      readonly lagBytes: bigint;
      readonly pendingChanges: number;
    };

export interface ReplicationClientOptions extends ConsumerHandlers {
  /** Connection string or pg config of the source database (a role with REPLICATION and table ownership). */
  readonly connection: string | pg.ClientConfig;
  /** Slot name: lower-case letters, digits and `_`, at most 63 characters. */
  readonly slot: string;
  readonly publication: string;
  readonly onEvent?: (event: ReplicationEvent) => void;
  /** Interval of unsolicited standby status updates; must stay well below the server's wal_sender_timeout. */
  readonly statusIntervalMs?: number;
  /** Pause reading once this many changes wait for the consumer; resume at half. */
  readonly maxPendingChanges?: number;
  readonly backoff?: Partial<BackoffOptions>;
  /** More startup options for the walsender connection, e.g. `-c wal_sender_timeout=2s`. */
  readonly extraServerOptions?: string;
  /**
   * When every delivered transaction is acknowledged and nothing is pending, confirm the server's WAL end from
   * keepalives, so that WAL written by unpublished tables does not pile up behind an idle slot. Default true.
   */
  readonly ackIdleKeepalives?: boolean;
  /**
   * The consumer accepts a transaction before it is durable and may fail it later, reporting the failure from a later
   * delivery (the service queues appends behind routing). Then, after a consumer failure, every transaction not yet
   * acknowledged is delivered again, not only the failed one and those after it: the consumer must skip what it
   * already holds (the service's logs skip entries at or below their last offset). Default false.
   */
  readonly deferredFailures?: boolean;
}

interface CopyConnection {
  readonly stream: { pause(): void; resume(): void };
  sendCopyFromChunk(chunk: Buffer): void;
  on(event: 'copyData', listener: (msg: { chunk: Buffer }) => void): void;
  once(event: 'replicationStart', listener: () => void): void;
}

const SLOT_NAME = /^[a-z0-9_]{1,63}$/;

/**
 * Longest stretch of decoding before reading pauses for one turn of the event loop. libuv hands a readable socket up
 * to 32 reads of 64 KiB in one go; decoding that burst of pgoutput at once held HTTP for 100–250 ms.
 */
const READ_SLICE_MS = 10;

/** Status updates sent for acknowledgements at most this often (ms). */
const ACK_STATUS_MS = 10;

export class ReplicationClient {
  private readonly assembler: TransactionAssembler;
  private readonly queue: DeliveryQueue;
  private readonly backoff: Backoff;
  private readonly baseConfig: pg.ClientConfig;
  private client: pg.Client | null = null;
  private streaming = false;
  private admin: pg.Client | null = null;
  private adminConnecting: Promise<pg.Client> | null = null;
  private closed = false;
  private loop: Promise<void> | null = null;
  private statusTimer: NodeJS.Timeout | null = null;
  /** A status update for acknowledgements, due when ACK_STATUS_MS have passed since the last one. */
  private ackTimer: NodeJS.Timeout | null = null;
  private lastAckStatusAt = -Infinity;
  private wakeSleep: (() => void) | null = null;
  private connectedWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  /** Highest LSN the service declared durable. */
  private acked = 0n;
  /** Highest LSN safe to confirm (acked, or the server WAL end while idle). */
  private confirmable = 0n;
  /** Commit LSN of the last transaction queued; later re-sends of earlier ones (after a reconnect) are skipped. */
  private queuedCommitLsn = -1n;
  private deliveredCommitLsn = -1n;
  private deliveredEndLsn = 0n;
  private serverWalEnd = 0n;
  private lastLagEventMs = 0;
  /** The current decoding slice: when it started, and whether it paused the socket (resumed on the next turn). */
  private readSlice: { readonly start: number; paused: boolean } | null = null;

  constructor(private readonly options: ReplicationClientOptions) {
    if (!SLOT_NAME.test(options.slot)) {
      throw new ReplicationError(
        ErrorCode.ReplicationSlot,
        `replication slot name "${options.slot}" contains invalid character or is too long`,
      );
    }
    this.baseConfig =
      typeof options.connection === 'string' ? { connectionString: options.connection } : options.connection;
    this.backoff = new Backoff({ ...DEFAULT_BACKOFF, ...options.backoff });
    const maxPending = options.maxPendingChanges ?? 20_000;
    this.queue = new DeliveryQueue(
      options,
      {
        pause: () => this.pauseReading(),
        resume: () => this.resumeReading(),
        delivered: (tx) => this.onDelivered(tx),
        failed: (error) => this.onConsumerFailed(error),
      },
      maxPending,
    );
    this.assembler = new TransactionAssembler({
      transaction: (tx) => {
        if (this.closed) return;
        // Already queued or delivered before a reconnect, or acknowledged (durable) already.
        if (tx.commitLsn <= this.queuedCommitLsn || tx.endLsn <= this.acked) return;
        this.queuedCommitLsn = tx.commitLsn;
        this.queue.push({ kind: 'transaction', tx });
      },
      relation: (relation) => {
        if (!this.closed) this.queue.push({ kind: 'relation', relation });
      },
      type: (type) => {
        if (!this.closed) this.queue.push({ kind: 'type', type });
      },
    });
  }

  /** Last LSN passed to `acknowledge` (or the slot's confirmed_flush_lsn at start). */
  get acknowledgedLsn(): bigint {
    return this.acked;
  }

  /**
   * Checks wal_level, ensures the publication and the durable slot, then starts streaming from the slot's confirmed
   * position. Resolves once the first stream is running; configuration errors reject and are not retried.
   */
  async start(): Promise<void> {
    if (this.loop !== null)
      throw new ReplicationError(ErrorCode.ReplicationConnection, 'replication client already started');
    const admin = await this.adminClient();
    await checkWalLevel(admin);
    await ensurePublication(admin, this.options.publication);
    await ensureSlot(admin, this.options.slot);
    const confirmed = (await slotConfirmedFlushLsn(admin, this.options.slot)) ?? 0n;
    this.acked = maxLsn(this.acked, confirmed);
    this.confirmable = maxLsn(this.confirmable, this.acked);
    const connected = new Promise<void>((resolve, reject) => this.connectedWaiters.push({ resolve, reject }));
    this.loop = this.runLoop();
    await connected;
  }

  /**
   * Keeps the publication equal to those of `tables` that exist and gives them REPLICA IDENTITY FULL; resolves with
   * the ones that do not exist (any more), which are left out.
   */
  async setTables(tables: readonly TableRef[]): Promise<PublicationSync> {
    const admin = await this.adminClient();
    await ensurePublication(admin, this.options.publication);
    return syncPublicationTables(admin, this.options.publication, tables);
  }

  /**
   * Declares everything up to `lsn` (a transaction's endLsn) durable. The slot may then discard it, so call this only
   * after the shape logs holding it are fsynced.
   */
  acknowledge(lsn: bigint): void {
    if (lsn <= this.acked) return;
    this.acked = lsn;
    this.confirmable = maxLsn(this.confirmable, lsn);
    this.sendAckStatus();
  }

  /**
   * A status update for an acknowledgement, at most one per ACK_STATUS_MS: group commits can come every millisecond,
   * and a status message each cost the main thread a socket write per commit for nothing (the slot only needs to
   * advance; the last position is sent when the interval ends, and by the close).
   */
  private sendAckStatus(): void {
    if (this.ackTimer !== null) return;
    const wait = this.lastAckStatusAt + ACK_STATUS_MS - performance.now();
    if (wait <= 0) {
      this.lastAckStatusAt = performance.now();
      this.sendStatus();
      return;
    }
    this.ackTimer = setTimeout(() => {
      this.ackTimer = null;
      this.lastAckStatusAt = performance.now();
      this.sendStatus();
    }, wait);
    this.ackTimer.unref();
  }

  /** pg_current_wal_lsn() over a normal connection, for lag metrics. */
  async currentWalLsn(): Promise<bigint> {
    return currentWalLsn(await this.adminClient());
  }

  /**
   * Stops streaming: a last status update, then CopyDone so the server ends the stream after flushing our reply (a
   * destroyed socket could drop the final acknowledgement). The item being delivered finishes; the rest is dropped.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopStatusTimer();
    if (this.ackTimer !== null) clearTimeout(this.ackTimer);
    this.ackTimer = null;
    this.wakeSleep?.();
    this.queue.clear();
    const client = this.client;
    if (client !== null && this.streaming) {
      const conn = client.connection as unknown as CopyConnection & { endCopyFrom(): void };
      this.sendStatus();
      conn.stream.resume();
      try {
        conn.endCopyFrom();
      } catch {
        // already gone
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.loop?.catch(() => undefined),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, 2000))),
      ]);
      clearTimeout(timer);
    }
    await client?.end().catch(() => undefined);
    await this.queue.settle();
    await this.loop?.catch(() => undefined);
    const admin = this.admin;
    this.admin = null;
    await admin?.end().catch(() => undefined);
    for (const w of this.connectedWaiters.splice(0))
      w.reject(new ReplicationError(ErrorCode.ReplicationConnection, 'client closed'));
  }

  private async runLoop(): Promise<void> {
    while (!this.closed) {
      let error: Error | undefined;
      try {
        await this.streamOnce();
      } catch (err) {
        error = err instanceof Error ? err : new Error(String(err));
      }
      this.streaming = false;
      this.stopStatusTimer();
      this.assembler.reset();
      if (this.closed) break;
      if (
        error instanceof ReplicationError &&
        (error.code === ErrorCode.ReplicationConfiguration || error.code === ErrorCode.ReplicationSlot)
      ) {
        this.emit({ type: 'error', error });
        for (const w of this.connectedWaiters.splice(0)) w.reject(error);
        if (error.code === ErrorCode.ReplicationConfiguration) break;
      }
      const delay = this.backoff.next();
      this.emit({ type: 'disconnected', error, reconnectInMs: delay });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wakeSleep = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeSleep = null;
    }
  }

  /** One walsender session, from connect to the end of the connection. */
  private async streamOnce(): Promise<void> {
    const extra = this.options.extraServerOptions;
    const client = new pg.Client({
      ...this.baseConfig,
      replication: 'database',
      options: extra === undefined ? PINNED_SERVER_OPTIONS : `${PINNED_SERVER_OPTIONS} ${extra}`,
    } as pg.ClientConfig);
    this.client = client;
    client.on('error', () => undefined); // surfaced through the rejected query below
    try {
      await client.connect();
      if (this.closed) return;
      await checkWalLevel(client);
      const conn = client.connection as unknown as CopyConnection;
      const startLsn = this.acked;
      conn.on('copyData', (msg) => this.onCopyData(msg.chunk, client));
      conn.once('replicationStart', () => {
        this.streaming = true;
        this.backoff.reset();
        if (this.queue.isPaused) conn.stream.pause();
        this.startStatusTimer();
        this.sendStatus();
        this.emit({ type: 'connected', startLsn });
        for (const w of this.connectedWaiters.splice(0)) w.resolve();
      });
      const pub = quoteIdent(this.options.publication).replaceAll("'", "''");
      await client.query(
        `START_REPLICATION SLOT ${this.options.slot} LOGICAL ${lsnToString(startLsn)} ` +
          `(proto_version '1', publication_names '${pub}')`,
      );
    } catch (err) {
      if (this.closed) return;
      throw classify(err);
    } finally {
      if (this.client === client) this.client = null;
      await client.end().catch(() => undefined);
    }
  }

  private onCopyData(frame: Buffer, client: pg.Client): void {
    try {
      const tag = frame[0];
      if (tag === XLOG_DATA) {
        this.assembler.handle(decodePgoutput(frame, XLOG_DATA_HEADER, frame.length));
      } else if (tag === KEEPALIVE) {
        const ka = readKeepalive(frame);
        this.serverWalEnd = maxLsn(this.serverWalEnd, ka.walEnd);
        if (this.options.ackIdleKeepalives !== false && this.isIdle()) {
          this.confirmable = maxLsn(this.confirmable, ka.walEnd);
        }
        if (ka.replyRequested) this.sendStatus();
        this.maybeEmitLag();
      }
      this.sliceReading(client);
    } catch (err) {
      // A frame we cannot decode: drop the session and replay from the slot rather than deliver a wrong stream.
      this.emit({ type: 'error', error: err instanceof Error ? err : new Error(String(err)) });
      (client.connection as unknown as { stream: { destroy(): void } }).stream.destroy();
    }
  }

  /**
   * Bounds how long one burst of socket data is decoded: past READ_SLICE_MS the socket is paused (what it already
   * read stays buffered in order) and resumed on the next turn, unless the delivery queue wants it paused.
   */
  private sliceReading(client: pg.Client): void {
    const slice = this.readSlice;
    if (slice === null) {
      const started = { start: performance.now(), paused: false };
      this.readSlice = started;
      setImmediate(() => {
        if (this.readSlice === started) this.readSlice = null;
        if (started.paused && !this.queue.isPaused && this.client === client && !this.closed)
          (client.connection as unknown as CopyConnection).stream.resume();
      });
    } else if (!slice.paused && performance.now() - slice.start >= READ_SLICE_MS) {
      slice.paused = true;
      (client.connection as unknown as CopyConnection).stream.pause();
    }
  }

  /** Everything received was delivered and acknowledged: no commit below the server's WAL end is outstanding. */
  private isIdle(): boolean {
    return !this.assembler.inTransaction && this.queue.idle && this.deliveredEndLsn <= this.acked;
  }

  private onDelivered(tx: Transaction): void {
    this.deliveredCommitLsn = tx.commitLsn;
    this.deliveredEndLsn = tx.endLsn;
  }

  private onConsumerFailed(error: unknown): void {
    const err = new ReplicationError(ErrorCode.ReplicationConsumer, `transaction consumer failed: ${String(error)}`, {
      cause: error,
    });
    this.emit({ type: 'error', error: err });
    // Replay from the slot: the failed transaction comes again; those already delivered are skipped, unless the
    // consumer's failure may concern any transaction it has not acknowledged.
    this.queuedCommitLsn = this.options.deferredFailures === true ? -1n : this.deliveredCommitLsn;
    const stream = (this.client?.connection as unknown as { stream?: { destroy(): void } } | undefined)?.stream;
    stream?.destroy();
  }

  private sendStatus(): void {
    const client = this.client;
    if (client === null || !this.streaming) return;
    try {
      (client.connection as unknown as CopyConnection).sendCopyFromChunk(buildStatusUpdate(this.confirmable));
    } catch {
      // The connection is going away; the next session starts from the slot's position.
    }
  }

  private startStatusTimer(): void {
    this.stopStatusTimer();
    this.statusTimer = setInterval(() => this.sendStatus(), this.options.statusIntervalMs ?? 10_000);
    this.statusTimer.unref();
  }

  private stopStatusTimer(): void {
    if (this.statusTimer !== null) clearInterval(this.statusTimer);
    this.statusTimer = null;
  }

  private pauseReading(): void {
    if (this.streaming) (this.client?.connection as unknown as CopyConnection | undefined)?.stream.pause();
    this.emit({ type: 'paused', pendingChanges: this.queue.pendingWeight });
  }

  private resumeReading(): void {
    (this.client?.connection as unknown as CopyConnection | undefined)?.stream.resume();
    this.emit({ type: 'resumed', pendingChanges: this.queue.pendingWeight });
  }

  private maybeEmitLag(): void {
    const now = Date.now();
    if (this.options.onEvent === undefined || now - this.lastLagEventMs < 1000) return;
    this.lastLagEventMs = now;
    this.emit({
      type: 'lag',
      serverWalEnd: this.serverWalEnd,
      acknowledgedLsn: this.acked,
      lagBytes: this.serverWalEnd > this.acked ? this.serverWalEnd - this.acked : 0n,
      pendingChanges: this.queue.pendingWeight,
    });
  }

  private emit(event: ReplicationEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch {
      // An observer's failure must not break replication.
    }
  }

  private async adminClient(): Promise<pg.Client> {
    if (this.admin !== null) return this.admin;
    if (this.adminConnecting !== null) return this.adminConnecting;
    this.adminConnecting = (async () => {
      const client = new pg.Client({ ...this.baseConfig, options: PINNED_SERVER_OPTIONS });
      client.on('error', () => {
        if (this.admin === client) this.admin = null;
      });
      client.on('end', () => {
        if (this.admin === client) this.admin = null;
      });
      await client.connect();
      this.admin = client;
      return client;
    })().finally(() => {
      this.adminConnecting = null;
    });
    return this.adminConnecting;
  }
}

/** Maps server errors that retrying cannot fix to configuration errors; everything else is a connection error. */
function classify(err: unknown): Error {
  if (err instanceof ReplicationError) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (err as { code?: string }).code;
  // 42704: slot does not exist; 55000: wal_level / object not in prerequisite state; 42501: no REPLICATION privilege.
  if (code === '42704' || code === '42501' || code === '55000') {
    return new ReplicationError(ErrorCode.ReplicationConfiguration, e.message, { cause: e });
  }
  return new ReplicationError(ErrorCode.ReplicationConnection, e.message, { cause: e });
}
