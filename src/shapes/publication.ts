// Keeps the publication equal to the tables live shapes need, by OID, never re-adding a table that is gone.
import type { PublicationSync, TableRef } from '../replication/replication-admin.js';
import { ShapeCreationError } from './types.js';

/** A table a shape was created on: the OID pins which table, the name is how ALTER PUBLICATION names it. */
export interface PublishedTable {
  readonly oid: number;
  readonly schema: string;
  readonly table: string;
}

export interface PublicationOptions {
  /** Applies the publication's membership (ReplicationClient.setTables). */
  readonly sync: (tables: readonly TableRef[]) => Promise<PublicationSync>;
  /** The tables of every shape that is not invalidated (creating ones included): what the publication must hold. */
  readonly wanted: () => Iterable<PublishedTable>;
  /** Tables that were wanted but no longer exist under their name and OID: their shapes must be invalidated. */
  readonly onMissing: (oids: ReadonlySet<number>) => void;
}

/**
 * The wanted set is derived from the shapes each time (not remembered), so a table whose shapes are all gone leaves
 * the publication at the next sync and a dropped table is never named in ALTER PUBLICATION again. Syncs run one at a
 * time; a caller always waits for a sync that started after its call, because one that started earlier may have
 * computed its wanted set before the caller's shape was registered.
 */
export class Publication {
  /** OIDs the last completed sync left in the publication. */
  private synced = new Set<number>();
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;

  constructor(private readonly opts: PublicationOptions) {}

  /**
   * Resolves once `table` is in the publication (the caller's shape on it is already registered, so it is wanted).
   * Rejects with a ShapeCreationError when it no longer exists (retrying reads the catalog again, and answers 400
   * once the table is gone), or with the database's error.
   */
  async ensure(table: PublishedTable): Promise<void> {
    if (this.running === null && this.synced.has(table.oid)) return;
    await this.sync();
    if (!this.synced.has(table.oid))
      throw new ShapeCreationError(
        `table "${table.schema}.${table.table}" was dropped or renamed while the shape was being created`,
      );
  }

  /** True when the publication holds a table no shape wants any more (a sync would drop it). */
  hasUnwanted(): boolean {
    const wanted = new Set<number>();
    for (const t of this.opts.wanted()) wanted.add(t.oid);
    for (const oid of this.synced) if (!wanted.has(oid)) return true;
    return false;
  }

  /** Runs a sync that starts after this call (joining one already queued behind the running one). */
  sync(): Promise<void> {
    if (this.running === null) return this.start();
    this.queued ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = null;
        return this.start();
      });
    return this.queued;
  }

  private start(): Promise<void> {
    const p = this.run().finally(() => {
      if (this.running === p) this.running = null;
    });
    this.running = p;
    return p;
  }

  private async run(): Promise<void> {
    const byOid = new Map<number, PublishedTable>();
    for (const t of this.opts.wanted()) byOid.set(t.oid, t);
    const { missing } = await this.opts.sync([...byOid.values()]);
    const gone = new Set<number>();
    for (const m of missing) if (m.oid !== undefined) gone.add(m.oid);
    this.synced = new Set([...byOid.keys()].filter((oid) => !gone.has(oid)));
    if (gone.size > 0) this.opts.onMissing(gone);
  }
}
