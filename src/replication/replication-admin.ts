// Server-side setup over a normal SQL connection: wal_level check, publication membership, the durable slot, WAL LSN.
import type pg from 'pg';
import { ErrorCode } from '../errors/index.js';
import { ReplicationError } from './errors.js';
import { parseLsn } from './lsn.js';

/** A table by schema and name, exactly as stored in the catalog (no case folding here). */
export interface TableRef {
  readonly schema: string;
  readonly table: string;
}

/** Quotes an identifier the way Postgres's quote_ident does when quoting is needed (always quoted here). */
export function quoteIdent(name: string): string {
  return '"' + name.replaceAll('"', '""') + '"';
}

export function qualifiedName(t: TableRef): string {
  return `${quoteIdent(t.schema)}.${quoteIdent(t.table)}`;
}

/** Throws a configuration error unless the server can do logical decoding. */
export async function checkWalLevel(client: pg.Client): Promise<void> {
  const res = await client.query<{ wal_level: string }>('SHOW wal_level');
  const level = res.rows[0]?.wal_level;
  if (level !== 'logical') {
    throw new ReplicationError(
      ErrorCode.ReplicationConfiguration,
      `wal_level must be "logical" for Switchyard; it is "${level}"`,
    );
  }
}

export async function ensurePublication(client: pg.Client, publication: string): Promise<void> {
  const res = await client.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [publication]);
  if (res.rowCount !== 0) return;
  try {
    await client.query(`CREATE PUBLICATION ${quoteIdent(publication)}`);
  } catch (err) {
    // Another Switchyard process won the race; the publication is what we wanted.
    if ((err as { code?: string }).code !== '42710') throw err;
  }
}

/**
 * Makes the publication hold exactly `tables` and gives each REPLICA IDENTITY FULL, so that updates and deletes
 * carry the whole old row (the router needs old values to see rows leave a shape) and unchanged TOAST can be filled.
 */
export async function syncPublicationTables(
  client: pg.Client,
  publication: string,
  tables: readonly TableRef[],
): Promise<void> {
  const wanted = new Map(tables.map((t) => [qualifiedName(t), t] as const));
  await client.query('BEGIN');
  try {
    const current = await client.query<{ schemaname: string; tablename: string }>(
      'SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1',
      [publication],
    );
    const present = new Set<string>();
    const drop: string[] = [];
    for (const row of current.rows) {
      const q = qualifiedName({ schema: row.schemaname, table: row.tablename });
      present.add(q);
      if (!wanted.has(q)) drop.push(q);
    }
    const add = [...wanted.keys()].filter((q) => !present.has(q));
    const pub = quoteIdent(publication);
    if (drop.length > 0) await client.query(`ALTER PUBLICATION ${pub} DROP TABLE ${drop.join(', ')}`);
    if (add.length > 0) await client.query(`ALTER PUBLICATION ${pub} ADD TABLE ${add.join(', ')}`);
    for (const t of wanted.values()) {
      const ident = await client.query<{ relreplident: string }>(
        `SELECT c.relreplident FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relname = $2`,
        [t.schema, t.table],
      );
      if (ident.rows[0]?.relreplident !== 'f') {
        await client.query(`ALTER TABLE ${qualifiedName(t)} REPLICA IDENTITY FULL`);
      }
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** Creates the durable (non-temporary) pgoutput slot unless it exists; checks an existing one is usable. */
export async function ensureSlot(client: pg.Client, slot: string): Promise<void> {
  const res = await client.query<{ plugin: string | null; slot_type: string; datname: string | null; db: string }>(
    `SELECT s.plugin, s.slot_type, d.datname, current_database() AS db
       FROM pg_replication_slots s LEFT JOIN pg_database d ON d.oid = s.datoid
      WHERE s.slot_name = $1`,
    [slot],
  );
  const existing = res.rows[0];
  if (existing !== undefined) {
    if (existing.slot_type !== 'logical' || existing.plugin !== 'pgoutput' || existing.datname !== existing.db) {
      throw new ReplicationError(
        ErrorCode.ReplicationSlot,
        `replication slot "${slot}" exists but is not a pgoutput slot of database "${existing.db}"`,
      );
    }
    return;
  }
  try {
    await client.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);
  } catch (err) {
    if ((err as { code?: string }).code !== '42710') throw err;
  }
}

export async function dropSlot(client: pg.Client, slot: string): Promise<void> {
  await client.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [
    slot,
  ]);
}

/** The server's current WAL insert position, for lag metrics. */
export async function currentWalLsn(client: pg.Client): Promise<bigint> {
  const res = await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
  return parseLsn(res.rows[0]!.lsn);
}

/** The slot's confirmed_flush_lsn: where a restarted stream resumes. */
export async function slotConfirmedFlushLsn(client: pg.Client, slot: string): Promise<bigint | null> {
  const res = await client.query<{ lsn: string | null }>(
    'SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1',
    [slot],
  );
  const lsn = res.rows[0]?.lsn;
  return lsn == null ? null : parseLsn(lsn);
}
