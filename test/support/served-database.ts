// A fresh database prepared by some SQL, served by `switchyard serve` (in-process) on a free port with a temp data dir.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { startServer, type RunningServer, type ServeOptions } from '../../src/cli/serve.js';
import type { Logger } from '../../src/http/logger.js';
import { freshDatabase, type FreshDatabase } from './pg-env.js';

export interface ServedDatabase {
  readonly db: FreshDatabase;
  readonly server: RunningServer;
  /** `http://127.0.0.1:<port>` */
  readonly base: string;
  /** Stops the server, drops the database and removes the data dir. */
  stop(): Promise<void>;
}

const quiet: Logger = { log: () => undefined };

/** `setup`: SQL run before the server starts, each string as its own implicit transaction. */
export async function serveFreshDatabase(
  setup: string | readonly string[],
  extra: Partial<ServeOptions> = {},
  log: Logger = quiet,
): Promise<ServedDatabase> {
  const db = await freshDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'sy-served-'));
  try {
    for (const sql of typeof setup === 'string' ? [setup] : setup) await db.client.query(sql);
    const server = await startServer(
      {
        port: 0,
        host: '127.0.0.1',
        databaseUrl: db.url,
        dataDir,
        longPollTimeoutMs: 500,
        chunkBytes: 1 << 20,
        enableDelete: false,
        demo: false,
        ...extra,
      },
      log,
    );
    return {
      db,
      server,
      base: `http://127.0.0.1:${(server.http.server.address() as AddressInfo).port}`,
      async stop() {
        await server.stop();
        await db.drop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await db.drop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}
