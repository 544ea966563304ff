// Snapshots shared by concurrent shape creations: one REPEATABLE READ transaction, started inside the processing lock
// once every waiting creation has registered its shape, reads the batch's rows in one message and exports its
// snapshot for the shapes whose rows do not fit that read.
import type pg from 'pg';
import { parseLsn } from '../replication/lsn.js';
import { parseSnapshot, type SnapshotVisibility } from './live-shape.js';
import type { AsyncLock } from './shape-creator.js';

/** Rows as Postgres's text output, in the statement's column order. */
export type TextRows = (string | null)[][];

/** A creation waiting for a snapshot. */
export interface SnapshotClaim {
  /** Registers the shape in its table's router; runs inside the processing lock, before the snapshot is taken. */
  register(): Promise<void>;
  /**
   * Called inside the lock with the snapshot the shape's rows will be read under, before any later transaction is
   * processed: from then on the stream is filtered by it.
   */
  taken(visibility: SnapshotVisibility): void;
  /**
   * A SELECT rendered by Switchyard (never client text) whose rows the batch reads when there are at most `limit`
   * of them; absent when the shape needs no rows.
   */
  readonly read?: { readonly select: string; readonly limit: number };
  /** A statement (Switchyard's own SQL) also run in the snapshot, shared by the claims of a batch with the same key. */
  readonly check?: { readonly key: string; readonly sql: string };
}

/** A snapshot handed to one creation, and what the batch read for it. */
export interface SnapshotTicket {
  /** `pg_export_snapshot()`'s identifier, for `SET TRANSACTION SNAPSHOT`. */
  readonly id: string;
  readonly visibility: SnapshotVisibility;
  /** The claim's `read`: its rows, or undefined when there were more than `limit` (import the snapshot to read them). */
  readonly rows: TextRows | undefined;
  /** The result of the claim's `check` (column names → text values per row). */
  readonly checked: readonly Record<string, string | null>[] | undefined;
  /** Call once the snapshot was imported or will not be: the exporting transaction ends after every ticket did. */
  release(): void;
}

/**
 * The batch's read failed (a clause raised on some row, and Postgres stops a message at its first error): no claim
 * of the batch got its rows. Each creation is retried alone (`SnapshotClaim.read` absent, rows read on its own
 * connection), so only the raising one meets its error.
 */
export class BatchReadFailed extends Error {}

/** What `pg_export_snapshot()` returns (checked before it is written into a statement). */
const SNAPSHOT_ID_RE = /^[0-9A-F]+-[0-9A-F]+(-[0-9]+)?$/;

/** Counters of the batches (exported as metrics and read by the bench). */
export interface SharedSnapshotStats {
  /** Snapshots taken. */
  batches: number;
  /** Creations that received one. */
  claims: number;
  /** The most creations that shared one snapshot. */
  largestBatch: number;
  /** Claims whose rows did not fit the batch's read (read through an imported snapshot). */
  imports: number;
}

interface Waiting {
  readonly claim: SnapshotClaim;
  resolve(t: SnapshotTicket): void;
  reject(err: unknown): void;
}

/**
 * The stitch with the replication stream is the one a creation with its own snapshot has (shape-creator.ts): every
 * shape of a batch enters its router and the snapshot is taken in the same critical section as transaction
 * processing, so every transaction processed before was visible to the snapshot and every later one is filtered by
 * it. One round trip is made inside the lock for the whole batch (BEGIN, the snapshot, its WAL position, the export);
 * a second one, outside the lock, runs every claim's check and read in one message (`LIMIT limit + 1` each).
 * Creations arriving while a batch is being taken form the next one (at most `maxBatch`), so under load the lock is
 * held once per batch and Postgres gets one message per batch, not per shape. The exporting transaction stays open
 * until every ticket is released (a snapshot can only be imported while its exporter is open), then commits;
 * exporters come from their own small pool, so they never wait for a connection an importer holds.
 */
export class SharedSnapshots {
  readonly stats: SharedSnapshotStats = { batches: 0, claims: 0, largestBatch: 0, imports: 0 };
  private queue: Waiting[] = [];
  private running = false;

  constructor(
    private readonly exporters: pg.Pool,
    private readonly lock: AsyncLock,
    private readonly maxBatch = 256,
  ) {}

  /** Registers the claim's shape and resolves with a snapshot taken after it (rejects when either step failed). */
  take(claim: SnapshotClaim): Promise<SnapshotTicket> {
    return new Promise((resolve, reject) => {
      this.queue.push({ claim, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    const batch = this.queue.splice(0, this.maxBatch);
    // The next batch is taken once this one's snapshot is (its rows are read meanwhile).
    void this.runBatch(batch, () => {
      this.running = false;
      this.kick();
    });
  }

  private async runBatch(batch: readonly Waiting[], taken: () => void): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.exporters.connect();
    } catch (err) {
      taken();
      for (const w of batch) w.reject(err);
      return;
    }
    let snap: { id: string; visibility: SnapshotVisibility; members: Waiting[] };
    try {
      snap = await this.lock.run(() => this.export(client, batch));
    } catch (err) {
      taken();
      // The round trip failed: the registered shapes are removed by their creators.
      client.release(err instanceof Error ? err : true);
      for (const w of batch) w.reject(err);
      return;
    }
    taken();
    const { members } = snap;
    if (members.length === 0) return client.release();
    this.stats.batches++;
    this.stats.claims += members.length;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, members.length);
    let results: Map<Waiting, Pick<SnapshotTicket, 'rows' | 'checked'>>;
    try {
      results = await readBatch(client, members);
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
      const failed = new BatchReadFailed(`reading the batch's rows failed: ${(err as Error).message}`, { cause: err });
      for (const w of members) w.reject(failed);
      return;
    }
    let open = members.length;
    const release = (): void => {
      if (--open === 0) void endExport(client);
    };
    for (const w of members) {
      const r = results.get(w)!;
      if (r.rows === undefined && w.claim.read !== undefined) this.stats.imports++;
      let released = false;
      w.resolve({
        id: snap.id,
        visibility: snap.visibility,
        ...r,
        release: () => {
          if (released) return;
          released = true;
          release();
        },
      });
    }
  }

  /** Inside the lock: registers every claim (a failed one leaves the batch), then takes and exports the snapshot. */
  private async export(
    client: pg.PoolClient,
    batch: readonly Waiting[],
  ): Promise<{ id: string; visibility: SnapshotVisibility; members: Waiting[] }> {
    const members: Waiting[] = [];
    for (const w of batch) {
      try {
        await w.claim.register();
        members.push(w);
      } catch (err) {
        w.reject(err);
      }
    }
    if (members.length === 0) return { id: '', visibility: EMPTY, members };
    // The transaction's first statement fixes its snapshot; the WAL insert position is read after it.
    const res = (await client.query(
      'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; ' +
        'SELECT pg_export_snapshot() AS id, pg_current_snapshot()::text AS snap, pg_current_wal_insert_lsn()::text AS lsn',
    )) as unknown as pg.QueryResult<{ id: string; snap: string; lsn: string }>[];
    const row = res[res.length - 1]!.rows[0]!;
    if (!SNAPSHOT_ID_RE.test(row.id)) throw new Error(`unexpected snapshot identifier ${JSON.stringify(row.id)}`);
    const visibility = parseSnapshot(row.snap, parseLsn(row.lsn));
    for (const w of members) w.claim.taken(visibility);
    return { id: row.id, visibility, members };
  }
}

/** Every distinct check, then every read, in one message; each claim's share of the results. */
async function readBatch(
  client: pg.PoolClient,
  members: readonly Waiting[],
): Promise<Map<Waiting, Pick<SnapshotTicket, 'rows' | 'checked'>>> {
  const statements: string[] = [];
  const checkAt = new Map<string, number>();
  for (const w of members) {
    const c = w.claim.check;
    if (c !== undefined && !checkAt.has(c.key)) {
      checkAt.set(c.key, statements.length);
      statements.push(c.sql);
    }
  }
  const readAt = new Map<Waiting, number>();
  for (const w of members) {
    const r = w.claim.read;
    if (r === undefined) continue;
    readAt.set(w, statements.length);
    statements.push(`${r.select} LIMIT ${r.limit + 1}`);
  }
  let results: pg.QueryResult<(string | null)[]>[] = [];
  if (statements.length > 0) {
    const res = await client.query<(string | null)[]>({ text: statements.join('; '), rowMode: 'array' });
    results = Array.isArray(res) ? (res as pg.QueryResult<(string | null)[]>[]) : [res];
  }
  const out = new Map<Waiting, Pick<SnapshotTicket, 'rows' | 'checked'>>();
  for (const w of members) {
    const ci = w.claim.check === undefined ? undefined : checkAt.get(w.claim.check.key);
    const ri = readAt.get(w);
    const rows = ri === undefined ? undefined : results[ri]!.rows;
    out.set(w, {
      rows: rows === undefined || rows.length > w.claim.read!.limit ? undefined : rows,
      checked: ci === undefined ? undefined : asRecords(results[ci]!),
    });
  }
  return out;
}

/** Array-mode rows as records keyed by column name. */
function asRecords(res: pg.QueryResult<(string | null)[]>): Record<string, string | null>[] {
  const names = res.fields.map((f) => f.name);
  return res.rows.map((row) => {
    const o: Record<string, string | null> = {};
    for (let i = 0; i < names.length; i++) o[names[i]!] = row[i] ?? null;
    return o;
  });
}

const EMPTY: SnapshotVisibility = { xmin: 0n, xmax: 0n, xip: new Set(), lsn: 0n };

/** Ends an exporting transaction (read-only: nothing to lose) and returns its connection. */
async function endExport(client: pg.PoolClient): Promise<void> {
  try {
    await client.query('COMMIT');
    client.release();
  } catch (err) {
    client.release(err instanceof Error ? err : true);
  }
}
