// Initial shape rows: a REPEATABLE READ query under a recorded snapshot, streamed through a cursor in batches.
import pg from 'pg';
import { PINNED_SERVER_OPTIONS } from '../replication/replication-client.js';
import { parseLsn } from '../replication/lsn.js';
import { qualifiedTable, quoteName } from './catalog.js';
import { parseSnapshot, visibleToSnapshot, type SnapshotVisibility } from './live-shape.js';
import type { SnapshotTicket } from './shared-snapshot.js';

/** Every value comes back as Postgres's own text output (under the pinned settings), never parsed by `pg`. */
const RAW_TYPES = { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig;

/** A pool of snapshot connections with Switchyard's pinned session settings. */
export function snapshotPool(connection: string | pg.ClientConfig, max = 4): pg.Pool {
  const base: pg.ClientConfig = typeof connection === 'string' ? { connectionString: connection } : connection;
  const pool = new pg.Pool({ ...base, options: PINNED_SERVER_OPTIONS, types: RAW_TYPES, max });
  pool.on('error', () => undefined); // an idle client's failure: the next checkout gets a fresh connection
  // A checked-out client's connection can fail between queries (Postgres restarted or killed): pg then emits 'error'
  // on the client, which the pool only handles while the client is idle. Unhandled, it would crash the process; the
  // failure still reaches the holder through its next query's rejection.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** An open REPEATABLE READ transaction whose snapshot is recorded. */
export class SnapshotSession {
  private done = false;

  private constructor(
    private readonly client: pg.PoolClient,
    readonly visibility: SnapshotVisibility,
    /** An imported snapshot's ticket while its transaction has not begun yet (see `imported`). */
    private ticket?: SnapshotTicket,
  ) {}

  /**
   * A session under a snapshot exported by another transaction (shared-snapshot.ts). Nothing is sent yet: the
   * snapshot is imported with the session's first statement, in the same round trip. The ticket is released once
   * that statement has run (or the session closes without one).
   */
  static imported(client: pg.PoolClient, ticket: SnapshotTicket): SnapshotSession {
    return new SnapshotSession(client, ticket.visibility, ticket);
  }

  /**
   * BEGIN REPEATABLE READ and read `pg_current_snapshot()` plus the WAL insert position in the transaction's first
   * statement, which fixes the snapshot every later query of the transaction sees.
   */
  static async begin(client: pg.PoolClient): Promise<SnapshotSession> {
    try {
      const res = (await client.query(
        'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; ' +
          'SELECT pg_current_snapshot()::text AS snap, pg_current_wal_insert_lsn()::text AS lsn',
      )) as unknown as pg.QueryResult<{ snap: string; lsn: string }>[];
      const row = res[res.length - 1]!.rows[0]!;
      return new SnapshotSession(client, parseSnapshot(row.snap, parseLsn(row.lsn)));
    } catch (err) {
      client.release(err instanceof Error ? err : true);
      throw err;
    }
  }

  /**
   * A session whose snapshot sees `tx`, a transaction the stream delivered. Postgres hands a commit to the walsender
   * before the committing backend leaves the proc array, so a snapshot taken right after the stream delivered it
   * can still count it as running (its rows would be read as before it): such a snapshot is dropped and retaken.
   */
  static async beginSeeing(
    pool: pg.Pool,
    tx: { xid: number; commitLsn: bigint },
    timeoutMs = 30_000,
  ): Promise<SnapshotSession> {
    const until = performance.now() + timeoutMs;
    for (let pause = 1; ; pause = Math.min(2 * pause, 50)) {
      const session = await SnapshotSession.begin(await pool.connect());
      if (visibleToSnapshot(session.visibility, tx.xid, tx.commitLsn)) return session;
      await session.close();
      if (performance.now() > until)
        throw new Error(`transaction ${tx.xid} did not become visible to snapshots within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }

  /** Bounds every later statement of the transaction, so an expensive client clause cannot hold a connection. */
  async setStatementTimeout(ms: number): Promise<void> {
    await this.run(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(ms))}`);
  }

  /**
   * Sends `sql` (one or more statements, simple protocol) and returns the last statement's rows as arrays; an
   * imported snapshot's transaction begins first, in the same round trip.
   */
  private async run(sql: string): Promise<(string | null)[][]> {
    const ticket = this.ticket;
    if (ticket === undefined) return lastRows(await this.client.query({ text: sql, rowMode: 'array' }));
    this.ticket = undefined;
    try {
      return lastRows(await this.client.query({ text: `${importing(ticket)}${sql}`, rowMode: 'array' }));
    } finally {
      ticket.release();
    }
  }

  /**
   * Runs `SELECT <columns> FROM <table> WHERE <whereSql> <tailSql>` through a cursor, handing rows (values in
   * `columns` order) to `onBatch` in batches. `whereSql` and `tailSql` (ORDER BY / LIMIT / OFFSET) must be SQL
   * rendered by Switchyard from validated input, never client text.
   */
  async query(
    schema: string,
    table: string,
    columns: readonly string[],
    whereSql: string | undefined,
    onBatch: (rows: (string | null)[][]) => void | Promise<void>,
    batchSize = 2000,
    tailSql = '',
  ): Promise<number> {
    const tail = tailSql === '' ? '' : ` ${tailSql}`;
    return this.cursor(`${selectStatement(schema, table, columns, whereSql)}${tail}`, onBatch, batchSize);
  }

  /** Runs `select` (Switchyard's own SQL) through a cursor, handing its rows to `onBatch` in batches. */
  async cursor(
    select: string,
    onBatch: (rows: (string | null)[][]) => void | Promise<void>,
    batchSize: number,
  ): Promise<number> {
    // The cursor is declared and its first batch fetched in one round trip.
    let rows = await this.run(
      `DECLARE sy_snapshot NO SCROLL CURSOR FOR ${select}; FETCH ${batchSize} FROM sy_snapshot`,
    );
    let total = 0;
    for (;;) {
      if (rows.length === 0) break;
      total += rows.length;
      await onBatch(rows);
      if (rows.length < batchSize) break;
      rows = await this.run(`FETCH ${batchSize} FROM sy_snapshot`);
    }
    return total;
  }

  /**
   * Runs `fn` (queries of this session) under a savepoint: when it fails, the transaction is rolled back to the
   * savepoint (its cursor closed) and stays usable under the same snapshot; the error is rethrown.
   */
  async attempt<T>(fn: () => Promise<T>): Promise<T> {
    await this.run('SAVEPOINT sy_attempt');
    try {
      const r = await fn();
      await this.client.query('RELEASE SAVEPOINT sy_attempt');
      return r;
    } catch (err) {
      await this.client.query('ROLLBACK TO SAVEPOINT sy_attempt');
      throw err;
    }
  }

  /** Ends the transaction and returns the connection (destroyed when the transaction failed). */
  async close(error?: unknown): Promise<void> {
    if (this.done) return;
    this.done = true;
    if (this.ticket !== undefined) {
      // Never begun: there is no transaction to end.
      this.ticket?.release();
      this.ticket = undefined;
      this.client.release();
      return;
    }
    if (error === undefined) {
      try {
        await this.client.query('COMMIT');
        this.client.release();
      } catch (e) {
        this.client.release(e instanceof Error ? e : true);
      }
    } else {
      await this.client.query('ROLLBACK').catch(() => undefined);
      this.client.release();
    }
  }
}

/** The statements that begin a transaction under an exported snapshot. */
function importing(ticket: SnapshotTicket): string {
  // The identifier was checked to be pg_export_snapshot()'s hexadecimal form (no quote can occur in it).
  return `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT '${ticket.id}'; `;
}

/**
 * `SELECT <columns> FROM <table> [WHERE <whereSql>]`; `whereSql` must be SQL rendered by Switchyard from validated
 * input (constants as escaped literals), never client text.
 */
export function selectStatement(
  schema: string,
  table: string,
  columns: readonly string[],
  whereSql: string | undefined,
): string {
  const cols = columns.length === 0 ? '1' : columns.map(quoteName).join(', ');
  return `SELECT ${cols} FROM ${qualifiedTable(schema, table)}${whereSql === undefined ? '' : ` WHERE ${whereSql}`}`;
}

/** The rows of the last statement of a (possibly multi-statement) simple query. */
function lastRows(res: pg.QueryResult<(string | null)[]> | pg.QueryResult<(string | null)[]>[]): (string | null)[][] {
  return Array.isArray(res) ? (res[res.length - 1]?.rows ?? []) : res.rows;
}

/**
 * Errors Postgres raises evaluating an expression on a row (data exceptions, and feature_not_supported for NaN or
 * infinity into an integer): by the rule for raising rows, such a row is not in the shape — never a failed request.
 */
export function isRowEvaluationError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code === '0A000');
}

/** Postgres errors a snapshot query can raise because of the data and the clause (→ 400), not the server (→ 503). */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  // Class 22: data exception (division by zero, out of range, invalid text); 42: syntax or access rule violation.
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('42') || code === '2201B');
}
