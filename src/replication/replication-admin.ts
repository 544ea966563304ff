// Server-side setup over a normal SQL connection: wal_level check, publication membership, the durable slot, WAL LSN.
import type pg from 'pg';
import { ErrorCode } from '../errors/index.js';
import { ReplicationError } from './errors.js';
import { parseLsn } from './lsn.js';

/** A table by schema and name, exactly as stored in the catalog (no case folding here). */
export interface TableRef {
  readonly schema: string;
  readonly table: string;
  /**
   * The table's OID when the caller knows which table it means: a table by that name with another OID (dropped and
   * recreated, or renamed and another one created) is then reported missing instead of being published.
   */
  readonly oid?: number;
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

/** Tables `syncPublicationTables` could not publish: they no longer exist under that name (and OID, when given). */
export interface PublicationSync {
  readonly missing: readonly TableRef[];
}

const RESOLVE_TABLES = `
SELECT w.i, c.oid::int8::text AS oid, c.relreplident::text AS ident
  FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS w(s, t, i)
  JOIN pg_namespace n ON n.nspname = w.s
  JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = w.t AND c.relkind IN ('r', 'p')`;

// pg_publication_rel, not pg_publication_tables: membership by OID, whatever the table is called now.
const PUBLISHED_TABLES = `
SELECT c.oid::int8::text AS oid, n.nspname AS schema, c.relname AS table
  FROM pg_publication p
  JOIN pg_publication_rel pr ON pr.prpubid = p.oid
  JOIN pg_class c ON c.oid = pr.prrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE p.pubname = $1`;

/**
 * Makes the publication hold exactly those of `tables` that exist, and gives each REPLICA IDENTITY FULL, so that
 * updates and deletes carry the whole old row (the router needs old values to see rows leave a shape) and unchanged
 * TOAST can be filled. A table that no longer exists (or whose name now belongs to another OID) is never added — it
 * is reported in `missing` — so one dropped or renamed table cannot block publishing the others. Membership is
 * compared by OID: a published table that was renamed is dropped from the publication unless still wanted.
 */
export async function syncPublicationTables(
  client: pg.Client,
  publication: string,
  tables: readonly TableRef[],
): Promise<PublicationSync> {
  await client.query('BEGIN');
  try {
    const resolved = await client.query<{ i: string; oid: string; ident: string }>(RESOLVE_TABLES, [
      tables.map((t) => t.schema),
      tables.map((t) => t.table),
    ]);
    const found = new Map(resolved.rows.map((r) => [Number(r.i) - 1, r] as const));
    const wanted = new Map<number, { ref: TableRef; ident: string }>();
    const missing: TableRef[] = [];
    tables.forEach((t, i) => {
      const row = found.get(i);
      if (row === undefined || (t.oid !== undefined && Number(row.oid) !== t.oid)) missing.push(t);
      else wanted.set(Number(row.oid), { ref: t, ident: row.ident });
    });
    const current = await client.query<{ oid: string; schema: string; table: string }>(PUBLISHED_TABLES, [publication]);
    const present = new Set(current.rows.map((r) => Number(r.oid)));
    const drop = current.rows
      .filter((r) => !wanted.has(Number(r.oid)))
      .map((r) => qualifiedName({ schema: r.schema, table: r.table }));
    const add = [...wanted].filter(([oid]) => !present.has(oid)).map(([, w]) => qualifiedName(w.ref));
    const pub = quoteIdent(publication);
    if (drop.length > 0) await client.query(`ALTER PUBLICATION ${pub} DROP TABLE ${drop.join(', ')}`);
    if (add.length > 0) await client.query(`ALTER PUBLICATION ${pub} ADD TABLE ${add.join(', ')}`);
    for (const w of wanted.values()) {
      if (w.ident !== 'f') await client.query(`ALTER TABLE ${qualifiedName(w.ref)} REPLICA IDENTITY FULL`);
    }
    await client.query('COMMIT');
    return { missing };
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
