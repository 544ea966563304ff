// Checks shapes' tables against the catalog by OID, batching concurrent requests, and invalidates changed shapes.
import type { TableInfo } from './catalog.js';
import { coalesced } from './coalesced-commit.js';
import type { LiveShape, ShapeLayout } from './live-shape.js';
import type { PublishedTable } from './publication.js';
import { catalogChange, perLayout } from './relation-check.js';

export interface SchemaWatchOptions {
  /** The tables that still exist among these OIDs (catalog.loadTablesByOid). */
  readonly load: (oids: readonly number[]) => Promise<Map<number, TableInfo>>;
  /** The shapes registered under the table's name (any state; the watch checks ready ones on that OID). */
  readonly shapesOf: (table: PublishedTable) => Iterable<LiveShape>;
  /**
   * Every shape layout: a table none of whose layouts the catalog changed has no shape to invalidate, so its shapes
   * are not visited (the periodic check then costs a few layouts per table, not a pass over every shape).
   */
  readonly layouts: () => Iterable<ShapeLayout>;
  readonly invalidate: (shape: LiveShape, reason: string) => void;
  /** The table exists but lost REPLICA IDENTITY FULL: the publication must set it again before the next shape. */
  readonly identityLost: (oid: number) => void;
}

/**
 * DROP, RENAME and a new primary key leave nothing in the WAL, and a column added without a write to the table is
 * seen by no Relation message until the next write: these are found by looking the table up by OID. Callers that
 * arrive while a check runs are batched into the next one, which starts after their call (so it sees every DDL
 * committed before it): many requests on one table cost one query.
 */
export class SchemaWatch {
  private pending = new Map<number, PublishedTable>();
  /** Runs a check that starts after the call, over every table pending when it starts. */
  private readonly runCheck = coalesced(() => {
    const batch = this.pending;
    this.pending = new Map();
    return this.run(batch);
  });

  constructor(private readonly opts: SchemaWatchOptions) {}

  /** Resolves once the tables were checked (and their changed shapes invalidated); rejects if the catalog failed. */
  verify(tables: Iterable<PublishedTable>): Promise<void> {
    for (const t of tables) this.pending.set(t.oid, t);
    return this.runCheck();
  }

  private async run(batch: ReadonlyMap<number, PublishedTable>): Promise<void> {
    if (batch.size === 0) return;
    const current = await this.opts.load([...batch.keys()]);
    for (const [oid, t] of batch) {
      const table = current.get(oid);
      let changed = false;
      for (const l of this.opts.layouts())
        if (l.tableOid === oid && catalogChange(l, table) !== undefined) changed = true;
      if (!changed) continue;
      const change = perLayout((shape) => catalogChange(shape, table));
      for (const shape of [...this.opts.shapesOf(t)]) {
        // A shape being created read the catalog itself; it is checked once ready.
        if (shape.state !== 'ready' || shape.tableOid !== oid) continue;
        const reason = change(shape);
        if (reason === undefined) continue;
        if (table !== undefined && table.replicaIdentity !== 'f') this.opts.identityLost(oid);
        this.opts.invalidate(shape, reason);
      }
    }
  }
}

/** SQLSTATE classes of a lost or refused connection: 08 (connection exception), 57P01–57P03 (shutdown, cannot connect). */
const CONNECTION_STATES = /^(08|57P0[1-3])/;

/**
 * True when `err` says the database could not be reached or dropped the connection (refused, reset, shut down,
 * starting up), as opposed to a query that failed: such a failure passes when Postgres is back.
 */
export function isConnectionLoss(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (e === null || typeof e !== 'object') return false;
  const code = typeof e.code === 'string' ? e.code : '';
  if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND'].includes(code)) return true;
  if (CONNECTION_STATES.test(code)) return true;
  return (
    typeof e.message === 'string' &&
    /Connection terminated|connection is closed|Client has encountered a connection error/i.test(e.message)
  );
}
